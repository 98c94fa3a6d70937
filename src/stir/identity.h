/*
 * The SIP Identity header (RFC 8224 §4): its name (full "Identity", compact "y"), the
 * value's syntax, and building a value for a signed PASSporT. Parsing is zero-copy: the
 * views in `struct stir_identity` point into the parsed value. Pure; thread-safe.
 *
 *   Identity = signed-identity-digest SEMI ident-info *( SEMI ident-info-params )
 *   signed-identity-digest: base64url parts separated by '.' (RFC 8224 erratum 6499),
 *     either full "header.claims.signature" or compact "..signature" (RFC 8225 §7)
 *   ident-info = "info" EQUAL "<" absoluteURI ">";  alg=token, ppt=token, generic-param
 */
#ifndef SW_STIR_IDENTITY_H
#define SW_STIR_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"
#include "stir/reason.h"

struct stir_identity {
    struct sv token;  /* the whole signed-identity-digest */
    struct sv header; /* base64url of the protected header; empty in compact form */
    struct sv claims; /* base64url of the claims; empty in compact form */
    struct sv signature;
    bool is_compact;
    struct sv info; /* the URI inside <>, never absent after a successful parse */
    struct sv alg;  /* absent when the parameter is absent (ES256 is then assumed) */
    struct sv ppt;  /* absent when absent */
};

/* True for the header names "Identity" and "y" (ASCII case-insensitive). */
bool stir_identity_name_matches(struct sv name);

/*
 * If `line` starts with a header name "Identity:" or "y:" (with optional white space
 * around the colon), returns the value after it; otherwise returns `line` unchanged.
 * Trailing CR/LF and white space are removed either way. For tools and tests that handle
 * whole header lines.
 */
struct sv stir_identity_strip_name(struct sv line);

/*
 * Parses a header value (folded white space allowed around ';' and '='). The token is
 * up to STIR_TOKEN_MAX bytes of base64url characters with exactly two dots; header and
 * claims are both present or both empty (compact); the signature is never empty.
 * Parameters: info exactly once, alg and ppt at most once, other generic parameters
 * ignored. Returns STIR_OK or STIR_BAD_SYNTAX (then `out` is zeroed).
 */
enum stir_reason stir_identity_parse(struct sv value, struct stir_identity *out);

/*
 * Writes `<token>;info=<x5u>;alg=ES256;ppt=shaken` into `out` (capacity `cap`, NUL
 * added). Returns the length or -SW_ETOOBIG.
 */
long stir_identity_format(struct sv token, struct sv x5u, char *out, size_t cap);

#endif
