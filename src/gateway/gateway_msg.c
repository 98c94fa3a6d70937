/*
 * The path of one message (DESIGN.md): gate -> parse -> owner worker -> classify ->
 * stages -> calls. Runs in worker threads; reads the configuration through the atomic
 * pointer so that SIGHUP can swap it underneath.
 */
#include <string.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/time.h"
#include "call/reply.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "policy/classify.h"
#include "policy/gate.h"
#include "policy/pipeline.h"

struct handoff {
    struct gateway *gw;
    struct net_msg meta;
    size_t len;
    char data[];
};

static void handoff_run(struct worker *worker, void *arg)
{
    struct handoff *h = arg;
    h->meta.data = sv_make(h->data, h->len);
    gw_process(h->gw, worker, &h->meta, false);
    sw_free(h);
}

static void hand_off(struct gateway *gw, struct worker *owner, const struct net_msg *msg)
{
    struct handoff *h = sw_malloc(sizeof(*h) + msg->data.len);
    if (h == NULL) {
        return; /* like a lost datagram: the sender retransmits */
    }
    h->gw = gw;
    h->meta = *msg;
    h->len = msg->data.len;
    memcpy(h->data, msg->data.ptr, msg->data.len);
    if (worker_post(owner, handoff_run, h) != 0) {
        sw_free(h);
    }
}

static struct net_dest reply_dest(const struct net_msg *msg)
{
    return (struct net_dest){
        .transport = msg->transport,
        .addr = msg->src,
        .listener = msg->listener,
        .conn_id = msg->conn_id,
    };
}

static void send_reply(struct gateway *gw, struct worker *worker, struct sip_msg *request,
                       const struct net_msg *msg, uint16_t status, struct sv headers)
{
    char storage[8192];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    const struct cfg *cfg = atomic_load(&gw->cfg);
    struct reply_extra extra = {
        .to_tag = SV("sw-gw"),
        .headers = headers,
        .server = sv_from_cstr(cfg->general.user_agent),
    };
    if (reply_build(&out, request, status, NULL, &extra) == 0) {
        struct net_dest dst = reply_dest(msg);
        (void)worker_send(worker, &dst, sw_buf_view(&out));
    }
}

static void emit_simple(struct gateway *gw, const struct net_msg *msg, enum sw_event_kind kind,
                        struct sv session, const char *detail)
{
    struct sw_event ev;
    sw_event_init(&ev, kind);
    ev.remote = msg->src;
    ev.local = msg->local;
    ev.transport = msg->transport;
    SW_EVENT_SET(&ev, session, session);
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    SW_EVENT_SET(&ev, module, SV("gateway"));
    sw_event_emit(&gw->events, &ev);
}

static void on_malformed(struct gateway *gw, struct worker *worker, struct sip_msg *msg,
                         const struct net_msg *net, const struct sip_err *err, bool is_parsed,
                         bool is_trusted)
{
    emit_simple(gw, net, EV_MALFORMED, is_parsed ? sip_msg_call_id(msg) : SV_NULL,
                err->reason != NULL ? err->reason : "malformed");
    const struct cfg *cfg = atomic_load(&gw->cfg);
    bool may_answer = is_trusted || cfg->general.malformed_reply == CFG_MALFORMED_REPLY;
    if (is_parsed && msg->is_request && err->status != 0 && may_answer &&
        msg->method != SIP_METHOD_ACK) {
        send_reply(gw, worker, msg, net, err->status, SV_NULL);
    }
}

static bool build_route(struct gateway *gw, const struct cfg *cfg, struct stage_ctx *ctx,
                        struct b2bua_route *route)
{
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(ctx->msg, &err);
    const struct sip_nameaddr *from = sip_msg_from(ctx->msg, &err);
    if (ruri == NULL || from == NULL) {
        return false;
    }
    memset(route, 0, sizeof(*route));
    route->ruri_user = ruri->scheme == SIP_URI_TEL ? ruri->tel_number : ruri->user;
    route->from_user = from->uri.scheme == SIP_URI_TEL ? from->uri.tel_number : from->uri.user;
    route->from_display = from->display;
    route->max_duration_s = cfg->general.max_call_duration;
    route->ring_timeout_s = cfg->general.call_timeout;
    if (!sv_is_present(route->ruri_user) || route->ruri_user.len == 0) {
        return false;
    }
    if (!sv_is_present(route->from_user)) {
        route->from_user = SV("anonymous");
    }
    if (ctx->side == SIDE_PROVIDER) {
        route->dest = gw->pbx_dest;
        route->target_host = sv_from_cstr(gw->pbx_host);
        route->from_host = sv_from_cstr(gw->pbx_host);
        route->from_party = CALL_PARTY_TRUNK;
        route->from_index = ctx->trunk;
        route->to_party = CALL_PARTY_PBX;
        return true;
    }
    size_t trunk = cfg->default_trunk_index;
    if (ctx->side != SIDE_PBX || trunk >= gw->trunk_hop_count) {
        return false;
    }
    route->dest = gw->trunk_hops[trunk].dest;
    const struct uac_credentials *creds = &gw->trunk_hops[trunk].credentials;
    route->credentials = creds->username != NULL ? creds : NULL;
    route->target_host = sv_from_cstr(gw->trunk_hops[trunk].host);
    route->from_host = sv_from_cstr(gw->trunk_hops[trunk].host);
    route->is_towards_provider = true;
    route->from_party = CALL_PARTY_PBX;
    route->to_party = CALL_PARTY_TRUNK;
    route->to_index = trunk;
    return true;
}

static void apply_edits(const struct stage_edits *edits, struct b2bua_route *route)
{
    if (sv_is_present(edits->caller_user)) {
        route->from_user = edits->caller_user;
    }
    if (sv_is_present(edits->caller_display)) {
        route->from_display = edits->caller_display;
    }
    route->asserted_id = edits->asserted_identity;
    route->verstat = edits->verstat;
    route->extra_headers = edits->extra_headers;
}

/* A held message: a copy that runs through the path again when a stage resumes it. */
struct held_msg {
    struct stage_hold hold; /* first: stages see only this */
    struct gateway *gw;
    struct worker *worker;
    struct net_msg meta;
    size_t len;
    char data[];
};

static void held_run(struct worker *worker, void *arg)
{
    struct held_msg *h = arg;
    h->meta.data = sv_make(h->data, h->len);
    gw_process(h->gw, worker, &h->meta, false);
    sw_free(h);
}

static void held_resume(struct stage_hold *hold)
{
    struct held_msg *h = (struct held_msg *)hold;
    if (worker_post(h->worker, held_run, h) != 0) {
        sw_free(h); /* the queue is full: the sender's retransmission brings it back */
    }
}

struct hold_source {
    struct gateway *gw;
    struct worker *worker;
    const struct net_msg *net;
};

static struct stage_hold *take_hold(struct stage_ctx *ctx)
{
    const struct hold_source *src = ctx->hold_ctx;
    struct held_msg *h = sw_malloc(sizeof(*h) + src->net->data.len);
    if (h == NULL) {
        return NULL;
    }
    h->hold.resume = held_resume;
    h->gw = src->gw;
    h->worker = src->worker;
    h->meta = *src->net;
    h->len = src->net->data.len;
    memcpy(h->data, src->net->data.ptr, h->len);
    return &h->hold;
}

static bool over_call_limit(const struct cfg *cfg, const struct b2bua_route *route)
{
    if (route->to_party == CALL_PARTY_TRUNK && route->to_index < cfg->trunk_count) {
        uint32_t max = cfg->trunks[route->to_index].max_calls;
        return max != 0 && b2bua_party_calls(CALL_PARTY_TRUNK, route->to_index) >= max;
    }
    if (route->from_party == CALL_PARTY_TRUNK && route->from_index < cfg->trunk_count) {
        uint32_t max = cfg->trunks[route->from_index].max_calls;
        return max != 0 && b2bua_party_calls(CALL_PARTY_TRUNK, route->from_index) >= max;
    }
    return false;
}

static void handle_request(struct gateway *gw, struct gw_worker *state, struct worker *worker,
                           struct stage_ctx *ctx, const struct net_msg *net)
{
    struct sip_msg *msg = ctx->msg;
    const struct cfg *cfg = ctx->cfg;
    ctx->is_in_dialog = b2bua_is_in_dialog(state->b2bua, msg, &net->src);
    bool is_known = ctx->side == SIDE_PBX || ctx->side == SIDE_PROVIDER;
    if (!is_known && !ctx->is_in_dialog) {
        /* Nobody we know, and no remote account support in this build path yet: an
         * unknown source gets nothing (DESIGN.md). */
        emit_simple(gw, net, EV_FAILED_ACL, sip_msg_call_id(msg), "unknown source");
        if (cfg->acl.deny_reply == CFG_DENY_403 && msg->method != SIP_METHOD_ACK) {
            send_reply(gw, worker, msg, net, 403, SV_NULL);
        }
        return;
    }
    struct verdict v = pipeline_run(atomic_load(&gw->pipeline), ctx);
    if (v.action == VERDICT_DROP || v.action == VERDICT_HOLD) {
        return;
    }
    if (v.action == VERDICT_REPLY) {
        if (msg->method != SIP_METHOD_ACK) {
            send_reply(gw, worker, msg, net, v.status, v.extra_headers);
        }
        return;
    }
    struct net_dest src = reply_dest(net);
    struct b2bua_route route;
    bool is_initial_invite = msg->method == SIP_METHOD_INVITE && !ctx->is_in_dialog;
    if (is_initial_invite && build_route(gw, cfg, ctx, &route)) {
        apply_edits(&ctx->edits, &route);
        if (over_call_limit(cfg, &route)) {
            emit_simple(gw, net, EV_POLICY_HIT, sip_msg_call_id(msg), "max_calls reached");
            send_reply(gw, worker, msg, net, 503, SV("Retry-After: 30\r\n"));
            return;
        }
        b2bua_on_request(state->b2bua, msg, &src, &route);
        return;
    }
    b2bua_on_request(state->b2bua, msg, &src, NULL);
}

void gw_process(struct gateway *gw, struct worker *worker, const struct net_msg *net,
                bool may_hand_off)
{
    struct gw_worker *state = worker_app_state(worker);
    const struct cfg *cfg = atomic_load(&gw->cfg);
    struct stage_ctx ctx = {
        .arena = state->arena,
        .src = net->src,
        .local = net->local,
        .transport = net->transport,
        .now_ms = sw_mono_ms(),
        .worker = worker_index(worker),
        .cfg = cfg,
        .events = &gw->events,
    };
    (void)sw_ip_from_sockaddr(&net->src, &ctx.src_ip);
    ctx.side = classify_source(cfg, &ctx.src_ip, &ctx.trunk);
    ctx.is_trusted = ctx.side == SIDE_PBX || ctx.side == SIDE_PROVIDER;
    arena_reset(state->arena);
    struct sip_msg msg;
    struct sip_err err = { 0 };
    bool is_stream = net->transport != SW_TRANSPORT_UDP;
    int rc = sip_msg_parse(net->data, is_stream, &gw->limits, state->arena, &msg, &err);
    if (rc != 0) {
        on_malformed(gw, worker, &msg, net, &err, false, ctx.is_trusted);
        return;
    }
    if (sip_msg_validate(&msg, &err) != 0) {
        on_malformed(gw, worker, &msg, net, &err, true, ctx.is_trusted);
        return;
    }
    unsigned owner = b2bua_owner_of(sip_msg_call_id(&msg), net_group_worker_count(gw->net));
    if (may_hand_off && owner != worker_index(worker)) {
        hand_off(gw, net_group_worker(gw->net, owner), net);
        return;
    }
    ctx.msg = &msg;
    struct hold_source hold_source = { .gw = gw, .worker = worker, .net = net };
    ctx.hold = take_hold;
    ctx.hold_ctx = &hold_source;
    if (msg.is_request) {
        handle_request(gw, state, worker, &ctx, net);
    } else {
        b2bua_on_response(state->b2bua, &msg, &net->src);
    }
}

void gw_on_message(void *app, struct worker *worker, const struct net_msg *msg)
{
    struct gateway *gw = app;
    struct sw_ip ip;
    if (!sw_ip_from_sockaddr(&msg->src, &ip) ||
        gate_check(gw->gate, &ip, sw_mono_ms()) != GATE_PASS) {
        return;
    }
    gw_process(gw, worker, msg, true);
}
