#include "state/failtrack.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "state/shardtab.h"

#define FT_DEFAULT_MAXRETRY 3u
#define FT_DEFAULT_FINDTIME 300u
#define FT_DEFAULT_RETRANS  32000u
#define FT_DEFAULT_SOURCES  65536u
#define FT_MAX_FINDTIME_S   (7u * 86400u)

/*
 * One source. Times are the low 32 bits of monotonic milliseconds, compared by unsigned
 * difference: correct for windows below 24 days (findtime is capped at 7).
 */
struct ft_entry {
    struct sw_ip ip;
    uint32_t hash;
    uint32_t lru_prev; /* towards the most recent; IPTAB_NONE at the head */
    uint32_t lru_next; /* towards the least recent; IPTAB_NONE at the tail */
    uint32_t fail_ms[FAILTRACK_MAXRETRY_MAX];
    uint8_t fail_kind[FAILTRACK_MAXRETRY_MAX];
    uint8_t fail_count; /* ring entries in use (<= maxretry) */
    uint8_t fail_head;  /* next ring position */
    uint8_t retrans_head;
    uint64_t retrans_fp[FAILTRACK_RETRANS];
    uint32_t retrans_ms[FAILTRACK_RETRANS];
};

_Static_assert(FAILTRACK_SHARDS == SHARDTAB_SHARDS, "failtrack.h states the shard count");

/* A shard's LRU list, beside its shardtab shard. */
struct ft_lru {
    uint32_t head;
    uint32_t tail;
};

/* A locked shard: its records and its LRU list. */
struct ft_shard {
    struct shardtab_shard *tab;
    struct ft_lru *lru;
    struct ft_entry *entries;
};

struct failtrack {
    struct shardtab table; /* of struct ft_entry */
    struct ft_lru *lru;    /* FAILTRACK_SHARDS; a pointer so that const readers may lock */
    uint32_t maxretry;
    uint32_t findtime_ms;
    uint32_t retrans_window_ms;
    unsigned v6_prefix_len;
    size_t memory_bytes;
};

/* Milliseconds from `then` to `now`; a `now` read just before another worker stored a
 * later time counts as 0, not as 49 days. */
static uint32_t age_ms(uint32_t now, uint32_t then)
{
    int32_t diff = (int32_t)(now - then);
    return diff > 0 ? (uint32_t)diff : 0;
}

static uint64_t ip_hash(const struct sw_ip *ip)
{
    return sw_hash_bytes(ip->bytes, sizeof(ip->bytes));
}

static struct ft_shard shard_lock(const struct failtrack *ft, uint64_t hash)
{
    struct shardtab_shard *tab = shardtab_lock(&ft->table, hash);
    return (struct ft_shard){
        .tab = tab,
        .lru = &ft->lru[tab - ft->table.shards],
        .entries = shardtab_entry(&ft->table, tab, 0),
    };
}

static int validate(const struct failtrack_config *cfg, struct failtrack *ft)
{
    ft->maxretry = cfg->maxretry != 0 ? cfg->maxretry : FT_DEFAULT_MAXRETRY;
    uint32_t findtime_s = cfg->findtime_s != 0 ? cfg->findtime_s : FT_DEFAULT_FINDTIME;
    ft->retrans_window_ms =
        cfg->retrans_window_ms != 0 ? cfg->retrans_window_ms : FT_DEFAULT_RETRANS;
    if (ft->maxretry > FAILTRACK_MAXRETRY_MAX || findtime_s > FT_MAX_FINDTIME_S ||
        ft->retrans_window_ms > FT_MAX_FINDTIME_S * 1000u) {
        return -SW_EBADARG;
    }
    ft->findtime_ms = findtime_s * 1000u;
    return 0;
}

int failtrack_new(const struct failtrack_config *cfg, struct failtrack **out)
{
    size_t max_sources = cfg->max_sources != 0 ? cfg->max_sources : FT_DEFAULT_SOURCES;
    if (max_sources > ((size_t)1 << 26)) {
        return -SW_EBADARG;
    }
    struct failtrack *ft = sw_calloc(1, sizeof(*ft));
    if (ft == NULL) {
        return -ENOMEM;
    }
    int err = validate(cfg, ft);
    if (err != 0) {
        sw_free(ft);
        return err;
    }
    ft->v6_prefix_len = cfg->v6_prefix_len;
    ft->lru = sw_calloc(FAILTRACK_SHARDS, sizeof(*ft->lru));
    for (size_t i = 0; ft->lru != NULL && i < FAILTRACK_SHARDS; i++) {
        ft->lru[i] = (struct ft_lru){ .head = IPTAB_NONE, .tail = IPTAB_NONE };
    }
    err =
        ft->lru == NULL ? -ENOMEM : shardtab_init(&ft->table, sizeof(struct ft_entry), max_sources);
    ft->memory_bytes = sizeof(*ft) + FAILTRACK_SHARDS * sizeof(*ft->lru) + ft->table.memory_bytes;
    if (err != 0) {
        failtrack_free(ft);
        return err;
    }
    *out = ft;
    return 0;
}

void failtrack_free(struct failtrack *ft)
{
    if (ft == NULL) {
        return;
    }
    shardtab_fini(&ft->table);
    sw_free(ft->lru);
    sw_free(ft);
}

/* The LRU list: head = most recently failing, tail = least. Under the shard lock. */
static void lru_unlink(struct ft_shard *shard, uint32_t idx)
{
    struct ft_entry *e = &shard->entries[idx];
    if (e->lru_prev != IPTAB_NONE) {
        shard->entries[e->lru_prev].lru_next = e->lru_next;
    } else {
        shard->lru->head = e->lru_next;
    }
    if (e->lru_next != IPTAB_NONE) {
        shard->entries[e->lru_next].lru_prev = e->lru_prev;
    } else {
        shard->lru->tail = e->lru_prev;
    }
    e->lru_prev = IPTAB_NONE;
    e->lru_next = IPTAB_NONE;
}

static void lru_push_head(struct ft_shard *shard, uint32_t idx)
{
    struct ft_entry *e = &shard->entries[idx];
    e->lru_prev = IPTAB_NONE;
    e->lru_next = shard->lru->head;
    if (shard->lru->head != IPTAB_NONE) {
        shard->entries[shard->lru->head].lru_prev = idx;
    } else {
        shard->lru->tail = idx;
    }
    shard->lru->head = idx;
}

static bool entry_is(const void *entry, const void *ip)
{
    return sw_ip_eq(&((const struct ft_entry *)entry)->ip, ip);
}

static uint32_t find(const struct failtrack *ft, const struct ft_shard *shard,
                     const struct sw_ip *ip, uint64_t hash)
{
    return shardtab_find(&ft->table, shard->tab, hash, entry_is, ip);
}

static void entry_drop(struct ft_shard *shard, uint32_t idx)
{
    lru_unlink(shard, idx);
    shardtab_remove(shard->tab, shard->entries[idx].hash, idx);
}

static uint32_t failures_within(const struct failtrack *ft, const struct ft_entry *e, uint32_t now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < e->fail_count; i++) {
        n += age_ms(now, e->fail_ms[i]) < ft->findtime_ms;
    }
    return n;
}

/* The entry to drop from a full shard (see the header). Under the lock. */
static uint32_t eviction_victim(const struct failtrack *ft, const struct ft_shard *shard,
                                uint32_t now)
{
    uint32_t victim = shard->lru->tail;
    uint32_t victim_failures = UINT32_MAX;
    uint32_t idx = shard->lru->tail;
    for (int n = 0; n < FAILTRACK_EVICT_SAMPLE && idx != IPTAB_NONE; n++) {
        uint32_t failures = failures_within(ft, &shard->entries[idx], now);
        if (failures < victim_failures) {
            victim = idx;
            victim_failures = failures;
        }
        idx = shard->entries[idx].lru_prev;
    }
    return victim;
}

static uint32_t entry_claim(const struct failtrack *ft, struct ft_shard *shard,
                            const struct sw_ip *ip, uint64_t hash, uint32_t now)
{
    uint32_t idx = find(ft, shard, ip, hash);
    if (idx != IPTAB_NONE) {
        lru_unlink(shard, idx);
        lru_push_head(shard, idx);
        return idx;
    }
    idx = shardtab_insert(shard->tab, hash);
    if (idx == SHARDTAB_NONE) {
        entry_drop(shard, eviction_victim(ft, shard, now));
        idx = shardtab_insert(shard->tab, hash);
    }
    struct ft_entry *e = &shard->entries[idx];
    memset(e, 0, sizeof(*e));
    e->ip = *ip;
    e->hash = (uint32_t)hash;
    lru_push_head(shard, idx);
    return idx;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t words[2] = { a, b };
    return sw_hash_bytes(words, sizeof(words));
}

static uint64_t retrans_fingerprint(const struct failtrack_attempt *a)
{
    uint64_t fp = mix(sw_hash_sv(a->call_id), a->cseq);
    return mix(fp, a->response.ptr == NULL ? 0 : sw_hash_sv(a->response) | 1u);
}

/* True when the attempt repeats a request seen within the window; remembers it if not. */
static bool is_retransmission(const struct failtrack *ft, struct ft_entry *e,
                              const struct failtrack_attempt *a, uint32_t now)
{
    uint64_t fp = retrans_fingerprint(a);
    for (int i = 0; i < FAILTRACK_RETRANS; i++) {
        if (e->retrans_fp[i] == fp && age_ms(now, e->retrans_ms[i]) < ft->retrans_window_ms) {
            return true;
        }
    }
    e->retrans_fp[e->retrans_head] = fp;
    e->retrans_ms[e->retrans_head] = now;
    e->retrans_head = (uint8_t)((e->retrans_head + 1) % FAILTRACK_RETRANS);
    return false;
}

/* "InvalidPassword=2,FailedACL=1" from the failures within findtime. */
static void reason_format(const struct failtrack *ft, const struct ft_entry *e, uint32_t now,
                          char *out, size_t cap)
{
    uint32_t counts[EV_KIND_COUNT] = { 0 };
    for (uint32_t i = 0; i < e->fail_count; i++) {
        if (age_ms(now, e->fail_ms[i]) < ft->findtime_ms && e->fail_kind[i] < EV_KIND_COUNT) {
            counts[e->fail_kind[i]]++;
        }
    }
    struct sw_buf buf;
    sw_buf_init(&buf, out, cap - 1);
    for (unsigned k = 0; k < EV_KIND_COUNT; k++) {
        if (counts[k] != 0) {
            sw_buf_fmt(&buf, "%s%s=%u", buf.len > 0 ? "," : "",
                       sw_event_kind_name((enum sw_event_kind)k), counts[k]);
        }
    }
    out[buf.len] = '\0';
}

static enum failtrack_verdict classify(const struct failtrack *ft, struct ft_entry *e,
                                       const struct failtrack_attempt *a, uint32_t now)
{
    if (a->call_id.ptr == NULL) {
        return FAILTRACK_COUNTED;
    }
    if (is_retransmission(ft, e, a, now)) {
        return FAILTRACK_RETRANSMISSION;
    }
    return FAILTRACK_COUNTED;
}

void failtrack_record(struct failtrack *ft, const struct failtrack_attempt *attempt,
                      uint64_t now_ms, struct failtrack_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!sw_event_kind_is_failure(attempt->kind)) {
        out->verdict = FAILTRACK_IGNORED;
        return;
    }
    uint32_t now = (uint32_t)now_ms;
    struct sw_ip key = sw_ip_aggregate(&attempt->ip, ft->v6_prefix_len);
    uint64_t hash = ip_hash(&key);
    struct ft_shard shard = shard_lock(ft, hash);
    uint32_t idx = entry_claim(ft, &shard, &key, hash, now);
    struct ft_entry *e = &shard.entries[idx];
    out->verdict = classify(ft, e, attempt, now);
    if (out->verdict == FAILTRACK_COUNTED) {
        e->fail_ms[e->fail_head] = now;
        e->fail_kind[e->fail_head] = (uint8_t)attempt->kind;
        e->fail_head = (uint8_t)((e->fail_head + 1) % ft->maxretry);
        if (e->fail_count < ft->maxretry) {
            e->fail_count++;
        }
    }
    out->failures = failures_within(ft, e, now);
    if (out->verdict == FAILTRACK_COUNTED && out->failures >= ft->maxretry) {
        out->verdict = FAILTRACK_BAN;
        reason_format(ft, e, now, out->reason, sizeof(out->reason));
        entry_drop(&shard, idx);
    }
    shardtab_unlock(shard.tab);
}

void failtrack_forget(struct failtrack *ft, const struct sw_ip *ip)
{
    struct sw_ip key = sw_ip_aggregate(ip, ft->v6_prefix_len);
    uint64_t hash = ip_hash(&key);
    struct ft_shard shard = shard_lock(ft, hash);
    uint32_t idx = find(ft, &shard, &key, hash);
    if (idx != SHARDTAB_NONE) {
        entry_drop(&shard, idx);
    }
    shardtab_unlock(shard.tab);
}

uint32_t failtrack_failures(const struct failtrack *ft, const struct sw_ip *ip, uint64_t now_ms)
{
    struct sw_ip key = sw_ip_aggregate(ip, ft->v6_prefix_len);
    uint64_t hash = ip_hash(&key);
    struct ft_shard shard = shard_lock(ft, hash);
    uint32_t idx = find(ft, &shard, &key, hash);
    uint32_t n =
        idx == SHARDTAB_NONE ? 0 : failures_within(ft, &shard.entries[idx], (uint32_t)now_ms);
    shardtab_unlock(shard.tab);
    return n;
}

size_t failtrack_count(const struct failtrack *ft)
{
    return shardtab_count(&ft->table);
}

size_t failtrack_capacity(const struct failtrack *ft)
{
    return shardtab_capacity(&ft->table);
}

size_t failtrack_memory_bytes(const struct failtrack *ft)
{
    return ft->memory_bytes;
}
