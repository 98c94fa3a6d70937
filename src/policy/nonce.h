/*
 * Stateless digest nonces (RFC 7616 §3.3 leaves the construction to the server). A nonce
 * carries its issue time and a per-process counter (two challenges in the same second
 * must differ, or the second client's nc=1 would look like a replay), bound to the
 * client's source address and the realm, and shows an outsider nothing of them: it is a
 * synthetic-IV construction with HMAC-SHA-256 under two keys derived from a random
 * master secret,
 *     tag    = HMAC(k_mac, time || counter || address || realm), first 16 bytes
 *     hidden = (time || counter) XOR HMAC(k_hide, tag), first 16 bytes
 *     nonce  = hex(tag || hidden), 64 lower-case digits.
 * The tag differs for every nonce (the counter), so the pad that hides time and counter
 * is never reused; without the keys both halves look random. Nothing needs to be stored
 * per challenge, so a flood of challenges costs no memory: a fixed table remembers the
 * latest nonces only to check their answers without decoding them (replay_slots / 16 of
 * them, each overwritten by a later one; a forgotten nonce is decoded, with the same
 * verdict). A nonce cannot be used from another address; restarting the process (a new
 * master) makes old nonces forged.
 * Replays are caught by nonce-count tracking: per nonce the highest nc accepted and a
 * window of NONCE_NC_WINDOW counts below it, each accepted once, so that parallel
 * requests of one client reusing a nonce may arrive out of order (RFC 7616 §3.4: a
 * server may accept counts out of order as long as none is used twice).
 * Thread-safe after nonce_keeper_new().
 */
#ifndef SW_POLICY_NONCE_H
#define SW_POLICY_NONCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/sv.h"

#define NONCE_HEX_LEN   64 /* 32 hex digits of tag + 32 of hidden time and counter */
#define NONCE_NC_WINDOW 64 /* counts accepted below the highest one seen, each once */

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
 * Records nonce-count `nc` (8 hex digits, RFC 7616 §3.4) for `nonce`. True when it is
 * higher than every count accepted for that nonce, or one of the NONCE_NC_WINDOW counts
 * below the highest that was not accepted yet; false for a count used before (a replay),
 * one below the window, 0 or a malformed count. The table keeps `replay_slots` nonces;
 * a nonce evicted by another (a hash collision in its slot) starts afresh.
 */
bool nonce_accept_nc(struct nonce_keeper *keeper, struct sv nonce, struct sv nc);

#endif
