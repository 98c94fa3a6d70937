/*
 * name-addr and addr-spec values of From, To, Contact, Route, Record-Route,
 * Reply-To, P-Asserted-Identity... (RFC 3261 §20.10, §25.1). Views point into the
 * input. Without <...> the URI ends at the first ';' and what follows are header
 * parameters (RFC 3261 §20: a URI with ',', '?' or ';' must be enclosed in <>).
 * Pure functions, thread-safe.
 */
#ifndef SW_SIP_NAMEADDR_H
#define SW_SIP_NAMEADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"
#include "sip/err.h"
#include "sip/uri.h"

struct sip_nameaddr {
    struct sv display;  /* token words or quoted-string without the quotes; absent if none */
    struct sv uri_text; /* the URI as written, without <> */
    struct sip_uri uri;
    struct sv params; /* header parameters after the URI, from the first ';' (absent: none) */
    struct sv tag;    /* value of the "tag" parameter; absent when there is none */
};

/* One element of a Contact list (RFC 3261 §20.10). */
struct sip_contact {
    struct sip_nameaddr addr;
    struct sv expires; /* "expires" parameter, absent when not given */
    struct sv q;       /* "q" parameter, absent when not given */
};

/*
 * Parses one name-addr or addr-spec (one list element, already split off) with its
 * parameters. Returns 0, or -SW_EBADMSG / -SW_EBADURI with err->pos relative to `in`
 * and err->status = 400 (then `out` is all zero).
 */
int sip_nameaddr_parse(struct sv in, struct sip_nameaddr *out, struct sip_err *err);

/*
 * Parses one Contact element: "*", or a name-addr/addr-spec whose parameters must be
 * well-formed. `*is_star` tells the "*" form (then `out` is zeroed). Returns 0 or an
 * error as sip_nameaddr_parse().
 */
int sip_contact_parse(struct sv in, struct sip_contact *out, bool *is_star, struct sip_err *err);

#endif
