#include "state/spendstore.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/hash.h"
#include "number/tzif.h"

#define NONE           UINT32_MAX
#define GRANT_AHEAD_MS 2000 /* a grant covers the live cost this far ahead */
#define REPORT_MAX_MS  5000 /* an idle budget still learns the cluster's spend this often */

struct spend_store {
    const struct spend_store_ops *ops;
    void *impl;
};

/* A budget's part of the cluster's caps (issue #15; spendstore.h). */
struct budget_share {
    int64_t grant;          /* money this node may spend beyond the spend it reported */
    int64_t spent_total;    /* closed spend ever, whatever the period */
    int64_t spent_at_grant; /* spent_total when the grant's report was taken */
    int64_t need_max;       /* the dearest first increment a new call asked for */
    int64_t cluster_day;    /* the cluster's closed spend as Redis last said */
    int64_t cluster_month;
    int64_t cluster_day_start_s; /* the periods of those figures */
    int64_t cluster_month_start_s;
    int64_t reported_ms; /* when the last report was taken (monotonic) */
    bool has_grant;      /* grant holds (else the local share of what remains) */
    bool has_cluster;    /* the cluster_* figures were said by Redis */
    bool is_wanted;      /* asked for more: no new ask before the answer */
    bool is_short;       /* the last answer gave less than wanted: ask on the ticks only */
};

/* A budget; key[0] == '\0' marks a free slot (budgets are never removed). */
struct budget {
    char key[SPEND_KEY_CAP];
    struct spend_caps caps;
    int64_t day_start_s;
    int64_t day_next_s; /* 0 = boundaries not computed yet */
    int64_t month_start_s;
    int64_t month_next_s;
    int64_t day_closed;
    int64_t month_closed;
    uint32_t head; /* first call on it, NONE */
    uint32_t calls;
    uint32_t active_at; /* its place in mem.active while it has calls, else NONE */
    /* The deadline computed last (budget_deadline), valid while is_fresh: it only changes
     * when a call starts, is answered, ends or is being ended, when closed spend, caps or
     * periods change, or when the cluster's grant changes, and each of those clears
     * is_fresh. */
    bool is_fresh;
    int64_t deadline_ms;
    struct budget_share share;
};

/* A call in progress; each is in the list of each of its budgets. */
struct live_call {
    struct spend_call call;
    bool is_used;
    bool is_answered;
    bool is_ending; /* returned by due(): its end is on the way */
    int64_t answer_ms;
    uint32_t budget[SPEND_CALL_KEYS]; /* NONE = not counted there */
    uint32_t next[SPEND_CALL_KEYS];
    uint32_t prev[SPEND_CALL_KEYS];
    uint32_t hash_next; /* next call in the same id bucket, or in the free list */
};

struct mem {
    pthread_mutex_t lock;
    struct budget *budgets;
    size_t budget_cap; /* a power of two; at most max_keys used */
    /* The budgets with calls in progress: the deadline scans look at these only, not at
     * every slot of the table. */
    uint32_t *active;
    size_t active_count;
    size_t budget_count;
    size_t max_keys;
    struct live_call *calls;
    size_t call_cap;
    uint32_t free_head;
    uint32_t *buckets; /* call_cap of them, NONE = empty */
    struct spend_live *scratch;
    struct tz_zone *zone;
    unsigned reset_hour;
    bool is_cancel_ringing;
    unsigned share_pct; /* 0 = not shared with a cluster */
    bool is_any_wanted; /* a budget asked for more since the last walk of share_next */
    spend_store_hook_fn *wanted_fn;
    void *wanted_ctx;
    spend_store_hook_fn *changed_fn;
    void *changed_ctx;
};

/* ---- tables ---- */

static struct budget *budget_find(struct mem *m, struct sv key, bool may_add)
{
    if (key.len == 0 || key.len >= SPEND_KEY_CAP) {
        return NULL;
    }
    size_t mask = m->budget_cap - 1;
    for (size_t i = (size_t)sw_hash_sv(key) & mask, n = 0; n < m->budget_cap; i = (i + 1) & mask) {
        struct budget *b = &m->budgets[i];
        n++;
        if (b->key[0] == '\0') {
            if (!may_add || m->budget_count >= m->max_keys) {
                return NULL;
            }
            memcpy(b->key, key.ptr, key.len);
            b->key[key.len] = '\0';
            b->head = NONE;
            b->active_at = NONE;
            m->budget_count++;
            return b;
        }
        if (sv_eq(sv_from_cstr(b->key), key)) {
            return b;
        }
    }
    return NULL;
}

static uint32_t *bucket_of(struct mem *m, struct sv id)
{
    return &m->buckets[sw_hash_sv(id) % m->call_cap];
}

static uint32_t call_find(struct mem *m, struct sv id)
{
    for (uint32_t i = *bucket_of(m, id); i != NONE; i = m->calls[i].hash_next) {
        if (sv_eq(sv_from_cstr(m->calls[i].call.id), id)) {
            return i;
        }
    }
    return NONE;
}

/* The day and month of `b` as of `wall_s`: a period past its end starts again at 0. */
static void roll(struct mem *m, struct budget *b, int64_t wall_s)
{
    if (b->day_next_s != 0 && wall_s >= b->day_next_s) {
        b->day_closed = 0;
    }
    if (b->month_next_s != 0 && wall_s >= b->month_next_s) {
        b->month_closed = 0;
    }
    if (b->day_next_s == 0 || wall_s >= b->day_next_s) {
        b->day_start_s = spend_period_start(m->zone, m->reset_hour, SPEND_DAY, wall_s);
        b->day_next_s = spend_period_next(m->zone, m->reset_hour, SPEND_DAY, wall_s);
    }
    if (b->month_next_s == 0 || wall_s >= b->month_next_s) {
        b->month_start_s = spend_period_start(m->zone, m->reset_hour, SPEND_MONTH, wall_s);
        b->month_next_s = spend_period_next(m->zone, m->reset_hour, SPEND_MONTH, wall_s);
    }
}

static bool has_caps(const struct budget *b)
{
    return b->caps.daily_micro != SPEND_NO_CAP || b->caps.monthly_micro != SPEND_NO_CAP;
}

/* Which cap leaves `left`: the daily one when it is set and binds, else the monthly. */
static enum spend_verdict binding_cap(const struct budget *b, int64_t left)
{
    if (b->caps.daily_micro != SPEND_NO_CAP && b->caps.daily_micro - b->day_closed == left) {
        return SPEND_DAILY;
    }
    return b->caps.monthly_micro != SPEND_NO_CAP ? SPEND_MONTHLY : SPEND_DAILY;
}

static size_t slot_in(const struct live_call *c, uint32_t budget)
{
    return c->budget[0] == budget ? 0 : 1;
}

/* The answered calls of `b` into m->scratch; returns how many. */
static size_t gather(struct mem *m, const struct budget *b, uint32_t *ringing)
{
    size_t count = 0;
    *ringing = 0;
    for (uint32_t i = b->head; i != NONE;) {
        const struct live_call *c = &m->calls[i];
        if (c->is_answered) {
            m->scratch[count].rate = c->call.rate;
            m->scratch[count].answer_ms = c->answer_ms;
            count++;
        } else {
            (*ringing)++;
        }
        i = c->next[slot_in(c, (uint32_t)(b - m->budgets))];
    }
    return count;
}

static void link_call(struct mem *m, uint32_t index, size_t slot, uint32_t budget)
{
    struct live_call *c = &m->calls[index];
    struct budget *b = &m->budgets[budget];
    c->budget[slot] = budget;
    c->prev[slot] = NONE;
    c->next[slot] = b->head;
    if (b->head != NONE) {
        struct live_call *first = &m->calls[b->head];
        first->prev[slot_in(first, budget)] = index;
    }
    b->head = index;
    if (b->calls++ == 0) {
        b->active_at = (uint32_t)m->active_count;
        m->active[m->active_count++] = budget;
    }
    b->is_fresh = false;
}

static void unlink_call(struct mem *m, uint32_t index, size_t slot)
{
    struct live_call *c = &m->calls[index];
    uint32_t budget = c->budget[slot];
    if (budget == NONE) {
        return;
    }
    struct budget *b = &m->budgets[budget];
    if (c->prev[slot] != NONE) {
        struct live_call *p = &m->calls[c->prev[slot]];
        p->next[slot_in(p, budget)] = c->next[slot];
    } else {
        b->head = c->next[slot];
    }
    if (c->next[slot] != NONE) {
        struct live_call *n = &m->calls[c->next[slot]];
        n->prev[slot_in(n, budget)] = c->prev[slot];
    }
    if (--b->calls == 0) {
        uint32_t moved = m->active[--m->active_count];
        m->active[b->active_at] = moved;
        m->budgets[moved].active_at = b->active_at;
        b->active_at = NONE;
    }
    b->is_fresh = false;
    c->budget[slot] = NONE;
}

static void call_remove(struct mem *m, uint32_t index)
{
    struct live_call *c = &m->calls[index];
    for (size_t s = 0; s < SPEND_CALL_KEYS; s++) {
        unlink_call(m, index, s);
    }
    uint32_t *at = bucket_of(m, sv_from_cstr(c->call.id));
    while (*at != index) {
        at = &m->calls[*at].hash_next;
    }
    *at = c->hash_next;
    c->is_used = false;
    c->hash_next = m->free_head;
    m->free_head = index;
}

/* ---- the cluster's grants ---- */

static int64_t add_sat(int64_t a, int64_t b)
{
    return b > INT64_MAX - a ? INT64_MAX : a + b;
}

static bool is_shared(const struct mem *m, const struct budget *b)
{
    return m->share_pct != 0 && has_caps(b);
}

/* The larger of a fifth of the smallest cap and twice the dearest first increment. */
static int64_t spare_of(const struct budget *b)
{
    int64_t cap = b->caps.daily_micro != SPEND_NO_CAP ? b->caps.daily_micro : INT64_MAX;
    if (b->caps.monthly_micro != SPEND_NO_CAP && b->caps.monthly_micro < cap) {
        cap = b->caps.monthly_micro;
    }
    int64_t spare = cap / 5;
    int64_t need = add_sat(b->share.need_max, b->share.need_max);
    return need > spare ? need : spare;
}

/* The cluster's closed spend of a period as last known, with what this node closed since. */
static int64_t known_closed(int64_t local, int64_t cluster, bool is_same_period, int64_t unreported)
{
    int64_t known = is_same_period ? add_sat(cluster, unreported) : 0;
    return local > known ? local : known;
}

/* What `b`'s caps leave after the cluster's closed spend as last known. */
static int64_t cluster_left(const struct budget *b)
{
    const struct budget_share *sh = &b->share;
    int64_t unreported = sh->spent_total - sh->spent_at_grant;
    bool has = sh->has_cluster;
    int64_t day = known_closed(b->day_closed, sh->cluster_day,
                               has && sh->cluster_day_start_s == b->day_start_s, unreported);
    int64_t month = known_closed(b->month_closed, sh->cluster_month,
                                 has && sh->cluster_month_start_s == b->month_start_s, unreported);
    return spend_remaining(&b->caps, day, month);
}

/* The local share of what `b` knew to remain: its budget while it has no grant. */
static int64_t local_share_of(const struct mem *m, const struct budget *b)
{
    int64_t left = cluster_left(b);
    if (left <= 0) {
        return left;
    }
    return left / 100 * (int64_t)m->share_pct + left % 100 * (int64_t)m->share_pct / 100;
}

/* What `b` leaves after its closed spend: its caps, and in a cluster its grant less what
 * the node closed since the grant's report. */
static int64_t budget_left(const struct mem *m, const struct budget *b)
{
    int64_t left = spend_remaining(&b->caps, b->day_closed, b->month_closed);
    if (!is_shared(m, b)) {
        return left;
    }
    const struct budget_share *sh = &b->share;
    int64_t granted =
        sh->has_grant ? sh->grant - (sh->spent_total - sh->spent_at_grant) : local_share_of(m, b);
    return granted < left ? granted : left;
}

/* The grant `b` wants beyond its closed spend: the live cost GRANT_AHEAD_MS ahead, a first
 * increment per ringing call and the spare. */
static int64_t want_of(struct mem *m, const struct budget *b, int64_t now_ms)
{
    uint32_t ringing = 0;
    size_t answered = gather(m, b, &ringing);
    int64_t ahead = spend_live_cost(m->scratch, answered, now_ms + GRANT_AHEAD_MS);
    int64_t ring = b->share.need_max > INT64_MAX / ((int64_t)ringing + 1)
                       ? INT64_MAX
                       : b->share.need_max * (int64_t)ringing;
    return add_sat(add_sat(ahead, ring), spare_of(b));
}

static void share_fill(struct mem *m, struct budget *b, int64_t now_ms, struct spend_share *out)
{
    struct budget_share *sh = &b->share;
    sh->reported_ms = now_ms;
    (void)sw_snprintf(out->key, sizeof(out->key), "%s", b->key);
    out->caps = b->caps;
    out->day_start_s = b->day_start_s;
    out->month_start_s = b->month_start_s;
    out->day_micro = b->day_closed;
    out->month_micro = b->month_closed;
    bool has = sh->has_cluster;
    out->floor_day_micro = has && sh->cluster_day_start_s == b->day_start_s ? sh->cluster_day : 0;
    out->floor_month_micro =
        has && sh->cluster_month_start_s == b->month_start_s ? sh->cluster_month : 0;
    out->want_micro = want_of(m, b, now_ms);
    out->spent_token = sh->spent_total;
}

/* Idle, told by Redis lately, holding what it wants and not much more: nothing to ask. */
static bool is_balanced(struct mem *m, const struct budget *b, int64_t now_ms)
{
    const struct budget_share *sh = &b->share;
    if (!sh->has_cluster || sh->is_short || b->calls != 0 ||
        sh->spent_total != sh->spent_at_grant || now_ms - sh->reported_ms >= REPORT_MAX_MS) {
        return false;
    }
    int64_t want = want_of(m, b, now_ms);
    return sh->grant >= want && sh->grant <= add_sat(want, spare_of(b));
}

static void mem_share(void *impl, unsigned local_share_pct)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    m->share_pct = local_share_pct <= 100 ? local_share_pct : 100;
    for (size_t i = 0; i < m->budget_cap; i++) {
        m->budgets[i].share.has_grant = false;
        m->budgets[i].share.is_wanted = false;
        m->budgets[i].is_fresh = false;
    }
    pthread_mutex_unlock(&m->lock);
}

static bool mem_share_next(void *impl, size_t *cursor, int64_t now_ms, int64_t wall_s, bool is_all,
                           struct spend_share *out)
{
    struct mem *m = impl;
    bool is_found = false;
    pthread_mutex_lock(&m->lock);
    if (!is_all && *cursor == 0 && !m->is_any_wanted) {
        *cursor = m->budget_cap; /* nobody asked: no walk of the table */
    }
    m->is_any_wanted = *cursor == 0 ? false : m->is_any_wanted;
    for (; *cursor < m->budget_cap && !is_found; (*cursor)++) {
        struct budget *b = &m->budgets[*cursor];
        if (b->key[0] == '\0' || !is_shared(m, b)) {
            continue;
        }
        roll(m, b, wall_s);
        if (b->share.is_wanted || (is_all && !is_balanced(m, b, now_ms))) {
            share_fill(m, b, now_ms, out);
            is_found = true;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return is_found;
}

static void run_hook(spend_store_hook_fn *fn, void *ctx)
{
    if (fn != NULL) {
        fn(ctx);
    }
}

static void mem_grant_set(void *impl, const struct spend_share *share, int64_t grant_micro,
                          int64_t cluster_day_micro, int64_t cluster_month_micro)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    struct budget *b = budget_find(m, sv_from_cstr(share->key), false);
    if (b != NULL && is_shared(m, b)) {
        struct budget_share *sh = &b->share;
        b->is_fresh = false;
        sh->grant = grant_micro;
        sh->spent_at_grant = share->spent_token;
        sh->has_grant = true;
        sh->has_cluster = true;
        sh->is_wanted = false;
        sh->is_short = grant_micro < share->want_micro;
        sh->cluster_day = cluster_day_micro;
        sh->cluster_month = cluster_month_micro;
        sh->cluster_day_start_s = share->day_start_s;
        sh->cluster_month_start_s = share->month_start_s;
    }
    spend_store_hook_fn *fn = m->changed_fn;
    void *ctx = m->changed_ctx;
    pthread_mutex_unlock(&m->lock);
    run_hook(fn, ctx);
}

static void mem_grants_local(void *impl)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->budget_cap; i++) {
        struct budget *b = &m->budgets[i];
        if (b->key[0] == '\0' || !is_shared(m, b)) {
            continue;
        }
        int64_t share = local_share_of(m, b);
        b->is_fresh = false;
        b->share.grant = share > 0 ? share : 0;
        b->share.spent_at_grant = b->share.spent_total;
        b->share.has_grant = true;
        b->share.is_short = true; /* nothing to ask for until Redis answers */
        b->share.is_wanted = false;
    }
    spend_store_hook_fn *fn = m->changed_fn;
    void *ctx = m->changed_ctx;
    pthread_mutex_unlock(&m->lock);
    run_hook(fn, ctx);
}

static void mem_on_wanted(void *impl, spend_store_hook_fn *fn, void *ctx)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    m->wanted_fn = fn;
    m->wanted_ctx = ctx;
    pthread_mutex_unlock(&m->lock);
}

static void mem_on_changed(void *impl, spend_store_hook_fn *fn, void *ctx)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    m->changed_fn = fn;
    m->changed_ctx = ctx;
    pthread_mutex_unlock(&m->lock);
}

/* ---- operations ---- */

static void mem_configure(void *impl, const struct spend_config *cfg)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    tz_zone_free(m->zone);
    m->zone = cfg->zone;
    m->reset_hour = cfg->reset_hour <= SPEND_MAX_HOUR ? cfg->reset_hour : 0;
    m->is_cancel_ringing = cfg->is_cancel_ringing;
    for (size_t i = 0; i < m->budget_cap; i++) {
        m->budgets[i].caps = (struct spend_caps){ 0 };
        m->budgets[i].day_next_s = 0; /* the zone or hour may have changed */
        m->budgets[i].month_next_s = 0;
        m->budgets[i].is_fresh = false;
    }
    for (size_t i = 0; i < cfg->count; i++) {
        struct budget *b = budget_find(m, sv_from_cstr(cfg->keys[i]), true);
        if (b != NULL) {
            b->caps = cfg->caps[i];
        }
    }
    pthread_mutex_unlock(&m->lock);
}

/* What `b` leaves now, after its closed spend and the live cost of its calls. */
static int64_t left_now(struct mem *m, struct budget *b, int64_t now_ms, int64_t wall_s)
{
    roll(m, b, wall_s);
    uint32_t ringing = 0;
    size_t answered = gather(m, b, &ringing);
    return budget_left(m, b) - spend_live_cost(m->scratch, answered, now_ms);
}

/*
 * Why `b` cannot carry a call needing `need` with `live` the live cost of its calls: a cap,
 * or (#15) only this node's grant while the last answer gave all that was wanted and the
 * caps leave enough after the cluster's known spend: a burst outran the grant.
 */
static enum spend_verdict refusal_of(const struct mem *m, const struct budget *b, int64_t live,
                                     int64_t need)
{
    const struct budget_share *sh = &b->share;
    if (is_shared(m, b) && sh->has_grant && !sh->is_short && cluster_left(b) - live >= need) {
        return SPEND_GRANT;
    }
    return binding_cap(b, spend_remaining(&b->caps, b->day_closed, b->month_closed));
}

static enum spend_verdict mem_check(void *impl, const struct spend_call *call, int64_t now_ms,
                                    int64_t wall_s, char *key, size_t key_cap)
{
    struct mem *m = impl;
    int64_t need = rate_cost(&call->rate, 1);
    enum spend_verdict verdict = SPEND_OK;
    bool is_asking = false;
    pthread_mutex_lock(&m->lock);
    for (size_t k = 0; k < call->key_count && verdict == SPEND_OK; k++) {
        struct budget *b = budget_find(m, sv_from_cstr(call->keys[k]), false);
        if (b == NULL || !has_caps(b)) {
            continue;
        }
        if (is_shared(m, b) && need > b->share.need_max) {
            b->share.need_max = need; /* the spare grows to carry such calls */
            b->is_fresh = false;
        }
        int64_t left = left_now(m, b, now_ms, wall_s);
        if (left < need) {
            verdict = refusal_of(m, b, budget_left(m, b) - left, need);
            (void)sw_snprintf(key, key_cap, "%s", b->key);
            /* Short of grant, not of cap: the cluster may have more for the next call. */
            is_asking = is_shared(m, b) && !b->share.is_wanted && b->share.has_grant;
            b->share.is_wanted |= is_asking;
            m->is_any_wanted |= is_asking;
            b->is_fresh = b->is_fresh && !is_asking;
        }
    }
    spend_store_hook_fn *fn = is_asking ? m->wanted_fn : NULL;
    void *ctx = m->wanted_ctx;
    pthread_mutex_unlock(&m->lock);
    run_hook(fn, ctx);
    return verdict;
}

static void mem_start(void *impl, const struct spend_call *call)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    if (m->free_head == NONE || call_find(m, sv_from_cstr(call->id)) != NONE) {
        pthread_mutex_unlock(&m->lock);
        return;
    }
    uint32_t index = m->free_head;
    struct live_call *c = &m->calls[index];
    m->free_head = c->hash_next;
    memset(c, 0, sizeof(*c));
    c->call = *call;
    c->is_used = true;
    uint32_t *bucket = bucket_of(m, sv_from_cstr(call->id));
    c->hash_next = *bucket;
    *bucket = index;
    for (size_t s = 0; s < SPEND_CALL_KEYS; s++) {
        c->budget[s] = NONE;
        struct budget *b =
            s < call->key_count ? budget_find(m, sv_from_cstr(call->keys[s]), true) : NULL;
        if (b != NULL) {
            link_call(m, index, s, (uint32_t)(b - m->budgets));
        }
    }
    pthread_mutex_unlock(&m->lock);
}

/* The cached deadlines of the budgets `c` counts on no longer hold. */
static void mark_stale(struct mem *m, const struct live_call *c)
{
    for (size_t s = 0; s < SPEND_CALL_KEYS; s++) {
        if (c->budget[s] != NONE) {
            m->budgets[c->budget[s]].is_fresh = false;
        }
    }
}

static void mem_answer(void *impl, struct sv id, int64_t now_ms)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    uint32_t index = call_find(m, id);
    if (index != NONE && !m->calls[index].is_answered) {
        m->calls[index].is_answered = true;
        m->calls[index].answer_ms = now_ms;
        mark_stale(m, &m->calls[index]);
    }
    pthread_mutex_unlock(&m->lock);
}

static void add_cost(struct mem *m, struct sv key, int64_t day, int64_t month, int64_t wall_s)
{
    struct budget *b = budget_find(m, key, true);
    if (b == NULL) {
        return;
    }
    roll(m, b, wall_s);
    b->is_fresh = false;
    b->day_closed = add_sat(b->day_closed, day);
    b->month_closed = add_sat(b->month_closed, month);
    b->share.spent_total = add_sat(b->share.spent_total, month);
}

static void mem_end(void *impl, const struct spend_call *call, int64_t cost_micro, int64_t wall_s)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    uint32_t index = call_find(m, sv_from_cstr(call->id));
    if (index != NONE) {
        call_remove(m, index);
    }
    for (size_t k = 0; k < call->key_count && cost_micro > 0; k++) {
        add_cost(m, sv_from_cstr(call->keys[k]), cost_micro, cost_micro, wall_s);
    }
    pthread_mutex_unlock(&m->lock);
}

static void mem_add_closed(void *impl, struct sv key, int64_t day_micro, int64_t month_micro,
                           int64_t wall_s)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    add_cost(m, key, day_micro, month_micro, wall_s);
    pthread_mutex_unlock(&m->lock);
}

/* What `b` is due for: the crossing of its answered calls, and whether a ringing call
 * must go now. */
struct budget_due {
    int64_t crossing_ms; /* SPEND_NEVER */
    int64_t ring_out_ms; /* when a ringing call's first increment stops fitting, SPEND_NEVER */
    int64_t left_now;    /* after the closed spend and the live cost now */
    int64_t ask_ms;      /* when to ask the cluster for more grant, SPEND_NEVER */
    bool has_target;     /* a call not yet being ended that a crossing would end */
    enum spend_verdict why;
};

static void budget_due_of(struct mem *m, struct budget *b, int64_t now_ms, int64_t wall_s,
                          struct budget_due *out)
{
    roll(m, b, wall_s);
    uint32_t ringing = 0;
    size_t answered = gather(m, b, &ringing);
    int64_t left = budget_left(m, b);
    out->crossing_ms = spend_crossing_ms(m->scratch, answered, left, now_ms);
    out->left_now = left - spend_live_cost(m->scratch, answered, now_ms);
    out->why = binding_cap(b, spend_remaining(&b->caps, b->day_closed, b->month_closed));
    /* Half a spare before the grant is used up, ask once for more (spendstore.h). */
    const struct budget_share *sh = &b->share;
    out->ask_ms = is_shared(m, b) && sh->has_grant && !sh->is_wanted && !sh->is_short
                      ? spend_crossing_ms(m->scratch, answered, left - spare_of(b) / 2, now_ms)
                      : SPEND_NEVER;
    out->has_target = false;
    int64_t need = 0; /* the dearest first increment of a ringing call that may be cancelled */
    for (uint32_t i = b->head; i != NONE;) {
        const struct live_call *c = &m->calls[i];
        out->has_target |= !c->is_ending && (c->is_answered || m->is_cancel_ringing);
        if (m->is_cancel_ringing && !c->is_answered && !c->is_ending &&
            rate_cost(&c->call.rate, 1) > need) {
            need = rate_cost(&c->call.rate, 1);
        }
        i = c->next[slot_in(c, (uint32_t)(b - m->budgets))];
    }
    out->ring_out_ms =
        need > 0 ? spend_crossing_ms(m->scratch, answered, left - need, now_ms) : SPEND_NEVER;
}

/* A ringing call that its budget can no longer carry for its first increment. */
static bool is_ringing_out(const struct mem *m, const struct live_call *c,
                           const struct budget_due *d)
{
    return m->is_cancel_ringing && !c->is_answered && !c->is_ending &&
           rate_cost(&c->call.rate, 1) > d->left_now;
}

/* When calls of `b` are to end: at the last instant within the caps (a ringing call when
 * its first increment stops fitting). */
static int64_t end_deadline(const struct budget_due *d, int64_t now_ms)
{
    if (!d->has_target) {
        return SPEND_NEVER;
    }
    if (d->ring_out_ms <= now_ms) {
        return now_ms;
    }
    int64_t at = d->crossing_ms == SPEND_NEVER ? SPEND_NEVER
                 : d->crossing_ms > now_ms     ? d->crossing_ms - 1
                                               : now_ms;
    return d->ring_out_ms < at ? d->ring_out_ms : at;
}

static int64_t compute_deadline(struct mem *m, struct budget *b, int64_t now_ms, int64_t wall_s)
{
    if (!has_caps(b) || b->calls == 0) {
        return SPEND_NEVER;
    }
    struct budget_due d;
    budget_due_of(m, b, now_ms, wall_s, &d);
    int64_t at = end_deadline(&d, now_ms);
    at = d.ask_ms < at ? d.ask_ms : at;
    if (at == SPEND_NEVER) {
        return SPEND_NEVER;
    }
    /* A period reset before that comes first. */
    int64_t reset_ms =
        now_ms +
        ((b->day_next_s < b->month_next_s ? b->day_next_s : b->month_next_s) - wall_s) * 1000;
    return reset_ms < at ? reset_ms : at;
}

/* A cached deadline stays right as time passes: the live cost is a function of absolute
 * time, and one already reached (<= an earlier now) is still reached. */
static int64_t budget_deadline(struct mem *m, struct budget *b, int64_t now_ms, int64_t wall_s)
{
    if (!b->is_fresh) {
        b->deadline_ms = compute_deadline(m, b, now_ms, wall_s);
        b->is_fresh = true;
    }
    return b->deadline_ms;
}

static int64_t mem_next_deadline(void *impl, int64_t now_ms, int64_t wall_s)
{
    struct mem *m = impl;
    int64_t next = SPEND_NEVER;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->active_count; i++) {
        int64_t at = budget_deadline(m, &m->budgets[m->active[i]], now_ms, wall_s);
        next = at < next ? at : next;
    }
    pthread_mutex_unlock(&m->lock);
    return next;
}

/* Marks and returns the calls of `b` to end now; asks for more grant when it is time. */
static size_t budget_collect(struct mem *m, struct budget *b, int64_t now_ms, int64_t wall_s,
                             struct spend_due *out, size_t cap)
{
    struct budget_due d;
    budget_due_of(m, b, now_ms, wall_s, &d);
    b->share.is_wanted |= d.ask_ms <= now_ms; /* the caller asks */
    bool is_crossed = d.crossing_ms != SPEND_NEVER && d.crossing_ms - 1 <= now_ms;
    size_t count = 0;
    for (uint32_t i = b->head; i != NONE && count < cap;) {
        struct live_call *c = &m->calls[i];
        bool is_target = !c->is_ending && (c->is_answered || m->is_cancel_ringing);
        if ((is_crossed && is_target) || is_ringing_out(m, c, &d)) {
            c->is_ending = true;
            b->is_fresh = false;
            struct spend_due *due = &out[count++];
            (void)sw_snprintf(due->id, sizeof(due->id), "%s", c->call.id);
            (void)sw_snprintf(due->key, sizeof(due->key), "%s", b->key);
            due->why = d.why;
            due->crossing_ms = is_crossed ? d.crossing_ms : now_ms;
        }
        i = c->next[slot_in(c, (uint32_t)(b - m->budgets))];
    }
    return count;
}

static size_t mem_due(void *impl, int64_t now_ms, int64_t wall_s, struct spend_due *out, size_t cap)
{
    struct mem *m = impl;
    size_t count = 0;
    bool is_asking = false;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->active_count && count < cap; i++) {
        struct budget *b = &m->budgets[m->active[i]];
        if (has_caps(b) && budget_deadline(m, b, now_ms, wall_s) <= now_ms) {
            bool was_wanted = b->share.is_wanted;
            count += budget_collect(m, b, now_ms, wall_s, out + count, cap - count);
            is_asking |= !was_wanted && b->share.is_wanted;
            m->is_any_wanted |= is_asking;
            b->is_fresh = false; /* a period may have rolled over: the next look computes */
        }
    }
    spend_store_hook_fn *fn = is_asking ? m->wanted_fn : NULL;
    void *ctx = m->wanted_ctx;
    pthread_mutex_unlock(&m->lock);
    run_hook(fn, ctx);
    return count;
}

/* The cluster's part of a view (-1 where the budget is not shared or not told). */
static void view_share(const struct mem *m, const struct budget *b, struct spend_view *v)
{
    const struct budget_share *sh = &b->share;
    bool is_told = is_shared(m, b) && sh->has_cluster;
    v->grant_micro = is_shared(m, b) ? budget_left(m, b) : -1;
    v->cluster_day_micro =
        is_told && sh->cluster_day_start_s == b->day_start_s ? sh->cluster_day : -1;
    v->cluster_month_micro =
        is_told && sh->cluster_month_start_s == b->month_start_s ? sh->cluster_month : -1;
}

static size_t mem_list(void *impl, int64_t now_ms, int64_t wall_s, struct spend_view *out,
                       size_t cap)
{
    struct mem *m = impl;
    size_t count = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->budget_cap; i++) {
        struct budget *b = &m->budgets[i];
        if (b->key[0] == '\0') {
            continue;
        }
        if (count < cap) {
            struct spend_view *v = &out[count];
            memset(v, 0, sizeof(*v));
            struct budget_due d;
            budget_due_of(m, b, now_ms, wall_s, &d);
            uint32_t ringing = 0;
            size_t answered = gather(m, b, &ringing);
            (void)sw_snprintf(v->key, sizeof(v->key), "%s", b->key);
            v->caps = b->caps;
            v->day_micro = b->day_closed;
            v->month_micro = b->month_closed;
            v->live_micro = spend_live_cost(m->scratch, answered, now_ms);
            v->answered = (uint32_t)answered;
            v->ringing = ringing;
            v->crossing_ms = has_caps(b) ? d.crossing_ms : SPEND_NEVER;
            view_share(m, b, v);
        }
        count++;
    }
    pthread_mutex_unlock(&m->lock);
    return count;
}

static void mem_periods(void *impl, int64_t wall_s, int64_t *day_start_s, int64_t *month_start_s)
{
    struct mem *m = impl;
    pthread_mutex_lock(&m->lock);
    *day_start_s = spend_period_start(m->zone, m->reset_hour, SPEND_DAY, wall_s);
    *month_start_s = spend_period_start(m->zone, m->reset_hour, SPEND_MONTH, wall_s);
    pthread_mutex_unlock(&m->lock);
}

static void mem_destroy(void *impl)
{
    struct mem *m = impl;
    if (m == NULL) {
        return;
    }
    pthread_mutex_destroy(&m->lock);
    tz_zone_free(m->zone);
    sw_free(m->budgets);
    sw_free(m->active);
    sw_free(m->calls);
    sw_free(m->buckets);
    sw_free(m->scratch);
    sw_free(m);
}

static const struct spend_store_ops mem_ops = {
    .configure = mem_configure,
    .check = mem_check,
    .start = mem_start,
    .answer = mem_answer,
    .end = mem_end,
    .add_closed = mem_add_closed,
    .next_deadline = mem_next_deadline,
    .due = mem_due,
    .list = mem_list,
    .periods = mem_periods,
    .share = mem_share,
    .share_next = mem_share_next,
    .grant_set = mem_grant_set,
    .grants_local = mem_grants_local,
    .on_wanted = mem_on_wanted,
    .on_changed = mem_on_changed,
    .destroy = mem_destroy,
};

static struct mem *mem_new(size_t max_keys, size_t max_calls)
{
    struct mem *m = sw_calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    m->budget_cap = 16;
    while (m->budget_cap < max_keys * 2) {
        m->budget_cap *= 2;
    }
    m->max_keys = max_keys;
    m->call_cap = max_calls;
    m->budgets = sw_calloc(m->budget_cap, sizeof(*m->budgets));
    m->active = sw_calloc(m->budget_cap, sizeof(*m->active));
    m->calls = sw_calloc(max_calls, sizeof(*m->calls));
    m->buckets = sw_calloc(max_calls, sizeof(*m->buckets));
    m->scratch = sw_calloc(max_calls, sizeof(*m->scratch));
    (void)pthread_mutex_init(&m->lock, NULL); /* defaults: cannot fail */
    if (m->budgets == NULL || m->active == NULL || m->calls == NULL || m->buckets == NULL ||
        m->scratch == NULL) {
        mem_destroy(m);
        return NULL;
    }
    for (size_t i = 0; i < max_calls; i++) {
        m->buckets[i] = NONE;
        m->calls[i].hash_next = i + 1 < max_calls ? (uint32_t)(i + 1) : NONE;
    }
    m->free_head = 0;
    return m;
}

struct spend_store *spend_store_new_memory(size_t max_keys, size_t max_calls)
{
    if (max_keys == 0 || max_calls == 0 || max_calls >= NONE || max_keys >= NONE / 4) {
        return NULL;
    }
    struct spend_store *store = sw_calloc(1, sizeof(*store));
    struct mem *m = store != NULL ? mem_new(max_keys, max_calls) : NULL;
    if (m == NULL) {
        sw_free(store);
        return NULL;
    }
    store->ops = &mem_ops;
    store->impl = m;
    return store;
}

void spend_store_free(struct spend_store *store)
{
    if (store == NULL) {
        return;
    }
    store->ops->destroy(store->impl);
    sw_free(store);
}

void spend_store_configure(struct spend_store *store, const struct spend_config *cfg)
{
    store->ops->configure(store->impl, cfg);
}

enum spend_verdict spend_store_check(struct spend_store *store, const struct spend_call *call,
                                     int64_t now_ms, int64_t wall_s, char *key, size_t key_cap)
{
    return store->ops->check(store->impl, call, now_ms, wall_s, key, key_cap);
}

void spend_store_start(struct spend_store *store, const struct spend_call *call)
{
    store->ops->start(store->impl, call);
}

void spend_store_answer(struct spend_store *store, struct sv id, int64_t now_ms)
{
    store->ops->answer(store->impl, id, now_ms);
}

void spend_store_end(struct spend_store *store, const struct spend_call *call, int64_t cost_micro,
                     int64_t wall_s)
{
    store->ops->end(store->impl, call, cost_micro, wall_s);
}

void spend_store_add_closed(struct spend_store *store, struct sv key, int64_t day_micro,
                            int64_t month_micro, int64_t wall_s)
{
    store->ops->add_closed(store->impl, key, day_micro, month_micro, wall_s);
}

int64_t spend_store_next_deadline(struct spend_store *store, int64_t now_ms, int64_t wall_s)
{
    return store->ops->next_deadline(store->impl, now_ms, wall_s);
}

size_t spend_store_due(struct spend_store *store, int64_t now_ms, int64_t wall_s,
                       struct spend_due *out, size_t cap)
{
    return store->ops->due(store->impl, now_ms, wall_s, out, cap);
}

size_t spend_store_list(struct spend_store *store, int64_t now_ms, int64_t wall_s,
                        struct spend_view *out, size_t cap)
{
    return store->ops->list(store->impl, now_ms, wall_s, out, cap);
}

void spend_store_periods(struct spend_store *store, int64_t wall_s, int64_t *day_start_s,
                         int64_t *month_start_s)
{
    store->ops->periods(store->impl, wall_s, day_start_s, month_start_s);
}

void spend_store_share(struct spend_store *store, unsigned local_share_pct)
{
    store->ops->share(store->impl, local_share_pct);
}

bool spend_store_share_next(struct spend_store *store, size_t *cursor, int64_t now_ms,
                            int64_t wall_s, bool is_all, struct spend_share *out)
{
    return store->ops->share_next(store->impl, cursor, now_ms, wall_s, is_all, out);
}

void spend_store_grant_set(struct spend_store *store, const struct spend_share *share,
                           int64_t grant_micro, int64_t cluster_day_micro,
                           int64_t cluster_month_micro)
{
    store->ops->grant_set(store->impl, share, grant_micro, cluster_day_micro, cluster_month_micro);
}

void spend_store_grants_local(struct spend_store *store)
{
    store->ops->grants_local(store->impl);
}

void spend_store_on_wanted(struct spend_store *store, spend_store_hook_fn *wanted, void *ctx)
{
    store->ops->on_wanted(store->impl, wanted, ctx);
}

void spend_store_on_changed(struct spend_store *store, spend_store_hook_fn *changed, void *ctx)
{
    store->ops->on_changed(store->impl, changed, ctx);
}

/* ---- the shared store ---- */

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct spend_store *shared_store;
static unsigned shared_refs;

struct spend_store *spend_store_acquire(void)
{
    pthread_mutex_lock(&shared_lock);
    if (shared_store == NULL) {
        shared_store = spend_store_new_memory(SPEND_DEFAULT_KEYS, SPEND_DEFAULT_CALLS);
    }
    struct spend_store *store = shared_store;
    shared_refs += store != NULL ? 1u : 0u;
    pthread_mutex_unlock(&shared_lock);
    return store;
}

void spend_store_release(struct spend_store *store)
{
    if (store == NULL) {
        return;
    }
    pthread_mutex_lock(&shared_lock);
    SW_ASSERT(store == shared_store && shared_refs > 0);
    if (--shared_refs == 0) {
        spend_store_free(shared_store);
        shared_store = NULL;
    }
    pthread_mutex_unlock(&shared_lock);
}

size_t spend_keys_of(const char *account, const char *trunk,
                     char keys[SPEND_CALL_KEYS][SPEND_KEY_CAP])
{
    if (account != NULL && account[0] != '\0') {
        (void)sw_snprintf(keys[0], SPEND_KEY_CAP, "account:%s", account);
        return 1;
    }
    if (trunk != NULL && trunk[0] != '\0') {
        (void)sw_snprintf(keys[0], SPEND_KEY_CAP, "trunk:%s", trunk);
        (void)sw_snprintf(keys[1], SPEND_KEY_CAP, "%s", SPEND_GLOBAL_KEY);
        return 2;
    }
    return 0;
}

const char *spend_verdict_text(enum spend_verdict verdict)
{
    switch (verdict) {
    case SPEND_DAILY:
        return "daily cap";
    case SPEND_MONTHLY:
        return "monthly cap";
    case SPEND_GRANT:
        return "cluster grant pending";
    default:
        return "";
    }
}
