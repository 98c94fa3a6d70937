#include "policy/callerid.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "config/config.h"
#include "sip/msg.h"

/* Values of one P-Asserted-Identity header read (RFC 3325 §9.1 allows a sip and a tel). */
#define PAI_MAX         4
/* Warnings about replaced caller IDs per second; more are only counted (events tell all). */
#define WARN_PER_SECOND 5

struct callerid_trunk {
    char name[64];
    char country_code[4];
    char default_number[CFG_E164_CAP]; /* "" = none */
    char domain[CFG_HOST_CAP];
    struct stir_owned *owned; /* NULL: no owned_numbers, nothing is checked */
    enum cfg_callerid_policy policy;
    enum cfg_inbound_own_number inbound;
    enum cfg_inbound_numbers inbound_numbers;
    enum cfg_inbound_to inbound_to;
};

struct callerid_state {
    struct callerid_trunk *trunks;
    size_t trunk_count;
    size_t default_trunk;             /* SIZE_MAX = none */
    atomic_uint_fast64_t warn_second; /* the second of the last warnings */
    atomic_uint warn_count;           /* warnings written in that second */
};

/* The number of a URI, or false; `raw` gets the user part / tel number as sent. */
static bool number_of_uri(const struct sip_nameaddr *addr, struct sv country_code,
                          struct stir_tn *out, struct sv *raw)
{
    const struct sip_uri *uri = &addr->uri;
    if (uri->scheme == SIP_URI_TEL) {
        *raw = uri->tel_number;
    } else if (uri->scheme == SIP_URI_SIP || uri->scheme == SIP_URI_SIPS) {
        *raw = uri->user;
    } else {
        *raw = SV_NULL;
        return false;
    }
    return sv_is_present(*raw) && stir_tn_from_uri(addr->uri_text, country_code, out) == 0;
}

bool callerid_calling_number(struct sip_msg *msg, struct sv country_code, struct stir_tn *out,
                             struct sv *raw)
{
    struct sv ignored;
    struct sv *first_raw = raw != NULL ? raw : &ignored;
    *first_raw = SV_NULL;
    memset(out, 0, sizeof(*out));
    struct sip_nameaddr pai[PAI_MAX];
    size_t count = 0;
    struct sip_err err = { 0 };
    /* -SW_EFULL still fills PAI_MAX values; a malformed header is ignored like an absent
     * one (From then decides), since the PBX or provider is what sent it. */
    (void)sip_msg_nameaddrs(msg, SIP_HDR_P_ASSERTED_IDENTITY, pai, PAI_MAX, &count, &err);
    for (size_t i = 0; i < count && i < PAI_MAX; i++) {
        struct sv value;
        if (number_of_uri(&pai[i], country_code, out, &value)) {
            *first_raw = value;
            return true;
        }
        if (!sv_is_present(*first_raw)) {
            *first_raw = value;
        }
    }
    const struct sip_nameaddr *from = sip_msg_from(msg, &err);
    struct sv value = SV_NULL;
    if (from != NULL && number_of_uri(from, country_code, out, &value)) {
        *first_raw = value;
        return true;
    }
    if (!sv_is_present(*first_raw)) {
        *first_raw = value;
    }
    memset(out, 0, sizeof(*out));
    return false;
}

struct stir_owned *callerid_owned_new(const struct cfg_numbers *numbers, struct sv country_code,
                                      const char **bad)
{
    *bad = NULL;
    struct stir_owned *set = stir_owned_new();
    for (size_t i = 0; set != NULL && i < numbers->count; i++) {
        const struct cfg_number_pattern *p = &numbers->items[i];
        char entry[2 * CFG_E164_CAP + 2];
        if (p->kind == CFG_NUMBER_RANGE) {
            (void)sw_snprintf(entry, sizeof(entry), "%s-%s", p->first, p->last);
        } else {
            (void)sw_snprintf(entry, sizeof(entry), "%s%s", p->first,
                              p->kind == CFG_NUMBER_PREFIX ? "*" : "");
        }
        if (stir_owned_add(set, sv_from_cstr(entry), country_code) != 0) {
            *bad = p->first;
            stir_owned_free(set);
            set = NULL;
        }
    }
    if (set != NULL && stir_owned_seal(set) != 0) {
        stir_owned_free(set);
        set = NULL;
    }
    return set;
}

static void callerid_fini(void *opaque)
{
    struct callerid_state *state = opaque;
    if (state == NULL) {
        return;
    }
    for (size_t i = 0; state->trunks != NULL && i < state->trunk_count; i++) {
        stir_owned_free(state->trunks[i].owned);
        state->trunks[i].owned = NULL;
    }
    sw_free(state->trunks);
    sw_free(state);
}

static int trunk_init(struct callerid_trunk *t, const struct cfg_trunk *c, struct sw_diag *diag)
{
    (void)sw_snprintf(t->name, sizeof(t->name), "%s", c->name);
    (void)sw_snprintf(t->country_code, sizeof(t->country_code), "%s",
                      c->country_code != NULL ? c->country_code : "");
    (void)sw_snprintf(t->default_number, sizeof(t->default_number), "%s",
                      c->default_number != NULL ? c->default_number : "");
    (void)sw_snprintf(t->domain, sizeof(t->domain), "%s", c->domain != NULL ? c->domain : "");
    t->policy = c->callerid_policy;
    t->inbound = c->inbound_own_number;
    t->inbound_numbers = c->inbound_numbers;
    t->inbound_to = c->inbound_to;
    if (c->owned_numbers.count == 0) {
        return 0;
    }
    const char *bad = NULL;
    t->owned = callerid_owned_new(&c->owned_numbers, sv_from_cstr(t->country_code), &bad);
    if (t->owned == NULL) {
        sw_diag_add(diag, DIAG_ERROR, NULL, c->line, c->name, "callerid: %s",
                    bad != NULL ? "an owned number is not a valid telephone number"
                                : "out of memory");
        return -SW_ECONFIG;
    }
    return 0;
}

static int callerid_init(void **out, const struct cfg *cfg, struct sw_diag *diag)
{
    struct callerid_state *state = sw_calloc(1, sizeof(*state));
    if (state == NULL) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "callerid: out of memory");
        return -ENOMEM;
    }
    state->default_trunk = cfg->default_trunk_index;
    state->trunks = sw_calloc(cfg->trunk_count + 1, sizeof(*state->trunks));
    if (state->trunks == NULL) {
        callerid_fini(state);
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "callerid: out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        state->trunk_count = i + 1;
        if (trunk_init(&state->trunks[i], &cfg->trunks[i], diag) != 0) {
            callerid_fini(state);
            return -SW_ECONFIG;
        }
    }
    *out = state;
    return 0;
}

/* A warning per replaced caller ID, at most WARN_PER_SECOND per second (events count all). */
static bool warn_allowed(struct callerid_state *state)
{
    uint64_t second = sw_mono_ms() / 1000;
    uint64_t last = atomic_load(&state->warn_second);
    if (last != second && atomic_compare_exchange_strong(&state->warn_second, &last, second)) {
        atomic_store(&state->warn_count, 0);
    }
    return atomic_fetch_add(&state->warn_count, 1) < WARN_PER_SECOND;
}

/* "<sip:+E164@domain;user=phone>" in the arena (RFC 3325 §9.1), or absent when full. */
static struct sv asserted_identity(struct arena *arena, const char *number, const char *domain)
{
    size_t cap = strlen(number) + strlen(domain) + 24;
    char *mem = arena_alloc(arena, cap);
    if (mem == NULL) {
        return SV_NULL;
    }
    int n = sw_snprintf(mem, cap, "<sip:%s@%s;user=phone>", number, domain);
    return n > 0 && (size_t)n < cap ? sv_make(mem, (size_t)n) : SV_NULL;
}

static void emit(const struct stage_ctx *ctx, enum sw_event_kind kind, const char *detail)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, kind, "callerid");
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    sw_event_emit(ctx->events, &ev);
}

/* What the outbound check decided about one call. */
struct outbound_case {
    const struct callerid_trunk *trunk;
    bool has_number;
    struct stir_tn number;
    struct sv raw;
    const char *replacement; /* +E.164, "" = none */
};

static struct verdict replace(struct callerid_state *state, struct stage_ctx *ctx,
                              const struct outbound_case *c)
{
    char detail[256];
    (void)sw_snprintf(detail, sizeof(detail),
                      "caller ID '%.*s' not owned by trunk %s: replaced with %s",
                      (int)(c->raw.len > 40 ? 40 : c->raw.len),
                      c->raw.ptr != NULL ? c->raw.ptr : "", c->trunk->name, c->replacement);
    struct sv user = arena_sv_dup(ctx->arena, sv_from_cstr(c->replacement));
    struct sv pai = asserted_identity(ctx->arena, c->replacement, c->trunk->domain);
    if (!sv_is_present(user) || !sv_is_present(pai)) {
        /* Fails closed: the unowned number must not leave. */
        return stage_fail_closed(ctx, "callerid: arena exhausted");
    }
    ctx->edits.caller_user = user;
    ctx->edits.asserted_identity = pai;
    /* The display name came with the number it no longer matches: it goes too. */
    ctx->edits.caller_display = SV("");
    emit(ctx, EV_CALLERID_REPLACED, detail);
    if (warn_allowed(state)) {
        struct log_ctx log = { .worker = (int)ctx->worker, .call_id = sip_msg_call_id(ctx->msg) };
        log_warn(&log, "callerid: %s", detail);
    }
    return verdict_continue();
}

static struct verdict outbound_decide(struct callerid_state *state, struct stage_ctx *ctx,
                                      const struct outbound_case *c)
{
    char detail[256];
    const char *number = c->has_number ? c->number.digits : "not a telephone number";
    switch (c->trunk->policy) {
    case CFG_CALLERID_REPLACE:
        if (c->replacement[0] != '\0') {
            return replace(state, ctx, c);
        }
        /* No number to present instead: refusing is the only safe answer. */
        (void)sw_snprintf(detail, sizeof(detail),
                          "caller ID %s not owned by trunk %s and no default_number: rejected",
                          number, c->trunk->name);
        emit(ctx, EV_POLICY_HIT, detail);
        return verdict_reply(403, "Caller ID Not Allowed");
    case CFG_CALLERID_REJECT:
        (void)sw_snprintf(detail, sizeof(detail), "caller ID %s not owned by trunk %s: rejected",
                          number, c->trunk->name);
        emit(ctx, EV_POLICY_HIT, detail);
        return verdict_reply(403, "Caller ID Not Allowed");
    case CFG_CALLERID_ALLOW:
        break;
    }
    (void)sw_snprintf(detail, sizeof(detail), "caller ID %s not owned by trunk %s: allowed", number,
                      c->trunk->name);
    emit(ctx, EV_POLICY_HIT, detail);
    return verdict_continue();
}

/*
 * The numbers the PBX presents for the caller (issue #9 item 5): From's and every
 * P-Asserted-Identity value's. The call may leave as it is only when each presented
 * number is owned; a From that is no number at all (anonymous, RFC 3325 privacy) is
 * accepted when an owned PAI names the caller.
 */
static void read_presented(struct stage_ctx *ctx, const struct callerid_trunk *trunk,
                           struct outbound_case *c, bool *is_all_owned)
{
    struct sv cc = sv_from_cstr(trunk->country_code);
    struct sip_err err = { 0 };
    struct stir_tn from_number;
    struct sv from_raw = SV_NULL;
    const struct sip_nameaddr *from = sip_msg_from(ctx->msg, &err);
    bool has_from = from != NULL && number_of_uri(from, cc, &from_number, &from_raw);
    struct sip_nameaddr pai[PAI_MAX];
    size_t count = 0;
    (void)sip_msg_nameaddrs(ctx->msg, SIP_HDR_P_ASSERTED_IDENTITY, pai, PAI_MAX, &count, &err);
    bool is_owned = true;
    bool has_pai = false;
    for (size_t i = 0; i < count && i < PAI_MAX; i++) {
        struct stir_tn number;
        struct sv raw;
        if (!number_of_uri(&pai[i], cc, &number, &raw)) {
            continue;
        }
        is_owned = is_owned && stir_owned_contains(trunk->owned, &number);
        if (!has_pai || !is_owned) {
            /* The caller is the first asserted number, or the first unowned one. */
            c->number = number;
            c->raw = raw;
        }
        has_pai = true;
    }
    if (has_from) {
        is_owned = is_owned && stir_owned_contains(trunk->owned, &from_number);
        if (!has_pai || !stir_owned_contains(trunk->owned, &from_number)) {
            c->number = from_number;
            c->raw = from_raw;
        }
    } else {
        is_owned = is_owned && has_pai;
        if (!has_pai) {
            c->raw = from_raw;
        }
    }
    c->has_number = has_pai || has_from;
    *is_all_owned = is_owned && c->has_number;
}

/* A call towards a trunk always leaves with our own P-Asserted-Identity, so the PBX's
 * host, extension and display name never reach the provider; none when no number. */
static struct verdict assert_caller(struct stage_ctx *ctx, const struct outbound_case *c)
{
    if (!c->has_number) {
        ctx->edits.asserted_identity = SV(""); /* present and empty: no PAI at all */
        return verdict_continue();
    }
    char number[STIR_TN_MAX_DIGITS + 2];
    (void)sw_snprintf(number, sizeof(number), "+%s", c->number.digits);
    struct sv pai = asserted_identity(ctx->arena, number, c->trunk->domain);
    if (!sv_is_present(pai)) {
        return verdict_reply(500, "Server Internal Error"); /* fails closed */
    }
    ctx->edits.asserted_identity = pai;
    return verdict_continue();
}

static struct verdict check_outbound(struct callerid_state *state, struct stage_ctx *ctx)
{
    if (state->default_trunk >= state->trunk_count) {
        return verdict_continue(); /* no trunk: the call cannot leave anyway */
    }
    struct outbound_case c = { .trunk = &state->trunks[state->default_trunk] };
    c.replacement = c.trunk->default_number;
    bool is_all_owned = false;
    read_presented(ctx, c.trunk, &c, &is_all_owned);
    if (c.trunk->owned == NULL || is_all_owned) {
        return assert_caller(ctx, &c);
    }
    struct verdict v = outbound_decide(state, ctx, &c);
    if (v.action == VERDICT_CONTINUE && !sv_is_present(ctx->edits.asserted_identity)) {
        return assert_caller(ctx, &c); /* allowed as it is: still our PAI, not the PBX's */
    }
    return v;
}

/* RFC 3261 §8.2.2.1 / issue #9 item 3: a trunk delivers calls to its own numbers only. */
static struct verdict check_called_number(struct stage_ctx *ctx, const struct callerid_trunk *trunk)
{
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(ctx->msg, &err);
    struct sv raw = SV_NULL;
    if (ruri != NULL) {
        raw = ruri->scheme == SIP_URI_TEL ? ruri->tel_number : ruri->user;
    }
    struct stir_tn called;
    bool is_number = sv_is_present(raw) &&
                     stir_tn_normalize(raw, sv_from_cstr(trunk->country_code), &called) == 0;
    if (trunk->owned != NULL && trunk->inbound_numbers == CFG_INBOUND_OWNED &&
        (!is_number || !stir_owned_contains(trunk->owned, &called))) {
        char detail[256];
        (void)sw_snprintf(
            detail, sizeof(detail), "inbound call to '%.*s' is not a number of trunk %s: refused",
            (int)(raw.len > 40 ? 40 : raw.len), raw.ptr != NULL ? raw.ptr : "", trunk->name);
        emit(ctx, EV_POLICY_HIT, detail);
        return verdict_reply(404, "Not Found");
    }
    if (trunk->inbound_to == CFG_INBOUND_E164 && is_number) {
        char e164[STIR_TN_MAX_DIGITS + 2];
        (void)sw_snprintf(e164, sizeof(e164), "+%s", called.digits);
        ctx->edits.callee_user = arena_sv_dup(ctx->arena, sv_from_cstr(e164));
        if (!sv_is_present(ctx->edits.callee_user)) {
            return verdict_reply(500, "Server Internal Error");
        }
    }
    return verdict_continue();
}

static struct verdict check_inbound(const struct callerid_state *state, struct stage_ctx *ctx)
{
    if (ctx->trunk >= state->trunk_count) {
        return verdict_continue();
    }
    const struct callerid_trunk *trunk = &state->trunks[ctx->trunk];
    struct verdict v = check_called_number(ctx, trunk);
    if (v.action != VERDICT_CONTINUE) {
        return v;
    }
    struct stir_tn number;
    if (!callerid_calling_number(ctx->msg, sv_from_cstr(trunk->country_code), &number, NULL)) {
        return verdict_continue();
    }
    for (size_t i = 0; i < state->trunk_count; i++) {
        if (!stir_owned_contains(state->trunks[i].owned, &number)) {
            continue;
        }
        bool is_reject = trunk->inbound == CFG_OWN_NUMBER_REJECT;
        char detail[256];
        (void)sw_snprintf(detail, sizeof(detail),
                          "inbound call from trunk %s claims our own number +%s (trunk %s)%s",
                          trunk->name, number.digits, state->trunks[i].name,
                          is_reject ? ": rejected" : "");
        emit(ctx, EV_POLICY_HIT, detail);
        return is_reject ? verdict_reply(403, "Forbidden") : verdict_continue();
    }
    return verdict_continue();
}

static struct verdict callerid_check(void *opaque, struct stage_ctx *ctx)
{
    struct callerid_state *state = opaque;
    struct sip_msg *msg = ctx->msg;
    if (!msg->is_request || msg->method != SIP_METHOD_INVITE || ctx->is_in_dialog) {
        return verdict_continue();
    }
    switch (ctx->side) {
    case SIDE_PBX:
        /* A call to one of our phones stays inside: the phone may see the internal caller. */
        return ctx->is_towards_account ? verdict_continue() : check_outbound(state, ctx);
    case SIDE_ACCOUNT:
        /* A phone's call goes to the PBX with the identity the gateway gives it (the
         * account's), whatever the phone wrote: nothing to check here. */
        return verdict_continue();
    case SIDE_PROVIDER:
        return check_inbound(state, ctx);
    case SIDE_UNKNOWN:
        break;
    }
    return verdict_continue();
}

const struct stage callerid_stage = {
    .name = "callerid",
    .init = callerid_init,
    .check = callerid_check,
    .fini = callerid_fini,
};
