#include "state/failtrack.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "state/iptab.h"

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

struct ft_shard {
    pthread_mutex_t lock;
    struct iptab index;
    struct ft_entry *entries;
    uint32_t *free_stack;
    uint32_t free_count;
    uint32_t max_count;
    uint32_t lru_head;
    uint32_t lru_tail;
    bool is_lock_ready;
    char pad[64];
};

struct failtrack {
    struct ft_shard *shards;
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

static struct ft_shard *shard_of(const struct failtrack *ft, uint64_t hash)
{
    return &ft->shards[hash >> 58];
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

static int shard_init(struct ft_shard *shard, uint32_t max_count, size_t *bytes)
{
    shard->entries = sw_calloc(max_count, sizeof(*shard->entries));
    shard->free_stack = sw_calloc(max_count, sizeof(*shard->free_stack));
    if (shard->entries == NULL || shard->free_stack == NULL) {
        return -ENOMEM;
    }
    int err = iptab_init(&shard->index, max_count);
    if (err != 0) {
        return err;
    }
    if (pthread_mutex_init(&shard->lock, NULL) != 0) {
        return -ENOMEM;
    }
    shard->is_lock_ready = true;
    for (uint32_t i = 0; i < max_count; i++) {
        shard->free_stack[i] = max_count - 1 - i;
    }
    shard->free_count = max_count;
    shard->max_count = max_count;
    shard->lru_head = IPTAB_NONE;
    shard->lru_tail = IPTAB_NONE;
    *bytes += (size_t)max_count * (sizeof(*shard->entries) + sizeof(*shard->free_stack)) +
              iptab_memory_bytes(&shard->index);
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
    ft->shards = sw_calloc(FAILTRACK_SHARDS, sizeof(*ft->shards));
    err = ft->shards == NULL ? -ENOMEM : 0;
    ft->memory_bytes = sizeof(*ft) + FAILTRACK_SHARDS * sizeof(*ft->shards);
    uint32_t per_shard = (uint32_t)((max_sources + FAILTRACK_SHARDS - 1) / FAILTRACK_SHARDS);
    for (size_t i = 0; i < FAILTRACK_SHARDS && err == 0; i++) {
        err = shard_init(&ft->shards[i], per_shard, &ft->memory_bytes);
    }
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
    for (size_t i = 0; i < FAILTRACK_SHARDS && ft->shards != NULL; i++) {
        struct ft_shard *shard = &ft->shards[i];
        if (shard->is_lock_ready) {
            pthread_mutex_destroy(&shard->lock);
        }
        iptab_fini(&shard->index);
        sw_free(shard->entries);
        shard->entries = NULL;
        sw_free(shard->free_stack);
        shard->free_stack = NULL;
    }
    sw_free(ft->shards);
    ft->shards = NULL;
    sw_free(ft);
}

/* The LRU list: head = most recently failing, tail = least. Under the shard lock. */
static void lru_unlink(struct ft_shard *shard, uint32_t idx)
{
    struct ft_entry *e = &shard->entries[idx];
    if (e->lru_prev != IPTAB_NONE) {
        shard->entries[e->lru_prev].lru_next = e->lru_next;
    } else {
        shard->lru_head = e->lru_next;
    }
    if (e->lru_next != IPTAB_NONE) {
        shard->entries[e->lru_next].lru_prev = e->lru_prev;
    } else {
        shard->lru_tail = e->lru_prev;
    }
    e->lru_prev = IPTAB_NONE;
    e->lru_next = IPTAB_NONE;
}

static void lru_push_head(struct ft_shard *shard, uint32_t idx)
{
    struct ft_entry *e = &shard->entries[idx];
    e->lru_prev = IPTAB_NONE;
    e->lru_next = shard->lru_head;
    if (shard->lru_head != IPTAB_NONE) {
        shard->entries[shard->lru_head].lru_prev = idx;
    } else {
        shard->lru_tail = idx;
    }
    shard->lru_head = idx;
}

static uint32_t find(const struct ft_shard *shard, const struct sw_ip *ip, uint32_t hash)
{
    struct iptab_cursor cur;
    iptab_cursor_init(&shard->index, hash, &cur);
    for (uint32_t idx = iptab_next(&shard->index, &cur); idx != IPTAB_NONE;
         idx = iptab_next(&shard->index, &cur)) {
        if (sw_ip_eq(&shard->entries[idx].ip, ip)) {
            return idx;
        }
    }
    return IPTAB_NONE;
}

static void entry_drop(struct ft_shard *shard, uint32_t idx)
{
    lru_unlink(shard, idx);
    iptab_remove(&shard->index, shard->entries[idx].hash, idx);
    shard->free_stack[shard->free_count++] = idx;
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
    uint32_t victim = shard->lru_tail;
    uint32_t victim_failures = UINT32_MAX;
    uint32_t idx = shard->lru_tail;
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
                            const struct sw_ip *ip, uint32_t hash, uint32_t now)
{
    uint32_t idx = find(shard, ip, hash);
    if (idx != IPTAB_NONE) {
        lru_unlink(shard, idx);
        lru_push_head(shard, idx);
        return idx;
    }
    if (shard->free_count == 0) {
        entry_drop(shard, eviction_victim(ft, shard, now));
    }
    idx = shard->free_stack[--shard->free_count];
    struct ft_entry *e = &shard->entries[idx];
    memset(e, 0, sizeof(*e));
    e->ip = *ip;
    e->hash = hash;
    iptab_insert(&shard->index, hash, idx);
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
    struct ft_shard *shard = shard_of(ft, hash);
    pthread_mutex_lock(&shard->lock);
    uint32_t idx = entry_claim(ft, shard, &key, (uint32_t)hash, now);
    struct ft_entry *e = &shard->entries[idx];
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
        entry_drop(shard, idx);
    }
    pthread_mutex_unlock(&shard->lock);
}

void failtrack_forget(struct failtrack *ft, const struct sw_ip *ip)
{
    struct sw_ip key = sw_ip_aggregate(ip, ft->v6_prefix_len);
    uint64_t hash = ip_hash(&key);
    struct ft_shard *shard = shard_of(ft, hash);
    pthread_mutex_lock(&shard->lock);
    uint32_t idx = find(shard, &key, (uint32_t)hash);
    if (idx != IPTAB_NONE) {
        entry_drop(shard, idx);
    }
    pthread_mutex_unlock(&shard->lock);
}

uint32_t failtrack_failures(const struct failtrack *ft, const struct sw_ip *ip, uint64_t now_ms)
{
    struct sw_ip key = sw_ip_aggregate(ip, ft->v6_prefix_len);
    uint64_t hash = ip_hash(&key);
    struct ft_shard *shard = shard_of(ft, hash);
    pthread_mutex_lock(&shard->lock);
    uint32_t idx = find(shard, &key, (uint32_t)hash);
    uint32_t n =
        idx == IPTAB_NONE ? 0 : failures_within(ft, &shard->entries[idx], (uint32_t)now_ms);
    pthread_mutex_unlock(&shard->lock);
    return n;
}

size_t failtrack_count(const struct failtrack *ft)
{
    size_t total = 0;
    for (size_t i = 0; i < FAILTRACK_SHARDS; i++) {
        struct ft_shard *shard = &ft->shards[i];
        pthread_mutex_lock(&shard->lock);
        total += shard->max_count - shard->free_count;
        pthread_mutex_unlock(&shard->lock);
    }
    return total;
}

size_t failtrack_capacity(const struct failtrack *ft)
{
    return (size_t)ft->shards[0].max_count * FAILTRACK_SHARDS;
}

size_t failtrack_memory_bytes(const struct failtrack *ft)
{
    return ft->memory_bytes;
}
