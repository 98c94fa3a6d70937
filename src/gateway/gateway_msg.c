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
#include "call/registrar.h"
#include "call/reply.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "policy/classify.h"
#include "policy/gate.h"
#include "policy/pipeline.h"
#include "policy/sanity.h"
#include "state/isolation.h"
#include "state/regshare.h"

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
        return;
    }
    atomic_fetch_add_explicit(&gw->handoffs, 1, memory_order_relaxed);
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

/* The fields every new call's route shares: who is called, who calls, timers. */
static bool route_base(const struct cfg *cfg, struct stage_ctx *ctx, struct b2bua_route *route)
{
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(ctx->msg, &err);
    const struct sip_nameaddr *from = sip_msg_from(ctx->msg, &err);
    memset(route, 0, sizeof(*route));
    if (ruri == NULL || from == NULL) {
        return false;
    }
    route->ruri_user = ruri->scheme == SIP_URI_TEL ? ruri->tel_number : ruri->user;
    route->from_user = from->uri.scheme == SIP_URI_TEL ? from->uri.tel_number : from->uri.user;
    route->from_display = from->display;
    route->max_duration_s = cfg->general.max_call_duration;
    route->ring_timeout_s = cfg->general.call_timeout;
    if (!sv_is_present(route->from_user)) {
        route->from_user = SV("anonymous");
    }
    return sv_is_present(route->ruri_user) && route->ruri_user.len > 0;
}

/* "NAME: trunk=provider\r\n" in the arena, or absent (no header configured, or full). */
static struct sv origin_line(const struct gw_gen *gen, struct arena *arena, const char *kind,
                             const char *name)
{
    const char *header = gen->cfg->pbx.origin_header;
    if (header == NULL || header[0] == '\0') {
        return SV_NULL;
    }
    size_t cap = strlen(header) + strlen(kind) + strlen(name) + 8;
    char *line = arena_alloc(arena, cap);
    if (line == NULL) {
        return SV_NULL;
    }
    int n = sw_snprintf(line, cap, "%s: %s=%s\r\n", header, kind, name);
    return n > 0 && (size_t)n < cap ? sv_make(line, (size_t)n) : SV_NULL;
}

/*
 * A call from the PBX that carries our origin header with trunk=NAME came in from a
 * trunk: leaving through a trunk again is a hairpin (issue #9 item 3), refused unless that
 * trunk allows transit (a trunk we no longer know allows nothing). `name` gets the trunk.
 */
static bool is_hairpin(const struct gw_gen *gen, struct sip_msg *msg, struct sv *name)
{
    const char *header = gen->cfg->pbx.origin_header;
    if (header == NULL || header[0] == '\0') {
        return false;
    }
    for (const struct sip_hdr *h = sip_msg_find_name(msg, sv_from_cstr(header), NULL); h != NULL;
         h = sip_msg_find_name(msg, sv_from_cstr(header), h)) {
        struct sv value = sv_trim(h->value);
        if (value.len <= 6 || memcmp(value.ptr, "trunk=", 6) != 0) {
            continue;
        }
        *name = sv_make(value.ptr + 6, value.len - 6);
        for (size_t i = 0; i < gen->cfg->trunk_count; i++) {
            if (sv_eq(sv_from_cstr(gen->cfg->trunks[i].name), *name)) {
                return !gen->cfg->trunks[i].allow_transit;
            }
        }
        return true;
    }
    return false;
}

/* Provider -> PBX, or PBX -> the default trunk. */
static bool route_by_side(const struct gw_gen *gen, struct stage_ctx *ctx,
                          struct b2bua_route *route)
{
    if (ctx->side == SIDE_PROVIDER && ctx->trunk < gen->trunk_hop_count) {
        route->dest = gen->pbx_dest;
        route->target_host = sv_from_cstr(gen->pbx_host);
        route->from_host = sv_from_cstr(gen->pbx_host);
        route->from_party = CALL_PARTY_TRUNK;
        route->to_party = CALL_PARTY_PBX;
        route->origin_header =
            origin_line(gen, ctx->arena, "trunk", gen->cfg->trunks[ctx->trunk].name);
        CALLREC_SET(route->policy.trunk, gen->cfg->trunks[ctx->trunk].name);
        /* Kept for the Wangiri check when the call ends (gateway_obs.c). */
        const struct cfg_trunk *from = &gen->cfg->trunks[ctx->trunk];
        CALLREC_SET(route->policy.trunk_country_code,
                    from->country_code != NULL ? from->country_code : "");
        route->policy.wangiri_ring_max_s =
            gen->cfg->fraud.enabled ? gen->cfg->fraud.wangiri_ring_max : 0;
        return true;
    }
    size_t trunk = gen->cfg->default_trunk_index;
    if (ctx->side != SIDE_PBX || trunk >= gen->trunk_hop_count) {
        return false;
    }
    const struct gw_trunk_hop *hop = &gen->trunk_hops[trunk];
    route->dest = hop->dest;
    route->target_host = sv_from_cstr(hop->host);
    route->from_host = sv_from_cstr(hop->host);
    route->is_towards_provider = true;
    route->from_party = CALL_PARTY_PBX;
    route->to_party = CALL_PARTY_TRUNK;
    route->trunk_name = sv_from_cstr(gen->cfg->trunks[trunk].name);
    route->credentials = hop->credentials.username != NULL ? &hop->credentials : NULL;
    CALLREC_SET(route->policy.trunk, gen->cfg->trunks[trunk].name);
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
    if (sv_is_present(edits->callee_user)) {
        route->ruri_user = edits->callee_user;
    }
    route->sdp = edits->sdp;
    route->media_to_a = edits->media_to_a;
    route->media_to_b = edits->media_to_b;
    route->is_anchor_needed = edits->is_anchor_needed;
    /* What the stages found, for the call's record (base/callrec.h). */
    struct callrec_policy *record = &route->policy;
    sw_event_set(record->fraud_key, sizeof(record->fraud_key), edits->fraud_key);
    sw_event_set(record->dialled_e164, sizeof(record->dialled_e164), edits->dialled_e164);
    sw_event_set(record->country, sizeof(record->country), edits->dest_country);
    sw_event_set(record->number_class, sizeof(record->number_class), edits->dest_class);
    sw_event_set(record->verstat, sizeof(record->verstat), edits->verstat);
    record->rate_micro = edits->is_rated ? edits->rate_per_minute_micro : 0;
    if (edits->is_rated) {
        record->connect_fee_micro = edits->rate.connect_fee_micro;
        record->first_increment_s = edits->rate.first_increment_s;
        record->next_increment_s = edits->rate.next_increment_s;
    }
    sw_event_set(record->rule, sizeof(record->rule), edits->policy_rule);
    sw_event_set(record->action, sizeof(record->action), edits->policy_action);
    sw_event_set(record->attestation, sizeof(record->attestation), edits->attestation);
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

/* The call layer takes over the places the stages reserved (policy/limits.h). */
static void hand_places(struct stage_ctx *ctx, struct b2bua_route *route)
{
    _Static_assert(STAGE_PLACES_MAX <= B2BUA_RESERVED_SLOTS, "a call keeps every place");
    for (size_t i = 0; i < ctx->edits.place_count; i++) {
        route->reserved[i] = ctx->edits.places[i];
        ctx->edits.places[i] = NULL;
    }
    ctx->edits.place_count = 0;
}

/* The phone a call from the PBX goes to: its account and live binding. */
struct account_target {
    const struct cfg_account *account; /* NULL = the call is not for a registered phone */
    struct registrar_binding binding;
    bool is_remote;                /* #15: another node holds the binding: relay there */
    struct regshare_holder holder; /* is_remote: which node, where */
    bool is_unregistered;          /* #15: an account of ours that no node has a binding of */
};

/*
 * Does this INVITE from the PBX name an enabled account with a live binding? Looked up
 * once per call, before the policy (the caller-ID stage asks) and used again for routing.
 */
static void find_account_target(const struct gw_gen *gen, struct sip_msg *msg, bool may_relay,
                                struct account_target *out)
{
    out->account = NULL;
    out->is_remote = false;
    out->is_unregistered = false;
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
    if (ruri == NULL) {
        return;
    }
    struct sv user = ruri->scheme == SIP_URI_TEL ? ruri->tel_number : ruri->user;
    const struct cfg_account *account =
        sv_is_present(user) ? cfg_account_find(gen->cfg, user) : NULL;
    if (account == NULL || !account->enabled) {
        return;
    }
    struct sv name = sv_from_cstr(account->username);
    struct regshare_holder *holder = &out->holder;
    struct regshare *shared = regshare_installed();
    if (registrar_lookup(name, sw_wall_s(), &out->binding)) {
        out->account = account;
    } else if (may_relay && shared != NULL && regshare_lookup(shared, name, sw_wall_s(), holder)) {
        out->account = account;
        out->is_remote = true;
    } else {
        /* In a cluster an account's number is never a number of the outside world. */
        out->is_unregistered = shared != NULL || !may_relay;
    }
}

static bool route_to_account(const struct gw_gen *gen, struct arena *arena,
                             const struct account_target *target, struct b2bua_route *route)
{
    const struct cfg_account *account = target->account;
    const struct registrar_binding *binding = &target->binding;
    struct sip_err err = { 0 };
    struct sip_uri contact;
    if (target->is_remote) {
        if (!gw_peer_route(gen, arena, account, &target->holder, route)) {
            return false;
        }
    } else if (sip_uri_parse(sv_from_cstr(binding->contact_uri), &contact, &err) != 0) {
        return false;
    } else {
        route->dest = binding->dest;
        route->request_uri = sv_from_cstr(binding->contact_uri);
        route->target_host = contact.host;
    }
    const struct gateway *gw = gen->gw;
    /* The phone learns the gateway's address, never the PBX's. */
    route->from_host = sv_from_cstr(gw->locals[0].host);
    route->is_towards_provider = true; /* a phone outside is the internet: hide the PBX */
    route->to_party = CALL_PARTY_ACCOUNT;
    route->from_party = CALL_PARTY_PBX;
    route->credentials = NULL;
    CALLREC_SET(route->policy.account, account->username);
    return true;
}

/*
 * The identity of an account's call is the gateway's to set (issue #9 item 4): From names
 * the account, P-Asserted-Identity the account and its callerid; whatever identity
 * headers the phone wrote (PAI, P-Preferred-Identity, Remote-Party-ID) stay behind.
 */
static void account_identity(const struct gw_gen *gen, struct arena *arena,
                             const struct cfg_account *account, struct b2bua_route *route)
{
    route->from_user = sv_from_cstr(account->username);
    route->from_display = SV(""); /* the phone's display name is its own claim */
    route->verstat = SV_NULL;
    const char *callerid = account->callerid != NULL ? account->callerid : "";
    size_t cap = strlen(account->username) + strlen(gen->pbx_host) + strlen(callerid) + 32;
    char *pai = arena_alloc(arena, cap);
    int n = -1;
    if (pai != NULL && callerid[0] != '\0') {
        n = sw_snprintf(pai, cap, "<sip:%s@%s>, <tel:%s>", account->username, gen->pbx_host,
                        callerid);
    } else if (pai != NULL) {
        n = sw_snprintf(pai, cap, "<sip:%s@%s>", account->username, gen->pbx_host);
    }
    /* Out of arena: no PAI at all rather than the phone's. */
    route->asserted_id = n > 0 && (size_t)n < cap ? sv_make(pai, (size_t)n) : SV("");
}

static void route_from_account(const struct gw_gen *gen, const struct stage_ctx *ctx,
                               struct b2bua_route *route)
{
    const struct cfg_account *account = &gen->cfg->accounts[ctx->account];
    route->dest = gen->pbx_dest;
    route->target_host = sv_from_cstr(gen->pbx_host);
    route->from_host = sv_from_cstr(gen->pbx_host);
    account_identity(gen, ctx->arena, account, route);
    CALLREC_SET(route->policy.account, account->username);
    route->origin_header = origin_line(gen, ctx->arena, "account", account->username);
    route->from_party = CALL_PARTY_ACCOUNT;
    route->to_party = CALL_PARTY_PBX;
    route->is_towards_provider = false;
    route->credentials = NULL;
}

/*
 * Issue #12: a trunk the operator isolated and an account that is disabled take no new
 * call, in either direction: 403 and a PolicyHit event naming them.
 */
static bool refuse_isolated(struct gateway *gw, const struct cfg *cfg, struct worker *worker,
                            struct sip_msg *msg, const struct net_msg *net,
                            const struct callrec_policy *policy)
{
    const char *what = NULL;
    const char *name = NULL;
    if (isolation_is_held(ISOLATION_TRUNK, sv_from_cstr(policy->trunk))) {
        what = "trunk isolated";
        name = policy->trunk;
    } else if (isolation_is_held(ISOLATION_ACCOUNT, sv_from_cstr(policy->account))) {
        what = "account disabled";
        name = policy->account;
    } else {
        return false;
    }
    char detail[160];
    (void)sw_snprintf(detail, sizeof(detail), "%s: %s: new call refused", what, name);
    emit_simple(gw, net, EV_POLICY_HIT, sip_msg_call_id(msg), detail);
    send_reply(cfg, worker, msg, net, 403, SV_NULL);
    return true;
}

/* The gateway is the generation's (gen->gw). */
/* Leg B of an initial INVITE that passed the stages; false when it goes nowhere. */
static bool route_call(const struct gw_gen *gen, struct stage_ctx *ctx,
                       const struct account_target *target, struct b2bua_route *route)
{
    bool has_route = route_base(gen->cfg, ctx, route);
    apply_edits(&ctx->edits, route);
    route->policy.dialled_mono_ms = (int64_t)ctx->now_ms;
    if (has_route && ctx->is_authenticated && ctx->side == SIDE_ACCOUNT) {
        route_from_account(gen, ctx, route);
    } else if (has_route && target != NULL && target->account != NULL) {
        has_route = route_to_account(gen, ctx->arena, target, route);
    } else if (has_route) {
        has_route = route_by_side(gen, ctx, route);
    }
    return has_route;
}

/*
 * A call the policy blocked (the fraud stage's "block") still gets its record, with the
 * rule that refused it; the other refusals (rates, limits, challenges) are not calls yet.
 */
static void record_refused(const struct gw_gen *gen, struct stage_ctx *ctx,
                           const struct account_target *target, const struct net_msg *net,
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
                       const struct account_target *target)
{
    struct gateway *gw = gen->gw;
    struct sip_msg *msg = ctx->msg;
    struct net_dest src = reply_dest(net);
    struct b2bua_route route;
    if (!route_call(gen, ctx, target, &route)) {
        stage_places_release(ctx);
        b2bua_on_request(state->b2bua, msg, &src, NULL);
        return;
    }
    struct sv origin = SV_NULL;
    if (route.to_party == CALL_PARTY_TRUNK && is_hairpin(gen, msg, &origin)) {
        char detail[160];
        (void)sw_snprintf(detail, sizeof(detail),
                          "hairpin: a call from trunk %.*s would leave through a trunk: refused",
                          (int)(origin.len > 64 ? 64 : origin.len), origin.ptr);
        emit_simple(gw, net, EV_POLICY_HIT, sip_msg_call_id(msg), detail);
        stage_places_release(ctx);
        send_reply(gen->cfg, worker, msg, net, 403, SV_NULL);
        return;
    }
    if (refuse_isolated(gw, gen->cfg, worker, msg, net, &route.policy)) {
        stage_places_release(ctx);
        return;
    }
    hand_places(ctx, &route);
    gw_media_follow(gen, state, worker);
    b2bua_on_request(state->b2bua, msg, &src, &route);
}

static void relay_register(const struct gw_gen *gen, struct gw_worker *state, struct stage_ctx *ctx,
                           const struct net_msg *net)
{
    const struct cfg_account *account = &gen->cfg->accounts[ctx->account];
    const struct uac_credentials *creds = &gen->accounts[ctx->account].credentials;
    struct b2bua_register_route route = {
        .username = sv_from_cstr(account->username),
        .pbx = gen->pbx_dest,
        .pbx_host = sv_from_cstr(gen->pbx_host),
        .credentials = creds != NULL && creds->secret != NULL ? creds : NULL,
        .max_expires_s = 3600,
    };
    struct net_dest src = reply_dest(net);
    b2bua_on_register(state->b2bua, ctx->msg, &src, &route);
}

/*
 * RFC 3261 §9: a CANCEL is never challenged; it carries the caller's hang-up. One that
 * targets a pending INVITE of the address it comes from goes straight to the call layer
 * (200, relayed, the INVITE answered 487). One that matches nothing is answered 481 where
 * the sender is someone we know and gets silence otherwise; it is never a failure, so a
 * phone that hangs up while a call rings is never banned for it.
 */
static void handle_cancel(struct gateway *gw, struct gw_worker *state, struct stage_ctx *ctx,
                          const struct net_msg *net)
{
    struct net_dest src = reply_dest(net);
    bool is_known = ctx->is_trusted || b2bua_cancel_matches(state->b2bua, ctx->msg, &net->src) ||
                    gw_obs_is_recently_authenticated(gw, &ctx->src_ip);
    if (is_known) {
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
                           const struct net_msg *net, struct account_target *target)
{
    struct sip_msg *msg = ctx->msg;
    if (ctx->is_in_dialog) {
        return false;
    }
    if (ctx->is_from_peer && (msg->method != SIP_METHOD_INVITE || !gw_peer_admits(gen, msg))) {
        if (msg->method != SIP_METHOD_ACK) {
            emit_simple(gen->gw, net, EV_FAILED_ACL, sip_msg_call_id(msg),
                        "unsigned request from a peer");
            send_reply(gen->cfg, worker, msg, net, 403, SV_NULL);
        }
        return true;
    }
    if (ctx->side != SIDE_PBX || msg->method != SIP_METHOD_INVITE) {
        return false;
    }
    find_account_target(gen, msg, !ctx->is_from_peer, target);
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

static void handle_request(struct gateway *gw, const struct gw_gen *gen, struct gw_worker *state,
                           struct worker *worker, struct stage_ctx *ctx, const struct net_msg *net)
{
    struct sip_msg *msg = ctx->msg;
    if (b2bua_absorb(state->b2bua, msg)) {
        return; /* a retransmission: its original was judged already */
    }
    if (msg->method == SIP_METHOD_CANCEL) {
        handle_cancel(gw, state, ctx, net);
        return;
    }
    ctx->is_in_dialog = b2bua_is_in_dialog(state->b2bua, msg, &net->src);
    struct account_target target = { .account = NULL };
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

static void process_in(struct gateway *gw, const struct gw_gen *gen, struct worker *worker,
                       const struct net_msg *net, bool may_hand_off)
{
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
    if (may_hand_off && owner != worker_index(worker)) {
        hand_off(gw, net_group_worker(gw->net, owner), net);
        return;
    }
    ctx.msg = &msg;
    struct hold_source hold_source = { .gw = gw, .worker = worker, .net = net };
    ctx.hold = take_hold;
    ctx.hold_ctx = &hold_source;
    if (msg.is_request) {
        handle_request(gw, gen, state, worker, &ctx, net);
    } else {
        b2bua_on_response(state->b2bua, &msg, &net->src);
    }
}

void gw_process(struct gateway *gw, struct worker *worker, const struct net_msg *net,
                bool may_hand_off)
{
    unsigned reader = worker_index(worker);
    const struct gw_gen *gen = gw_gen_enter(gw, reader);
    process_in(gw, gen, worker, net, may_hand_off);
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
        process_in(gw, gen, worker, msg, true);
    }
    gw_gen_leave(gw, reader);
}
