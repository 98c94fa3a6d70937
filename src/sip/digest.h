/*
 * Digest authentication hashes: RFC 2617 (MD5, MD5-sess, qop auth / auth-int, and the
 * RFC 2069 form without qop), RFC 7616 (SHA-256, SHA-512-256, userhash) and RFC 8760
 * (the same algorithms for SIP). Computed with OpenSSL EVP.
 *
 * Every output is lower-case hex, NUL-terminated, written into caller storage of at least
 * SIP_DIGEST_HEX_CAP bytes. Nothing is allocated by the callers' account except OpenSSL's
 * short-lived digest context. All functions are thread-safe (the only shared state: the
 * digests, fetched once).
 */
#ifndef SW_SIP_DIGEST_H
#define SW_SIP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"

/* The longest hex digest (SHA-256, SHA-512-256) and the storage an output needs. */
#define SIP_DIGEST_HEX_MAX 64
#define SIP_DIGEST_HEX_CAP (SIP_DIGEST_HEX_MAX + 1)

enum sip_digest_alg {
    SIP_DIGEST_MD5,
    SIP_DIGEST_SHA256,
    SIP_DIGEST_SHA512_256, /* FIPS 180-4 SHA-512/256, not SHA-512 cut to 256 bits */
};

/*
 * The inputs of one response computation (RFC 7616 §3.4.1). Views may be absent where
 * the comment says so; none needs to be NUL-terminated.
 */
struct sip_digest_input {
    enum sip_digest_alg alg;
    bool is_sess;      /* the "-sess" variant: HA1 becomes H(HA1:nonce:cnonce) */
    struct sv ha1_hex; /* H(user:realm:password) in hex (either case), as stored */
    struct sv nonce;
    struct sv nc;     /* 8 hex digits; required with a qop, ignored without */
    struct sv cnonce; /* required with a qop or -sess, ignored otherwise */
    struct sv qop;    /* absent or "" (RFC 2069), "auth" or "auth-int" */
    struct sv method; /* e.g. "REGISTER" */
    struct sv uri;    /* the digest-uri parameter exactly as sent */
    struct sv body;   /* the message body, used only for "auth-int" (absent = empty) */
};

/*
 * Parses an algorithm token (RFC 7616 §3.3, ASCII case-insensitive): "MD5", "SHA-256",
 * "SHA-512-256", each optionally followed by "-sess". An absent view means MD5 without
 * -sess (RFC 2617 §3.2.1). Returns false, leaving the outputs unchanged, for anything else.
 */
bool sip_digest_alg_parse(struct sv name, enum sip_digest_alg *out, bool *is_sess);

/* The canonical token of `alg` without "-sess" ("MD5", "SHA-256", "SHA-512-256"). */
const char *sip_digest_alg_name(enum sip_digest_alg alg);

/* The number of hex digits `alg` produces: 32 for MD5, 64 for the others. */
size_t sip_digest_hex_len(enum sip_digest_alg alg);

/*
 * HA1 = H(user ":" realm ":" password) in hex into `hex_out` (SIP_DIGEST_HEX_CAP bytes).
 * The bytes are hashed as given (UTF-8 as received; RFC 7616 §4 charset). Returns 0, or
 * -SW_ECRYPTO when OpenSSL fails (then `hex_out` holds an empty string).
 */
int sip_digest_ha1(enum sip_digest_alg alg, struct sv user, struct sv realm, struct sv password,
                   char *hex_out);

/* userhash = H(user ":" realm) (RFC 7616 §3.4.4) in hex. Returns 0 or -SW_ECRYPTO. */
int sip_digest_userhash(enum sip_digest_alg alg, struct sv user, struct sv realm, char *hex_out);

/*
 * The expected `response` parameter for `in` (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1 and the
 * RFC 2069 form when qop is absent or empty). Returns 0; -SW_EBADARG when `ha1_hex` is not
 * sip_digest_hex_len() hex digits, when qop is another token, or when a qop or -sess is
 * used without cnonce (or a qop without nc); -SW_ECRYPTO when OpenSSL fails. On failure
 * `hex_out` holds an empty string, so it never matches a client's response.
 */
int sip_digest_response_compute(const struct sip_digest_input *in, char *hex_out);

/*
 * Convenience form of sip_digest_response_compute() for qop "" or "auth" (no body), with
 * the parameters in the order of the digest formula. Same returns.
 */
int sip_digest_response(enum sip_digest_alg alg, bool is_sess, struct sv ha1_hex, struct sv nonce,
                        struct sv nc, struct sv cnonce, struct sv qop, struct sv method,
                        struct sv uri, char *hex_out);

/*
 * Compares two hex digests in time that depends only on their length (not on where they
 * differ), folding 'A'-'F' to 'a'-'f'. False when the lengths differ or are zero.
 */
bool sip_digest_hex_eq_ct(struct sv a, struct sv b);

#endif
