/*
 * Authorization, Proxy-Authorization, WWW-Authenticate and Proxy-Authenticate values
 * (RFC 3261 §20.7, §25.1; RFC 2617; RFC 7616; RFC 8760): the scheme and the parameters
 * a digest exchange needs. Views point into the input; quoted-string values exclude the
 * quotes and keep quoted-pairs (\") raw. Unknown schemes (RFC 4475 §3.3.7) parse as a
 * scheme with raw parameters. Pure functions, thread-safe. Hash computation lives in
 * sip/digest.h.
 */
#ifndef SW_SIP_AUTH_H
#define SW_SIP_AUTH_H

#include <stdbool.h>

#include "base/sv.h"
#include "sip/err.h"

struct sip_auth {
    struct sv scheme; /* "Digest" or another token, as written */
    bool is_digest;   /* scheme is "Digest" (ASCII case-insensitive) */
    struct sv username, realm, nonce, uri, response, algorithm, cnonce, opaque;
    struct sv qop; /* unquoted value, or the quoted list of a challenge without quotes */
    struct sv nc, stale, domain, userhash;
    struct sv params; /* everything after the scheme, trimmed */
};

/*
 * Parses a credentials or challenge value. Every auth-param must be `name = token` or
 * `name = quoted-string`, comma-separated (empty elements are skipped as RFC 7235
 * allows); a duplicated known parameter is an error (it could make two elements read
 * different credentials). Unknown parameters are skipped. Returns 0, or -SW_EBADMSG
 * with err->pos relative to `value` and err->status = 400.
 */
int sip_auth_parse(struct sv value, struct sip_auth *out, struct sip_err *err);

#endif
