/*
 * Framing of SIP messages on a byte stream (RFC 3261 §18.3) with the RFC 5626 §3.5.1
 * keep-alives: the part of a stream connection's receive path that needs no socket, so
 * that it is tested and fuzzed over any segmentation of the bytes (fuzz/fuzz_stream.c).
 * Runs in the thread that owns the receive buffer; keeps no state between calls: the
 * caller keeps the bytes not consumed and calls again when more arrive.
 */
#ifndef SW_NET_FRAMER_H
#define SW_NET_FRAMER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"

struct sip_limits;

/* What the framer asks of its connection. Each may close it (then is_closing says so). */
struct framer_ops {
    void (*pong)(void *ctx);                               /* answer a ping with "\r\n" */
    void (*touch)(void *ctx);                              /* activity that is no message */
    void (*deliver)(void *ctx, struct sv msg);             /* one message, CRLFs skipped */
    void (*fail)(void *ctx, int code, const char *reason); /* framing lost: close */
    bool (*is_closing)(void *ctx);
};

/* What one call did, besides the callbacks. */
struct framer_result {
    size_t consumed;           /* bytes of `rx` done with (messages, pings, pongs) */
    bool is_waiting_keepalive; /* the CRLFs left at the end may still become a ping */
    bool has_delivered;        /* at least one message was delivered */
};

/*
 * Delivers every complete message at the start of `rx` and answers or swallows the
 * keep-alives before each: "\r\n\r\n" is a ping (ops->pong), a lone "\r\n" the peer's pong
 * (ops->touch). An incomplete message longer than limits->max_msg_bytes, or bytes that
 * cannot be framed, end in ops->fail. Stops when the connection is closing. Views given
 * to deliver borrow `rx`.
 */
struct framer_result framer_consume(struct sv rx, const struct sip_limits *limits,
                                    const struct framer_ops *ops, void *ctx);

#endif
