#include "policy/ratelimit.h"

#include <stdio.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "config/config.h"
#include "sip/msg.h"
#include "state/ratelimit.h"

/* The window of [ratelimit] flood_threshold (keys.def says "within 10 s"). */
#define RL_FLOOD_WINDOW_S 10

struct rl_stage {
    struct ratelimit *table;
    uint32_t known_factor;
    uint32_t flood_threshold;
};

static int rl_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    const struct cfg_ratelimit *c = &cfg->ratelimit;
    struct ratelimit_config rc = {
        .per_class = {
            [RATELIMIT_REGISTER] = { c->register_rate, c->register_burst },
            [RATELIMIT_INVITE] = { c->invite_rate, c->invite_burst },
            [RATELIMIT_OPTIONS] = { c->options_rate, c->options_burst },
            [RATELIMIT_OTHER] = { c->other_rate, c->other_burst },
        },
        /* A one-second burst: the global budget is about sustained load on the PBX. */
        .global = { c->global_rate, c->global_rate },
        .flood_threshold = c->flood_threshold,
        .flood_window_s = RL_FLOOD_WINDOW_S,
        .max_entries = c->max_sources,
        .v6_prefix_len = cfg->ban.ipv6_prefix,
    };
    struct rl_stage *s = sw_calloc(1, sizeof(*s));
    if (s == NULL) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "ratelimit", "out of memory");
        return -1;
    }
    int rc_new = ratelimit_new(&rc, &s->table);
    if (rc_new != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "ratelimit", "cannot create the buckets: %s",
                    sw_strerror(rc_new));
        sw_free(s);
        return -1;
    }
    s->known_factor =
        c->known_factor > RATELIMIT_FACTOR_MAX ? RATELIMIT_FACTOR_MAX : c->known_factor;
    s->flood_threshold = c->flood_threshold;
    *state = s;
    return 0;
}

static void rl_fini(void *state)
{
    struct rl_stage *s = state;
    if (s != NULL) {
        ratelimit_free(s->table);
        sw_free(s);
    }
}

static void emit_flood(const struct rl_stage *s, struct stage_ctx *ctx, bool is_known)
{
    struct sw_event ev;
    /* A known side's flood is reported but never counts towards a ban. */
    stage_event_init(ctx, &ev, is_known ? EV_POLICY_HIT : EV_RATE_EXCEEDED, "ratelimit");
    ev.count = s->flood_threshold;
    char detail[128];
    (void)snprintf(detail, sizeof(detail), "%s flood: %u requests over budget within %d s",
                   is_known ? "known side" : "request", s->flood_threshold, RL_FLOOD_WINDOW_S);
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    sw_event_emit(ctx->events, &ev);
}

static struct verdict over_budget(const struct rl_stage *s, struct stage_ctx *ctx,
                                  enum ratelimit_class cls, uint32_t factor, bool is_known)
{
    bool may_answer = is_known || ctx->cfg->ratelimit.reply == CFG_RATE_503;
    if (!may_answer || ctx->msg->method == SIP_METHOD_ACK) {
        return verdict_drop("over budget");
    }
    struct verdict v = verdict_reply(503, NULL);
    char *line = arena_alloc(ctx->arena, 32);
    if (line != NULL) {
        int len = snprintf(line, 32, "Retry-After: %u\r\n",
                           ratelimit_retry_after_s(s->table, cls, factor));
        v.extra_headers = len > 0 && len < 32 ? sv_make(line, (size_t)len) : SV_NULL;
    }
    return v;
}

static struct verdict rl_check(void *state, struct stage_ctx *ctx)
{
    struct rl_stage *s = state;
    if (!ctx->msg->is_request) {
        return verdict_continue();
    }
    bool is_known = ctx->is_trusted || ctx->is_authenticated || ctx->side == SIDE_ACCOUNT;
    /* The PBX and the providers' ranges are not volume-limited per source (as the gate
     * exempts them from its packet budget): a busy trunk carries hundreds of calls per
     * second, bounded by its max_calls instead. Remote accounts get known_factor times the
     * budget of an unknown source. */
    uint32_t factor = ctx->is_trusted ? 0 : (is_known ? s->known_factor : 1);
    enum ratelimit_class cls = ratelimit_class_of(ctx->msg->method_name);
    enum ratelimit_result r = ratelimit_take(s->table, &ctx->src_ip, cls, factor, ctx->now_ms);
    if (r == RATELIMIT_OK) {
        return verdict_continue();
    }
    if (r == RATELIMIT_FLOOD) {
        emit_flood(s, ctx, is_known);
    }
    return over_budget(s, ctx, cls, factor, is_known);
}

const struct stage ratelimit_stage = {
    .name = "ratelimit",
    .init = rl_init,
    .check = rl_check,
    .fini = rl_fini,
};
