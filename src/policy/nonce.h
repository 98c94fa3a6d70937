/*
 * Stateless digest nonces (RFC 7616 §3.3 leaves the construction to the server): the
 * nonce is the issue time and an HMAC over that time, the realm and the client's source
 * address, under a key derived per epoch from a random master secret. Nothing is stored
 * per challenge, so a flood of challenges costs no memory; a nonce cannot be used from
 * another address; restarting the process (a new master) makes old nonces stale.
 * Replays are caught by nc tracking: a bounded table of the highest nc seen per nonce.
 * Thread-safe after nonce_keeper_new().
 */
#ifndef SW_POLICY_NONCE_H
#define SW_POLICY_NONCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/sv.h"

/* 16 hex digits of time + 16 of a per-process counter (two challenges in the same second
 * must differ, or the second client's nc=1 would look like a replay) + 32 of MAC. */
#define NONCE_HEX_LEN 64

enum nonce_check {
    NONCE_OK,
    NONCE_STALE,  /* well-formed and ours, but older than the lifetime: stale=true */
    NONCE_FORGED, /* not ours, or issued to another address */
};

struct nonce_keeper;

/* A keeper with a fresh random master secret and `lifetime_s`; NULL on failure. */
struct nonce_keeper *nonce_keeper_new(uint32_t lifetime_s, size_t replay_slots);
void nonce_keeper_free(struct nonce_keeper *keeper);

/* Writes a nonce for `src` and `realm` issued at `now_s` into `out` (NONCE_HEX_LEN + 1). */
void nonce_make(struct nonce_keeper *keeper, const struct sw_ip *src, struct sv realm,
                int64_t now_s, char *out);

/* Checks a nonce the client echoed. */
enum nonce_check nonce_verify(const struct nonce_keeper *keeper, const struct sw_ip *src,
                              struct sv realm, struct sv nonce, int64_t now_s);

/*
 * Records nonce-count `nc` (hex, RFC 7616 §3.4) for `nonce`; false when it is not higher
 * than one already accepted for that nonce (a replay) or not a valid count.
 */
bool nonce_accept_nc(struct nonce_keeper *keeper, struct sv nonce, struct sv nc);

#endif
