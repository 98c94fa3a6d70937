#include "policy/limits.h"

#include <errno.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "config/config.h"
#include "net/worker.h"
#include "sip/msg.h"
#include "state/callcount.h"
#include "state/gcra.h"

/* The sides that start calls, each with its share of a worker's call pool. */
enum limits_side {
    LIMITS_SIDE_PROVIDER,
    LIMITS_SIDE_PBX,
    LIMITS_SIDE_ACCOUNT,
    LIMITS_SIDES,
};

struct limits_state {
    struct callcount *table;               /* the shared table (acquired) */
    struct callcount_slot **trunk_calls;   /* cfg->trunks order */
    struct callcount_slot **account_calls; /* cfg->accounts order */
    struct gcra *trunk_rate;               /* new calls from each trunk per second */
    struct callcount_slot **side_calls;    /* [worker * LIMITS_SIDES + side] */
    unsigned workers;
    uint32_t side_max;
    size_t trunk_count;
    size_t account_count;
};

size_t limits_table_capacity(const struct cfg *cfg)
{
    size_t wanted = 4 * (cfg->trunk_count + cfg->account_count) + (size_t)3 * 256;
    return wanted < 4096 ? 4096 : wanted;
}

static void limits_fini(void *state)
{
    struct limits_state *s = state;
    if (s == NULL) {
        return;
    }
    sw_free(s->trunk_calls);
    sw_free(s->account_calls);
    sw_free(s->trunk_rate);
    sw_free(s->side_calls);
    callcount_release_shared(s->table);
    sw_free(s);
}

static int no_room(const struct cfg *cfg, unsigned line, const char *what, const char *name,
                   struct sw_diag *diag)
{
    sw_diag_add(diag, DIAG_ERROR, cfg->source, line, "max_calls",
                "%s %s: no room for its call counter (too many trunks and accounts)", what, name);
    return -SW_ECONFIG;
}

static int slots_init(struct limits_state *s, const struct cfg *cfg, struct sw_diag *diag)
{
    bool is_shared = cfg->state.backend == CFG_STATE_REDIS;
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        const struct cfg_trunk *t = &cfg->trunks[i];
        s->trunk_calls[i] = callcount_slot(s->table, CALLCOUNT_TRUNK, t->name);
        if (s->trunk_calls[i] == NULL) {
            return no_room(cfg, t->line, "trunk", t->name, diag);
        }
        /* #15: with Redis the cap holds for the cluster (0 = unlimited: nothing to share). */
        callcount_share(s->trunk_calls[i], is_shared ? t->max_calls : 0);
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        const struct cfg_account *a = &cfg->accounts[i];
        s->account_calls[i] = callcount_slot(s->table, CALLCOUNT_ACCOUNT, a->username);
        if (s->account_calls[i] == NULL) {
            return no_room(cfg, a->line, "account", a->username, diag);
        }
        /* A call to the phone counts here too, with a limit of at least one. */
        uint32_t cap = a->max_calls == 0 ? 1 : a->max_calls;
        callcount_share(s->account_calls[i], is_shared ? cap : 0);
    }
    static const char *const sides[LIMITS_SIDES] = { "provider", "pbx", "account" };
    for (unsigned w = 0; w < s->workers; w++) {
        for (size_t side = 0; side < LIMITS_SIDES; side++) {
            char name[32];
            (void)sw_snprintf(name, sizeof(name), "%s#%u", sides[side], w);
            size_t at = (size_t)w * LIMITS_SIDES + side;
            s->side_calls[at] = callcount_slot(s->table, CALLCOUNT_SIDE, name);
            if (s->side_calls[at] == NULL) {
                return -ENOMEM;
            }
        }
    }
    return 0;
}

static int limits_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    struct limits_state *s = sw_calloc(1, sizeof(*s));
    if (s == NULL) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "limits: out of memory");
        return -ENOMEM;
    }
    s->workers = net_worker_count(cfg->general.workers);
    s->side_max = cfg->general.max_calls_per_worker * LIMITS_SIDE_SHARE_PERCENT / 100u;
    s->trunk_count = cfg->trunk_count;
    s->account_count = cfg->account_count;
    s->table = callcount_acquire(limits_table_capacity(cfg));
    /* Arrays of slot pointers: the size of one pointer is meant. */
    /* NOLINTBEGIN(bugprone-sizeof-expression) */
    s->trunk_calls = sw_calloc(cfg->trunk_count + 1, sizeof(*s->trunk_calls));
    s->account_calls = sw_calloc(cfg->account_count + 1, sizeof(*s->account_calls));
    s->side_calls = sw_calloc((size_t)s->workers * LIMITS_SIDES, sizeof(*s->side_calls));
    /* NOLINTEND(bugprone-sizeof-expression) */
    s->trunk_rate = sw_calloc(cfg->trunk_count + 1, sizeof(*s->trunk_rate));
    int rc = -ENOMEM;
    if (s->table != NULL && s->trunk_calls != NULL && s->account_calls != NULL &&
        s->side_calls != NULL && s->trunk_rate != NULL) {
        rc = slots_init(s, cfg, diag);
    }
    if (rc != 0) {
        if (rc == -ENOMEM) {
            sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "limits: out of memory");
        }
        limits_fini(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* The places one new call needs: at most its party's and its side's. */
struct limits_need {
    struct callcount_slot *party;
    uint32_t party_max;
    enum limits_side side;
    bool is_refused; /* no place can be had at all (an account with max_calls = 0) */
    bool is_limited; /* a new call the stage counts */
};

static void need_of(const struct limits_state *s, const struct stage_ctx *ctx,
                    struct limits_need *need)
{
    const struct cfg *cfg = ctx->cfg;
    *need = (struct limits_need){ .is_limited = !ctx->is_towards_peer };
    if (ctx->is_towards_peer) {
        return; /* the node holding the phone counts the call */
    }
    if (ctx->is_authenticated && ctx->side == SIDE_ACCOUNT && ctx->account < s->account_count) {
        uint32_t max = cfg->accounts[ctx->account].max_calls;
        /* max_calls = 0 means no calls at all for an account: a place that never frees. */
        *need = (struct limits_need){ s->account_calls[ctx->account], max, LIMITS_SIDE_ACCOUNT,
                                      max == 0, true };
    } else if (ctx->side == SIDE_PBX && ctx->is_towards_account &&
               ctx->callee_account < s->account_count) {
        uint32_t max = cfg->accounts[ctx->callee_account].max_calls;
        /* A phone takes one call at a time unless its account allows more. */
        need->party = s->account_calls[ctx->callee_account];
        need->party_max = max == 0 ? 1 : max;
        need->side = LIMITS_SIDE_PBX;
    } else if (ctx->side == SIDE_PROVIDER && ctx->trunk < s->trunk_count) {
        need->party = s->trunk_calls[ctx->trunk];
        need->party_max = cfg->trunks[ctx->trunk].max_calls;
        need->side = LIMITS_SIDE_PROVIDER;
    } else if (ctx->side == SIDE_PBX && cfg->default_trunk_index < s->trunk_count) {
        need->party = s->trunk_calls[cfg->default_trunk_index];
        need->party_max = cfg->trunks[cfg->default_trunk_index].max_calls;
        need->side = LIMITS_SIDE_PBX;
    } else {
        need->is_limited = false; /* no route: the call layer answers it */
    }
}

static struct verdict over(struct stage_ctx *ctx, const char *what, const char *retry_after)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_POLICY_HIT, "limits");
    SW_EVENT_SET(&ev, detail, sv_from_cstr(what));
    sw_event_emit(ctx->events, &ev);
    struct verdict v = verdict_reply(503, NULL);
    v.extra_headers = sv_from_cstr(retry_after);
    return v;
}

static struct verdict limits_check(void *state, struct stage_ctx *ctx)
{
    struct limits_state *s = state;
    const struct sip_msg *msg = ctx->msg;
    if (!msg->is_request || msg->method != SIP_METHOD_INVITE || ctx->is_in_dialog) {
        return verdict_continue();
    }
    struct limits_need need;
    need_of(s, ctx, &need);
    if (!need.is_limited) {
        return verdict_continue();
    }
    if (need.side == LIMITS_SIDE_PROVIDER) {
        uint32_t rate = ctx->cfg->trunks[ctx->trunk].max_call_rate;
        if (!gcra_take(&s->trunk_rate[ctx->trunk], ctx->now_ms * 1000u, rate, rate)) {
            return over(ctx, "max_call_rate reached", "Retry-After: 5\r\n");
        }
    }
    struct callcount_slot *side = NULL;
    if (ctx->worker < s->workers) {
        side = s->side_calls[(size_t)ctx->worker * LIMITS_SIDES + need.side];
    }
    /* All or none: the pipeline gives back the first place when the second is refused. */
    if (need.is_refused || !stage_place_take(ctx, need.party, need.party_max) ||
        !stage_place_take(ctx, side, s->side_max)) {
        stage_places_release(ctx);
        return over(ctx, "max_calls reached", "Retry-After: 30\r\n");
    }
    return verdict_continue();
}

const struct stage limits_stage = {
    .name = "limits",
    .init = limits_init,
    .check = limits_check,
    .fini = limits_fini,
};
