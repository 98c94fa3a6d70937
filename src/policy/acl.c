#include "policy/acl.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "config/config.h"
#include "sip/msg.h"

#define ACL_NO_MATCH 255

/* The most specific range of `ranges` that contains `ip`, kept in *best when longer. */
static void best_match_in(const struct sw_cidr *ranges, size_t count, const struct sw_ip *ip,
                          bool is_permit, struct sw_cidr *best, bool *best_is_permit)
{
    for (size_t i = 0; i < count; i++) {
        const struct sw_cidr *r = &ranges[i];
        if (!sw_cidr_contains(r, ip)) {
            continue;
        }
        bool is_longer = best->prefix_len == ACL_NO_MATCH || r->prefix_len > best->prefix_len;
        /* Same length: a deny beats a permit. */
        bool is_tie_deny = r->prefix_len == best->prefix_len && !is_permit && *best_is_permit;
        if (is_longer || is_tie_deny) {
            *best = *r;
            *best_is_permit = is_permit;
        }
    }
}

static void best_match(const struct cfg_cidrs *ranges, const struct sw_ip *ip, bool is_permit,
                       struct sw_cidr *best, bool *best_is_permit)
{
    best_match_in(ranges->items, ranges->count, ip, is_permit, best, best_is_permit);
}

static bool decide(const struct cfg *cfg, const struct sw_cidr *best, bool is_permit,
                   struct sw_cidr *rule)
{
    if (rule != NULL) {
        *rule = *best;
    }
    if (best->prefix_len == ACL_NO_MATCH) {
        return cfg->acl.permit.count == 0; /* a list with permits denies everything else */
    }
    return is_permit;
}

bool acl_source_is_allowed(const struct cfg *cfg, const struct sw_ip *ip, struct sw_cidr *rule)
{
    struct sw_cidr best = { .prefix_len = ACL_NO_MATCH };
    bool is_permit = false;
    best_match(&cfg->acl.permit, ip, true, &best, &is_permit);
    best_match(&cfg->pbx.permit, ip, true, &best, &is_permit);
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        best_match(&cfg->trunks[i].permit, ip, true, &best, &is_permit);
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        best_match(&cfg->accounts[i].permit, ip, true, &best, &is_permit);
    }
    /* Denies last, so that a deny of the same length as a permit wins the tie. */
    best_match(&cfg->acl.deny, ip, false, &best, &is_permit);
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        best_match(&cfg->trunks[i].deny, ip, false, &best, &is_permit);
    }
    return decide(cfg, &best, is_permit, rule);
}

bool acl_account_permits(const struct cfg_account *account, const struct sw_ip *ip)
{
    struct sw_cidr best = { .prefix_len = ACL_NO_MATCH };
    bool is_permit = false;
    best_match(&account->permit, ip, true, &best, &is_permit);
    best_match(&account->deny, ip, false, &best, &is_permit);
    if (best.prefix_len == ACL_NO_MATCH) {
        return account->permit.count == 0;
    }
    return is_permit;
}

/* True when a range of `ranges` lies strictly inside `deny` (it is more specific). */
static bool has_permit_inside(const struct cfg_cidrs *ranges, const struct sw_cidr *deny)
{
    for (size_t i = 0; i < ranges->count; i++) {
        const struct sw_cidr *p = &ranges->items[i];
        if (p->prefix_len > deny->prefix_len && sw_cidr_contains(deny, &p->ip)) {
            return true;
        }
    }
    return false;
}

static bool deny_is_absolute(const struct cfg *cfg, const struct sw_cidr *deny)
{
    if (has_permit_inside(&cfg->acl.permit, deny) || has_permit_inside(&cfg->pbx.permit, deny)) {
        return false;
    }
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        if (has_permit_inside(&cfg->trunks[i].permit, deny)) {
            return false;
        }
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        if (has_permit_inside(&cfg->accounts[i].permit, deny)) {
            return false;
        }
    }
    return true;
}

size_t acl_gate_deny_ranges(const struct cfg *cfg, struct sw_cidr *out, size_t cap)
{
    size_t count = 0;
    for (size_t i = 0; i < cfg->acl.deny.count && count < cap; i++) {
        if (deny_is_absolute(cfg, &cfg->acl.deny.items[i])) {
            out[count++] = cfg->acl.deny.items[i];
        }
    }
    return count;
}

/*
 * The ranges acl_source_is_allowed() walks, in its order, in two arrays: it visited every
 * account's (mostly empty) lists per request, a fifth of the stages' cost of a
 * registration with a hundred accounts (callgrind, #13).
 */
struct acl_state {
    const struct cfg *cfg;
    struct sw_cidr *permits;
    size_t permit_count;
    struct sw_cidr *denies;
    size_t deny_count;
};

static void append(struct sw_cidr *out, size_t *count, const struct cfg_cidrs *ranges)
{
    if (ranges->count > 0) {
        memcpy(out + *count, ranges->items, ranges->count * sizeof(*out));
        *count += ranges->count;
    }
}

static void flatten(struct acl_state *s, const struct cfg *cfg)
{
    append(s->permits, &s->permit_count, &cfg->acl.permit);
    append(s->permits, &s->permit_count, &cfg->pbx.permit);
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        append(s->permits, &s->permit_count, &cfg->trunks[i].permit);
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        append(s->permits, &s->permit_count, &cfg->accounts[i].permit);
    }
    append(s->denies, &s->deny_count, &cfg->acl.deny);
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        append(s->denies, &s->deny_count, &cfg->trunks[i].deny);
    }
}

static void acl_fini(void *state)
{
    struct acl_state *s = state;
    if (s != NULL) {
        sw_free(s->permits);
        sw_free(s->denies);
        sw_free(s);
    }
}

static int acl_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    size_t permits = cfg->acl.permit.count + cfg->pbx.permit.count;
    size_t denies = cfg->acl.deny.count;
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        permits += cfg->trunks[i].permit.count;
        denies += cfg->trunks[i].deny.count;
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        permits += cfg->accounts[i].permit.count;
    }
    struct acl_state *s = sw_calloc(1, sizeof(*s));
    if (s != NULL) {
        s->permits = sw_calloc(permits + 1, sizeof(*s->permits));
        s->denies = sw_calloc(denies + 1, sizeof(*s->denies));
    }
    if (s == NULL || s->permits == NULL || s->denies == NULL) {
        acl_fini(s);
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, "acl", "out of memory");
        return -1;
    }
    s->cfg = cfg;
    flatten(s, cfg);
    *state = s;
    return 0;
}

/* acl_source_is_allowed() over the flattened ranges of the stage's configuration. */
static bool source_is_allowed(const struct acl_state *s, const struct cfg *cfg,
                              const struct sw_ip *ip, struct sw_cidr *rule)
{
    if (s == NULL || cfg != s->cfg) {
        return acl_source_is_allowed(cfg, ip, rule);
    }
    struct sw_cidr best = { .prefix_len = ACL_NO_MATCH };
    bool is_permit = false;
    best_match_in(s->permits, s->permit_count, ip, true, &best, &is_permit);
    best_match_in(s->denies, s->deny_count, ip, false, &best, &is_permit);
    return decide(cfg, &best, is_permit, rule);
}

static struct verdict deny(struct stage_ctx *ctx, const struct sw_cidr *rule, const char *why)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_FAILED_ACL, "acl");
    char detail[sizeof(ev.detail)];
    if (rule == NULL) {
        (void)snprintf(detail, sizeof(detail), "%s", why);
    } else if (rule->prefix_len != ACL_NO_MATCH) {
        char range[SW_ADDR_STRLEN + 8];
        sw_cidr_format(rule, range, sizeof(range));
        (void)snprintf(detail, sizeof(detail), "%s (rule %s)", why, range);
    } else {
        (void)snprintf(detail, sizeof(detail), "%s (no range matched; [acl] permit lists others)",
                       why);
    }
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    sw_event_emit(ctx->events, &ev);
    bool is_ack = ctx->msg != NULL && ctx->msg->is_request && ctx->msg->method == SIP_METHOD_ACK;
    if (ctx->cfg->acl.deny_reply == CFG_DENY_403 && !is_ack && ctx->msg != NULL &&
        ctx->msg->is_request) {
        return verdict_reply(403, NULL);
    }
    return verdict_drop("acl");
}

static struct verdict acl_check(void *state, struct stage_ctx *ctx)
{
    struct sw_cidr rule;
    if (!source_is_allowed(state, ctx->cfg, &ctx->src_ip, &rule)) {
        return deny(ctx, &rule, "source denied");
    }
    bool is_proven = ctx->side == SIDE_ACCOUNT || ctx->is_authenticated;
    if (is_proven && ctx->account < ctx->cfg->account_count &&
        !acl_account_permits(&ctx->cfg->accounts[ctx->account], &ctx->src_ip)) {
        return deny(ctx, NULL, "account not permitted from this address");
    }
    return verdict_continue();
}

const struct stage acl_stage = {
    .name = "acl",
    .init = acl_init,
    .check = acl_check,
    .fini = acl_fini,
};
