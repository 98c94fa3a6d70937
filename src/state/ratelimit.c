#include "state/ratelimit.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "state/shardtab.h"

#define RL_DEFAULT_ENTRIES     65536u
#define RL_DEFAULT_FLOOD       50u
#define RL_DEFAULT_FLOOD_S     10u
#define RL_GLOBAL_BURST_MAX    4000000u
#define RL_GLOBAL_CAS_ATTEMPTS 16
#define RL_MILLI               1000u

static const struct ratelimit_bucket_config class_defaults[RATELIMIT_CLASS_COUNT] = {
    [RATELIMIT_REGISTER] = { 5, 20 },
    [RATELIMIT_INVITE] = { 5, 20 },
    [RATELIMIT_OPTIONS] = { 5, 20 },
    [RATELIMIT_OTHER] = { 10, 40 },
};

static const struct ratelimit_bucket_config global_default = { 500, 1000 };

/* One bucket. Tokens are in thousandths so that slow rates refill smoothly. */
struct rl_entry {
    struct sw_ip ip;
    uint64_t tokens_milli;
    uint32_t hash;
    uint32_t last_ms;
    uint32_t window_start_ms;
    uint32_t over_count;
    uint16_t factor;
    uint8_t cls;
    bool is_used; /* holds a bucket */
    bool is_referenced;
    bool is_flood_reported;
};

_Static_assert(RATELIMIT_SHARDS == SHARDTAB_SHARDS, "ratelimit.h states the shard count");

/* A locked shard: its buckets and its clock hand. */
struct rl_shard {
    struct shardtab_shard *tab;
    uint32_t *hand;
    struct rl_entry *entries;
};

struct ratelimit {
    struct shardtab table; /* of struct rl_entry */
    uint32_t *hands;       /* RATELIMIT_SHARDS: the CLOCK hands */
    struct ratelimit_bucket_config per_class[RATELIMIT_CLASS_COUNT];
    struct ratelimit_bucket_config global;
    uint32_t flood_threshold;
    uint32_t flood_window_ms;
    unsigned v6_prefix_len;
    /* The global bucket: last refill time (high 32 bits) and milli-tokens (low 32). */
    _Atomic uint64_t global_state;
    size_t memory_bytes;
};

static struct ratelimit_bucket_config pick(struct ratelimit_bucket_config given,
                                           struct ratelimit_bucket_config fallback)
{
    return (struct ratelimit_bucket_config){
        .rate_per_s = given.rate_per_s != 0 ? given.rate_per_s : fallback.rate_per_s,
        .burst = given.burst != 0 ? given.burst : fallback.burst,
    };
}

static int configure(const struct ratelimit_config *cfg, struct ratelimit *t)
{
    for (int c = 0; c < RATELIMIT_CLASS_COUNT; c++) {
        t->per_class[c] = pick(cfg->per_class[c], class_defaults[c]);
        if (t->per_class[c].burst > RL_GLOBAL_BURST_MAX ||
            t->per_class[c].rate_per_s > RL_GLOBAL_BURST_MAX) {
            return -SW_EBADARG;
        }
    }
    t->global = pick(cfg->global, global_default);
    t->flood_threshold = cfg->flood_threshold != 0 ? cfg->flood_threshold : RL_DEFAULT_FLOOD;
    uint32_t window_s = cfg->flood_window_s != 0 ? cfg->flood_window_s : RL_DEFAULT_FLOOD_S;
    if (t->global.burst > RL_GLOBAL_BURST_MAX || t->global.rate_per_s > RL_GLOBAL_BURST_MAX ||
        window_s > 86400u) {
        return -SW_EBADARG;
    }
    t->flood_window_ms = window_s * 1000u;
    return 0;
}

int ratelimit_new(const struct ratelimit_config *cfg, struct ratelimit **out)
{
    size_t max_entries = cfg->max_entries != 0 ? cfg->max_entries : RL_DEFAULT_ENTRIES;
    if (max_entries > ((size_t)1 << 26)) {
        return -SW_EBADARG;
    }
    struct ratelimit *t = sw_calloc(1, sizeof(*t));
    if (t == NULL) {
        return -ENOMEM;
    }
    int err = configure(cfg, t);
    if (err != 0) {
        sw_free(t);
        return err;
    }
    t->v6_prefix_len = cfg->v6_prefix_len;
    /* The global bucket starts full; its clock starts at the first call. */
    atomic_init(&t->global_state, (uint64_t)t->global.burst * RL_MILLI);
    t->hands = sw_calloc(RATELIMIT_SHARDS, sizeof(*t->hands));
    err =
        t->hands == NULL ? -ENOMEM : shardtab_init(&t->table, sizeof(struct rl_entry), max_entries);
    t->memory_bytes = sizeof(*t) + RATELIMIT_SHARDS * sizeof(*t->hands) + t->table.memory_bytes;
    if (err != 0) {
        ratelimit_free(t);
        return err;
    }
    *out = t;
    return 0;
}

void ratelimit_free(struct ratelimit *table)
{
    if (table == NULL) {
        return;
    }
    shardtab_fini(&table->table);
    sw_free(table->hands);
    sw_free(table);
}

enum ratelimit_class ratelimit_class_of(struct sv method)
{
    if (sv_eq(method, SV("REGISTER"))) {
        return RATELIMIT_REGISTER;
    }
    if (sv_eq(method, SV("INVITE"))) {
        return RATELIMIT_INVITE;
    }
    if (sv_eq(method, SV("OPTIONS"))) {
        return RATELIMIT_OPTIONS;
    }
    return RATELIMIT_OTHER;
}

/*
 * Milliseconds from `then` to `now` (low 32 bits of the monotonic clock). Workers read
 * the clock before taking the lock, so `now` may lag a time another worker stored a
 * moment ago: a negative difference counts as 0, never as 49 days.
 */
static uint32_t elapsed_ms(uint32_t now, uint32_t then)
{
    int32_t diff = (int32_t)(now - then);
    return diff > 0 ? (uint32_t)diff : 0;
}

static uint64_t bucket_cap_milli(const struct ratelimit *t, const struct rl_entry *e)
{
    return (uint64_t)t->per_class[e->cls].burst * e->factor * RL_MILLI;
}

/* Tokens after refilling up to `now`, without storing them. */
static uint64_t refilled(const struct ratelimit *t, const struct rl_entry *e, uint32_t now)
{
    uint64_t elapsed = elapsed_ms(now, e->last_ms);
    uint64_t cap = bucket_cap_milli(t, e);
    /* rate per second = rate milli-tokens per millisecond. */
    uint64_t gained = elapsed * t->per_class[e->cls].rate_per_s * e->factor;
    return e->tokens_milli + gained >= cap ? cap : e->tokens_milli + gained;
}

static bool is_full(const struct ratelimit *t, const struct rl_entry *e, uint32_t now)
{
    return refilled(t, e, now) >= bucket_cap_milli(t, e);
}

/* The CLOCK sweep of the file comment. Returns the entry to reuse. Under the lock. */
static uint32_t clock_evict(const struct ratelimit *t, struct rl_shard *shard, uint32_t now)
{
    uint32_t max_count = shard->tab->max_count;
    uint32_t first_unreferenced = IPTAB_NONE;
    uint32_t full = IPTAB_NONE;
    uint32_t at = *shard->hand;
    for (int n = 0; n < RATELIMIT_EVICT_SCAN; n++) {
        struct rl_entry *e = &shard->entries[at];
        if (is_full(t, e, now)) {
            full = at;
            break;
        }
        /* The hand clears bits only up to the first unreferenced bucket; beyond it the
         * scan only looks for a full bucket. */
        if (first_unreferenced == IPTAB_NONE) {
            if (!e->is_referenced) {
                first_unreferenced = at;
            }
            e->is_referenced = false;
        }
        at = (at + 1) % max_count;
    }
    uint32_t victim = full != IPTAB_NONE ? full : first_unreferenced;
    if (victim == IPTAB_NONE) {
        victim = *shard->hand;
    }
    *shard->hand = (victim + 1) % max_count;
    return victim;
}

/* What identifies a bucket. */
struct rl_key {
    const struct sw_ip *ip;
    uint8_t cls;
    uint64_t hash;
};

static bool bucket_is(const void *entry, const void *key)
{
    const struct rl_entry *e = entry;
    const struct rl_key *k = key;
    return e->cls == k->cls && sw_ip_eq(&e->ip, k->ip);
}

static struct rl_entry *bucket_claim(const struct ratelimit *t, struct rl_shard *shard,
                                     struct rl_key key, uint16_t factor, uint32_t now)
{
    uint32_t idx = shardtab_find(&t->table, shard->tab, key.hash, bucket_is, &key);
    if (idx != SHARDTAB_NONE) {
        struct rl_entry *e = &shard->entries[idx];
        e->is_referenced = true;
        return e;
    }
    idx = shardtab_insert(shard->tab, key.hash);
    if (idx == SHARDTAB_NONE) {
        uint32_t victim = clock_evict(t, shard, now);
        shardtab_remove(shard->tab, shard->entries[victim].hash, victim);
        idx = shardtab_insert(shard->tab, key.hash);
    }
    struct rl_entry *e = &shard->entries[idx];
    memset(e, 0, sizeof(*e));
    e->ip = *key.ip;
    e->cls = key.cls;
    e->hash = (uint32_t)key.hash;
    e->factor = factor;
    e->is_used = true;
    e->last_ms = now;
    e->tokens_milli = bucket_cap_milli(t, e);
    return e;
}

/* Counts an over-budget request; true when it makes the source's flood reportable. */
static bool note_over(const struct ratelimit *t, struct rl_entry *e, uint32_t now)
{
    if (e->over_count == 0 || elapsed_ms(now, e->window_start_ms) >= t->flood_window_ms) {
        e->window_start_ms = now;
        e->over_count = 0;
        e->is_flood_reported = false;
    }
    e->over_count++;
    if (e->over_count >= t->flood_threshold && !e->is_flood_reported) {
        e->is_flood_reported = true;
        return true;
    }
    return false;
}

/* The global bucket: a lock-free take of one token. Fails closed under heavy contention. */
static bool global_take(struct ratelimit *t, uint32_t now)
{
    uint64_t cap = (uint64_t)t->global.burst * RL_MILLI;
    uint64_t state = atomic_load_explicit(&t->global_state, memory_order_relaxed);
    for (int attempt = 0; attempt < RL_GLOBAL_CAS_ATTEMPTS; attempt++) {
        uint32_t last = (uint32_t)(state >> 32);
        uint64_t tokens = state & 0xffffffffu;
        uint64_t gained = (uint64_t)elapsed_ms(now, last) * t->global.rate_per_s;
        tokens = tokens + gained >= cap ? cap : tokens + gained;
        if (tokens < RL_MILLI) {
            return false;
        }
        /* A lagging `now` keeps the later stamp. */
        uint32_t stamp = elapsed_ms(now, last) > 0 ? now : last;
        uint64_t next = ((uint64_t)stamp << 32) | (tokens - RL_MILLI);
        if (atomic_compare_exchange_weak_explicit(&t->global_state, &state, next,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            return true;
        }
    }
    return false;
}

static uint64_t key_hash(const struct sw_ip *ip, uint8_t cls)
{
    uint8_t key[17];
    memcpy(key, ip->bytes, 16);
    key[16] = cls;
    return sw_hash_bytes(key, sizeof(key));
}

enum ratelimit_result ratelimit_take(struct ratelimit *table, const struct sw_ip *ip,
                                     enum ratelimit_class cls, uint32_t factor, uint64_t now_ms)
{
    if (factor == 0) {
        return RATELIMIT_OK;
    }
    uint16_t f = (uint16_t)(factor > RATELIMIT_FACTOR_MAX ? RATELIMIT_FACTOR_MAX : factor);
    uint8_t c = (uint8_t)((unsigned)cls < RATELIMIT_CLASS_COUNT ? cls : RATELIMIT_OTHER);
    uint32_t now = (uint32_t)now_ms;
    struct sw_ip source = sw_ip_aggregate(ip, table->v6_prefix_len);
    struct rl_key key = { .ip = &source, .cls = c, .hash = key_hash(&source, c) };
    struct shardtab_shard *locked = shardtab_lock(&table->table, key.hash);
    struct rl_shard shard = {
        .tab = locked,
        .hand = &table->hands[locked - table->table.shards],
        .entries = shardtab_entry(&table->table, locked, 0),
    };
    enum ratelimit_result result = RATELIMIT_OK;
    struct rl_entry *e = bucket_claim(table, &shard, key, f, now);
    e->factor = f;
    e->tokens_milli = refilled(table, e, now);
    if (elapsed_ms(now, e->last_ms) > 0) {
        e->last_ms = now;
    }
    if (e->tokens_milli >= RL_MILLI) {
        e->tokens_milli -= RL_MILLI;
    } else {
        result = note_over(table, e, now) ? RATELIMIT_FLOOD : RATELIMIT_OVER;
    }
    shardtab_unlock(locked);
    if (result == RATELIMIT_OK && f == 1 && !global_take(table, now)) {
        result = RATELIMIT_OVER;
    }
    return result;
}

uint32_t ratelimit_retry_after_s(const struct ratelimit *table, enum ratelimit_class cls,
                                 uint32_t factor)
{
    unsigned c = (unsigned)cls < RATELIMIT_CLASS_COUNT ? (unsigned)cls : RATELIMIT_OTHER;
    uint64_t rate = (uint64_t)table->per_class[c].rate_per_s * (factor == 0 ? 1 : factor);
    uint64_t seconds = rate == 0 ? 1 : (1 + rate - 1) / rate;
    return seconds == 0 ? 1 : (uint32_t)seconds;
}

size_t ratelimit_count(const struct ratelimit *table)
{
    return shardtab_count(&table->table);
}

size_t ratelimit_capacity(const struct ratelimit *table)
{
    return shardtab_capacity(&table->table);
}

size_t ratelimit_memory_bytes(const struct ratelimit *table)
{
    return table->memory_bytes;
}
