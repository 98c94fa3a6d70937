/*
 * The B2BUA's call pool: the Call-ID tables, the worker's B2BUA object, a call's slot from
 * its allocation to its release (lingering until its transactions and timers have
 * settled), and the end of a call with its event.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/time.h"
#include "call/b2bua.h"
#include "call/b2bua_int.h"
#include "call/txn.h"
#include "call/uac_auth.h"
#include "state/callcount.h"

/* The concurrent-call places a call holds go back exactly once (RFC-independent: ours). */
void b2bua_release_reserved(struct b2bua_route *route)
{
    for (size_t i = 0; i < B2BUA_RESERVED_SLOTS; i++) {
        callcount_release(route->reserved[i]);
        route->reserved[i] = NULL;
    }
}

/* ---- tables ---- */

static size_t bucket_of(const struct b2bua *b, struct sv call_id)
{
    return (size_t)(sw_hash_sv(call_id) & b->bucket_mask);
}

void b2bua_table_insert(struct b2bua *b, struct call *call)
{
    size_t ba = bucket_of(b, FSTR_SV(call->a.call_id));
    call->next_a = b->by_a[ba];
    b->by_a[ba] = call;
    size_t bb = bucket_of(b, FSTR_SV(call->b.call_id));
    call->next_b = b->by_b[bb];
    b->by_b[bb] = call;
}

static void table_remove(struct b2bua *b, struct call *call)
{
    struct call **link = &b->by_a[bucket_of(b, FSTR_SV(call->a.call_id))];
    for (; *link != NULL; link = &(*link)->next_a) {
        if (*link == call) {
            *link = call->next_a;
            break;
        }
    }
    link = &b->by_b[bucket_of(b, FSTR_SV(call->b.call_id))];
    for (; *link != NULL; link = &(*link)->next_b) {
        if (*link == call) {
            *link = call->next_b;
            break;
        }
    }
}

struct call *b2bua_find_call(struct b2bua *b, struct sv call_id, bool *is_leg_a)
{
    for (struct call *c = b->by_a[bucket_of(b, call_id)]; c != NULL; c = c->next_a) {
        if (sv_eq(FSTR_SV(c->a.call_id), call_id)) {
            *is_leg_a = true;
            return c;
        }
    }
    for (struct call *c = b->by_b[bucket_of(b, call_id)]; c != NULL; c = c->next_b) {
        if (sv_eq(FSTR_SV(c->b.call_id), call_id)) {
            *is_leg_a = false;
            return c;
        }
    }
    return NULL;
}

/* ---- life cycle ---- */

static int send_by_worker(void *ctx, const struct net_dest *dst, struct sv data)
{
    return worker_send(ctx, dst, data);
}

struct b2bua *b2bua_new(struct worker *worker, const struct b2bua_settings *settings)
{
    return b2bua_new_on(worker_loop(worker), send_by_worker, worker, worker_index(worker),
                        settings);
}

struct b2bua *b2bua_new_on(struct loop *loop, txn_send_fn *send, void *send_ctx, unsigned index,
                           const struct b2bua_settings *settings)
{
    struct b2bua *b = sw_calloc(1, sizeof(*b));
    if (b == NULL) {
        return NULL;
    }
    size_t buckets = 1024;
    while (buckets < settings->max_calls * 2 && buckets < ((size_t)1 << 28)) {
        buckets <<= 1;
    }
    b->loop = loop;
    b->send = send;
    b->send_ctx = send_ctx;
    b->index = index;
    b->settings = *settings;
    b->pool_cap = settings->max_calls;
    b->pool = sw_calloc(b->pool_cap == 0 ? 1 : b->pool_cap, sizeof(*b->pool));
    /* Arrays of pointers: the size of one pointer is meant. */
    b->by_a = sw_calloc(buckets, sizeof(*b->by_a)); /* NOLINT(bugprone-sizeof-expression) */
    b->by_b = sw_calloc(buckets, sizeof(*b->by_b)); /* NOLINT(bugprone-sizeof-expression) */
    b->bucket_mask = buckets - 1;
    b->out = sw_malloc(B2BUA_OUT_CAP);
    b->scratch = arena_new((size_t)64 * 1024);
    struct txn_user_ops ops = {
        .on_response = b2bua_txn_response,
        .on_timeout = b2bua_txn_timeout,
        .on_terminated = b2bua_txn_terminated,
    };
    b->txns = txn_layer_new_on(loop, send, send_ctx, settings->max_txns, &ops);
    int err = 0;
    if (settings->media != NULL) {
        b->anchor = anchor_new(loop, settings->media, &err);
        b->settings.media = NULL; /* the caller's; anchor_new() copied what it needs */
    }
    if (b->pool == NULL || b->by_a == NULL || b->by_b == NULL || b->out == NULL ||
        b->scratch == NULL || b->txns == NULL || (settings->media != NULL && b->anchor == NULL)) {
        b2bua_free(b);
        return NULL;
    }
    return b;
}

void b2bua_free(struct b2bua *b)
{
    if (b == NULL) {
        return;
    }
    b2bua_trunk_reg_free_all(b); /* detaches its transactions: before the layer goes */
    txn_layer_free(b->txns);
    b2bua_register_free_all(b);
    for (size_t i = 0; b->pool != NULL && i < b->pool_touched; i++) {
        struct call *call = &b->pool[i];
        if (call->owner != NULL) {
            struct loop *loop = b->loop;
            loop_timer_stop(loop, &call->ring_timer);
            loop_timer_stop(loop, &call->duration_timer);
            loop_timer_stop(loop, &call->linger_timer);
            loop_timer_stop(loop, &call->media_timer);
            sw_free(call->b_ack);
            sw_free(call->media_held);
            sw_free(call->media_after);
            sw_free(call->reinvite_ack[0]);
            sw_free(call->reinvite_ack[1]);
            if (call->is_counted) {
                b2bua_release_reserved(&call->route);
            }
            uac_credentials_copy_wipe(&call->credentials);
        }
    }
    b2bua_media_free_all(b); /* the calls above held only sessions of them */
    sw_free(b->pool);
    sw_free(b->by_a);
    sw_free(b->by_b);
    sw_free(b->out);
    arena_free(b->scratch);
    sw_free(b);
}

size_t b2bua_call_count(const struct b2bua *b)
{
    return b->active_calls;
}

size_t b2bua_txn_count(const struct b2bua *b)
{
    return txn_layer_count(b->txns);
}

size_t b2bua_txn_lingering(const struct b2bua *b, size_t *bytes)
{
    return txn_layer_lingering(b->txns, bytes);
}

static void detach_txn(struct txn **slot)
{
    if (*slot != NULL) {
        txn_detach(*slot);
        *slot = NULL;
    }
}

static void linger_unlink(struct b2bua *b, struct call *call)
{
    if (call->linger_prev == NULL && b->lingering != call) {
        return; /* not lingering */
    }
    *(call->linger_prev != NULL ? &call->linger_prev->linger_next : &b->lingering) =
        call->linger_next;
    *(call->linger_next != NULL ? &call->linger_next->linger_prev : &b->lingering_tail) =
        call->linger_prev;
    call->linger_prev = NULL;
    call->linger_next = NULL;
}

void b2bua_wipe_around(void *obj, size_t size, const struct b2bua_span *kept, size_t count)
{
    char *base = obj;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        SW_ASSERT(kept[i].offset >= at && kept[i].offset + kept[i].len <= size);
        memset(base + at, 0, kept[i].offset - at);
        at = kept[i].offset + kept[i].len;
    }
    memset(base + at, 0, size - at);
}

#define CALL_SPAN(member) B2BUA_SPAN(struct call, member)

/*
 * What call_wipe leaves, in the order of struct call. The relays: a relay not in use
 * reads as zeros already (fresh slots come zeroed and b2bua_relay_release wipes each relay
 * it frees). The text of the legs and of the INVITE's copy: every such value is read only
 * up to its length, which the wipe zeroes (FSTR_SV, vias_len). Together they are 27 of the
 * slot's 31 KiB; zeroing the text too was 13,700 instructions per call (callgrind, #13).
 */
static const struct b2bua_span kept_spans[] = {
    CALL_SPAN(a.call_id.s),
    CALL_SPAN(a.local_tag.s),
    CALL_SPAN(a.remote_tag.s),
    CALL_SPAN(a.local_hdr.s),
    CALL_SPAN(a.remote_hdr.s),
    CALL_SPAN(a.remote_target.s),
    CALL_SPAN(a.routes.s),
    CALL_SPAN(b.call_id.s),
    CALL_SPAN(b.local_tag.s),
    CALL_SPAN(b.remote_tag.s),
    CALL_SPAN(b.local_hdr.s),
    CALL_SPAN(b.remote_hdr.s),
    CALL_SPAN(b.remote_target.s),
    CALL_SPAN(b.routes.s),
    CALL_SPAN(a_invite_req.vias),
    CALL_SPAN(a_invite_req.from.s),
    CALL_SPAN(a_invite_req.to.s),
    CALL_SPAN(a_invite_req.call_id.s),
    CALL_SPAN(relays),
};

/* Makes a call slot read as a fresh one: zeros, but for the spans above. */
static void call_wipe(struct call *call)
{
    for (size_t i = 0; i < CALL_RELAYS; i++) {
        SW_ASSERT(!call->relays[i].is_used);
    }
    b2bua_wipe_around(call, sizeof(*call), kept_spans, sizeof(kept_spans) / sizeof(kept_spans[0]));
}

static void call_release(struct call *call)
{
    struct b2bua *b = call->owner;
    linger_unlink(b, call);
    struct loop *loop = b->loop;
    loop_timer_stop(loop, &call->ring_timer);
    loop_timer_stop(loop, &call->duration_timer);
    loop_timer_stop(loop, &call->linger_timer);
    detach_txn(&call->a_invite);
    detach_txn(&call->b_invite);
    detach_txn(&call->b_cancel);
    for (size_t i = 0; i < CALL_RELAYS; i++) {
        b2bua_relay_release(&call->relays[i]);
    }
    table_remove(b, call);
    uac_credentials_copy_wipe(&call->credentials);
    b2bua_media_end(call);
    sw_free(call->b_ack);
    sw_free(call->reinvite_ack[0]);
    sw_free(call->reinvite_ack[1]);
    call_wipe(call);
    call->next_a = b->free_list;
    b->free_list = call;
}

/*
 * An ended call keeps its slot only while something of it is still in flight: a relayed
 * request (the BYE that ended it) waiting for the far end, the caller's ACK for our 2xx,
 * or the callee's final answer to an INVITE we cancelled (a 2xx racing the CANCEL must
 * still be ACKed and ended with a BYE). Everything else is absorbed by the transactions on
 * their own. Holding every ended call for 64*T1 instead capped the sustained call rate at
 * the pool size divided by 33 s.
 */
static bool call_is_settled(const struct call *call)
{
    for (size_t i = 0; i < CALL_RELAYS; i++) {
        if (call->relays[i].is_used) {
            return false;
        }
    }
    if (call->a_invite != NULL && txn_state(call->a_invite) == TXN_ACCEPTED) {
        return false;
    }
    if (call->b_invite != NULL &&
        (txn_state(call->b_invite) == TXN_CALLING || txn_state(call->b_invite) == TXN_PROCEEDING)) {
        return false;
    }
    return call->b_cancel == NULL ||
           (txn_state(call->b_cancel) != TXN_TRYING && txn_state(call->b_cancel) != TXN_PROCEEDING);
}

#define SETTLE_FIRST_MS 50u
#define SETTLE_MAX_MS   4000u
#define SETTLE_LIMIT_MS (64u * SIP_T1_MS)

static void on_linger(struct loop *loop, void *ctx)
{
    struct call *call = ctx;
    call->settle_waited_ms += call->settle_delay_ms;
    if (call_is_settled(call) || call->settle_waited_ms >= SETTLE_LIMIT_MS) {
        call_release(call);
        return;
    }
    call->settle_delay_ms =
        call->settle_delay_ms * 2 > SETTLE_MAX_MS ? SETTLE_MAX_MS : call->settle_delay_ms * 2;
    int rc =
        loop_timer_start_coarse(loop, &call->linger_timer, call->settle_delay_ms, on_linger, call);
    SW_ASSERT(rc == 0);
}

void b2bua_emit_call_event(struct call *call, enum sw_event_kind kind, const char *detail)
{
    struct sw_event ev;
    sw_event_init(&ev, kind);
    ev.remote = call->a.dest.addr;
    ev.transport = call->a.dest.transport;
    SW_EVENT_SET(&ev, session, FSTR_SV(call->a.call_id));
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    SW_EVENT_SET(&ev, module, SV("b2bua"));
    ev.record = &call->record;
    sw_event_emit(call->owner->settings.events, &ev);
}

void b2bua_call_end(struct call *call, uint16_t status, const char *why)
{
    if (call->state == CALL_STATE_ENDED) {
        return;
    }
    struct b2bua *b = call->owner;
    call->state = CALL_STATE_ENDED;
    call->final_status = call->final_status == 0 ? status : call->final_status;
    call->end_us = sw_wall_us();
    if (call->is_counted) {
        b2bua_release_reserved(&call->route);
        call->is_counted = false;
    }
    b->active_calls--;
    struct loop *loop = b->loop;
    loop_timer_stop(loop, &call->ring_timer);
    loop_timer_stop(loop, &call->duration_timer);
    b2bua_media_end(call);
    char detail[128];
    (void)sw_snprintf(
        detail, sizeof(detail), "status=%u reason=%s duration_ms=%llu", call->final_status, why,
        call->answer_us == 0 ? 0ull
                             : (unsigned long long)((call->end_us - call->answer_us) / 1000u));
    b2bua_record_end(call, why);
    b2bua_emit_call_event(call, EV_CALL_ENDED, detail);
    call->linger_prev = b->lingering_tail;
    *(b->lingering_tail != NULL ? &b->lingering_tail->linger_next : &b->lingering) = call;
    b->lingering_tail = call;
    call->settle_delay_ms = SETTLE_FIRST_MS;
    int rc = loop_timer_start_coarse(loop, &call->linger_timer, SETTLE_FIRST_MS, on_linger, call);
    SW_ASSERT(rc == 0);
}

/*
 * A full pool takes back the oldest ended call that has settled without waiting for its
 * settle timer, so that a slot freed by an ended call is reusable at once. Bounded: the
 * oldest are the likeliest to have settled. Safe here: no callback of any call runs.
 */
#define RECLAIM_CHECKS 32

static void reclaim_settled(struct b2bua *b)
{
    struct call *call = b->lingering;
    for (size_t i = 0; call != NULL && i < RECLAIM_CHECKS; i++, call = call->linger_next) {
        if (call_is_settled(call)) {
            call_release(call);
            return;
        }
    }
}

struct call *b2bua_call_alloc(struct b2bua *b)
{
    if (b->free_list == NULL && b->pool_touched == b->pool_cap) {
        reclaim_settled(b);
    }
    /* Fresh slots only when none is free, so that the pool's pages are touched as the
     * load grows (8,192 calls are 230 MiB). A slot reads as zeros already: fresh from
     * calloc, or wiped when it was freed (a second memset of its 31 KiB here was 7 % of a
     * call's instructions). */
    struct call *call = b->free_list;
    if (call != NULL) {
        b->free_list = call->next_a;
        call->next_a = NULL;
    } else if (b->pool_touched < b->pool_cap) {
        call = &b->pool[b->pool_touched++];
    } else {
        return NULL;
    }
    call->tu_kind = TU_CALL;
    call->owner = b;
    call->id = ++b->next_call_id;
    return call;
}

void b2bua_call_free_unstarted(struct b2bua *b, struct call *call)
{
    detach_txn(&call->a_invite);
    uac_credentials_copy_wipe(&call->credentials);
    b2bua_media_end(call);
    call_wipe(call);
    call->next_a = b->free_list;
    b->free_list = call;
}
