/*
 * Media anchoring in the B2BUA (issue #14): the SDP of a call's initial INVITE goes to
 * rtpengine as an offer before leg B's INVITE leaves, and the SDP of leg B's 183/200 as
 * the answer before the response reaches leg A; each leg then gets rtpengine's SDP in
 * place of the other side's (sip_msg_replace_body), so neither side learns the other's
 * media addresses. The end of the call deletes it in rtpengine.
 *
 * While rtpengine thinks, the built message waits in a heap copy (struct media_held); a
 * call ended meanwhile (CANCEL) forgets it. rtpengine unreachable: a new call gets 503, or
 * goes on unanchored when [media] rtpengine_unreachable = pass. A later 183/200 replaces a
 * provisional answer still waiting (the newest answer wins); a 2xx retransmission while
 * the 2xx waits is dropped (leg A's transaction retransmits ours).
 * Each offer asks rtpengine for the media its receiving leg needs (the SDP policy's
 * route.media_to_a/media_to_b: SRTP towards a TLS trunk, plain RTP towards a PBX on the LAN);
 * an answer comes back in the protocol of its offer.
 * In-dialog offers (re-INVITE, UPDATE with SDP) of an anchored call take the same way
 * through b2bua_relay.c, and so do their 2xx answers; rtpengine failing on those leaves the
 * call as it is (calls in progress are not disturbed: the SDP then crosses unanchored).
 * A late offer (an INVITE without SDP) starts the session with leg B's 183/200: its SDP is
 * the offer, sent to leg A as rtpengine rewrote it, and leg A's ACK carries the answer,
 * which leg B gets from rtpengine too, or a PRACK does when B's reliable 183 carried the
 * offer (RFC 3262). A PRACK may also offer (RFC 6337 §3.1): after a reliable 183 that
 * answered, or one without SDP that left a late offer without one (the PRACK's offer then
 * starts the session); its 200 carries the answer, both through rtpengine like a
 * re-INVITE's.
 *
 * Media timeout ([media] timeout): an answered, anchored call asks rtpengine every quarter
 * of the timeout how many RTP packets it relayed (ng "query"); when the count has not
 * moved for the timeout, the call ends with BYE on both legs. Polling was chosen over
 * rtpengine's own timeout notification, which is an XML-RPC call to one fixed URL
 * (--b2b-url) with rtpengine's global timeout: it would need an HTTP server in every
 * worker and could not follow our per-gateway setting. An rtpengine that no longer knows
 * the call (restarted, or it dropped the call after its own timeout) counts as silence;
 * one that does not answer counts as nothing, so calls in progress outlive an rtpengine
 * outage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "call/anchor.h"
#include "call/b2bua_int.h"
#include "call/dialog.h"
#include "call/txn.h"
#include "net/loop.h"
#include "sip/msg.h"
#include "sip/serialize.h"

struct media_held {
    uint16_t status;     /* 0: a request (leg B's INVITE, a relayed offer); else a response */
    struct relay *relay; /* an in-dialog relay's message, or NULL for the initial INVITE */
    uint32_t relay_cseq; /* the relay's in_cseq: tells a reused relay slot from ours */
    int method;
    char branch[32];
    size_t branch_len;
    size_t len;
    char bytes[];
};

static bool has_sdp(const struct sip_msg *msg)
{
    if (msg->body.len == 0) {
        return false;
    }
    const struct sip_hdr *type = sip_msg_find(msg, SIP_HDR_CONTENT_TYPE, NULL);
    return type != NULL && sv_starts_with_nocase(sv_trim(type->value), SV("application/sdp"));
}

/* A heap copy of a built message and its branch, or NULL (out of memory, branch too long). */
static struct media_held *held_new(struct sv bytes, struct sv branch, uint16_t status)
{
    struct media_held *h = sw_malloc(sizeof(*h) + bytes.len);
    if (h == NULL || branch.len > sizeof(h->branch)) {
        sw_free(h);
        return NULL;
    }
    *h = (struct media_held){ .status = status };
    memcpy(h->branch, branch.ptr, branch.len);
    h->branch_len = branch.len;
    h->len = bytes.len;
    memcpy(h->bytes, bytes.ptr, bytes.len);
    return h;
}

static bool hold(struct call *call, struct sv bytes, struct sv branch, uint16_t status)
{
    struct media_held *h = held_new(bytes, branch, status);
    if (h == NULL) {
        return false;
    }
    sw_free(call->media_held);
    call->media_held = h;
    return true;
}

/* Takes the waiting message from the call (the caller frees it). */
static struct media_held *take_held(struct call *call)
{
    struct media_held *h = call->media_held;
    call->media_held = NULL;
    return h;
}

/* `held` with rtpengine's `sdp` as its body, in b->out; absent when it does not fit. */
static struct sv with_sdp(struct b2bua *b, const struct media_held *held, struct sv sdp)
{
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    if (sip_msg_replace_body(sv_make(held->bytes, held->len), sdp, &out) != 0) {
        return SV_NULL;
    }
    return sw_buf_view(&out);
}

static bool is_unreachable(int status)
{
    return status == -ETIMEDOUT || status == -EHOSTUNREACH || status == -SW_EFULL;
}

/* Without rtpengine, may the call go on unanchored? Only when the operator chose so and
 * the SDP policy accepted the offer as it is (not only through rtpengine's re-keying). */
static bool may_pass(const struct call *call)
{
    return call->media.owner != NULL && anchor_passes_unreachable(call->media.owner) &&
           !call->route.is_anchor_needed;
}

/* A new call found no rtpengine: the event (and its metric) says so, once per call. */
static void report_unreachable(struct call *call, int status, bool is_passed)
{
    char detail[128];
    (void)sw_snprintf(detail, sizeof(detail), "rtpengine unreachable (%s): call %s",
                      sw_strerror(status), is_passed ? "passed unanchored" : "refused with 503");
    log_info(NULL, "media: %s", detail);
    b2bua_emit_call_event(call, EV_MEDIA_RELAY_UNREACHABLE, detail);
}

static bool send_b_invite_bytes(struct b2bua *b, struct call *call, struct sv branch,
                                struct sv bytes)
{
    call->b_invite = txn_client_new(b->txns, SIP_METHOD_INVITE, branch, &call->b.dest, bytes, call);
    return call->b_invite != NULL;
}

/* rtpengine's offer answer came: leg B's INVITE leaves with its SDP (or the call ends). */
static void on_offer_done(void *ctx, int status, struct sv sdp)
{
    struct call *call = ctx;
    struct b2bua *b = call->owner;
    struct media_held *h = take_held(call);
    if (h == NULL || call->state != CALL_STATE_EARLY) {
        sw_free(h);
        return;
    }
    struct sv branch = sv_make(h->branch, h->branch_len);
    struct sv bytes = SV_NULL;
    if (status == 0) {
        bytes = with_sdp(b, h, sdp);
    } else if (is_unreachable(status)) {
        report_unreachable(call, status, may_pass(call));
        if (may_pass(call)) {
            anchor_end(&call->media); /* its answers pass unanchored too */
            bytes = sv_make(h->bytes, h->len);
        }
    } else {
        log_info(NULL, "media: rtpengine refused the offer (%s)", sw_strerror(status));
    }
    bool is_sent = bytes.ptr != NULL && send_b_invite_bytes(b, call, branch, bytes);
    sw_free(h);
    if (!is_sent) {
        b2bua_respond_a(call, 503, SV("Service Unavailable"));
        b2bua_call_end(call, 503, "media");
    }
}

bool b2bua_media_send_b_invite(struct b2bua *b, struct call *call, struct sip_msg *invite)
{
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    struct sv bytes = b2bua_build_b_invite(b, call, invite, branch);
    if (bytes.ptr == NULL) {
        return false;
    }
    struct sv sdp = invite->body;
    if (sv_is_present(call->route.sdp)) {
        /* The media policy removed weak crypto lines: leg B gets its SDP, not the INVITE's
         * (the builder's text moves to the arena; b->out gets the result). */
        sdp = call->route.sdp;
        arena_reset(b->scratch); /* the builders' scratch: free between messages */
        struct sv built = arena_sv_dup(b->scratch, bytes);
        struct sw_buf out;
        sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
        if (!sv_is_present(built) || sip_msg_replace_body(built, sdp, &out) != 0) {
            return false;
        }
        bytes = sw_buf_view(&out);
    }
    if (b->anchor == NULL || !has_sdp(invite)) {
        /* A late offer: the session starts with leg B's SDP (b2bua_media_respond_a). */
        call->is_late_offer = b->anchor != NULL && invite->body.len == 0;
        return send_b_invite_bytes(b, call, branch, bytes);
    }
    anchor_session_init(b->anchor, &call->media, FSTR_SV(call->b.call_id));
    if (!hold(call, bytes, branch, 0)) {
        return false;
    }
    struct anchor_leg to_b = anchor_leg_for(call->route.media_to_b);
    int rc = anchor_offer(&call->media, ANCHOR_CALLER, sdp, &to_b, on_offer_done, call);
    if (rc == 0) {
        return true;
    }
    struct media_held *h = take_held(call);
    bool is_passed = is_unreachable(rc) && may_pass(call);
    anchor_end(&call->media);
    if (is_unreachable(rc)) {
        report_unreachable(call, rc, is_passed);
    }
    bool is_sent = is_passed && send_b_invite_bytes(b, call, branch, sv_make(h->bytes, h->len));
    sw_free(h);
    return is_sent;
}

/* rtpengine's answer came: leg A gets the response with its SDP. */
static void on_answer_done(void *ctx, int status, struct sv sdp)
{
    struct call *call = ctx;
    struct b2bua *b = call->owner;
    struct media_held *h = take_held(call);
    if (h == NULL || call->a_invite == NULL || call->state == CALL_STATE_ENDED) {
        sw_free(h);
        return;
    }
    struct sv bytes = status == 0 ? with_sdp(b, h, sdp) : SV_NULL;
    uint16_t final = h->status;
    if (bytes.ptr != NULL) {
        /* A send failure is a lost datagram: retransmissions or the peer's timers cope. */
        (void)txn_server_respond(call->a_invite, final, bytes);
    } else if (final >= 200) {
        /* Leg B answered, but its SDP would cross unanchored: the call cannot go on. */
        log_info(NULL, "media: rtpengine failed on the answer (%s): call ended",
                 sw_strerror(status));
        b2bua_respond_a(call, 503, SV("Service Unavailable"));
        b2bua_send_bye(b, call, false, "media");
        b2bua_call_end(call, 503, "media");
    }
    /* A provisional answer that failed is dropped: the final one follows. */
    sw_free(h);
}

/* rtpengine's answer to a late offer (leg B's SDP) came: as an answer, but an rtpengine out
 * of reach lets the call go on unanchored when the operator chose so. */
static void on_late_offer_done(void *ctx, int status, struct sv sdp)
{
    struct call *call = ctx;
    if (is_unreachable(status) && call->media_held != NULL) {
        report_unreachable(call, status, may_pass(call));
        if (may_pass(call)) {
            struct media_held *h = take_held(call);
            anchor_end(&call->media);
            call->is_late_offer = false; /* its later SDPs and its ACK cross as they are */
            if (call->a_invite != NULL && call->state != CALL_STATE_ENDED) {
                (void)txn_server_respond(call->a_invite, h->status, sv_make(h->bytes, h->len));
            }
            sw_free(h);
            return;
        }
    }
    on_answer_done(ctx, status, sdp);
}

/* Sends leg B's SDP (an answer, or a late offer) to rtpengine for the held response. */
static void anchor_response(struct call *call, struct sv sdp)
{
    if (!call->is_late_offer) {
        int rc = anchor_answer(&call->media, ANCHOR_CALLEE, sdp, NULL, on_answer_done, call);
        if (rc != 0) {
            on_answer_done(call, rc, SV_NULL);
        }
        return;
    }
    struct anchor_leg to_a = anchor_leg_for(call->route.media_to_a);
    int rc = anchor_offer(&call->media, ANCHOR_CALLEE, sdp, &to_a, on_late_offer_done, call);
    if (rc != 0) {
        on_late_offer_done(call, rc, SV_NULL);
    }
}

void b2bua_media_respond_a(struct call *call, struct sip_msg *response)
{
    struct b2bua *b = call->owner;
    if (call->a_invite == NULL) {
        return;
    }
    if (call->is_late_offer && call->media.owner == NULL && has_sdp(response)) {
        anchor_session_init(b->anchor, &call->media, FSTR_SV(call->b.call_id));
    }
    struct sv bytes = b2bua_build_response(b, call, &call->a, &call->a_invite_req, response->status,
                                           response->reason, response, true);
    if (bytes.ptr == NULL) {
        return;
    }
    if (call->media_held != NULL && call->media_held->relay != NULL &&
        call->media_held->status >= 200 && response->status >= 200 && !has_sdp(response)) {
        /* A PRACK's 2xx waits for rtpengine's answer (RFC 3262's offer in a PRACK): the final
         * response must not overtake it, or leg A sees its INVITE answered with its PRACK's
         * offer still open. It leaves when that answer does (send_after_relay_answer). */
        struct media_held *after = held_new(bytes, SV(""), response->status);
        if (after != NULL) {
            sw_free(call->media_after);
            call->media_after = after;
            return;
        }
    }
    if (call->media.owner == NULL || !has_sdp(response)) {
        (void)txn_server_respond(call->a_invite, response->status, bytes);
        return;
    }
    if (call->media_held != NULL) {
        if (call->media_held->status >= 200) {
            return; /* a retransmission of the 2xx that waits already */
        }
        anchor_cancel(&call->media); /* the newest answer wins */
        sw_free(take_held(call));
    }
    if (!hold(call, bytes, SV(""), response->status)) {
        return;
    }
    anchor_response(call, response->body);
}

/* rtpengine's answer for leg B came: B's ACK leaves with it (as it is when rtpengine failed:
 * B's 2xx must be acknowledged, and the call goes on). */
static void on_ack_answer_done(void *ctx, int status, struct sv sdp)
{
    struct call *call = ctx;
    struct b2bua *b = call->owner;
    struct media_held *h = take_held(call);
    if (h == NULL) {
        return;
    }
    struct sv bytes = status == 0 ? with_sdp(b, h, sdp) : SV_NULL;
    if (bytes.ptr == NULL) {
        log_info(NULL, "media: rtpengine failed on a late offer's answer (%s): it crosses as it is",
                 sw_strerror(status));
        bytes = sv_make(h->bytes, h->len);
    }
    b2bua_send_b_ack_bytes(b, call, bytes);
    sw_free(h);
}

bool b2bua_media_ack_b(struct b2bua *b, struct call *call, struct sip_msg *ack)
{
    if (!call->is_late_offer || call->media.owner == NULL || call->media_held != NULL ||
        !has_sdp(ack)) {
        return false;
    }
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    struct sv bytes = b2bua_build_ack(b, &call->b, call->b.invite_cseq, branch, ack);
    if (bytes.ptr == NULL || !hold(call, bytes, branch, 0)) {
        return false;
    }
    call->media_held->method = (int)SIP_METHOD_ACK;
    if (anchor_answer(&call->media, ANCHOR_CALLER, ack->body, NULL, on_ack_answer_done, call) ==
        0) {
        return true;
    }
    log_info(NULL,
             "media: rtpengine cannot be asked for a late offer's answer: it crosses as it is");
    sw_free(take_held(call));
    return false;
}

/* Polls of the packet count per timeout, and their bounds. */
#define MEDIA_POLLS_PER_TIMEOUT 4u
#define MEDIA_POLL_MIN_MS       250u
#define MEDIA_POLL_MAX_MS       15000u

static uint32_t media_poll_ms(uint32_t timeout_ms)
{
    uint32_t poll = timeout_ms / MEDIA_POLLS_PER_TIMEOUT;
    return poll < MEDIA_POLL_MIN_MS ? MEDIA_POLL_MIN_MS
                                    : (poll > MEDIA_POLL_MAX_MS ? MEDIA_POLL_MAX_MS : poll);
}

static void on_media_counted(void *ctx, int status, uint64_t packets)
{
    struct call *call = ctx;
    struct b2bua *b = call->owner;
    if (call->state != CALL_STATE_CONFIRMED || call->media.owner == NULL) {
        return;
    }
    uint64_t now = loop_now_ms(b->loop);
    if ((status == 0 && packets != call->media_packets) || (status != 0 && status != -EPROTO)) {
        /* Media moved, or rtpengine said nothing: no silence to judge. */
        call->media_packets = status == 0 ? packets : call->media_packets;
        call->media_moved_ms = now;
        return;
    }
    if (now - call->media_moved_ms < anchor_media_timeout_ms(call->media.owner)) {
        return;
    }
    log_info(NULL, "media: no RTP for %llu ms (%llu packets relayed): call ended",
             (unsigned long long)(now - call->media_moved_ms),
             (unsigned long long)call->media_packets);
    b2bua_send_bye(b, call, true, "media-timeout");
    b2bua_send_bye(b, call, false, "media-timeout");
    b2bua_call_end(call, 200, "media-timeout");
}

static void on_media_poll(struct loop *loop, void *ctx)
{
    struct call *call = ctx;
    if (call->state != CALL_STATE_CONFIRMED || call->media.owner == NULL) {
        return;
    }
    int rc = anchor_query(&call->media, on_media_counted, call);
    if (rc != 0 && rc != -EALREADY) {
        /* Not created yet, or no rtpengine to ask: no silence to judge either. */
        call->media_moved_ms = loop_now_ms(loop);
    }
    rc = loop_timer_start_coarse(loop, &call->media_timer,
                                 media_poll_ms(anchor_media_timeout_ms(call->media.owner)),
                                 on_media_poll, call);
    SW_ASSERT(rc == 0); /* at most MEDIA_POLL_MAX_MS: within the wheel */
}

void b2bua_media_watch(struct call *call)
{
    struct b2bua *b = call->owner;
    const struct anchor *anchor = call->media.owner; /* its own, after a reload too */
    if (anchor == NULL || anchor_media_timeout_ms(anchor) == 0) {
        return;
    }
    call->media_packets = 0;
    call->media_moved_ms = loop_now_ms(b->loop);
    uint32_t poll_ms = media_poll_ms(anchor_media_timeout_ms(anchor));
    int rc = loop_timer_start_coarse(b->loop, &call->media_timer, poll_ms, on_media_poll, call);
    SW_ASSERT(rc == 0); /* at most MEDIA_POLL_MAX_MS: within the wheel */
}

void b2bua_media_end(struct call *call)
{
    loop_timer_stop(call->owner->loop, &call->media_timer);
    anchor_end(&call->media);
    sw_free(take_held(call));
    sw_free(call->media_after);
    call->media_after = NULL;
}

/* ---- in-dialog offers and answers (b2bua_relay.c) ---- */

static struct leg *out_leg_of(struct relay *relay)
{
    return relay->from_a ? &relay->call->b : &relay->call->a;
}

/* The held message still belongs to a live relay (not released, nor its slot reused). */
static bool relay_is_ours(const struct media_held *h)
{
    const struct relay *relay = h->relay;
    return relay->is_used && relay->in_cseq == h->relay_cseq && relay->method == h->method;
}

static void on_relay_offer_done(void *ctx, int status, struct sv sdp)
{
    struct call *call = ctx;
    struct b2bua *b = call->owner;
    struct media_held *h = take_held(call);
    if (h == NULL || !relay_is_ours(h) || h->relay->client != NULL) {
        sw_free(h);
        return;
    }
    struct relay *relay = h->relay;
    struct sv bytes = status == 0 ? with_sdp(b, h, sdp) : SV_NULL;
    if (bytes.ptr == NULL) {
        log_info(NULL, "media: rtpengine failed on an in-dialog SDP (%s): it crosses as it is",
                 sw_strerror(status));
        bytes = sv_make(h->bytes, h->len); /* the call goes on as it is */
    }
    relay->client =
        txn_client_new(b->txns, (enum sip_method)h->method, sv_make(h->branch, h->branch_len),
                       &out_leg_of(relay)->dest, bytes, relay);
    sw_free(h);
}

/* What the SDP of a relayed request is to rtpengine. */
enum relay_sdp {
    RELAY_SDP_NONE,   /* crosses as it is: no SDP, or the call is not anchored */
    RELAY_SDP_OFFER,  /* re-INVITE, UPDATE, or a PRACK offering (RFC 3262 §5, RFC 6337 §3.1) */
    RELAY_SDP_ANSWER, /* a PRACK answering the offer of a reliable provisional */
};

static enum relay_sdp relay_sdp_of(const struct b2bua *b, const struct relay *relay,
                                   const struct sip_msg *request)
{
    const struct call *call = relay->call;
    if (!has_sdp(request)) {
        return RELAY_SDP_NONE;
    }
    if (request->method == SIP_METHOD_INVITE || request->method == SIP_METHOD_UPDATE) {
        return call->media.owner != NULL ? RELAY_SDP_OFFER : RELAY_SDP_NONE;
    }
    if (request->method != SIP_METHOD_PRACK || !relay->from_a) {
        return RELAY_SDP_NONE;
    }
    if (call->media.owner != NULL) {
        /* A late offer's reliable provisional offered: its PRACK answers. Otherwise the
         * offer/answer of the early dialog is complete and the PRACK offers anew. */
        return call->is_late_offer && !call->media.is_answered ? RELAY_SDP_ANSWER : RELAY_SDP_OFFER;
    }
    /* A late offer whose reliable provisional carried no SDP: the PRACK's offer is the
     * call's first, and starts its session. */
    return b->anchor != NULL && call->is_late_offer ? RELAY_SDP_OFFER : RELAY_SDP_NONE;
}

/* Sends the relayed request's SDP to rtpengine (its message held): 0 or what anchor_offer() or
 * anchor_answer() returned. */
static int relay_anchor(struct b2bua *b, struct relay *relay, struct sip_msg *request,
                        enum relay_sdp kind)
{
    struct call *call = relay->call;
    bool is_first = call->media.owner == NULL;
    if (is_first) {
        anchor_session_init(b->anchor, &call->media, FSTR_SV(call->b.call_id));
    }
    enum anchor_party from = relay->from_a ? ANCHOR_CALLER : ANCHOR_CALLEE;
    struct anchor_leg to =
        anchor_leg_for(relay->from_a ? call->route.media_to_b : call->route.media_to_a);
    int rc =
        kind == RELAY_SDP_OFFER
            ? anchor_offer(&call->media, from, request->body, &to, on_relay_offer_done, call)
            : anchor_answer(&call->media, from, request->body, NULL, on_relay_offer_done, call);
    if (rc != 0 && is_first) {
        anchor_end(&call->media); /* the offer crosses as it is, and so will its answer */
    }
    if (rc == 0 && kind == RELAY_SDP_OFFER && request->method == SIP_METHOD_PRACK) {
        relay->is_prack_offer = true; /* its 2xx answers (b2bua_media_relay_respond) */
        call->is_late_offer = false;  /* leg A offered: leg B's later SDPs answer */
    }
    return rc;
}

bool b2bua_media_relay_forward(struct b2bua *b, struct relay *relay, struct sip_msg *request,
                               struct sv branch, struct sv bytes)
{
    struct call *call = relay->call;
    enum relay_sdp kind = relay_sdp_of(b, relay, request);
    if (kind != RELAY_SDP_NONE && call->media_held != NULL) {
        return false; /* an answer of this call is with rtpengine still: the caller retries */
    }
    if (kind != RELAY_SDP_NONE && hold(call, bytes, branch, 0)) {
        call->media_held->relay = relay;
        call->media_held->relay_cseq = relay->in_cseq;
        call->media_held->method = (int)request->method;
        if (relay_anchor(b, relay, request, kind) == 0) {
            return true;
        }
        sw_free(take_held(call)); /* rtpengine cannot be asked: the SDP crosses as it is */
    }
    relay->client =
        txn_client_new(b->txns, request->method, branch, &out_leg_of(relay)->dest, bytes, relay);
    return relay->client != NULL;
}

/* Leg A's final response that waited behind an in-dialog answer leaves now. */
static void send_after_relay_answer(struct call *call)
{
    struct media_held *after = call->media_after;
    call->media_after = NULL;
    if (after != NULL && call->a_invite != NULL) {
        (void)txn_server_respond(call->a_invite, after->status, sv_make(after->bytes, after->len));
    }
    sw_free(after);
}

static void relay_answer_leaves(struct call *call, int status, struct sv sdp)
{
    struct b2bua *b = call->owner;
    struct media_held *h = take_held(call);
    if (h == NULL || !relay_is_ours(h) || h->relay->server == NULL) {
        sw_free(h);
        return;
    }
    struct relay *relay = h->relay;
    struct sv bytes = status == 0 ? with_sdp(b, h, sdp) : SV_NULL;
    if (bytes.ptr == NULL) {
        log_info(NULL, "media: rtpengine failed on an in-dialog answer (%s): it crosses as it is",
                 sw_strerror(status));
        bytes = sv_make(h->bytes, h->len); /* the call goes on as it is */
    }
    (void)txn_server_respond(relay->server, h->status, bytes);
    if (!relay->needs_ack_relay) {
        b2bua_relay_release(relay); /* what b2bua_relay_response() left to us */
    }
    sw_free(h);
}

static void on_relay_answer_done(void *ctx, int status, struct sv sdp)
{
    struct call *call = ctx;
    relay_answer_leaves(call, status, sdp);
    send_after_relay_answer(call);
}

bool b2bua_media_relay_respond(struct relay *relay, uint16_t status, struct sv bytes,
                               struct sip_msg *source)
{
    struct call *call = relay->call;
    bool is_offered = relay->method == SIP_METHOD_INVITE || relay->method == SIP_METHOD_UPDATE ||
                      relay->is_prack_offer;
    bool is_answer = source != NULL && status >= 200 && status < 300 && is_offered &&
                     call->media.owner != NULL && has_sdp(source);
    if (is_answer && call->media_held != NULL) {
        /* A retransmission of the 2xx whose answer is with rtpengine (or an answer crossing
         * another offer): never across unanchored; the far side sends it again. */
        return true;
    }
    if (is_answer && hold(call, bytes, SV(""), status)) {
        call->media_held->relay = relay;
        call->media_held->relay_cseq = relay->in_cseq;
        call->media_held->method = relay->method;
        enum anchor_party from = relay->from_a ? ANCHOR_CALLEE : ANCHOR_CALLER;
        if (anchor_answer(&call->media, from, source->body, NULL, on_relay_answer_done, call) ==
            0) {
            return true;
        }
        sw_free(take_held(call));
    }
    (void)txn_server_respond(relay->server, status, bytes);
    return false;
}

/* ---- [media] reloads: the anchor of new calls changes, calls in progress keep theirs ---- */

#define ANCHOR_REAP_MS 1000u

/* Frees the retired anchors without calls or requests left; true while some remain. */
static bool reap_anchors(struct b2bua *b)
{
    size_t kept = 0;
    for (size_t i = 0; i < b->retired_anchor_count; i++) {
        struct anchor *a = b->retired_anchors[i];
        if (anchor_is_idle(a)) {
            anchor_free(a);
        } else {
            b->retired_anchors[kept++] = a;
        }
    }
    for (size_t i = kept; i < b->retired_anchor_count; i++) {
        b->retired_anchors[i] = NULL;
    }
    b->retired_anchor_count = kept;
    return kept > 0;
}

/* A timer, never inside an rtpengine callback: freeing a client is safe here. */
static void on_anchor_reap(struct loop *loop, void *ctx)
{
    struct b2bua *b = ctx;
    if (reap_anchors(b)) {
        int rc =
            loop_timer_start_coarse(loop, &b->anchor_reap_timer, ANCHOR_REAP_MS, on_anchor_reap, b);
        SW_ASSERT(rc == 0); /* a second: within the wheel */
    }
}

int b2bua_media_reload(struct b2bua *b, const struct anchor_settings *settings)
{
    (void)reap_anchors(b);
    if (b->anchor != NULL && b->retired_anchor_count == B2BUA_RETIRED_ANCHORS) {
        return -SW_EFULL;
    }
    int err = 0;
    struct anchor *fresh = settings != NULL ? anchor_new(b->loop, settings, &err) : NULL;
    if (settings != NULL && fresh == NULL) {
        return err;
    }
    if (b->anchor != NULL) {
        b->retired_anchors[b->retired_anchor_count++] = b->anchor;
    }
    b->anchor = fresh;
    if (reap_anchors(b) && !b->anchor_reap_timer.is_active) {
        int rc = loop_timer_start_coarse(b->loop, &b->anchor_reap_timer, ANCHOR_REAP_MS,
                                         on_anchor_reap, b);
        SW_ASSERT(rc == 0); /* a second: within the wheel */
    }
    return 0;
}

size_t b2bua_media_retired(const struct b2bua *b)
{
    return b->retired_anchor_count;
}

void b2bua_media_free_all(struct b2bua *b)
{
    loop_timer_stop(b->loop, &b->anchor_reap_timer);
    for (size_t i = 0; i < b->retired_anchor_count; i++) {
        anchor_free(b->retired_anchors[i]);
        b->retired_anchors[i] = NULL;
    }
    b->retired_anchor_count = 0;
    anchor_free(b->anchor);
    b->anchor = NULL;
}
