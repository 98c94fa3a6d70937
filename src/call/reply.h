/*
 * Responses built straight from a received request (RFC 3261 §8.2.6): every Via, From,
 * To (with our tag added when it has none), Call-ID and CSeq copied. Used for stateless
 * answers (400, 403, 503...) and for the answers of the call layer itself. Pure; any thread.
 */
#ifndef SW_CALL_REPLY_H
#define SW_CALL_REPLY_H

#include <stdint.h>

#include "base/buf.h"
#include "base/sv.h"

struct sip_msg;

struct reply_extra {
    struct sv to_tag;       /* added to To when it has no tag (absent: none added) */
    struct sv headers;      /* complete "Name: value\r\n" lines, or absent */
    struct sv server;       /* Server header value, or absent */
    struct sv content_type; /* with a body */
    struct sv body;
};

/*
 * Writes the response into `out`. `reason` NULL uses the standard phrase of `status`.
 * Returns 0, or -SW_EBADMSG when the request lacks what a response needs, or -SW_ETOOBIG
 * when `out` is too small.
 */
int reply_build(struct sw_buf *out, struct sip_msg *request, uint16_t status, const char *reason,
                const struct reply_extra *extra);

/* The RFC 3261 §21 reason phrase of `status` ("Unknown" for codes it does not list). */
const char *reply_reason(uint16_t status);

#endif
