/*
 * Writes a parsed message back as text: the start line, each header as "Name: value"
 * with the canonical long name for known headers (compact forms expanded) and folds
 * collapsed to one SP, an empty line, then the body. Used by the fuzz harness
 * (parse -> serialize -> parse must agree) and by `sipwarden lint`. Thread-safe for
 * distinct buffers.
 */
#ifndef SW_SIP_SERIALIZE_H
#define SW_SIP_SERIALIZE_H

#include "base/buf.h"

struct sip_msg;

/*
 * Appends the message to `out`. Returns 0, or -SW_EFULL when `out` overflowed (its
 * content is then incomplete).
 */
int sip_msg_serialize(const struct sip_msg *msg, struct sw_buf *out);

/*
 * Appends `text`, a complete message the gateway built (start line, CRLF-ended header
 * lines, an empty line, the body), to `out` with its body replaced by `body` and its
 * Content-Length (long or compact form, every such line) replaced by one that counts
 * `body`. Media anchoring uses it to put rtpengine's SDP into a message built for the
 * original one. Returns 0, -SW_EBADMSG when `text` has no empty line ending its headers,
 * or -SW_EFULL when `out` overflowed.
 */
int sip_msg_replace_body(struct sv text, struct sv body, struct sw_buf *out);

#endif
