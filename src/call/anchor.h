/*
 * Media anchoring sessions: what one call asks of rtpengine (issue #14), on top of the ng
 * client (call/rtpengine.h). A call's session names the call to rtpengine with the
 * gateway's own identifier (never a peer's Call-ID) and the two parties with fixed tags,
 * "caller" and "callee", so that offers and answers from either leg (initial INVITE,
 * 183/200 with SDP, re-INVITE, UPDATE, PRACK) meet the same rtpengine call. Every request
 * asks rtpengine to:
 *   - use the SDP's addresses rather than the ng packet's source (trust-address),
 *   - accept media only from the address each endpoint signalled or first sent from
 *     (strict-source), with no media hand-over to a new address (stops RTP injection and
 *     hijacking),
 *   - replace the origin and session connection addresses and remove ICE candidates,
 *     which would name the endpoint,
 *   - use the transport protocol the receiving leg needs (RTP/SAVP towards a leg that
 *     requires SRTP, RTP/AVP towards a PBX on the LAN) when the caller names one: rtpengine
 *     then keys SRTP per leg.
 * rtpengine's SDP loses the a=crypto lines the SDP policy rates weak (it offers NULL and F8
 * ciphers and 32-bit tags next to 80-bit ones) before the callback sees it.
 * The first answered offer pins the session to its rtpengine; its later requests go there,
 * and a session that rtpengine knows is deleted at the end (anchor_end()).
 * anchor_query() reads how much RTP rtpengine relayed for a session (its "query" command):
 * the B2BUA ends calls whose media stopped with it. A query has its own slot, so it never
 * holds up an offer or an answer of the same session.
 *
 * Memory: a session is embedded in its call and must not move while a request is in
 * flight. Threads: one anchor per worker, on that worker's loop; every function runs there.
 */
#ifndef SW_CALL_ANCHOR_H
#define SW_CALL_ANCHOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "call/rtpengine.h"

struct loop;
struct anchor;

#define ANCHOR_CALL_ID_CAP 64

/* Who sent the SDP being anchored. */
enum anchor_party {
    ANCHOR_CALLER, /* leg A: whoever sent the initial INVITE */
    ANCHOR_CALLEE, /* leg B */
};

struct anchor_settings {
    struct rtpengine_settings engines;
    bool is_pass_when_unreachable; /* [media] rtpengine_unreachable = pass */
    uint32_t media_timeout_ms;     /* [media] timeout: end calls silent this long; 0 = never */
};

/*
 * Called once per request, from the loop. status 0: `sdp` is rtpengine's SDP for the
 * receiving leg (valid only during the call). Otherwise: -ETIMEDOUT or -EHOSTUNREACH when
 * no rtpengine answered (see anchor_passes_unreachable()), -EPROTO when rtpengine refused
 * (an SDP it cannot handle), -SW_EBADMSG for an unreadable answer.
 */
typedef void anchor_done_fn(void *ctx, int status, struct sv sdp);

/*
 * Called once per query, from the loop. status 0: `packets` is the number of RTP packets
 * rtpengine received from both parties of the call so far (its "totals"). Otherwise as
 * anchor_done_fn: -EPROTO also when rtpengine no longer knows the call (it deleted it
 * after its own timeout, or it restarted), -SW_EBADMSG when the totals are missing.
 */
typedef void anchor_query_fn(void *ctx, int status, uint64_t packets);

/* One call's media session (in the call's storage). */
struct anchor_session {
    struct anchor *owner;
    char call_id[ANCHOR_CALL_ID_CAP];
    size_t call_id_len;
    size_t server;    /* RTPENGINE_ANY_SERVER until an offer was answered */
    uint64_t pending; /* handle of the request in flight, 0 = none */
    bool is_created;  /* rtpengine knows the call: delete it at the end */
    bool is_answered; /* an answer went through: offers name both tags */
    anchor_done_fn *done;
    void *done_ctx;
    uint64_t query_pending; /* handle of the query in flight, 0 = none */
    anchor_query_fn *query_done;
    void *query_ctx;
};

/* What the leg that receives the SDP needs. */
struct anchor_leg {
    struct sv transport_protocol; /* "RTP/SAVP", "RTP/AVP"...; absent = as offered */
};

/* The media a leg gets from rtpengine, decided by the SDP policy (policy/media.h). */
enum anchor_protocol {
    ANCHOR_PROTOCOL_AS_OFFERED, /* what the other side offered */
    ANCHOR_PROTOCOL_RTP,        /* RTP/AVP: plain, e.g. towards a PBX on the LAN */
    ANCHOR_PROTOCOL_SDES,       /* RTP/SAVP, keyed by rtpengine with a=crypto (TLS legs) */
    ANCHOR_PROTOCOL_DTLS,       /* UDP/TLS/RTP/SAVP: DTLS-SRTP with rtpengine */
};

/* The leg that asks rtpengine for `protocol` (the transport-protocol of an ng offer). */
struct anchor_leg anchor_leg_for(enum anchor_protocol protocol);

/* A new anchor (an ng client on `loop`); NULL with *err (-errno, -SW_EBADARG). */
struct anchor *anchor_new(struct loop *loop, const struct anchor_settings *settings, int *err);

/* Frees the client; sessions still pending get no callback. NULL is a no-op. */
void anchor_free(struct anchor *anchor);

/* True when new calls go on unanchored if no rtpengine answers. */
bool anchor_passes_unreachable(const struct anchor *anchor);

/* [media] timeout in ms (0 = calls are never ended for silence). */
uint32_t anchor_media_timeout_ms(const struct anchor *anchor);

/* The ng client (stats, health). */
struct rtpengine *anchor_client(struct anchor *anchor);

/* True when no session of the anchor is left and no request is in flight (a delete): a
 * retired anchor may then be freed. */
bool anchor_is_idle(const struct anchor *anchor);

/* True when the two settings ask for the same rtpengines, weights and options. */
bool anchor_settings_equal(const struct anchor_settings *x, const struct anchor_settings *y);

/* Starts a session named `call_id` (the gateway's, e.g. leg B's Call-ID; cut to fit) on
 * `anchor`, which counts it until anchor_end(). A NULL anchor leaves the session unused. */
void anchor_session_init(struct anchor *anchor, struct anchor_session *session, struct sv call_id);

/*
 * Sends `sdp`, an offer from `from`, to rtpengine; `done` gets rtpengine's SDP for the
 * other leg. Returns 0, -EALREADY when the session has a request in flight,
 * or what rtpengine_send() returns (then `done` is never called).
 */
int anchor_offer(struct anchor_session *session, enum anchor_party from, struct sv sdp,
                 const struct anchor_leg *to, anchor_done_fn *done, void *ctx);

/* As anchor_offer() for `sdp`, the answer from `from` to the last offer. */
int anchor_answer(struct anchor_session *session, enum anchor_party from, struct sv sdp,
                  const struct anchor_leg *to, anchor_done_fn *done, void *ctx);

/*
 * Asks rtpengine how many RTP packets it received for the session; `done` gets the count.
 * Returns 0, -ENOENT when rtpengine does not know the session yet (no offer answered),
 * -EALREADY when a query of the session is in flight, or what rtpengine_send() returns
 * (then `done` is never called).
 */
int anchor_query(struct anchor_session *session, anchor_query_fn *done, void *ctx);

/* Forgets the offer or answer in flight (its callback is not called); a no-op without one. */
void anchor_cancel(struct anchor_session *session);

/* The call ended: forgets the requests in flight and, when rtpengine knows the call, sends
 * delete (nobody waits for its answer). The session is then unused. */
void anchor_end(struct anchor_session *session);

#endif
