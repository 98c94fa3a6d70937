#include "policy/stage.h"

#include "base/arena.h"
#include "base/assert.h"
#include "call/b2bua.h"
#include "sip/msg.h"
#include "state/callcount.h"

struct verdict verdict_continue(void)
{
    return (struct verdict){ .action = VERDICT_CONTINUE };
}

struct verdict verdict_drop(const char *why)
{
    return (struct verdict){ .action = VERDICT_DROP, .reason = why };
}

struct verdict verdict_reply(uint16_t status, const char *reason)
{
    return (struct verdict){ .action = VERDICT_REPLY, .status = status, .reason = reason };
}

struct verdict verdict_hold(void)
{
    return (struct verdict){ .action = VERDICT_HOLD };
}

struct verdict stage_fail_closed(const struct stage_ctx *ctx, const char *why)
{
    if (ctx->is_trusted && ctx->msg != NULL && ctx->msg->is_request &&
        ctx->msg->method != SIP_METHOD_ACK) {
        return verdict_reply(500, NULL);
    }
    return verdict_drop(why);
}

struct verdict stage_run(const struct stage *stage, void *state, struct stage_ctx *ctx)
{
    size_t failures_before = arena_failures(ctx->arena);
    struct verdict v = stage->check(state, ctx);
    if (v.action == VERDICT_CONTINUE && arena_failures(ctx->arena) != failures_before) {
        return stage_fail_closed(ctx, "internal failure: message arena exhausted");
    }
    return v;
}

bool stage_place_take(struct stage_ctx *ctx, struct callcount_slot *slot, uint32_t max)
{
    if (slot == NULL) {
        return true;
    }
    SW_ASSERT(ctx->edits.place_count < STAGE_PLACES_MAX);
    if (!callcount_reserve(slot, max)) {
        return false;
    }
    ctx->edits.places[ctx->edits.place_count++] = slot;
    return true;
}

void stage_places_release(struct stage_ctx *ctx)
{
    for (size_t i = 0; i < ctx->edits.place_count; i++) {
        callcount_release(ctx->edits.places[i]);
        ctx->edits.places[i] = NULL;
    }
    ctx->edits.place_count = 0;
}

void stage_places_hand(struct stage_ctx *ctx, struct b2bua_route *route)
{
    _Static_assert(STAGE_PLACES_MAX <= B2BUA_RESERVED_SLOTS, "a call keeps every place");
    for (size_t i = 0; i < ctx->edits.place_count; i++) {
        route->reserved[i] = ctx->edits.places[i];
        ctx->edits.places[i] = NULL;
    }
    ctx->edits.place_count = 0;
}

void stage_edits_apply(const struct stage_edits *edits, struct b2bua_route *route)
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

void stage_hold_resume(struct stage_hold *hold)
{
    hold->resume(hold);
}

void stage_event_init(const struct stage_ctx *ctx, struct sw_event *event, enum sw_event_kind kind,
                      const char *module)
{
    sw_event_init(event, kind);
    event->remote = ctx->src;
    event->local = ctx->local;
    event->transport = ctx->transport;
    SW_EVENT_SET(event, module, sv_from_cstr(module));
    if (ctx->msg == NULL) {
        return;
    }
    SW_EVENT_SET(event, session, sip_msg_call_id(ctx->msg));
    struct sip_err err = { 0 };
    const struct sip_cseq *cseq = sip_msg_cseq(ctx->msg, &err);
    if (cseq != NULL) {
        event->cseq = cseq->seq;
    }
    const struct sip_hdr *ua = sip_msg_find(ctx->msg, SIP_HDR_USER_AGENT, NULL);
    if (ua != NULL) {
        SW_EVENT_SET(event, user_agent, ua->value);
    }
}

void stage_event_emit_short(const struct stage_ctx *ctx, enum sw_event_kind kind,
                            const char *module, struct sv session, const char *detail)
{
    struct sw_event ev;
    sw_event_init(&ev, kind);
    ev.remote = ctx->src;
    ev.local = ctx->local;
    ev.transport = ctx->transport;
    SW_EVENT_SET(&ev, session, session);
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    SW_EVENT_SET(&ev, module, sv_from_cstr(module));
    sw_event_emit(ctx->events, &ev);
}
