/*
 * Responses built straight from a received request (RFC 3261 §8.2.6): every Via, From,
 * To (with our tag added when it has none), Call-ID and CSeq copied. Used for stateless
 * answers (400, 403, 503...) and for the answers of the call layer itself. Pure; any thread.
 */
#ifndef SW_CALL_REPLY_H
#define SW_CALL_REPLY_H

#include <stdint.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/sv.h"

struct sip_msg;

struct reply_extra {
    const struct sockaddr_storage *src; /* the request's source, for received/rport; or NULL */
    struct sv to_tag;                   /* added to To when it has no tag (absent: none added) */
    struct sv headers;                  /* complete "Name: value\r\n" lines, or absent */
    struct sv server;                   /* Server header value, or absent */
    struct sv content_type;             /* with a body */
    struct sv body;
};

/*
 * Writes the response into `out`. `reason` NULL uses the standard phrase of `status`.
 * Returns 0, or -SW_EBADMSG when the request lacks what a response needs, or -SW_ETOOBIG
 * when `out` is too small.
 */
int reply_build(struct sw_buf *out, struct sip_msg *request, uint16_t status, const char *reason,
                const struct reply_extra *extra);

/*
 * Writes "Via: <value>\r\n" for the top Via of a response, with RFC 3261 §18.2.1's
 * received (when the sent-by host is not the address the request came from) and RFC 3581's
 * rport value (when the request asked for it) set from `src`. Other Vias are copied as
 * they are. A value that does not parse is copied unchanged.
 */
void reply_put_top_via(struct sw_buf *out, struct sv via_value, const struct sockaddr_storage *src);

/* The RFC 3261 §21 reason phrase of `status` ("Unknown" for codes it does not list). */
const char *reply_reason(uint16_t status);

#endif
