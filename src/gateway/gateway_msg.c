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
#include "base/random.h"
#include "base/time.h"
#include "call/reply.h"
#include "call/route.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "net/steer.h"
#include "policy/admit.h"
#include "policy/classify.h"
#include "policy/gate.h"
#include "policy/pipeline.h"
#include "policy/sanity.h"

struct handoff {
    struct gateway *gw;
    enum gw_hop hop;
    struct net_msg meta;
    size_t len;
    char data[];
};

static void handoff_run(struct worker *worker, void *arg)
{
    struct handoff *h = arg;
    h->meta.data = sv_make(h->data, h->len);
    gw_process(h->gw, worker, &h->meta, h->hop);
    sw_free(h);
}

static void hand_off(struct gateway *gw, unsigned owner, const struct net_msg *msg, enum gw_hop hop)
{
    struct handoff *h = sw_malloc(sizeof(*h) + msg->data.len);
    if (h == NULL) {
        return; /* like a lost datagram: the sender retransmits */
    }
    h->gw = gw;
    h->hop = hop;
    h->meta = *msg;
    h->len = msg->data.len;
    memcpy(h->data, msg->data.ptr, msg->data.len);
    if (worker_post(net_group_worker(gw->net, owner), handoff_run, h) != 0) {
        sw_free(h);
        return;
    }
    atomic_fetch_add_explicit(&gw->handoffs[hop == GW_HOP_SCANNED ? 0 : 1], 1,
                              memory_order_relaxed);
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

static void send_reply(const struct cfg *cfg, struct worker *worker, struct sip_msg *request,
                       const struct net_msg *msg, uint16_t status, struct sv headers)
{
    char storage[8192];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    /* A fresh tag per reply: a fixed one named the product to every scanner (#9). */
    char to_tag[16];
    sw_random_hex(to_tag, sizeof(to_tag));
    struct reply_extra extra = {
        .src = &msg->src,
        .to_tag = sv_make(to_tag, sizeof(to_tag)),
        .headers = headers,
        .server = sv_from_cstr(cfg->general.user_agent),
    };
    if (reply_build(&out, request, status, NULL, &extra) == 0) {
        struct net_dest dst = reply_dest(msg);
        /* A stateless reply leaves no state to undo when it cannot be sent: it is lost like
         * a dropped datagram, and the client retransmits its request (UDP) or, its
         * connection having failed, connects anew (TCP/TLS). */
        (void)worker_send(worker, &dst, sw_buf_view(&out));
    }
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
    gw_process(h->gw, worker, &h->meta, GW_HOP_FINAL);
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

/* Calls to a phone another node holds (call/route.h), through gateway_peer.c. */
static bool peer_route(const void *ctx, struct arena *arena, const struct cfg_account *account,
                       const struct regshare_holder *holder, struct b2bua_route *route)
{
    return gw_peer_route(ctx, arena, account, holder, route);
}

/* The generation's routes (call/route.h), read for one call. */
static void gen_routes(const struct gw_gen *gen, struct route_table *out)
{
    *out = (struct route_table){
        .cfg = gen->cfg,
        .trunks = gen->trunk_hops,
        .trunk_count = gen->trunk_hop_count,
        .pbx_dest = &gen->pbx_dest,
        .pbx_host = gen->pbx_host,
        .local_host = gen->gw->locals[0].host,
        .peer_route = peer_route,
        .peer_ctx = gen,
    };
}

/* Who the policy says a new call comes from. */
static struct route_caller caller_of(const struct stage_ctx *ctx)
{
    if (ctx->is_authenticated && ctx->side == SIDE_ACCOUNT) {
        return (struct route_caller){ .is_known = true,
                                      .party = CALL_PARTY_ACCOUNT,
                                      .index = ctx->account };
    }
    if (ctx->side == SIDE_PROVIDER) {
        return (struct route_caller){ .is_known = true,
                                      .party = CALL_PARTY_TRUNK,
                                      .index = ctx->trunk };
    }
    return (struct route_caller){ .is_known = ctx->side == SIDE_PBX, .party = CALL_PARTY_PBX };
}

/* Leg B of an initial INVITE that passed the stages; false when it goes nowhere. */
static bool route_call(const struct gw_gen *gen, struct stage_ctx *ctx,
                       const struct route_target *target, struct b2bua_route *route)
{
    bool has_route = route_base(gen->cfg, ctx->msg, route);
    stage_edits_apply(&ctx->edits, route);
    route->policy.dialled_mono_ms = (int64_t)ctx->now_ms;
    if (!has_route) {
        return false;
    }
    struct route_table routes;
    gen_routes(gen, &routes);
    struct route_caller caller = caller_of(ctx);
    return route_pick(&routes, &caller, target, ctx->arena, route);
}

/*
 * A call the policy blocked (the fraud stage's "block") still gets its record, with the
 * rule that refused it; the other refusals (rates, limits, challenges) are not calls yet.
 */
static void record_refused(const struct gw_gen *gen, struct stage_ctx *ctx,
                           const struct route_target *target, const struct net_msg *net,
                           uint16_t status)
{
    if (ctx->msg->method != SIP_METHOD_INVITE || ctx->is_in_dialog ||
        !sv_eq(ctx->edits.policy_action, SV("block"))) {
        return;
    }
    struct b2bua_route route;
    (void)route_call(gen, ctx, target, &route); /* without a route: the policy part only */
    struct net_dest src = reply_dest(net);
    struct call_record rec;
    b2bua_record_refused(&rec, ctx->msg, &src, &route, status);
    gw_obs_record_call(gen->gw, &rec);
}

static void start_call(const struct gw_gen *gen, struct gw_worker *state, struct worker *worker,
                       struct stage_ctx *ctx, const struct net_msg *net,
                       const struct route_target *target)
{
    struct sip_msg *msg = ctx->msg;
    struct net_dest src = reply_dest(net);
    struct b2bua_route route;
    if (!route_call(gen, ctx, target, &route)) {
        stage_places_release(ctx);
        b2bua_on_request(state->b2bua, msg, &src, NULL);
        return;
    }
    struct verdict v = admit_call(ctx, &route);
    if (v.action != VERDICT_CONTINUE) {
        stage_places_release(ctx);
        send_reply(gen->cfg, worker, msg, net, v.status, v.extra_headers);
        return;
    }
    stage_places_hand(ctx, &route);
    gw_media_follow(gen, state, worker);
    b2bua_on_request(state->b2bua, msg, &src, &route);
}

static void relay_register(const struct gw_gen *gen, struct gw_worker *state, struct stage_ctx *ctx,
                           const struct net_msg *net)
{
    struct route_table routes;
    gen_routes(gen, &routes);
    struct b2bua_register_route route;
    route_register(&routes, ctx->account, &gen->accounts[ctx->account].credentials, &route);
    struct net_dest src = reply_dest(net);
    b2bua_on_register(state->b2bua, ctx->msg, &src, &route);
}

/* A CANCEL skips the stages (policy/admit.h says who is answered). */
static void handle_cancel(struct gw_worker *state, struct stage_ctx *ctx, const struct net_msg *net)
{
    /* The call layer is asked only when the sender alone does not decide. */
    bool is_pending = !ctx->is_trusted && !ctx->is_source_authed &&
                      b2bua_cancel_matches(state->b2bua, ctx->msg, &net->src);
    if (admit_cancel(ctx, is_pending).action == VERDICT_CONTINUE) {
        struct net_dest src = reply_dest(net);
        b2bua_on_request(state->b2bua, ctx->msg, &src, NULL);
    }
}

/*
 * What an initial request must pass before the stages (#15): a peer's address is not
 * enough, only a signed INVITE gets in (the ACK of our 403 gets nothing); an INVITE from
 * the PBX side is matched with the phone it calls, here or on another node, and gets 480
 * when it names an account no node has a binding of. True when answered here.
 */
static bool screen_initial(const struct gw_gen *gen, struct worker *worker, struct stage_ctx *ctx,
                           const struct net_msg *net, struct route_target *target)
{
    struct sip_msg *msg = ctx->msg;
    if (ctx->is_in_dialog) {
        return false;
    }
    if (ctx->is_from_peer && (msg->method != SIP_METHOD_INVITE || !gw_peer_admits(gen, msg))) {
        if (msg->method != SIP_METHOD_ACK) {
            stage_event_emit_short(ctx, EV_FAILED_ACL, "gateway", sip_msg_call_id(msg),
                                   "unsigned request from a peer");
            send_reply(gen->cfg, worker, msg, net, 403, SV_NULL);
        }
        return true;
    }
    if (ctx->side != SIDE_PBX || msg->method != SIP_METHOD_INVITE) {
        return false;
    }
    struct route_table routes;
    gen_routes(gen, &routes);
    route_target_find(&routes, msg, !ctx->is_from_peer, sw_wall_s(), target);
    if (target->is_unregistered) {
        send_reply(gen->cfg, worker, msg, net, 480, SV_NULL);
        return true;
    }
    ctx->is_towards_account = target->account != NULL;
    ctx->is_towards_peer = target->is_remote;
    ctx->callee_account =
        target->account != NULL ? (size_t)(target->account - gen->cfg->accounts) : SIZE_MAX;
    return false;
}

static void handle_request(const struct gw_gen *gen, struct gw_worker *state, struct worker *worker,
                           struct stage_ctx *ctx, const struct net_msg *net)
{
    struct sip_msg *msg = ctx->msg;
    if (b2bua_absorb(state->b2bua, msg)) {
        return; /* a retransmission: its original was judged already */
    }
    if (msg->method == SIP_METHOD_CANCEL) {
        handle_cancel(state, ctx, net);
        return;
    }
    ctx->is_in_dialog = b2bua_is_in_dialog(state->b2bua, msg, &net->src);
    struct route_target target = { .account = NULL };
    if (screen_initial(gen, worker, ctx, net, &target)) {
        return;
    }
    struct verdict v = pipeline_run(gen->pipeline, ctx);
    if (v.action == VERDICT_DROP || v.action == VERDICT_HOLD) {
        return;
    }
    if (v.action == VERDICT_REPLY) {
        if (msg->method != SIP_METHOD_ACK) {
            send_reply(gen->cfg, worker, msg, net, v.status, v.extra_headers);
        }
        record_refused(gen, ctx, &target, net, v.status);
        return;
    }
    if (msg->method == SIP_METHOD_REGISTER && ctx->is_authenticated && !ctx->is_in_dialog) {
        relay_register(gen, state, ctx, net);
        return;
    }
    if (msg->method == SIP_METHOD_INVITE && !ctx->is_in_dialog) {
        start_call(gen, state, worker, ctx, net, &target);
        return;
    }
    struct net_dest src = reply_dest(net);
    b2bua_on_request(state->b2bua, msg, &src, NULL);
}

/*
 * A stream's message (or a datagram the kernel did not steer) for a call of another worker
 * goes there before it is parsed: the owner parses it once, instead of both. True when it
 * was handed on.
 */
static bool hand_off_scanned(struct gateway *gw, struct worker *worker, const struct net_msg *net)
{
    unsigned workers = net_group_worker_count(gw->net);
    bool is_steered = net->transport == SW_TRANSPORT_UDP && net_group_steer(gw->net) != NULL;
    if (workers < 2 || is_steered) {
        return false;
    }
    int owner = net_steer_scan_owner(net->data, workers);
    if (owner < 0 || (unsigned)owner == worker_index(worker)) {
        return false;
    }
    hand_off(gw, (unsigned)owner, net, GW_HOP_SCANNED);
    return true;
}

static void process_in(struct gateway *gw, const struct gw_gen *gen, struct worker *worker,
                       const struct net_msg *net, enum gw_hop hop)
{
    if (hop == GW_HOP_NETWORK && hand_off_scanned(gw, worker, net)) {
        return;
    }
    struct gw_worker *state = worker_app_state(worker);
    const struct cfg *cfg = gen->cfg;
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
    ctx.side = classify_source(cfg, &ctx.src_ip, sw_sockaddr_port(&net->src), &ctx.trunk);
    if (ctx.side == SIDE_UNKNOWN && gw_peer_is_source(gen, &ctx.src_ip)) {
        ctx.side = SIDE_PBX; /* another node of ours: what it may send is checked below */
        ctx.is_from_peer = true;
    }
    ctx.is_trusted = ctx.side == SIDE_PBX || ctx.side == SIDE_PROVIDER;
    ctx.is_source_authed = !ctx.is_trusted && gw_obs_is_recently_authenticated(gw, &ctx.src_ip);
    arena_reset(state->arena);
    struct sip_msg msg;
    struct sanity_read_result read;
    bool is_stream = net->transport != SW_TRANSPORT_UDP;
    if (!sanity_read(&ctx, net->data, is_stream, &gw->limits, &msg, &read)) {
        /* A request that did not parse has no header index to address an answer with. */
        if (read.verdict.action == VERDICT_REPLY && read.is_parsed) {
            send_reply(cfg, worker, &msg, net, read.verdict.status, SV_NULL);
        }
        return;
    }
    unsigned owner = b2bua_owner_of(sip_msg_call_id(&msg), net_group_worker_count(gw->net));
    if (hop != GW_HOP_FINAL && owner != worker_index(worker)) {
        hand_off(gw, owner, net, GW_HOP_FINAL);
        return;
    }
    ctx.msg = &msg;
    struct hold_source hold_source = { .gw = gw, .worker = worker, .net = net };
    ctx.hold = take_hold;
    ctx.hold_ctx = &hold_source;
    if (msg.is_request) {
        handle_request(gen, state, worker, &ctx, net);
    } else {
        b2bua_on_response(state->b2bua, &msg, &net->src);
    }
}

void gw_process(struct gateway *gw, struct worker *worker, const struct net_msg *net,
                enum gw_hop hop)
{
    unsigned reader = worker_index(worker);
    const struct gw_gen *gen = gw_gen_enter(gw, reader);
    process_in(gw, gen, worker, net, hop);
    gw_gen_leave(gw, reader);
}

/* The gate and the processing read one generation: a reload between them cannot pair the
 * old [acl] deny ranges with the new configuration. */
void gw_on_message(void *app, struct worker *worker, const struct net_msg *msg)
{
    struct gateway *gw = app;
    struct sw_ip ip;
    if (!sw_ip_from_sockaddr(&msg->src, &ip)) {
        return;
    }
    unsigned reader = worker_index(worker);
    const struct gw_gen *gen = gw_gen_enter(gw, reader);
    if (gate_check(gen->gate, &ip, sw_mono_ms()) == GATE_PASS) {
        process_in(gw, gen, worker, msg, GW_HOP_NETWORK);
    }
    gw_gen_leave(gw, reader);
}
