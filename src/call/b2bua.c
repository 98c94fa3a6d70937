/*
 * The B2BUA core: initial INVITE handling, answers and failures of leg B, CANCEL and the
 * end of calls by the gateway. The pool and tables are b2bua_pool.c, the legs
 * b2bua_leg.c; in-dialog requests are relayed by b2bua_relay.c; message text is written
 * by b2bua_build.c.
 */
#include "call/b2bua.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/time.h"
#include "call/b2bua_int.h"
#include "call/reply.h"
#include "call/txn.h"
#include "call/uac_auth.h"
#include "net/steer.h"
#include "sip/msg.h"

/* Call-IDs we make start with "sw", two hex digits of the owner worker, then 30 random hex. */
unsigned b2bua_owner_of(struct sv call_id, unsigned worker_count)
{
    /* The kernel's steering program chooses the same way (net/steer.h). */
    return net_steer_owner(call_id, worker_count);
}

bool b2bua_fstr_set(char *dst, size_t cap, size_t *len, struct sv value)
{
    if (value.len >= cap) {
        *len = 0;
        dst[0] = '\0';
        return false;
    }
    if (value.len > 0) {
        memcpy(dst, value.ptr, value.len);
    }
    dst[value.len] = '\0';
    *len = value.len;
    return true;
}

/* ---- starting a call ---- */

static void respond_a(struct call *call, uint16_t status, struct sv reason, struct sip_msg *source,
                      bool with_contact)
{
    if (call->a_invite == NULL) {
        return;
    }
    struct b2bua *b = call->owner;
    struct sv bytes = b2bua_build_response(b, call, &call->a, &call->a_invite_req, status, reason,
                                           source, with_contact);
    if (bytes.ptr != NULL) {
        /* A send failure is a lost datagram: retransmissions or the peer's timers cope. */
        (void)txn_server_respond(call->a_invite, status, bytes);
    }
}

void b2bua_respond_a(struct call *call, uint16_t status, struct sv reason)
{
    respond_a(call, status, reason, NULL, false);
}

static void reply_stateless(struct b2bua *b, struct sip_msg *request, const struct net_dest *dst,
                            uint16_t status, struct sv headers)
{
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    char tag[16];
    struct reply_extra extra = {
        .src = &dst->addr,
        .to_tag = b2bua_random_tag(tag, sizeof(tag)),
        .headers = headers,
        .server = b->settings.user_agent,
    };
    if (reply_build(&out, request, status, NULL, &extra) == 0) {
        (void)b2bua_send(b, dst, sw_buf_view(&out));
    }
}

static void on_ring_timeout(struct loop *loop, void *ctx);
static void on_duration_limit(struct loop *loop, void *ctx);

/*
 * The detail of a call's started event: calls towards a trunk name the trunk and the
 * number, for the alert rules; others none. Appended, not formatted (#13): at most 90
 * bytes, so nothing is ever cut.
 */
static void started_detail(char *out, size_t cap, const struct b2bua_route *route)
{
    struct sw_buf text;
    sw_buf_init(&text, out, cap - 1);
    if (route->to_party == CALL_PARTY_TRUNK && sv_is_present(route->trunk_name)) {
        struct sv to = route->ruri_user.ptr != NULL ? sv_slice(route->ruri_user, 0, 40) : SV("");
        sw_buf_str(&text, "trunk=");
        sw_buf_text(&text, sv_slice(route->trunk_name, 0, 40));
        sw_buf_str(&text, " to=");
        sw_buf_text(&text, to);
    }
    out[text.is_overflow ? 0 : text.len] = '\0';
}

static void start_call(struct b2bua *b, struct sip_msg *invite, const struct net_dest *src,
                       struct b2bua_route *route)
{
    struct call *call = b2bua_call_alloc(b);
    if (call == NULL) {
        b2bua_release_reserved(route);
        reply_stateless(b, invite, src, 503, SV("Retry-After: 5\r\n"));
        return;
    }
    call->route = *route;
    if (!b2bua_req_copy_init(&call->a_invite_req, invite, &src->addr) ||
        !b2bua_leg_a_init(call, invite, src) || !b2bua_leg_b_init(b, call, route) ||
        !uac_credentials_copy_set(&call->credentials, route->credentials)) {
        b2bua_call_free_unstarted(b, call);
        b2bua_release_reserved(route);
        reply_stateless(b, invite, src, 400, SV_NULL);
        return;
    }
    call->route.credentials = NULL; /* borrowed: the copy above is the call's */
    call->a_invite = txn_server_new(b->txns, invite, src, call);
    if (call->a_invite == NULL) {
        b2bua_call_free_unstarted(b, call);
        b2bua_release_reserved(route);
        reply_stateless(b, invite, src, 503, SV("Retry-After: 5\r\n"));
        return;
    }
    respond_a(call, 100, SV("Trying"), NULL, false);
    call->a_invite_has_body = invite->body.len > 0;
    if (!b2bua_media_send_b_invite(b, call, invite)) {
        respond_a(call, 503, SV("Service Unavailable"), NULL, false);
        b2bua_call_free_unstarted(b, call);
        b2bua_release_reserved(route);
        return;
    }
    b2bua_record_start(call, invite, route);
    /* The route's views borrow the INVITE's buffer: keep only what outlives it. */
    call->route.ruri_user = SV_NULL;
    call->route.target_host = SV_NULL;
    call->route.from_user = SV_NULL;
    call->route.from_display = SV_NULL;
    call->route.from_host = SV_NULL;
    call->route.asserted_id = SV_NULL;
    call->route.verstat = SV_NULL;
    call->route.extra_headers = SV_NULL;
    call->route.origin_header = SV_NULL;
    call->route.request_uri = SV_NULL;
    call->route.sdp = SV_NULL;
    /* From here the call is in the tables: it ends through b2bua_call_end(). */
    b2bua_table_insert(b, call);
    call->state = CALL_STATE_EARLY;
    call->start_us = sw_wall_us();
    call->is_counted = true; /* the reserved places are the call's from here */
    b->active_calls++;
    struct loop *loop = b->loop;
    uint64_t ring_ms = (uint64_t)(route->ring_timeout_s != 0 ? route->ring_timeout_s : 180) * 1000u;
    int rc = loop_timer_start(loop, &call->ring_timer, ring_ms, on_ring_timeout, call);
    SW_ASSERT(rc == 0);
    char started[96];
    started_detail(started, sizeof(started), route);
    b2bua_emit_call_event(call, EV_CALL_STARTED, started);
}

/* ---- leg B answers ---- */

static void send_b_cancel(struct b2bua *b, struct call *call)
{
    if (call->b_invite == NULL || call->b_cancel != NULL) {
        return;
    }
    if (!call->b_has_provisional) {
        /* RFC 3261 §9.1: no CANCEL before a provisional response; sent when one comes. */
        call->is_cancel_pending = true;
        return;
    }
    struct sv bytes = b2bua_build_cancel(b, call->b_invite);
    if (bytes.ptr != NULL) {
        call->b_cancel = txn_client_new(b->txns, SIP_METHOD_CANCEL, txn_branch(call->b_invite),
                                        &call->b.dest, bytes, call);
    }
}

static void send_b_ack(struct b2bua *b, struct call *call, struct sip_msg *source)
{
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    struct sv bytes = b2bua_build_ack(b, &call->b, call->b.invite_cseq, branch, source);
    if (bytes.ptr != NULL) {
        b2bua_send_b_ack_bytes(b, call, bytes);
    }
}

void b2bua_send_b_ack_bytes(struct b2bua *b, struct call *call, struct sv bytes)
{
    char *copy = sw_malloc(bytes.len);
    if (copy != NULL) {
        memcpy(copy, bytes.ptr, bytes.len);
        sw_free(call->b_ack);
        call->b_ack = copy;
        call->b_ack_len = bytes.len;
    }
    (void)b2bua_send(b, &call->b.dest, bytes);
}

static void b_provisional(struct b2bua *b, struct call *call, struct sip_msg *response)
{
    call->b_has_provisional = true;
    b2bua_record_ring(call, response->status);
    b2bua_leg_b_learn(call, response);
    if (call->is_cancel_pending) {
        call->is_cancel_pending = false;
        send_b_cancel(b, call);
        return;
    }
    if (call->state == CALL_STATE_EARLY) {
        b2bua_media_respond_a(call, response);
    }
}

static void on_duration_limit(struct loop *loop, void *ctx)
{
    (void)loop;
    struct call *call = ctx;
    struct b2bua *b = call->owner;
    b2bua_send_bye(b, call, true, "max_call_duration");
    b2bua_send_bye(b, call, false, "max_call_duration");
    b2bua_call_end(call, 200, "max-duration");
}

static void b_answered(struct b2bua *b, struct call *call, struct sip_msg *response)
{
    b2bua_leg_b_learn(call, response);
    if (call->state != CALL_STATE_EARLY || call->a_invite == NULL) {
        /* CANCEL lost the race with the 200 (or A is gone): take the call down on B. */
        send_b_ack(b, call, NULL);
        b2bua_send_bye(b, call, false, "cancelled");
        return;
    }
    call->state = CALL_STATE_CONFIRMED;
    call->answer_us = sw_wall_us();
    struct loop *loop = b->loop;
    loop_timer_stop(loop, &call->ring_timer);
    if (call->route.max_duration_s != 0) {
        int rc =
            loop_timer_start(loop, &call->duration_timer,
                             (uint64_t)call->route.max_duration_s * 1000u, on_duration_limit, call);
        SW_ASSERT(rc == 0);
    }
    b2bua_media_respond_a(call, response);
    b2bua_media_watch(call);
    if (call->a_invite_has_body) {
        send_b_ack(b, call, NULL);
    } else {
        /* Late offer: B's 200 carries the offer, A's ACK the answer that B must get. */
        call->is_b_ack_pending = true;
    }
    b2bua_record_answer(call);
    b2bua_emit_call_event(call, EV_CALL_ANSWERED, "");
}

/* The far side challenged leg B: answer once with the trunk's credentials (RFC 3261
 * §22.2), same Call-ID and From tag, next CSeq, new branch. */
static bool b_reauth(struct b2bua *b, struct call *call, struct sip_msg *response)
{
    if (call->b_invite == NULL) {
        return false;
    }
    char line[2048];
    struct sw_buf auth;
    sw_buf_init(&auth, line, sizeof(line));
    if (!uac_auth_answer_once(uac_credentials_copy_get(&call->credentials), &call->is_auth_tried,
                              response, SV("INVITE"), FSTR_SV(call->b.remote_target), &auth)) {
        return false;
    }
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    uint32_t cseq = ++call->b.local_cseq;
    struct sv bytes = b2bua_build_reauth_invite(b, &call->b, txn_request(call->b_invite), branch,
                                                cseq, sw_buf_view(&auth));
    if (bytes.ptr == NULL) {
        return false;
    }
    struct txn *next =
        txn_client_new(b->txns, SIP_METHOD_INVITE, branch, &call->b.dest, bytes, call);
    if (next == NULL) {
        return false;
    }
    txn_detach(call->b_invite);
    call->b_invite = next;
    call->b.invite_cseq = cseq;
    /* The challenge's To tag belongs to no dialog: the next answer starts leg B afresh. */
    call->b.remote_tag.len = 0;
    return true;
}

static void b_failed(struct call *call, struct sip_msg *response)
{
    uint16_t status = response->status;
    if (status == 401 || status == 407) {
        /* The far side wants credentials we do not relay across legs: the caller gets a
         * plain refusal, the challenge stays on leg B. */
        respond_a(call, 403, SV("Forbidden"), NULL, false);
    } else if (status >= 300 && status < 400) {
        /* A redirect would hand the caller the far side's contacts: not across the gateway. */
        respond_a(call, 480, SV("Temporarily Unavailable"), NULL, false);
    } else {
        respond_a(call, status, response->reason, response, false);
    }
    b2bua_call_end(call, status, "rejected");
}

static void on_b_invite_response(struct b2bua *b, struct call *call, struct sip_msg *response)
{
    uint16_t status = response->status;
    if (status == 100) {
        return;
    }
    if (status < 200) {
        b_provisional(b, call, response);
    } else if (status < 300) {
        b_answered(b, call, response);
    } else if (call->state == CALL_STATE_EARLY) {
        if (b_reauth(b, call, response)) {
            return;
        }
        b_failed(call, response);
    }
}

void b2bua_txn_response(void *user, struct txn *txn, struct sip_msg *response)
{
    if (*(const enum tu_kind *)user == TU_RELAY) {
        b2bua_relay_response(user, txn, response);
        return;
    }
    if (*(const enum tu_kind *)user == TU_REGISTER) {
        b2bua_register_response(user, txn, response);
        return;
    }
    if (*(const enum tu_kind *)user == TU_TRUNK_REGISTER) {
        b2bua_trunk_reg_response(user, txn, response);
        return;
    }
    struct call *call = user;
    if (txn == call->b_invite) {
        on_b_invite_response(call->owner, call, response);
    }
}

void b2bua_txn_timeout(void *user, struct txn *txn)
{
    if (*(const enum tu_kind *)user == TU_RELAY) {
        b2bua_relay_timeout(user, txn);
        return;
    }
    if (*(const enum tu_kind *)user == TU_REGISTER) {
        b2bua_register_timeout(user, txn);
        return;
    }
    if (*(const enum tu_kind *)user == TU_TRUNK_REGISTER) {
        b2bua_trunk_reg_timeout(user, txn);
        return;
    }
    struct call *call = user;
    struct b2bua *b = call->owner;
    if (txn == call->b_invite && call->state == CALL_STATE_EARLY) {
        respond_a(call, 408, SV("Request Timeout"), NULL, false);
        b2bua_call_end(call, 408, "timeout");
    } else if (txn == call->a_invite && call->state == CALL_STATE_CONFIRMED) {
        /* The caller never ACKed our 200 (RFC 3261 §13.3.1.4): end both legs. */
        b2bua_send_bye(b, call, true, "no-ack");
        b2bua_send_bye(b, call, false, "no-ack");
        b2bua_call_end(call, 408, "no-ack");
    }
}

void b2bua_txn_terminated(void *user, struct txn *txn)
{
    if (*(const enum tu_kind *)user == TU_RELAY) {
        b2bua_relay_terminated(user, txn);
        return;
    }
    if (*(const enum tu_kind *)user == TU_REGISTER) {
        b2bua_register_terminated(user, txn);
        return;
    }
    if (*(const enum tu_kind *)user == TU_TRUNK_REGISTER) {
        b2bua_trunk_reg_terminated(user, txn);
        return;
    }
    struct call *call = user;
    if (txn == call->a_invite) {
        call->a_invite = NULL;
    } else if (txn == call->b_invite) {
        call->b_invite = NULL;
    } else if (txn == call->b_cancel) {
        call->b_cancel = NULL;
    }
}

static void on_ring_timeout(struct loop *loop, void *ctx)
{
    (void)loop;
    struct call *call = ctx;
    if (call->state != CALL_STATE_EARLY) {
        return;
    }
    send_b_cancel(call->owner, call);
    respond_a(call, 480, SV("Temporarily Unavailable"), NULL, false);
    b2bua_call_end(call, 480, "ring-timeout");
}

/* ---- requests ---- */

/*
 * The INVITE server transaction a CANCEL targets (RFC 3261 §9.2: same branch and sent-by),
 * provided the CANCEL comes from the address that sent the INVITE: a CANCEL needs no
 * credentials, so only the caller itself may end its call this way.
 */
static struct txn *cancel_target(struct b2bua *b, struct sip_msg *cancel,
                                 const struct sockaddr_storage *src)
{
    struct txn *invite = txn_server_find_invite(b->txns, cancel);
    if (invite == NULL || txn_user(invite) == NULL ||
        !b2bua_same_ip(&txn_dest(invite)->addr, src)) {
        return NULL;
    }
    return invite;
}

bool b2bua_cancel_matches(struct b2bua *b, struct sip_msg *cancel,
                          const struct sockaddr_storage *src)
{
    return cancel_target(b, cancel, src) != NULL;
}

static void handle_cancel(struct b2bua *b, struct sip_msg *cancel, const struct net_dest *src)
{
    struct txn *invite = cancel_target(b, cancel, &src->addr);
    if (invite == NULL) {
        reply_stateless(b, cancel, src, 481, SV_NULL);
        return;
    }
    reply_stateless(b, cancel, src, 200, SV_NULL);
    struct call *call = txn_user(invite);
    if (call->tu_kind != TU_CALL || call->state != CALL_STATE_EARLY) {
        return;
    }
    respond_a(call, 487, SV("Request Terminated"), NULL, false);
    send_b_cancel(b, call);
    b2bua_call_end(call, 487, "cancelled");
}

static void handle_ack(struct b2bua *b, struct sip_msg *ack)
{
    bool from_a = false;
    struct call *call = b2bua_find_call(b, sip_msg_call_id(ack), &from_a);
    struct sip_err err = { 0 };
    const struct sip_cseq *cseq = sip_msg_cseq(ack, &err);
    if (call == NULL || cseq == NULL) {
        return; /* an ACK is never answered */
    }
    if (from_a && cseq->seq == call->a_invite_req.cseq) {
        if (call->a_invite != NULL) {
            txn_server_acked(call->a_invite);
        }
        if (call->is_b_ack_pending) {
            call->is_b_ack_pending = false;
            if (!b2bua_media_ack_b(b, call, ack)) {
                send_b_ack(b, call, ack);
            }
        }
        return;
    }
    (void)b2bua_relay_ack(b, call, from_a, ack);
}

static bool tags_match(const struct call *call, bool from_a, struct sip_msg *request)
{
    struct sip_err err = { 0 };
    const struct sip_nameaddr *to = sip_msg_to(request, &err);
    const struct sip_nameaddr *from = sip_msg_from(request, &err);
    if (to == NULL || from == NULL) {
        return false;
    }
    const struct leg *leg = from_a ? &call->a : &call->b;
    return sv_eq(to->tag, FSTR_SV(leg->local_tag)) && sv_eq(from->tag, FSTR_SV(leg->remote_tag));
}

static void handle_in_dialog(struct b2bua *b, struct sip_msg *request, const struct net_dest *src)
{
    bool from_a = false;
    struct call *call = b2bua_find_call(b, sip_msg_call_id(request), &from_a);
    if (call == NULL || !tags_match(call, from_a, request)) {
        reply_stateless(b, request, src, 481, SV_NULL);
        return;
    }
    if (!b2bua_same_ip(&(from_a ? &call->a : &call->b)->dest.addr, &src->addr)) {
        /* Only the leg's own peer may act on its dialog: a guessed Call-ID ends nothing. */
        reply_stateless(b, request, src, 403, SV_NULL);
        return;
    }
    b2bua_relay_request(b, call, from_a, request, src);
}

static bool has_to_tag(struct sip_msg *request)
{
    struct sip_err err = { 0 };
    const struct sip_nameaddr *to = sip_msg_to(request, &err);
    return to != NULL && sv_is_present(to->tag);
}

bool b2bua_is_in_dialog(struct b2bua *b, struct sip_msg *request,
                        const struct sockaddr_storage *src)
{
    bool from_a = false;
    if (!has_to_tag(request)) {
        return false;
    }
    struct call *call = b2bua_find_call(b, sip_msg_call_id(request), &from_a);
    return call != NULL && tags_match(call, from_a, request) &&
           b2bua_same_ip(&(from_a ? &call->a : &call->b)->dest.addr, src);
}

#define ALLOW_LINE \
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, PRACK, NOTIFY, MESSAGE\r\n"

bool b2bua_absorb(struct b2bua *b, struct sip_msg *request)
{
    struct txn *existing = txn_server_find(b->txns, request);
    if (existing == NULL) {
        return txn_server_absorb_lingering(b->txns, request);
    }
    (void)txn_server_absorb(existing, request);
    return true;
}

void b2bua_on_request(struct b2bua *b, struct sip_msg *request, const struct net_dest *src,
                      struct b2bua_route *route)
{
    struct txn *existing = txn_server_find(b->txns, request);
    bool is_new_call = existing == NULL && route != NULL && request->method == SIP_METHOD_INVITE &&
                       !has_to_tag(request);
    if (route != NULL && !is_new_call) {
        b2bua_release_reserved(route); /* places taken for a call that this is not */
    }
    if (existing != NULL) {
        (void)txn_server_absorb(existing, request);
        return;
    }
    if (txn_server_absorb_lingering(b->txns, request)) {
        return;
    }
    switch (request->method) {
    case SIP_METHOD_CANCEL:
        handle_cancel(b, request, src);
        return;
    case SIP_METHOD_ACK:
        handle_ack(b, request);
        return;
    default:
        break;
    }
    if (has_to_tag(request)) {
        handle_in_dialog(b, request, src);
    } else if (is_new_call) {
        start_call(b, request, src, route);
    } else if (request->method == SIP_METHOD_INVITE) {
        reply_stateless(b, request, src, 404, SV_NULL);
    } else if (request->method == SIP_METHOD_OPTIONS) {
        reply_stateless(b, request, src, 200, SV(ALLOW_LINE "Accept: application/sdp\r\n"));
    } else if (request->method == SIP_METHOD_UNKNOWN) {
        reply_stateless(b, request, src, 501, SV(ALLOW_LINE));
    } else {
        reply_stateless(b, request, src, 405, SV(ALLOW_LINE));
    }
}

void b2bua_on_response(struct b2bua *b, struct sip_msg *response,
                       const struct sockaddr_storage *src)
{
    struct txn *txn = txn_client_find(b->txns, response);
    if (txn != NULL) {
        if (!b2bua_same_ip(&txn_dest(txn)->addr, src)) {
            return; /* an answer from somewhere we did not ask: forged or misrouted */
        }
        (void)txn_client_receive(txn, response);
        return;
    }
    /* No transaction: a retransmitted 2xx to an INVITE whose transaction has ended. */
    struct sip_err err = { 0 };
    const struct sip_cseq *cseq = sip_msg_cseq(response, &err);
    bool from_a = false;
    struct call *call = b2bua_find_call(b, sip_msg_call_id(response), &from_a);
    if (call == NULL || cseq == NULL || cseq->method != SIP_METHOD_INVITE ||
        response->status < 200 || response->status >= 300 ||
        !b2bua_same_ip(&(from_a ? &call->a : &call->b)->dest.addr, src)) {
        return;
    }
    if (!from_a && cseq->seq == call->b.invite_cseq && call->b_ack != NULL) {
        (void)b2bua_send(b, &call->b.dest, sv_make(call->b_ack, call->b_ack_len));
        return;
    }
    b2bua_relay_resend_ack(b, call, from_a, cseq->seq);
}

/* The gateway ends a live call: BYE on both legs, or CANCEL and 503 while it rings. */
static void end_by_gateway(struct b2bua *b, struct call *call, const char *reason)
{
    if (call->state == CALL_STATE_CONFIRMED) {
        b2bua_send_bye(b, call, true, reason);
        b2bua_send_bye(b, call, false, reason);
    } else {
        send_b_cancel(b, call);
        respond_a(call, 503, SV("Service Unavailable"), NULL, false);
    }
    b2bua_call_end(call, 503, reason);
}

void b2bua_end_all(struct b2bua *b, const char *reason)
{
    for (size_t i = 0; i < b->pool_touched; i++) {
        struct call *call = &b->pool[i];
        if (call->owner != NULL && call->state != CALL_STATE_ENDED) {
            end_by_gateway(b, call, reason);
        }
    }
}

size_t b2bua_calls_end(struct b2bua *b, const struct b2bua_call_filter *filter,
                       enum sw_event_kind kind, const char *detail, const char *reason)
{
    size_t count = 0;
    for (size_t i = 0; i < b->pool_touched; i++) {
        struct call *call = &b->pool[i];
        if (call->owner == NULL || call->state == CALL_STATE_ENDED ||
            !b2bua_record_matches(&call->record, filter)) {
            continue;
        }
        /* Before the end: the record then still names the call as it was. */
        b2bua_emit_call_event(call, kind, detail);
        end_by_gateway(b, call, reason);
        count++;
    }
    return count;
}

size_t b2bua_calls_kill(struct b2bua *b, const struct b2bua_call_filter *filter)
{
    return b2bua_calls_end(b, filter, EV_POLICY_HIT, "calls kill: ended by the operator",
                           "operator");
}
