/*
 * In-dialog requests across the B2BUA: a request on one leg becomes a server transaction
 * there and a new request with the other leg's identifiers on the other leg; responses
 * travel back the same way. BYE, re-INVITE, UPDATE, INFO, OPTIONS, PRACK, NOTIFY and
 * MESSAGE all take this path; re-INVITE adds the ACK of its 2xx.
 */
#include <string.h>

#include "base/alloc.h"
#include "call/b2bua_int.h"
#include "call/reply.h"
#include "call/txn.h"
#include "sip/msg.h"

static struct leg *leg_of(struct call *call, bool is_a)
{
    return is_a ? &call->a : &call->b;
}

static struct relay *relay_alloc(struct call *call)
{
    for (size_t i = 0; i < CALL_RELAYS; i++) {
        if (!call->relays[i].is_used) {
            /* Reads as zeros: a relay not in use always does (b2bua_relay_release). */
            struct relay *relay = &call->relays[i];
            relay->tu_kind = TU_RELAY;
            relay->is_used = true;
            relay->call = call;
            return relay;
        }
    }
    return NULL;
}

void b2bua_relay_release(struct relay *relay)
{
    if (!relay->is_used) {
        return;
    }
    if (relay->server != NULL) {
        txn_detach(relay->server);
    }
    if (relay->client != NULL) {
        txn_detach(relay->client);
    }
    /* Its request copy's text stays: read only up to lengths zeroed here (#13). */
    static const struct b2bua_span kept[] = {
        B2BUA_SPAN(struct relay, req.vias),
        B2BUA_SPAN(struct relay, req.from.s),
        B2BUA_SPAN(struct relay, req.to.s),
        B2BUA_SPAN(struct relay, req.call_id.s),
    };
    b2bua_wipe_around(relay, sizeof(*relay), kept, sizeof(kept) / sizeof(kept[0]));
}

static bool invite_in_progress(const struct call *call)
{
    for (size_t i = 0; i < CALL_RELAYS; i++) {
        const struct relay *r = &call->relays[i];
        if (r->is_used && r->method == SIP_METHOD_INVITE && r->client != NULL &&
            txn_state(r->client) != TXN_TERMINATED && txn_state(r->client) != TXN_COMPLETED) {
            return true;
        }
    }
    return false;
}

static void reply_plain(struct b2bua *b, struct sip_msg *request, const struct net_dest *src,
                        uint16_t status)
{
    struct sw_buf out;
    sw_buf_init(&out, b->out, B2BUA_OUT_CAP);
    struct reply_extra extra = { .src = &src->addr, .server = b->settings.user_agent };
    if (reply_build(&out, request, status, NULL, &extra) == 0) {
        (void)b2bua_send(b, src, sw_buf_view(&out));
    }
}

static bool relay_forward(struct b2bua *b, struct relay *relay, struct sip_msg *request)
{
    struct call *call = relay->call;
    struct leg *out_leg = leg_of(call, !relay->from_a);
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    relay->out_cseq = ++out_leg->local_cseq;
    struct sv bytes =
        b2bua_build_request(b, call, out_leg, request->method, relay->out_cseq, branch, request);
    if (bytes.ptr == NULL) {
        return false;
    }
    return b2bua_media_relay_forward(b, relay, request, branch, bytes);
}

void b2bua_relay_request(struct b2bua *b, struct call *call, bool from_a, struct sip_msg *request,
                         const struct net_dest *src)
{
    bool is_bye = request->method == SIP_METHOD_BYE;
    if (call->state == CALL_STATE_ENDED && !is_bye) {
        reply_plain(b, request, src, 481);
        return;
    }
    if (request->method == SIP_METHOD_INVITE && invite_in_progress(call)) {
        reply_plain(b, request, src, 491); /* RFC 3261 §14.2 */
        return;
    }
    struct relay *relay = relay_alloc(call);
    if (relay == NULL) {
        reply_plain(b, request, src, 503);
        return;
    }
    relay->from_a = from_a;
    relay->method = (int)request->method;
    if (!b2bua_req_copy_init(&relay->req, request, &src->addr)) {
        b2bua_relay_release(relay);
        reply_plain(b, request, src, 400);
        return;
    }
    relay->in_cseq = relay->req.cseq;
    relay->server = txn_server_new(b->txns, request, src, relay);
    if (relay->server == NULL) {
        b2bua_relay_release(relay);
        reply_plain(b, request, src, 503);
        return;
    }
    if (request->method == SIP_METHOD_INVITE || request->method == SIP_METHOD_UPDATE) {
        (void)b2bua_leg_learn_target(leg_of(call, from_a), request);
    }
    if (is_bye) {
        b2bua_call_end(call, 200, from_a ? "caller-hangup" : "callee-hangup");
    }
    if (!relay_forward(b, relay, request)) {
        struct sv bytes =
            b2bua_build_response(b, call, leg_of(call, from_a), &relay->req, is_bye ? 200 : 500,
                                 is_bye ? SV("OK") : SV("Server Internal Error"), NULL, false);
        if (bytes.ptr != NULL) {
            (void)txn_server_respond(relay->server, is_bye ? 200 : 500, bytes);
        }
    }
}

/* True when the response waits for rtpengine (media anchoring owns the relay then). */
static bool respond_back(struct relay *relay, uint16_t status, struct sv reason,
                         struct sip_msg *source)
{
    if (relay->server == NULL) {
        return false;
    }
    struct call *call = relay->call;
    struct b2bua *b = call->owner;
    bool with_contact =
        (relay->method == SIP_METHOD_INVITE || relay->method == SIP_METHOD_UPDATE) && status < 300;
    struct sv bytes = b2bua_build_response(b, call, leg_of(call, relay->from_a), &relay->req,
                                           status, reason, source, with_contact);
    return bytes.ptr != NULL && b2bua_media_relay_respond(relay, status, bytes, source);
}

void b2bua_relay_response(struct relay *relay, struct txn *txn, struct sip_msg *response)
{
    uint16_t status = response->status;
    if (txn != relay->client || status == 100) {
        return;
    }
    struct call *call = relay->call;
    if (status >= 200 && status < 300 && relay->method == SIP_METHOD_INVITE) {
        (void)b2bua_leg_learn_target(leg_of(call, !relay->from_a), response);
        relay->needs_ack_relay = true;
    }
    bool is_waiting = false;
    if (status == 401 || status == 407) {
        (void)respond_back(relay, 403, SV("Forbidden"), NULL);
    } else {
        is_waiting = respond_back(relay, status, response->reason, response);
    }
    if (status >= 200 && !relay->needs_ack_relay && !is_waiting) {
        /* Done: both transactions absorb retransmissions on their own. */
        b2bua_relay_release(relay);
    }
}

static void relay_send_ack(struct relay *relay, struct sip_msg *source)
{
    struct call *call = relay->call;
    struct b2bua *b = call->owner;
    struct leg *out_leg = leg_of(call, !relay->from_a);
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    struct sv bytes = b2bua_build_ack(b, out_leg, relay->out_cseq, branch, source);
    if (bytes.ptr == NULL) {
        return;
    }
    size_t slot = relay->from_a ? 1 : 0;
    char *copy = sw_malloc(bytes.len);
    if (copy != NULL) {
        memcpy(copy, bytes.ptr, bytes.len);
        sw_free(call->reinvite_ack[slot]);
        call->reinvite_ack[slot] = copy;
        call->reinvite_ack_len[slot] = bytes.len;
        call->reinvite_ack_cseq[slot] = relay->out_cseq;
    }
    (void)b2bua_send(b, &out_leg->dest, bytes);
}

void b2bua_relay_timeout(struct relay *relay, struct txn *txn)
{
    if (txn == relay->client) {
        (void)respond_back(relay, 408, SV("Request Timeout"), NULL);
        b2bua_relay_release(relay);
    } else if (txn == relay->server && relay->needs_ack_relay) {
        /* Our side never ACKed; the other side still needs its ACK to stop retransmitting. */
        relay->needs_ack_relay = false;
        relay_send_ack(relay, NULL);
        b2bua_relay_release(relay);
    }
}

void b2bua_relay_terminated(struct relay *relay, struct txn *txn)
{
    if (txn == relay->server) {
        relay->server = NULL;
    } else if (txn == relay->client) {
        relay->client = NULL;
    }
    /* A re-INVITE relay stays while its ACK may still cross (its 2xx retransmissions). */
    if (relay->server == NULL && relay->client == NULL && !relay->needs_ack_relay) {
        b2bua_relay_release(relay);
    }
}

bool b2bua_relay_ack(struct b2bua *b, struct call *call, bool from_a, struct sip_msg *ack)
{
    (void)b;
    struct sip_err err = { 0 };
    const struct sip_cseq *cseq = sip_msg_cseq(ack, &err);
    if (cseq == NULL) {
        return false;
    }
    for (size_t i = 0; i < CALL_RELAYS; i++) {
        struct relay *relay = &call->relays[i];
        if (relay->is_used && relay->from_a == from_a && relay->method == SIP_METHOD_INVITE &&
            relay->in_cseq == cseq->seq && relay->needs_ack_relay) {
            relay->needs_ack_relay = false;
            if (relay->server != NULL) {
                txn_server_acked(relay->server);
            }
            relay_send_ack(relay, ack);
            b2bua_relay_release(relay);
            return true;
        }
    }
    return false;
}

void b2bua_relay_resend_ack(struct b2bua *b, struct call *call, bool on_a, uint32_t cseq)
{
    size_t slot = on_a ? 0 : 1;
    if (call->reinvite_ack[slot] != NULL && call->reinvite_ack_cseq[slot] == cseq) {
        (void)b2bua_send(b, &leg_of(call, on_a)->dest,
                         sv_make(call->reinvite_ack[slot], call->reinvite_ack_len[slot]));
    }
}

void b2bua_send_bye(struct b2bua *b, struct call *call, bool on_a, const char *reason)
{
    (void)reason;
    struct leg *leg = leg_of(call, on_a);
    char branch_buf[32];
    struct sv branch = txn_branch_new(branch_buf, sizeof(branch_buf));
    uint32_t cseq = ++leg->local_cseq;
    struct sv bytes = b2bua_build_request(b, call, leg, SIP_METHOD_BYE, cseq, branch, NULL);
    if (bytes.ptr != NULL) {
        /* No transaction user: the answer to our own BYE needs no action. */
        (void)txn_client_new(b->txns, SIP_METHOD_BYE, branch, &leg->dest, bytes, NULL);
    }
}
