/*
 * The spend counters behind the spending caps (issue #11): per budget key ("global",
 * "trunk:NAME", "account:NAME") the caps, the closed spend of the current day and month
 * (the cost of the calls that ended in them) and the calls in progress on it, ringing or
 * answered; from these the store says when the live calls would carry a budget past its
 * caps (number/spend.h) and which calls to end then.
 *
 * The store is an interface (`struct spend_store_ops`) so that a Redis backend can share
 * the counters between nodes later; spend_store_new_memory() is the in-process backend.
 *
 * Bounds: at most `max_keys` budgets (a key beyond is not counted, and its calls are
 * judged as if it had no cap) and `max_calls` calls in progress (a call beyond is not
 * tracked live: its cost still closes when it ends). Budgets are never evicted: keys come
 * from the configuration and the calls' account and trunk names.
 *
 * Time: calls are timed on the caller's monotonic milliseconds; periods (day, month) on
 * wall-clock seconds in the configured zone.
 *
 * A cluster (issue #15, state/cluster.h) shares the caps between nodes: once
 * spend_store_share() is on, every budget with caps is also bounded by its grant, the
 * money Redis gave this node beyond the closed spend it reported (or, while Redis is
 * away, the node's local share of what it knew to remain). The live cost of the node's
 * calls and what they closed since the report count against the grant, so the crossing
 * of the grant ends calls like the crossing of a cap. Before that, when the live cost
 * reaches the grant less half a spare, spend_store_due() asks the cluster thread for
 * more (the wanted hook) once, so calls end only when the cluster has nothing more to
 * give. The spare of a budget is the larger of a fifth of its smallest cap and twice the
 * dearest first increment a new call asked of it.
 *
 * Threads: every operation is thread-safe (one mutex); new and free run while no other
 * thread uses the store. The hooks run after the store's lock is released.
 */
#ifndef SW_STATE_SPENDSTORE_H
#define SW_STATE_SPENDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "number/money.h"
#include "number/spend.h"

#define SPEND_KEY_CAP       72
#define SPEND_CALL_ID_CAP   48
#define SPEND_CALL_KEYS     2
#define SPEND_GLOBAL_KEY    "global"
#define SPEND_DEFAULT_KEYS  4096u
#define SPEND_DEFAULT_CALLS 32768u

struct tz_zone;

/* A call on one or two budgets. */
struct spend_call {
    char id[SPEND_CALL_ID_CAP];
    char keys[SPEND_CALL_KEYS][SPEND_KEY_CAP];
    size_t key_count;
    struct rate rate;
};

/* How the store judges (spend_store_configure). */
struct spend_config {
    struct tz_zone *zone;    /* the periods' zone, NULL = UTC; the store takes it over */
    unsigned reset_hour;     /* 0..23 local time */
    bool is_cancel_ringing;  /* a cap reached ends ringing calls at once (else at answer) */
    const char *const *keys; /* the budgets with caps */
    const struct spend_caps *caps;
    size_t count;
};

/* Why a call was refused or is ended. */
enum spend_verdict {
    SPEND_OK,
    SPEND_DAILY,   /* the daily cap */
    SPEND_MONTHLY, /* the monthly cap */
    /* #15: this node's grant of a shared cap is used up while the cluster, at its last
     * answer, had more to give: more is asked for; the call may be retried shortly. */
    SPEND_GRANT,
};

/* A budget as the operator sees it. */
struct spend_view {
    char key[SPEND_KEY_CAP];
    struct spend_caps caps;
    int64_t day_micro;   /* closed spend today */
    int64_t month_micro; /* closed spend this month */
    int64_t live_micro;  /* the live cost of its answered calls now */
    uint32_t answered;
    uint32_t ringing;
    int64_t crossing_ms;         /* monotonic instant its caps would be crossed, SPEND_NEVER */
    int64_t grant_micro;         /* in a cluster: what this node's grant leaves, else -1 */
    int64_t cluster_day_micro;   /* in a cluster: its closed spend today as Redis said, else -1 */
    int64_t cluster_month_micro; /* ... this month, else -1 */
};

/* A call to end because a cap is reached. */
struct spend_due {
    char id[SPEND_CALL_ID_CAP];
    char key[SPEND_KEY_CAP];
    enum spend_verdict why;
    int64_t crossing_ms; /* the computed crossing (monotonic), for the lag */
};

/* A shared budget as the cluster thread reports it and asks for its grant. */
struct spend_share {
    char key[SPEND_KEY_CAP];
    struct spend_caps caps;
    int64_t day_start_s; /* the periods the figures below are of */
    int64_t month_start_s;
    int64_t day_micro; /* this node's closed spend of the day and the month */
    int64_t month_micro;
    int64_t floor_day_micro; /* the cluster's spend as last known (0: none this period) */
    int64_t floor_month_micro;
    int64_t want_micro;  /* the grant wanted beyond day_micro: the live cost 2 s ahead,
                            the ringing calls' first increments and a spare */
    int64_t spent_token; /* tells spend_store_grant_set what the report covered */
};

/* A hook of the store (spend_store_on_wanted, spend_store_on_changed). */
typedef void spend_store_hook_fn(void *ctx);

struct spend_store;

/* What a backend implements; every function is called from any thread. */
struct spend_store_ops {
    void (*configure)(void *impl, const struct spend_config *cfg);
    enum spend_verdict (*check)(void *impl, const struct spend_call *call, int64_t now_ms,
                                int64_t wall_s, char *key, size_t key_cap);
    void (*start)(void *impl, const struct spend_call *call);
    void (*answer)(void *impl, struct sv id, int64_t now_ms);
    void (*end)(void *impl, const struct spend_call *call, int64_t cost_micro, int64_t wall_s);
    void (*add_closed)(void *impl, struct sv key, int64_t day_micro, int64_t month_micro,
                       int64_t wall_s);
    int64_t (*next_deadline)(void *impl, int64_t now_ms, int64_t wall_s);
    size_t (*due)(void *impl, int64_t now_ms, int64_t wall_s, struct spend_due *out, size_t cap);
    size_t (*list)(void *impl, int64_t now_ms, int64_t wall_s, struct spend_view *out, size_t cap);
    void (*periods)(void *impl, int64_t wall_s, int64_t *day_start_s, int64_t *month_start_s);
    void (*share)(void *impl, unsigned local_share_pct);
    bool (*share_next)(void *impl, size_t *cursor, int64_t now_ms, int64_t wall_s, bool is_all,
                       struct spend_share *out);
    void (*grant_set)(void *impl, const struct spend_share *share, int64_t grant_micro,
                      int64_t cluster_day_micro, int64_t cluster_month_micro);
    void (*grants_local)(void *impl);
    void (*on_wanted)(void *impl, spend_store_hook_fn *fn, void *ctx);
    void (*on_changed)(void *impl, spend_store_hook_fn *fn, void *ctx);
    void (*destroy)(void *impl);
};

/* The in-process store; NULL when out of memory or a bound is 0. */
struct spend_store *spend_store_new_memory(size_t max_keys, size_t max_calls);

/* Frees the store; NULL is a no-op. */
void spend_store_free(struct spend_store *store);

/* Sets the zone, reset hour, ringing rule and caps; budgets not named lose their caps
 * (their spend stays). Takes over cfg->zone. */
void spend_store_configure(struct spend_store *store, const struct spend_config *cfg);

/*
 * May a new call at `rate` start on its budgets? SPEND_OK, or which cap leaves less than
 * its first increment (connect fee and first block) after the closed spend and the live
 * cost of the calls in progress; then `key` (key_cap bytes) names the budget. In a
 * cluster, SPEND_GRANT when only this node's grant is short while the last answer gave
 * all that was wanted and the caps leave the increment after the cluster's known spend
 * (a burst outran the grant: more is being asked for).
 */
enum spend_verdict spend_store_check(struct spend_store *store, const struct spend_call *call,
                                     int64_t now_ms, int64_t wall_s, char *key, size_t key_cap);

/* A call started ringing on its budgets (not tracked when the table is full). */
void spend_store_start(struct spend_store *store, const struct spend_call *call);

/* The call `id` was answered at `now_ms`: its cost accrues from now. */
void spend_store_answer(struct spend_store *store, struct sv id, int64_t now_ms);

/* The call ended costing `cost_micro` (its record's cost): closed into each of its
 * budgets' day and month at `wall_s`, and no longer live. */
void spend_store_end(struct spend_store *store, const struct spend_call *call, int64_t cost_micro,
                     int64_t wall_s);

/* Adds spend closed before a restart (from the call records) to `key`'s day and month. */
void spend_store_add_closed(struct spend_store *store, struct sv key, int64_t day_micro,
                            int64_t month_micro, int64_t wall_s);

/*
 * The earliest monotonic instant something is due (a cap crossed, a ringing call that
 * no longer fits, a period reset while calls run); SPEND_NEVER when nothing is.
 */
int64_t spend_store_next_deadline(struct spend_store *store, int64_t now_ms, int64_t wall_s);

/*
 * The calls to end now (at most `cap` into `out`; returns how many): every call of a
 * budget whose crossing is due (the ringing ones too when is_cancel_ringing), or a
 * ringing call whose first increment no longer fits. Each is returned once.
 */
size_t spend_store_due(struct spend_store *store, int64_t now_ms, int64_t wall_s,
                       struct spend_due *out, size_t cap);

/* The budgets (at most `cap` into `out`, in key order of the table; returns how many
 * there are). */
size_t spend_store_list(struct spend_store *store, int64_t now_ms, int64_t wall_s,
                        struct spend_view *out, size_t cap);

/* The start (UTC seconds) of the day and the month that hold `wall_s`, in the store's
 * zone and reset hour. */
void spend_store_periods(struct spend_store *store, int64_t wall_s, int64_t *day_start_s,
                         int64_t *month_start_s);

/*
 * Shares the caps with a cluster (`local_share_pct` 1..100: the part of what remains that
 * a node uses while it has no grant from Redis) or stops sharing (0: grants lifted). Any
 * thread; the cluster calls it before its thread starts.
 */
void spend_store_share(struct spend_store *store, unsigned local_share_pct);

/*
 * The next budget with caps at or after `*cursor` (0 at first) whose grant should be asked
 * for: every one when `is_all` (but those idle and in balance), else those that asked
 * (spend_store_due). Fills `out`, advances `*cursor`; false when there is none.
 */
bool spend_store_share_next(struct spend_store *store, size_t *cursor, int64_t now_ms,
                            int64_t wall_s, bool is_all, struct spend_share *out);

/*
 * What Redis answered for `share`: the node's grant and the cluster's closed spend of the
 * day and month. The spend the node closed after the report counts against the grant.
 */
void spend_store_grant_set(struct spend_store *store, const struct spend_share *share,
                           int64_t grant_micro, int64_t cluster_day_micro,
                           int64_t cluster_month_micro);

/* Redis away: every budget's grant becomes the local share of what it knew to remain. */
void spend_store_grants_local(struct spend_store *store);

/*
 * `wanted(ctx)` runs when a budget asks for more grant (from the spend thread or a
 * worker's check); quick, never blocking. NULL = none. Set before the threads run.
 */
void spend_store_on_wanted(struct spend_store *store, spend_store_hook_fn *wanted, void *ctx);

/* `changed(ctx)` runs when a grant changed (the deadlines move). NULL = none. */
void spend_store_on_changed(struct spend_store *store, spend_store_hook_fn *changed, void *ctx);

/* The process's shared store (created at the first acquire, freed at the last release).
 * NULL when out of memory. Any thread. */
struct spend_store *spend_store_acquire(void);

/* Gives back one acquire; NULL is a no-op. */
void spend_store_release(struct spend_store *store);

/*
 * The budgets of a rated call from the names its record carries: "account:A" for an
 * account's call, else "trunk:T" and "global" for a call through trunk T (a call from
 * the PBX out); none without either. Returns the count written to `keys`.
 */
size_t spend_keys_of(const char *account, const char *trunk,
                     char keys[SPEND_CALL_KEYS][SPEND_KEY_CAP]);

/* "daily cap", "monthly cap" or "". */
const char *spend_verdict_text(enum spend_verdict verdict);

#endif
