/*
 * Via header values (RFC 3261 §20.42, §18.2.1, RFC 3581 rport, RFC 5118 §4.5 for
 * received=[IPv6]). One `struct sip_via` per via-parm (a Via line may hold several,
 * comma-separated). Views point into the input. Pure functions, thread-safe.
 */
#ifndef SW_SIP_VIA_H
#define SW_SIP_VIA_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sv.h"
#include "sip/err.h"

/* The RFC 3261 branch prefix that marks a transaction id (§8.1.1.7). */
#define SIP_BRANCH_COOKIE "z9hG4bK"

struct sip_via {
    struct sv protocol;  /* "SIP/2.0" as written (LWS around '/' removed only logically) */
    struct sv transport; /* UDP, TCP, TLS, SCTP, WS, WSS or any token */
    struct sv host;      /* IPv6 references keep their brackets */
    struct sv branch, received, maddr, ttl; /* absent when not given */
    struct sv rport;                        /* its value; present and empty for a bare ";rport" */
    struct sv params; /* every parameter, raw, from the first ';' (absent: none) */
    struct sv raw;    /* this via-parm */
    uint16_t port;
    bool has_port;
    bool has_rport;
};

/*
 * Parses one via-parm (a single element of a Via list). Returns 0, or -SW_EBADMSG with
 * err->pos relative to `in` and err->status = 400. The protocol name and version are
 * not judged here (sip_msg_validate answers 505 for another version).
 */
int sip_via_parse(struct sv in, struct sip_via *out, struct sip_err *err);

/* True when `via` carries an RFC 3261 branch: the magic cookie followed by at least one byte. */
bool sip_via_has_rfc3261_branch(const struct sip_via *via);

#endif
