#include "state/cluster.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "state/callcount.h"
#include "state/redis_link.h"
#include "state/regshare.h"
#include "state/spendstore.h"
#include "state/velshare.h"

#define CLUSTER_DEFAULT_QUEUE    4096u
#define CLUSTER_DEFAULT_MAXRETRY 3u
#define CLUSTER_DEFAULT_FINDTIME 300u
#define CLUSTER_DEFAULT_SHARE    50u
#define CLUSTER_TICK_MS          1000u
#define CLUSTER_OPS_PER_ROUND    256u
#define CLUSTER_ASK_GAP_MS       2L

/*
 * One failure, added atomically: the window starts at the first failure of a source
 * (fail2ban's findtime, as a fixed window: Redis keeps no per-failure times for us).
 */
static const char fail_script[] = "local n = redis.call('INCR', KEYS[1]) "
                                  "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
                                  "return n";

/*
 * A node's grant of one cap: KEYS[1] the hash node -> grant; ARGV node, wanted, cap,
 * lease key prefix. Grants of nodes without a lease are dropped; the node gets at most
 * what the live others leave.
 */
static const char grant_script[] = "local others = 0 "
                                   "local fields = redis.call('HGETALL', KEYS[1]) "
                                   "for i = 1, #fields, 2 do "
                                   "  if fields[i] ~= ARGV[1] then "
                                   "    if redis.call('EXISTS', ARGV[4] .. fields[i]) == 1 then "
                                   "      others = others + tonumber(fields[i + 1]) "
                                   "    else redis.call('HDEL', KEYS[1], fields[i]) end "
                                   "  end "
                                   "end "
                                   "local g = tonumber(ARGV[3]) - others "
                                   "if g > tonumber(ARGV[2]) then g = tonumber(ARGV[2]) end "
                                   "if g < 0 then g = 0 end "
                                   "redis.call('HSET', KEYS[1], ARGV[1], g) "
                                   "return g";

/*
 * A node's report of a budget and its grant: KEYS[1] the hash of the budget; ARGV node,
 * day start, month start, the node's closed spend of the day and the month, the grant it
 * wants, the daily and monthly caps (0 = none), the lease key prefix, the cluster's spend
 * of the day and the month as the node last knew it. Fields: "ds"/"ms" the periods,
 * "d:<node>"/"m:<node>" each node's closed spend in them (only ever raised, so a report
 * sent twice or a restarted, empty Redis never lowers it), "df"/"mf" the cluster's totals
 * as known (the floor a node brings back after Redis lost them), "g:<node>" the grants. A
 * new period drops the old one's figures. The node gets at most what the caps leave after
 * the closed spend and the live others' grants. Returns {grant, day total, month total}.
 */
static const char spend_script[] =
    "local h, node = KEYS[1], ARGV[1] "
    "local t = {} "
    "local f = redis.call('HGETALL', h) "
    "for i = 1, #f, 2 do t[f[i]] = f[i + 1] end "
    "local function period(field, start, prefix, floor) "
    "  local cur = tonumber(t[field] or '0') "
    "  if start > cur then "
    "    for k, _ in pairs(t) do "
    "      if string.sub(k, 1, 2) == prefix or k == floor then "
    "        redis.call('HDEL', h, k) t[k] = nil end "
    "    end "
    "    redis.call('HSET', h, field, start) t[field] = tostring(start) cur = start "
    "  end "
    "  return start == cur "
    "end "
    "local function raise(field, value) "
    "  if value > tonumber(t[field] or '0') then "
    "    redis.call('HSET', h, field, value) t[field] = tostring(value) end "
    "end "
    "local is_day = period('ds', tonumber(ARGV[2]), 'd:', 'df') "
    "local is_month = period('ms', tonumber(ARGV[3]), 'm:', 'mf') "
    "if is_day then raise('d:' .. node, tonumber(ARGV[4])) end "
    "if is_month then raise('m:' .. node, tonumber(ARGV[5])) end "
    "local day, month, others = 0, 0, 0 "
    "for k, v in pairs(t) do "
    "  local p = string.sub(k, 1, 2) "
    "  if p == 'd:' then day = day + tonumber(v) "
    "  elseif p == 'm:' then month = month + tonumber(v) "
    "  elseif p == 'g:' and k ~= 'g:' .. node then "
    "    if redis.call('EXISTS', ARGV[9] .. string.sub(k, 3)) == 1 then "
    "      others = others + tonumber(v) "
    "    else redis.call('HDEL', h, k) end "
    "  end "
    "end "
    "if is_day then day = math.max(day, tonumber(t['df'] or '0'), tonumber(ARGV[10])) "
    "  raise('df', day) end "
    "if is_month then month = math.max(month, tonumber(t['mf'] or '0'), tonumber(ARGV[11])) "
    "  raise('mf', month) end "
    "local left = nil "
    "local dc, mc = tonumber(ARGV[7]), tonumber(ARGV[8]) "
    "if dc > 0 then left = dc - day end "
    "if mc > 0 and (left == nil or mc - month < left) then left = mc - month end "
    "local g = tonumber(ARGV[6]) "
    "if left ~= nil and g > left - others then g = left - others end "
    "if g < 0 then g = 0 end "
    "redis.call('HSET', h, 'g:' .. node, g) "
    "redis.call('PEXPIRE', h, 3456000000) "
    "return {g, day, month}";

/*
 * A node's velocity counts of one key: KEYS[1] the hash node -> "calls intl at_ms"; ARGV
 * node, its calls of the last minute, its international calls of the last hour, the wall
 * clock in ms. Returns the other nodes' sums, each count kept while its window lasts
 * (a node that died still counts: its calls were made).
 */
static const char velocity_script[] =
    "local h, node, now = KEYS[1], ARGV[1], tonumber(ARGV[4]) "
    "redis.call('HSET', h, node, ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4]) "
    "local f = redis.call('HGETALL', h) "
    "local calls, intl = 0, 0 "
    "for i = 1, #f, 2 do "
    "  if f[i] ~= node then "
    "    local c, n, at = string.match(f[i + 1], '^(%d+) (%d+) (%d+)$') "
    "    local age = at and now - tonumber(at) or 3600000 "
    "    if age >= 3600000 then redis.call('HDEL', h, f[i]) "
    "    else "
    "      if age < 60000 then calls = calls + tonumber(c) end "
    "      intl = intl + tonumber(n) "
    "    end "
    "  end "
    "end "
    "redis.call('PEXPIRE', h, 3600000) "
    "return {calls, intl}";

struct cluster_op {
    struct sw_ip ip;
    uint64_t seq; /* tells an operation from a later one in its place */
};

struct cluster {
    struct redis_link link;
    char prefix[REDIS_LINK_NAME_MAX + 1];
    char node[REDIS_LINK_NAME_MAX + 1];
    char lease_key[2 * REDIS_LINK_NAME_MAX + 8];
    char lease_prefix[REDIS_LINK_NAME_MAX + 8];
    char findtime_ms[24];
    uint32_t maxretry;
    uint32_t local_share_pct;
    struct callcount *calls;
    struct spend_store *spend;           /* budgets whose caps are shared; NULL = none */
    struct velshare *velocity;           /* velocity counts shared; NULL = none */
    struct regshare *regs;               /* registrations shared; NULL = none */
    char reg_address[REGSHARE_ADDR_CAP]; /* where peers relay INVITEs to us; "" = none */
    cluster_ban_fn *on_ban;
    cluster_state_fn *on_state;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct cluster_op *ring;
    size_t ring_cap;
    size_t ring_head;
    size_t ring_len;
    uint64_t next_seq;
    bool is_wanted; /* a reservation met its grant (under lock) */
    atomic_bool is_stopping;
    pthread_t thread;
    bool is_started;
    int state; /* thread only: the state last reported: 0 unknown, 1 down, 2 up */
    _Atomic uint64_t operations;
    _Atomic uint64_t dropped;
    _Atomic uint64_t bans;
    _Atomic uint64_t grants;
    _Atomic uint64_t spend_grants;
    _Atomic uint64_t velocity_sent;
    _Atomic uint64_t errors;
    _Atomic uint64_t cpu_ns;
    atomic_bool is_connected;
};

static int configure(struct cluster *c, const struct cluster_config *cfg)
{
    const char *prefix = cfg->prefix != NULL ? cfg->prefix : "sipwarden:";
    char node[REDIS_LINK_NAME_MAX + 1];
    if (cfg->node != NULL) {
        (void)snprintf(node, sizeof(node), "%s", cfg->node);
    } else {
        char host[48] = "node";
        if (gethostname(host, sizeof(host)) != 0) {
            (void)snprintf(host, sizeof(host), "node");
        }
        host[sizeof(host) - 1] = '\0';
        (void)snprintf(node, sizeof(node), "%s:%ld", host, (long)getpid());
    }
    if (cfg->queue_cap > (1u << 20) || cfg->local_share_pct > 100 ||
        !redis_link_is_name(prefix, true) || !redis_link_is_name(node, true) ||
        !redis_link_init(&c->link, cfg->host, cfg->port, cfg->timeout_ms, "cluster", &c->errors) ||
        !redis_link_set_login(&c->link, cfg->user, cfg->password)) {
        return -SW_EBADARG;
    }
    (void)snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
    (void)snprintf(c->node, sizeof(c->node), "%s", node);
    (void)snprintf(c->lease_prefix, sizeof(c->lease_prefix), "%snode:", prefix);
    (void)snprintf(c->lease_key, sizeof(c->lease_key), "%s%s", c->lease_prefix, node);
    uint32_t findtime_s = cfg->findtime_s != 0 ? cfg->findtime_s : CLUSTER_DEFAULT_FINDTIME;
    (void)snprintf(c->findtime_ms, sizeof(c->findtime_ms), "%llu",
                   (unsigned long long)findtime_s * 1000u);
    c->maxretry = cfg->maxretry != 0 ? cfg->maxretry : CLUSTER_DEFAULT_MAXRETRY;
    c->local_share_pct = cfg->local_share_pct != 0 ? cfg->local_share_pct : CLUSTER_DEFAULT_SHARE;
    c->ring_cap = cfg->queue_cap != 0 ? cfg->queue_cap : CLUSTER_DEFAULT_QUEUE;
    c->calls = cfg->calls;
    return 0;
}

static void wanted(void *ctx)
{
    struct cluster *c = ctx;
    pthread_mutex_lock(&c->lock);
    c->is_wanted = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

int cluster_new(const struct cluster_config *cfg, cluster_ban_fn *on_ban, void *ctx,
                struct cluster **out)
{
    struct cluster *c = sw_calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    int err = configure(c, cfg);
    c->ring = err == 0 ? sw_calloc(c->ring_cap, sizeof(*c->ring)) : NULL;
    if (err == 0 && c->ring == NULL) {
        err = -ENOMEM;
    }
    if (err == 0 && pthread_mutex_init(&c->lock, NULL) != 0) {
        err = -ENOMEM;
    }
    /* The thread sleeps in CLOCK_MONOTONIC time. */
    pthread_condattr_t attr;
    (void)pthread_condattr_init(&attr);
    (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (err == 0 && pthread_cond_init(&c->wake, &attr) != 0) {
        pthread_mutex_destroy(&c->lock);
        err = -ENOMEM;
    }
    (void)pthread_condattr_destroy(&attr);
    if (err != 0) {
        sw_free(c->ring);
        redis_link_fini(&c->link);
        sw_free(c);
        return err;
    }
    c->on_ban = on_ban;
    c->ctx = ctx;
    if (c->calls != NULL) {
        callcount_on_wanted(c->calls, wanted, c);
    }
    *out = c;
    return 0;
}

void cluster_on_state(struct cluster *c, cluster_state_fn *fn)
{
    c->on_state = fn;
}

void cluster_share_spend(struct cluster *c, struct spend_store *spend)
{
    c->spend = spend;
    spend_store_share(spend, c->local_share_pct);
    spend_store_on_wanted(spend, wanted, c);
}

void cluster_share_velocity(struct cluster *c, struct velshare *velocity)
{
    c->velocity = velocity;
    velshare_on_dirty(velocity, wanted, c);
}

void cluster_share_registrations(struct cluster *c, struct regshare *regs, const char *address)
{
    c->regs = regs;
    (void)snprintf(c->reg_address, sizeof(c->reg_address), "%s", address != NULL ? address : "");
    regshare_on_dirty(regs, wanted, c);
}

void cluster_failure(struct cluster *c, const struct sw_ip *ip)
{
    pthread_mutex_lock(&c->lock);
    if (c->ring_len == c->ring_cap) {
        /* The oldest failure gives way: the newest are the ones that can still ban. */
        c->ring_head = (c->ring_head + 1) % c->ring_cap;
        c->ring_len--;
        atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed);
    }
    c->ring[(c->ring_head + c->ring_len) % c->ring_cap] =
        (struct cluster_op){ .ip = *ip, .seq = c->next_seq++ };
    c->ring_len++;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

/* The operation at the head, left there until op_done; false when there is none. */
static bool op_peek(struct cluster *c, struct cluster_op *op)
{
    pthread_mutex_lock(&c->lock);
    bool has_op = c->ring_len > 0;
    if (has_op) {
        *op = c->ring[c->ring_head];
    }
    pthread_mutex_unlock(&c->lock);
    return has_op;
}

/* Removes the head, unless a full queue pushed it out meanwhile (then it is gone). */
static void op_done(struct cluster *c, const struct cluster_op *op)
{
    pthread_mutex_lock(&c->lock);
    if (c->ring_len > 0 && c->ring[c->ring_head].seq == op->seq) {
        c->ring_head = (c->ring_head + 1) % c->ring_cap;
        c->ring_len--;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Adds the failure; false on a connection or command error. */
static bool op_run(struct cluster *c, redisContext *rc, const struct cluster_op *op)
{
    char ip[SW_ADDR_STRLEN];
    char key[REDIS_LINK_NAME_MAX + 8 + SW_ADDR_STRLEN];
    sw_ip_format(&op->ip, ip, sizeof(ip));
    (void)snprintf(key, sizeof(key), "%sfail:%s", c->prefix, ip);
    const char *argv[] = { key, c->findtime_ms };
    long long count = 0;
    if (!redis_link_eval(rc, fail_script, 2, argv, &count, 1)) {
        return false;
    }
    if (count >= (long long)c->maxretry) {
        atomic_fetch_add_explicit(&c->bans, 1, memory_order_relaxed);
        c->on_ban(c->ctx, &op->ip, count > UINT32_MAX ? UINT32_MAX : (uint32_t)count);
    }
    return true;
}

/* Sends what is queued (a bounded round); false on an error (the head stays queued). */
static bool run_ops(struct cluster *c, redisContext *rc)
{
    struct cluster_op op;
    for (unsigned n = 0; n < CLUSTER_OPS_PER_ROUND && op_peek(c, &op); n++) {
        if (!op_run(c, rc, &op)) {
            return false;
        }
        atomic_fetch_add_explicit(&c->operations, 1, memory_order_relaxed);
        op_done(c, &op);
    }
    return true;
}

/* ---- call caps ----------------------------------------------------------------------- */

static uint32_t spare_of(uint32_t cap)
{
    return cap / 10 > 1 ? cap / 10 : 1;
}

static uint32_t local_share(const struct cluster *c, uint32_t cap)
{
    uint32_t share = (uint32_t)((uint64_t)cap * c->local_share_pct / 100u);
    return share > 0 ? share : 1;
}

/* Redis away: every shared slot falls back to its local share. */
static void grants_local(struct cluster *c)
{
    if (c->spend != NULL) {
        spend_store_grants_local(c->spend);
    }
    if (c->velocity != NULL) {
        velshare_clear_remote(c->velocity);
    }
    if (c->regs != NULL) {
        regshare_republish(c->regs);
    }
    if (c->calls == NULL) {
        return;
    }
    size_t count = callcount_slot_count(c->calls);
    for (size_t i = 0; i < count; i++) {
        struct callcount_slot *slot = callcount_slot_at(c->calls, i);
        uint32_t cap = callcount_shared_cap(slot);
        if (cap != 0) {
            callcount_grant_set(slot, local_share(c, cap));
        }
    }
}

/* Asks Redis for `want` of `slot`'s cap; false on an error. */
static bool grant_ask(struct cluster *c, redisContext *rc, struct callcount_slot *slot,
                      uint32_t cap, uint32_t want)
{
    char key[REDIS_LINK_NAME_MAX + 16 + CALLCOUNT_NAME_CAP];
    (void)snprintf(key, sizeof(key), "%scalls:%s:%s", c->prefix,
                   callcount_slot_kind(slot) == CALLCOUNT_TRUNK ? "t" : "a", callcount_name(slot));
    char want_text[16];
    char cap_text[16];
    (void)snprintf(want_text, sizeof(want_text), "%u", want);
    (void)snprintf(cap_text, sizeof(cap_text), "%u", cap);
    const char *argv[] = { key, c->node, want_text, cap_text, c->lease_prefix };
    long long granted = 0;
    if (!redis_link_eval(rc, grant_script, 5, argv, &granted, 1)) {
        return false;
    }
    atomic_fetch_add_explicit(&c->grants, 1, memory_order_relaxed);
    callcount_grant_set(slot, granted < 0 ? 0 : (uint32_t)granted);
    return true;
}

/*
 * Adjusts every shared slot's grant: more when a reservation met it (or `is_all`), less
 * when more than twice the spare lies unused (only when `is_all`: once a tick). False on
 * an error.
 */
static bool grants_adjust(struct cluster *c, redisContext *rc, bool is_all)
{
    if (c->calls == NULL) {
        return true;
    }
    size_t count = callcount_slot_count(c->calls);
    for (size_t i = 0; i < count; i++) {
        struct callcount_slot *slot = callcount_slot_at(c->calls, i);
        uint32_t cap = callcount_shared_cap(slot);
        if (cap == 0) {
            continue;
        }
        uint32_t used = callcount_value(slot);
        uint32_t grant = callcount_grant(slot);
        uint32_t spare = spare_of(cap);
        uint64_t want = (uint64_t)used + spare;
        want = want > cap ? cap : want;
        bool is_short = callcount_take_wanted(slot) || used >= grant;
        bool is_idle = grant != CALLCOUNT_NO_GRANT && grant > used + 2 * spare;
        if ((is_short || is_all || is_idle) && grant != want &&
            !grant_ask(c, rc, slot, cap, (uint32_t)want)) {
            return false;
        }
    }
    return true;
}

/* ---- spend caps ---------------------------------------------------------------------- */

static void text_of(char *buf, size_t cap, int64_t value)
{
    (void)snprintf(buf, cap, "%lld", (long long)value);
}

/* Reports one budget and sets its grant from the answer; false on an error. */
static bool spend_ask(struct cluster *c, redisContext *rc, const struct spend_share *share)
{
    char key[REDIS_LINK_NAME_MAX + 8 + SPEND_KEY_CAP];
    (void)snprintf(key, sizeof(key), "%sspend:%s", c->prefix, share->key);
    char numbers[9][24];
    const int64_t values[9] = { share->day_start_s,        share->month_start_s,
                                share->day_micro,          share->month_micro,
                                share->want_micro,         share->caps.daily_micro,
                                share->caps.monthly_micro, share->floor_day_micro,
                                share->floor_month_micro };
    for (size_t i = 0; i < 9; i++) {
        text_of(numbers[i], sizeof(numbers[i]), values[i]);
    }
    const char *argv[] = { key,        c->node,         numbers[0], numbers[1],
                           numbers[2], numbers[3],      numbers[4], numbers[5],
                           numbers[6], c->lease_prefix, numbers[7], numbers[8] };
    long long answer[3];
    if (!redis_link_eval(rc, spend_script, 12, argv, answer, 3)) {
        return false;
    }
    atomic_fetch_add_explicit(&c->spend_grants, 1, memory_order_relaxed);
    spend_store_grant_set(c->spend, share, answer[0], answer[1], answer[2]);
    return true;
}

/* Reports the budgets that asked for more (every one not in balance when `is_all`). */
static bool spend_adjust(struct cluster *c, redisContext *rc, bool is_all)
{
    if (c->spend == NULL) {
        return true;
    }
    struct spend_share share;
    int64_t now_ms = (int64_t)sw_mono_ms();
    int64_t wall_s = sw_wall_s();
    for (size_t cursor = 0;
         spend_store_share_next(c->spend, &cursor, now_ms, wall_s, is_all, &share);) {
        if (!spend_ask(c, rc, &share)) {
            return false;
        }
    }
    return true;
}

/* ---- velocity ------------------------------------------------------------------------ */

/* Publishes the keys dialled since the last round and learns the others' counts. */
static bool velocity_publish(struct cluster *c, redisContext *rc)
{
    if (c->velocity == NULL) {
        return true;
    }
    struct velshare_item item;
    char now[24];
    text_of(now, sizeof(now), (int64_t)(sw_wall_us() / 1000u));
    /* Bounded: a key dialled again meanwhile waits for the next round. */
    for (unsigned n = 0; n < CLUSTER_OPS_PER_ROUND && velshare_next_dirty(c->velocity, &item);
         n++) {
        char key[REDIS_LINK_NAME_MAX + 8 + VELSHARE_KEY_CAP];
        (void)snprintf(key, sizeof(key), "%svel:%s", c->prefix, item.key);
        char calls[16];
        char intl[16];
        (void)snprintf(calls, sizeof(calls), "%u", item.local.calls_minute);
        (void)snprintf(intl, sizeof(intl), "%u", item.local.international_hour);
        const char *argv[] = { key, c->node, calls, intl, now };
        long long others[2];
        if (!redis_link_eval(rc, velocity_script, 5, argv, others, 2)) {
            velshare_redirty(c->velocity, item.key);
            return false;
        }
        atomic_fetch_add_explicit(&c->velocity_sent, 1, memory_order_relaxed);
        struct velshare_counts remote = {
            .calls_minute = others[0] < 0 || others[0] > UINT32_MAX ? 0u : (uint32_t)others[0],
            .international_hour =
                others[1] < 0 || others[1] > UINT32_MAX ? 0u : (uint32_t)others[1],
        };
        velshare_set_remote(c->velocity, item.key, remote);
    }
    return true;
}

/* Publishes this node's bindings and learns the others' (state/regshare.h). */
static bool registrations_sync(struct cluster *c, redisContext *rc, bool is_tick)
{
    if (c->regs == NULL) {
        return true;
    }
    const struct regshare_names names = {
        .prefix = c->prefix,
        .node = c->node,
        .lease_prefix = c->lease_prefix,
        .address = c->reg_address[0] != '\0' ? c->reg_address : NULL,
    };
    return regshare_sync(c->regs, rc, &names, is_tick);
}

static bool lease_renew(struct cluster *c, redisContext *rc)
{
    char ms[16];
    (void)snprintf(ms, sizeof(ms), "%u", CLUSTER_LEASE_MS);
    const char *argv[] = { "SET", c->lease_key, "1", "PX", ms };
    return redis_link_command(rc, 5, argv);
}

/* ---- the thread ---------------------------------------------------------------------- */

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reports a change of state once: down (local shares) or up again. */
static void note_state(struct cluster *c, bool is_up)
{
    atomic_store(&c->is_connected, is_up);
    int state = is_up ? 2 : 1;
    if (state == c->state) {
        return;
    }
    bool is_first_up = c->state == 0 && is_up; /* nothing to tell: it is how we start */
    c->state = state;
    if (!is_up) {
        grants_local(c);
    }
    if (c->on_state != NULL && !is_first_up) {
        c->on_state(c->ctx, is_up);
    }
}

/* Sleeps until work, a tick or the stop; says whether a reservation asked for more. */
static bool wait_work(struct cluster *c, unsigned ms)
{
    struct timespec until;
    (void)clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000u);
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (c->ring_len == 0 && !c->is_wanted && !atomic_load(&c->is_stopping)) {
        if (pthread_cond_timedwait(&c->wake, &c->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool was_wanted = c->is_wanted;
    c->is_wanted = false;
    pthread_mutex_unlock(&c->lock);
    return was_wanted;
}

/* One round on a live connection; false on an error. */
static bool round_run(struct cluster *c, redisContext *rc, bool is_fresh, uint64_t *next_tick_ms)
{
    uint64_t now = sw_mono_ms();
    bool is_tick = is_fresh || now >= *next_tick_ms;
    if (is_tick && !lease_renew(c, rc)) {
        return false;
    }
    if (is_tick) {
        *next_tick_ms = now + CLUSTER_TICK_MS;
    }
    return run_ops(c, rc) && grants_adjust(c, rc, is_tick) && spend_adjust(c, rc, is_tick) &&
           velocity_publish(c, rc) && registrations_sync(c, rc, is_tick);
}

static void *cluster_main(void *arg)
{
    struct cluster *c = arg;
    redisContext *rc = NULL;
    unsigned backoff = REDIS_LINK_BACKOFF_MIN_MS;
    bool is_logged = false;
    uint64_t next_tick_ms = 0;
    while (!atomic_load(&c->is_stopping)) {
        if (rc == NULL && (rc = redis_link_connect(&c->link, &is_logged)) == NULL) {
            note_state(c, false);
            (void)redis_link_pause(&c->is_stopping, backoff);
            backoff = redis_link_backoff(backoff);
            continue;
        }
        bool is_ok = round_run(c, rc, c->state != 2, &next_tick_ms);
        atomic_store(&c->cpu_ns, thread_cpu_ns());
        if (!is_ok) {
            redis_link_error(&c->link, "lost", rc, &is_logged);
            redisFree(rc);
            rc = NULL;
            note_state(c, false);
            continue;
        }
        if (is_logged) {
            log_notice(NULL, "cluster: %s:%d reachable again", c->link.host, c->link.port);
        }
        is_logged = false;
        backoff = REDIS_LINK_BACKOFF_MIN_MS;
        note_state(c, true);
        uint64_t now = sw_mono_ms();
        unsigned wait_ms = next_tick_ms > now ? (unsigned)(next_tick_ms - now) : 0;
        if (c->regs != NULL && wait_ms > REGSHARE_POLL_MS) {
            wait_ms = REGSHARE_POLL_MS; /* the others' new bindings are read sooner */
        }
        if (wait_work(c, wait_ms)) {
            /* Refused calls ask again and again while the cap is full: at most one
             * round of asking per CLUSTER_ASK_GAP_MS, whatever the INVITE rate. */
            struct timespec gap = { .tv_sec = 0, .tv_nsec = CLUSTER_ASK_GAP_MS * 1000000L };
            (void)nanosleep(&gap, NULL);
        }
    }
    if (rc != NULL) {
        /* What is queued goes if Redis answers; the lease goes so our grants free at once. */
        (void)run_ops(c, rc);
        const char *argv[] = { "DEL", c->lease_key };
        (void)redis_link_command(rc, 2, argv);
        redisFree(rc);
    }
    return NULL;
}

int cluster_start(struct cluster *c)
{
    grants_local(c);
    int err = pthread_create(&c->thread, NULL, cluster_main, c);
    if (err != 0) {
        return -err;
    }
    c->is_started = true;
    return 0;
}

bool cluster_wait_ready(struct cluster *c, unsigned timeout_ms)
{
    for (unsigned waited = 0; !atomic_load(&c->is_connected); waited += 10) {
        if (waited >= timeout_ms) {
            return false;
        }
        struct timespec step = { .tv_sec = 0, .tv_nsec = 10 * 1000000L };
        (void)nanosleep(&step, NULL);
    }
    return true;
}

void cluster_free(struct cluster *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->is_stopping, true);
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->is_started) {
        int err = pthread_join(c->thread, NULL);
        SW_ASSERT(err == 0);
    }
    if (c->calls != NULL) {
        callcount_on_wanted(c->calls, NULL, NULL);
    }
    if (c->spend != NULL) {
        spend_store_on_wanted(c->spend, NULL, NULL);
        spend_store_share(c->spend, 0);
    }
    if (c->velocity != NULL) {
        velshare_on_dirty(c->velocity, NULL, NULL);
    }
    if (c->regs != NULL) {
        regshare_on_dirty(c->regs, NULL, NULL);
    }
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    sw_free(c->ring);
    c->ring = NULL;
    redis_link_fini(&c->link);
    sw_free(c);
}

void cluster_stats_get(struct cluster *c, struct cluster_stats *out)
{
    out->operations = atomic_load_explicit(&c->operations, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&c->dropped, memory_order_relaxed);
    out->bans = atomic_load_explicit(&c->bans, memory_order_relaxed);
    out->grants = atomic_load_explicit(&c->grants, memory_order_relaxed);
    out->spend_grants = atomic_load_explicit(&c->spend_grants, memory_order_relaxed);
    out->velocity_sent = atomic_load_explicit(&c->velocity_sent, memory_order_relaxed);
    out->errors = atomic_load_explicit(&c->errors, memory_order_relaxed);
    out->cpu_ns = atomic_load_explicit(&c->cpu_ns, memory_order_relaxed);
    out->is_connected = atomic_load(&c->is_connected);
}
