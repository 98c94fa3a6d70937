#include "net/framer.h"

#include "base/assert.h"
#include "base/err.h"
#include "sip/msg.h"

/*
 * RFC 5626 §3.5.1 keep-alives before a message. Returns the bytes consumed; sets
 * *is_waiting when the CRLFs at the end of `rest` may still become a ping.
 */
static size_t consume_keepalives(struct sv rest, const struct framer_ops *ops, void *ctx,
                                 bool *is_waiting)
{
    size_t off = 0;
    *is_waiting = false;
    /* Bounded: every round consumes two or four bytes of `rest`. */
    while (off < rest.len && !ops->is_closing(ctx)) {
        struct sv cur = sv_slice(rest, off, rest.len - off);
        if (sv_starts_with(cur, SV("\r\n\r\n"))) {
            ops->pong(ctx);
            off += 4;
        } else if (sv_eq(cur, SV("\r\n")) || sv_eq(cur, SV("\r\n\r")) || sv_eq(cur, SV("\r"))) {
            *is_waiting = true;
            return off;
        } else if (sv_starts_with(cur, SV("\r\n"))) {
            ops->touch(ctx);
            off += 2;
        } else {
            return off; /* a message, or stray CR/LF that sip_frame() skips or rejects */
        }
    }
    return off;
}

struct framer_result framer_consume(struct sv rx, const struct sip_limits *limits,
                                    const struct framer_ops *ops, void *ctx)
{
    struct framer_result r = { 0 };
    size_t off = 0;
    /* Bounded: each round consumes at least one byte or leaves the loop. */
    while (off < rx.len && !ops->is_closing(ctx)) {
        off +=
            consume_keepalives(sv_slice(rx, off, rx.len - off), ops, ctx, &r.is_waiting_keepalive);
        if (r.is_waiting_keepalive || off == rx.len || ops->is_closing(ctx)) {
            break;
        }
        struct sv rest = sv_slice(rx, off, rx.len - off);
        size_t msg_len = 0;
        struct sip_err err = { 0 };
        int rc = sip_frame(rest, limits, &msg_len, &err);
        if (rc == -SW_EINCOMPLETE) {
            if (rest.len > limits->max_msg_bytes) {
                ops->fail(ctx, -SW_ETOOBIG, "message too large");
            }
            break;
        }
        if (rc != 0) {
            ops->fail(ctx, rc, err.reason != NULL ? err.reason : sw_strerror(rc));
            break;
        }
        SW_ASSERT(msg_len > 0 && msg_len <= rest.len);
        size_t lead = sip_frame_keepalive_len(rest);
        lead = lead < msg_len ? lead : msg_len;
        ops->deliver(ctx, sv_make(rest.ptr + lead, msg_len - lead));
        r.has_delivered = true;
        off += msg_len;
    }
    r.consumed = off;
    return r;
}
