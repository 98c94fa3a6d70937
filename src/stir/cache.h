/*
 * The x5u certificate cache: URL -> the whole fetched chain (leaf and intermediates, as
 * served), the leaf's public key and the verdict of the chain check, with an expiry
 * (HTTP max-age bounded by configuration). Failures are cached too, briefly, so a bad
 * URL is not fetched once per call. Bounded in entries and bytes; the least recently
 * used entry is evicted first. Keeping the chain with the leaf is deliberate: peers that
 * cached only the leaf failed every call after the first.
 *
 * Thread-safe: one mutex; a lookup copies out what a verification needs (a new
 * reference to the key), so no entry is used outside the lock.
 */
#ifndef SW_STIR_CACHE_H
#define SW_STIR_CACHE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "stir/reason.h"
#include "stir/tnauth.h"

struct stir_cache_cfg {
    size_t max_entries; /* 0 = 256 */
    size_t max_bytes;   /* 0 = 4 MiB: PEM bytes plus URL bytes of all entries */
};

/* What a lookup returns. */
struct stir_cache_hit {
    enum stir_reason status; /* STIR_OK or the cached failure */
    EVP_PKEY *key;           /* new reference (EVP_PKEY_free), NULL for failures */
    int64_t valid_from_s;    /* chain validity window (wall clock) */
    int64_t valid_until_s;
    size_t chain_len;          /* certificates kept (leaf + chain) */
    struct stir_tnauth tnauth; /* the leaf's TN Authorization List (RFC 8226) */
};

/* Entries to insert; the cache takes ownership of `chain` on success. */
struct stir_cache_put {
    struct sv url;
    STACK_OF(X509) * chain;    /* NULL for a failure entry */
    struct stir_tnauth tnauth; /* the leaf's list, kept with the entry */
    enum stir_reason status;
    int64_t valid_from_s;
    int64_t valid_until_s;
    uint64_t expires_ms; /* monotonic ms after which the entry is stale */
    size_t bytes;        /* PEM size of the chain */
};

struct stir_cache_stats {
    uint64_t hits;
    uint64_t misses;
    uint64_t inserts;
    uint64_t evictions;
    size_t entries;
    size_t bytes;
};

struct stir_cache;

/* A new empty cache, or NULL when out of memory. */
struct stir_cache *stir_cache_new(const struct stir_cache_cfg *cfg);

/* Frees the cache and every entry; NULL is a no-op. */
void stir_cache_free(struct stir_cache *cache);

/*
 * Looks up `url` at monotonic time `now_ms`. True with `*out` filled for a fresh entry
 * (and the entry becomes most recently used); false for a miss or a stale entry (which
 * is dropped).
 */
bool stir_cache_lookup(struct stir_cache *cache, struct sv url, uint64_t now_ms,
                       struct stir_cache_hit *out);

/*
 * Inserts or replaces the entry of `put->url`, evicting least recently used entries
 * until the bounds hold. Returns 0 (ownership of chain taken), -SW_ETOOBIG when the
 * entry alone exceeds the byte bound, or -ENOMEM (the caller keeps the chain).
 */
int stir_cache_insert(struct stir_cache *cache, const struct stir_cache_put *put);

/* Drops every entry (e.g. after the trust anchors changed). */
void stir_cache_clear(struct stir_cache *cache);

/* A consistent snapshot of the counters. */
void stir_cache_get_stats(struct stir_cache *cache, struct stir_cache_stats *out);

#endif
