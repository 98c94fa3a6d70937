/*
 * The authentication service (RFC 8224 §6.1, RFC 8588): builds and signs a SHAKEN
 * PASSporT and formats the Identity header value. A signer holds the P-256 private key
 * and the x5u URL; it is created at start-up (configuration thread) and is then
 * read-only: any thread may sign with it concurrently.
 */
#ifndef SW_STIR_SIGN_H
#define SW_STIR_SIGN_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/sv.h"
#include "stir/attest.h"
#include "stir/passport.h"
#include "stir/tn.h"

/* Room for a whole Identity header value produced by this module. */
#define STIR_IDENTITY_VALUE_MAX (STIR_TOKEN_MAX + STIR_X5U_MAX + 64)
/* A UUID in text form plus NUL. */
#define STIR_UUID_CAP           37

struct stir_signer_cfg {
    const char *key_file;  /* PEM EC P-256 private key, mode 600 or stricter */
    const char *cert_file; /* optional: the certificate served at x5u; checked to match */
    const char *x5u;       /* https URL of that certificate (chain) */
};

/* One signature request. */
struct stir_sign_req {
    enum stir_attest attest; /* A, B or C (see stir_attest_decide) */
    const struct stir_tn *orig;
    const struct stir_tn *dest;
    int64_t iat;      /* seconds since the epoch: now, or the request's Date */
    struct sv origid; /* absent = a new random UUID v4 for this call */
};

struct stir_signer;

/*
 * Loads the key (refusing one readable by group/others), checks it is P-256, checks the
 * certificate (when given) carries its public key, and checks x5u is an https URL.
 * Returns 0 with a new signer in *out, or a negative error with every problem added to
 * `diag` (required).
 */
int stir_signer_new(const struct stir_signer_cfg *cfg, struct stir_signer **out,
                    struct sw_diag *diag);

/* A signer from a key already in memory (tests, benchmarks); takes a new reference. */
int stir_signer_new_from_key(EVP_PKEY *key, struct sv x5u, struct stir_signer **out);

/* Frees the signer; NULL is a no-op. */
void stir_signer_free(struct stir_signer *signer);

/*
 * Signs one call: writes `<token>;info=<x5u>;alg=ES256;ppt=shaken` into `out` (capacity
 * `cap`, STIR_IDENTITY_VALUE_MAX is enough), NUL-terminated. Returns the length, or
 * -SW_EBADARG (attest NONE, empty numbers, iat <= 0, bad origid), -SW_ETOOBIG,
 * -SW_ECRYPTO, -errno (no randomness for the origid).
 */
long stir_signer_sign(const struct stir_signer *signer, const struct stir_sign_req *req, char *out,
                      size_t cap);

/*
 * Signs any passport with `key`: writes the compact JWS "header.claims.signature" into
 * `out`. Returns the length or a negative error (as above).
 */
long stir_sign_passport(EVP_PKEY *key, const struct stir_passport *pp, char *out, size_t cap);

/* Writes a random (getrandom) RFC 9562 version 4 UUID in lower-case text. 0 or -errno. */
int stir_uuid_v4(char out[STIR_UUID_CAP]);

#endif
