/*
 * Live enforcement of the spending caps (gateway_spend.h).
 */
#include "gateway/gateway_spend.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/callrec.h"
#include "base/event.h"
#include "base/log.h"
#include "base/time.h"
#include "call/b2bua.h"
#include "gateway/gateway_int.h"
#include "obs/cdr_table.h"
#include "state/spendstore.h"

#define SPEND_DUE_BATCH   64
#define SPEND_MAX_WAIT_MS 10000 /* a safety net: every deadline is computed, not polled */
/* The shortest gap between two looks after changes. A change can only bring a crossing
 * nearer by an answer, and an answered call always carries its first increment (at least a
 * second: a budget that cannot is refused the call), so a look this late still finds the
 * crossing ahead; at 300 calls/s it wakes the thread 20 times a second, not 100. */
#define SPEND_BATCH_MS    50
#define SPEND_LIST_MAX    4096

struct gw_spend {
    struct gateway *gw;
    struct spend_store *store;
    pthread_t thread;
    bool has_thread;
    pthread_mutex_t lock; /* with wake: the thread's sleep */
    pthread_cond_t wake;
    bool is_stopping;
    bool is_changed;         /* a call started, was answered or ended since the last look */
    bool is_awaiting_change; /* asleep until a change: only then is a change signalled */
};

/* One call to end, posted to the worker that owns it. */
struct spend_kill {
    char id[SPEND_CALL_ID_CAP];
    char detail[160];
    int64_t due_ms; /* the last instant within the cap (monotonic) */
};

static void kill_task(struct worker *worker, void *arg)
{
    struct spend_kill *kill = arg;
    const struct gw_worker *state = worker_app_state(worker);
    size_t ended = 0;
    if (state != NULL && state->b2bua != NULL) {
        struct b2bua_call_filter filter = { .id = kill->id };
        ended = b2bua_calls_end(state->b2bua, &filter, EV_FRAUD_BLOCK, kill->detail, "spend-cap");
    }
    if (ended > 0) {
        log_notice(NULL, "spend: call %s ended (%s), %lld ms after the computed instant", kill->id,
                   kill->detail, (long long)((int64_t)sw_mono_ms() - kill->due_ms));
    }
    sw_free(kill);
}

static void post_kill(struct gw_spend *spend, const struct spend_due *due)
{
    struct spend_kill *kill = sw_calloc(1, sizeof(*kill));
    if (kill == NULL) {
        log_err(NULL, "spend: out of memory: call %s not ended", due->id);
        return;
    }
    _Static_assert(sizeof(kill->id) == sizeof(due->id), "call ids of one size");
    memcpy(kill->id, due->id, sizeof(kill->id));
    (void)sw_snprintf(kill->detail, sizeof(kill->detail), "spend cap: %s of %s reached",
                      spend_verdict_text(due->why), due->key);
    kill->due_ms = due->crossing_ms - 1;
    unsigned count = net_group_worker_count(spend->gw->net);
    unsigned owner = b2bua_owner_of(sv_from_cstr(due->id), count);
    if (count == 0 || worker_post(net_group_worker(spend->gw->net, owner), kill_task, kill) != 0) {
        log_err(NULL, "spend: cannot reach the worker of call %s", due->id);
        sw_free(kill);
    }
}

/* Ends what is due; returns the next deadline (monotonic ms). */
static int64_t run_due(struct gw_spend *spend)
{
    struct spend_due due[SPEND_DUE_BATCH];
    size_t count = 0;
    do {
        count =
            spend_store_due(spend->store, (int64_t)sw_mono_ms(), sw_wall_s(), due, SPEND_DUE_BATCH);
        for (size_t i = 0; i < count; i++) {
            post_kill(spend, &due[i]);
        }
    } while (count == SPEND_DUE_BATCH);
    return spend_store_next_deadline(spend->store, (int64_t)sw_mono_ms(), sw_wall_s());
}

/* Sleeps (spend->lock held) until `deadline`, a stop, or, when `is_woken_by_change`, a
 * change. */
static void sleep_until(struct gw_spend *spend, int64_t deadline, bool is_woken_by_change)
{
    struct timespec until = { .tv_sec = (time_t)(deadline / 1000),
                              .tv_nsec = (long)(deadline % 1000) * 1000000L };
    spend->is_awaiting_change = is_woken_by_change;
    while (!spend->is_stopping && !(is_woken_by_change && spend->is_changed) &&
           (int64_t)sw_mono_ms() < deadline) {
        if (pthread_cond_timedwait(&spend->wake, &spend->lock, &until) != 0) {
            break; /* the deadline (or an error): look again */
        }
    }
    spend->is_awaiting_change = false;
}

static void *spend_main(void *arg)
{
    struct gw_spend *spend = arg;
    pthread_mutex_lock(&spend->lock);
    while (!spend->is_stopping) {
        spend->is_changed = false;
        pthread_mutex_unlock(&spend->lock);
        int64_t deadline = run_due(spend);
        int64_t looked = (int64_t)sw_mono_ms();
        int64_t limit = looked + SPEND_MAX_WAIT_MS;
        deadline = deadline < limit ? deadline : limit;
        pthread_mutex_lock(&spend->lock);
        sleep_until(spend, deadline, true);
        /* Under load every call start, answer and end is a change: one look per batch of
         * them, not one per event, keeps this thread's cost per call flat. A crossing that a
         * change brings nearer is then seen at most SPEND_BATCH_MS late; a deadline already
         * known is kept. */
        int64_t batch_end = looked + SPEND_BATCH_MS;
        sleep_until(spend, deadline < batch_end ? deadline : batch_end, false);
    }
    pthread_mutex_unlock(&spend->lock);
    return NULL;
}

/* Under load the thread is mostly between looks, where a signal would only wake it to
 * sleep again (two system calls per call event for nothing): a change is only noted then. */
static void wake(struct gw_spend *spend)
{
    pthread_mutex_lock(&spend->lock);
    bool is_news = !spend->is_changed && spend->is_awaiting_change;
    spend->is_changed = true;
    if (is_news) {
        pthread_cond_signal(&spend->wake);
    }
    pthread_mutex_unlock(&spend->lock);
}

/* The store's hook: a cluster grant moved the deadlines. */
static void grant_changed(void *ctx)
{
    wake(ctx);
}

struct spend_store *gw_spend_store(struct gw_spend *spend)
{
    return spend->store;
}

void gw_spend_on_event(struct gw_spend *spend, const struct sw_event *ev)
{
    const struct call_record *rec = ev->record;
    if (spend == NULL || rec == NULL || rec->policy.first_increment_s == 0) {
        return; /* not a rated call */
    }
    const struct callrec_policy *p = &rec->policy;
    struct spend_call call = {
        .rate = { .per_minute_micro = p->rate_micro,
                  .connect_fee_micro = p->connect_fee_micro,
                  .first_increment_s = p->first_increment_s,
                  .next_increment_s = p->next_increment_s },
    };
    (void)sw_snprintf(call.id, sizeof(call.id), "%s", rec->uniqueid);
    call.key_count = spend_keys_of(p->account, p->trunk, call.keys);
    switch (ev->kind) {
    case EV_CALL_STARTED:
        spend_store_start(spend->store, &call);
        break;
    case EV_CALL_ANSWERED:
        spend_store_answer(spend->store, sv_from_cstr(call.id), (int64_t)sw_mono_ms());
        break;
    case EV_CALL_ENDED:
        spend_store_end(spend->store, &call, p->cost_micro, sw_wall_s());
        break;
    default:
        return;
    }
    wake(spend);
}

/* The closed spend of the current day and month from the records, per budget. */
static void seed_row(void *ctx, const char *account, const char *trunk, int64_t day_micro,
                     int64_t month_micro)
{
    struct spend_store *store = ctx;
    char keys[SPEND_CALL_KEYS][SPEND_KEY_CAP];
    size_t count = spend_keys_of(account, trunk, keys);
    for (size_t i = 0; i < count; i++) {
        spend_store_add_closed(store, sv_from_cstr(keys[i]), day_micro, month_micro, sw_wall_s());
    }
}

static void seed(struct spend_store *store, const char *database)
{
    int64_t day_s = 0;
    int64_t month_s = 0;
    spend_store_periods(store, sw_wall_s(), &day_s, &month_s);
    char error[256] = "";
    struct cdr_spend_query query = { database, day_s * 1000, month_s * 1000 };
    if (cdr_table_read_spend(&query, seed_row, store, error, sizeof(error)) != 0) {
        log_err(NULL, "spend: cannot read the spend back from the call records: %s", error);
    }
}

struct gw_spend *gw_spend_new(struct gateway *gw, const char *database)
{
    struct gw_spend *spend = sw_calloc(1, sizeof(*spend));
    if (spend == NULL) {
        log_err(NULL, "spend: out of memory");
        return NULL;
    }
    spend->gw = gw;
    spend->store = spend_store_acquire();
    if (spend->store == NULL) {
        log_err(NULL, "spend: out of memory");
        sw_free(spend);
        return NULL;
    }
    /* Default attributes but the clock: the deadlines are monotonic. */
    pthread_condattr_t attr;
    (void)pthread_condattr_init(&attr);
    (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    (void)pthread_cond_init(&spend->wake, &attr);
    (void)pthread_condattr_destroy(&attr);
    (void)pthread_mutex_init(&spend->lock, NULL);
    spend_store_on_changed(spend->store, grant_changed, spend);
    if (database != NULL) {
        seed(spend->store, database);
    } else {
        log_warn(NULL, "spend: no call records: the spend counters start at 0 at each start");
    }
    return spend;
}

int gw_spend_start(struct gw_spend *spend)
{
    if (spend == NULL) {
        return 0;
    }
    int rc = pthread_create(&spend->thread, NULL, spend_main, spend);
    spend->has_thread = rc == 0;
    return -rc;
}

void gw_spend_stop(struct gw_spend *spend)
{
    if (spend == NULL || !spend->has_thread) {
        return;
    }
    pthread_mutex_lock(&spend->lock);
    spend->is_stopping = true;
    pthread_cond_signal(&spend->wake);
    pthread_mutex_unlock(&spend->lock);
    (void)pthread_join(spend->thread, NULL);
    spend->has_thread = false;
}

void gw_spend_free(struct gw_spend *spend)
{
    if (spend == NULL) {
        return;
    }
    gw_spend_stop(spend);
    spend_store_on_changed(spend->store, NULL, NULL);
    spend_store_release(spend->store);
    pthread_cond_destroy(&spend->wake);
    pthread_mutex_destroy(&spend->lock);
    sw_free(spend);
}

/* "", "account A" or "trunk T" into the budget key it names ("" = every budget). */
static bool parse_filter(const char *line, char *key, size_t cap)
{
    char kind[16] = "";
    char name[64] = "";
    char extra[2] = "";
    int words = sscanf(line, "%15s %63s %1s", kind, name, extra);
    key[0] = '\0';
    if (words <= 0) {
        return true;
    }
    if (words != 2 || (strcmp(kind, "account") != 0 && strcmp(kind, "trunk") != 0)) {
        return false;
    }
    (void)sw_snprintf(key, cap, "%s:%s", kind, name);
    return true;
}

static void write_views(const struct spend_view *views, size_t count, const char *key,
                        int64_t now_ms, char *out, size_t cap)
{
    size_t len = 0;
    size_t shown = 0;
    for (size_t i = 0; i < count && len + 256 < cap; i++) {
        const struct spend_view *v = &views[i];
        if (key[0] != '\0' && strcmp(v->key, key) != 0) {
            continue;
        }
        long long crossing_in =
            v->crossing_ms == SPEND_NEVER ? -1LL : (long long)(v->crossing_ms - now_ms);
        int n = sw_snprintf(
            out + len, cap - len, "budget %s %lld %lld %lld %lld %lld %u %u %lld %lld %lld\n",
            v->key, (long long)v->day_micro, (long long)v->month_micro, (long long)v->live_micro,
            (long long)v->caps.daily_micro, (long long)v->caps.monthly_micro, v->answered,
            v->ringing, crossing_in, (long long)v->cluster_day_micro, (long long)v->grant_micro);
        len += n > 0 ? (size_t)n : 0;
        shown++;
    }
    if (key[0] != '\0' && shown == 0) {
        (void)sw_snprintf(out + len, cap - len, "error: no such budget\n");
        return;
    }
    (void)sw_snprintf(out + len, cap - len, "ok\n");
}

size_t gw_spend_views(struct gw_spend *spend, struct spend_view **out)
{
    *out = NULL;
    /* Not calloc: zeroing all SPEND_LIST_MAX views every second was most of an idle
     * gateway's instructions; the store fills those it lists. */
    struct spend_view *views = spend != NULL ? sw_malloc(SPEND_LIST_MAX * sizeof(*views)) : NULL;
    if (views == NULL) {
        return 0;
    }
    size_t count =
        spend_store_list(spend->store, (int64_t)sw_mono_ms(), sw_wall_s(), views, SPEND_LIST_MAX);
    if (count == 0) {
        sw_free(views);
        return 0;
    }
    *out = views;
    return count < SPEND_LIST_MAX ? count : SPEND_LIST_MAX;
}

void gw_spend_handle(struct gw_spend *spend, const char *line, char *out, size_t cap)
{
    char key[SPEND_KEY_CAP];
    if (!parse_filter(line, key, sizeof(key))) {
        (void)sw_snprintf(out, cap, "error: unknown request (spend [account A | trunk T])\n");
        return;
    }
    if (spend == NULL) {
        (void)sw_snprintf(out, cap, "error: no spend counters\n");
        return;
    }
    int64_t now_ms = (int64_t)sw_mono_ms();
    struct spend_view *views = NULL;
    size_t count = gw_spend_views(spend, &views);
    write_views(views, count, key, now_ms, out, cap);
    sw_free(views);
}
