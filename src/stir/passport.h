/*
 * PASSporT (RFC 8225) with the SHAKEN extension (RFC 8588): the protected header and the
 * claims as a C struct, their canonical JSON (RFC 8225 §9: keys sorted, no white space,
 * produced by jansson with JSON_SORT_KEYS | JSON_COMPACT) and a strict decoder for
 * received tokens. A decoded passport is a self-contained value (no views into the
 * input). Pure functions on caller storage; thread-safe.
 */
#ifndef SW_STIR_PASSPORT_H
#define SW_STIR_PASSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "stir/attest.h"
#include "stir/reason.h"
#include "stir/tn.h"

/* Limits of what is accepted and produced; a token over STIR_TOKEN_MAX is refused. */
#define STIR_TOKEN_MAX          4096
#define STIR_X5U_MAX            512
#define STIR_ORIGID_MAX         64
#define STIR_PASSPORT_DEST_MAX  8
#define STIR_PASSPORT_JSON_MAX  2048
#define STIR_PASSPORT_FIELD_MAX 16

struct stir_passport {
    /* Protected header. */
    char alg[STIR_PASSPORT_FIELD_MAX]; /* "ES256" */
    char typ[STIR_PASSPORT_FIELD_MAX]; /* "passport" */
    char ppt[STIR_PASSPORT_FIELD_MAX]; /* "shaken", or "" when absent */
    char x5u[STIR_X5U_MAX];
    /* Claims. */
    enum stir_attest attest; /* NONE when absent */
    struct stir_tn orig;     /* orig.tn, digits as in the token */
    struct stir_tn dest[STIR_PASSPORT_DEST_MAX];
    size_t dest_count;     /* dest.tn entries */
    size_t dest_uri_count; /* dest.uri entries (counted, not kept) */
    int64_t iat;
    char origid[STIR_ORIGID_MAX]; /* "" when absent */
};

/* What a SHAKEN PASSporT to sign says (views are copied by stir_passport_init_shaken). */
struct stir_shaken_spec {
    struct sv x5u;
    enum stir_attest attest;
    const struct stir_tn *orig;
    const struct stir_tn *dest;
    int64_t iat;
    struct sv origid;
};

/*
 * Fills a SHAKEN passport to sign: alg ES256, typ passport, ppt shaken. `x5u` must be
 * an https URL of printable ASCII without quotes, backslashes or spaces, shorter than
 * STIR_X5U_MAX; `origid` likewise shorter than STIR_ORIGID_MAX; attest A/B/C; both
 * numbers non-empty; iat > 0. Returns 0 or -SW_EBADARG (nothing usable in `out`).
 */
int stir_passport_init_shaken(struct stir_passport *out, const struct stir_shaken_spec *spec);

/*
 * Writes the canonical JSON of the header / the claims into `out` (capacity `cap`, NUL
 * added). Returns the length, or -SW_ETOOBIG / -ENOMEM / -SW_EBADARG.
 */
long stir_passport_header_json(const struct stir_passport *pp, char *out, size_t cap);
long stir_passport_claims_json(const struct stir_passport *pp, char *out, size_t cap);

/*
 * Writes the JWS signing input BASE64URL(header) "." BASE64URL(claims) into `out`.
 * Returns its length or a negative error as above.
 */
long stir_passport_signing_input(const struct stir_passport *pp, char *out, size_t cap);

/*
 * Decodes a protected header (JSON text, already base64url-decoded) into the header
 * fields of `pp`. Strict: an object without duplicate keys, alg/typ/x5u strings, ppt a
 * string when present, no "crit". Returns STIR_OK or the reason (BAD_JSON, BAD_CRIT,
 * BAD_X5U...). Does not judge the values (the verifier does).
 */
enum stir_reason stir_passport_decode_header(struct sv json, struct stir_passport *pp);

/*
 * Decodes the claims into `pp`: iat an integer (not a string, RFC 8225 erratum 5985),
 * orig an object with a "tn" string of 1-15 digits, dest an object with a non-empty
 * "tn" and/or "uri" array of strings, attest "A"/"B"/"C" and origid a string when
 * present. Returns STIR_OK, STIR_BAD_JSON or STIR_BAD_CLAIMS.
 */
enum stir_reason stir_passport_decode_claims(struct sv json, struct stir_passport *pp);

/* True when `url` is an acceptable x5u: "https://" (any case), printable, bounded. */
bool stir_passport_x5u_is_valid(struct sv url);

#endif
