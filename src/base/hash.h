/*
 * Keyed hashing for tables whose keys an attacker chooses (source addresses, Call-IDs):
 * SipHash-1-3 with a per-process random key, so collisions cannot be precomputed.
 * sw_hash_init() must run once before threads start; afterwards everything is thread-safe.
 */
#ifndef SW_BASE_HASH_H
#define SW_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

/* Seeds the process key from getrandom(); returns 0 or -errno. Idempotent. */
int sw_hash_init(void);

/* The keyed hash of `len` bytes at `data`. */
uint64_t sw_hash_bytes(const void *data, size_t len);

/* The keyed hash of a view's bytes (an absent view hashes as empty). */
uint64_t sw_hash_sv(struct sv s);

/* The hash of lower-cased bytes, for case-insensitive keys. Views longer than 1 KiB
 * hash their first 1 KiB. */
uint64_t sw_hash_sv_nocase(struct sv s);

#endif
