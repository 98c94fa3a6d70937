#include "state/ban.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/time.h"

#define BAN_DEFAULT_MAX_ENTRIES 65536u
#define BAN_DEFAULT_BANTIME_S   86400u
#define BAN_DEFAULT_MAX_S       (30u * 86400u)
#define BAN_READ_RETRIES        64
#define BAN_NOTIFY_BATCH        64
#define BAN_NEVER_BAN_MAX       1024
#define BAN_NO_COLD             UINT32_MAX

/*
 * The part of an entry that lock-free readers see. Every member is atomic so that a read
 * racing a writer is defined behaviour (and TSan-clean); the seqlock tells the reader
 * whether what it read was consistent. end_s == 0 marks an empty slot.
 */
struct ban_slot {
    _Atomic uint64_t key[2];
    _Atomic int64_t end_s;
    _Atomic uint32_t cold; /* index into the shard's cold records */
};

/* The rest of an entry, touched only under the shard mutex. */
struct ban_cold {
    uint64_t hash;
    int64_t start_s;
    uint32_t offence;
    uint8_t source;
    bool is_expire_reported;
    bool is_counted; /* counted in the shard's `active` */
    char reason[BAN_REASON_CAP];
};

struct ban_shard {
    _Atomic uint32_t seq; /* odd while a writer is inside */
    pthread_mutex_t lock;
    struct ban_slot *slots;
    uint32_t mask;
    struct ban_cold *cold;
    uint32_t *free_cold; /* stack of free cold indexes */
    uint32_t free_count;
    uint32_t count;
    uint32_t max_count;
    uint32_t active; /* entries whose end ban_store_expire has not reported yet */
    /* The earliest second at which ban_store_expire has work here (an end to report, a
     * history to forget); never later than the truth, so a shard is scanned only when
     * something in it is due. BAN_FOREVER: nothing. */
    int64_t next_due_s;
    /* Keeps two shards' counters off one cache line. */
    char pad[64];
};

struct ban_backend {
    const struct ban_store_ops *ops;
    void *ctx;
};

struct ban_store {
    struct ban_shard *shards; /* BAN_SHARDS; a pointer so that const readers may lock */
    uint32_t bantime_s;
    uint32_t bantime_max_s;
    uint32_t history_s;
    double factor;
    struct sw_cidr *never_ban;
    size_t never_ban_count;
    unsigned v6_prefix_len;
    struct ban_backend backends[BAN_BACKENDS_MAX];
    size_t backend_count;
    size_t memory_bytes;
};

struct ban_key {
    uint64_t words[2];
};

static struct ban_key key_of(const struct sw_ip *ip)
{
    struct ban_key key;
    memcpy(key.words, ip->bytes, sizeof(key.words));
    return key;
}

static uint64_t hash_of(const struct sw_ip *ip)
{
    return sw_hash_bytes(ip->bytes, sizeof(ip->bytes));
}

static struct ban_shard *shard_of(const struct ban_store *store, uint64_t hash)
{
    /* The top bits pick the shard; the low bits pick the slot, so they stay independent. */
    return &store->shards[hash >> 58];
}

static uint32_t round_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v && p < (1u << 30)) {
        p <<= 1;
    }
    return p;
}

const char *ban_source_name(enum ban_source source)
{
    return source == BAN_SOURCE_MANUAL ? "manual" : "auto";
}

static int shard_init(struct ban_shard *shard, uint32_t max_count, size_t *bytes)
{
    uint32_t slot_count = round_pow2(max_count * 2);
    shard->slots = sw_calloc(slot_count, sizeof(*shard->slots));
    shard->cold = sw_calloc(max_count, sizeof(*shard->cold));
    shard->free_cold = sw_calloc(max_count, sizeof(*shard->free_cold));
    if (shard->slots == NULL || shard->cold == NULL || shard->free_cold == NULL) {
        return -ENOMEM;
    }
    if (pthread_mutex_init(&shard->lock, NULL) != 0) {
        return -ENOMEM;
    }
    shard->mask = slot_count - 1;
    shard->max_count = max_count;
    for (uint32_t i = 0; i < max_count; i++) {
        shard->free_cold[i] = max_count - 1 - i;
    }
    shard->free_count = max_count;
    shard->next_due_s = BAN_FOREVER;
    *bytes += slot_count * sizeof(*shard->slots) +
              max_count * (sizeof(*shard->cold) + sizeof(*shard->free_cold));
    return 0;
}

static void apply_defaults(const struct ban_config *cfg, struct ban_store *store)
{
    store->bantime_s = cfg->bantime_s != 0 ? cfg->bantime_s : BAN_DEFAULT_BANTIME_S;
    store->bantime_max_s = cfg->bantime_max_s != 0 ? cfg->bantime_max_s : BAN_DEFAULT_MAX_S;
    if (store->bantime_max_s < store->bantime_s) {
        store->bantime_max_s = store->bantime_s;
    }
    store->history_s = cfg->history_s != 0 ? cfg->history_s : store->bantime_max_s;
    store->factor = cfg->bantime_factor >= 1.0 ? cfg->bantime_factor : 1.0;
    store->v6_prefix_len = cfg->v6_prefix_len < 128 ? cfg->v6_prefix_len : 0;
}

int ban_store_new(const struct ban_config *cfg, struct ban_store **out)
{
    size_t max_entries = cfg->max_entries != 0 ? cfg->max_entries : BAN_DEFAULT_MAX_ENTRIES;
    if (max_entries > (size_t)1 << 28 || cfg->never_ban_count > BAN_NEVER_BAN_MAX ||
        (cfg->never_ban_count > 0 && cfg->never_ban == NULL)) {
        return -SW_EBADARG;
    }
    struct ban_store *store = sw_calloc(1, sizeof(*store));
    if (store == NULL) {
        return -ENOMEM;
    }
    apply_defaults(cfg, store);
    store->memory_bytes = sizeof(*store) + BAN_SHARDS * sizeof(*store->shards);
    uint32_t per_shard = (uint32_t)((max_entries + BAN_SHARDS - 1) / BAN_SHARDS);
    store->shards = sw_calloc(BAN_SHARDS, sizeof(*store->shards));
    int err = store->shards == NULL ? -ENOMEM : 0;
    for (size_t i = 0; i < BAN_SHARDS && err == 0; i++) {
        err = shard_init(&store->shards[i], per_shard, &store->memory_bytes);
    }
    if (err == 0 && cfg->never_ban_count > 0) {
        store->never_ban = sw_calloc(cfg->never_ban_count, sizeof(*store->never_ban));
        if (store->never_ban == NULL) {
            err = -ENOMEM;
        } else {
            memcpy(store->never_ban, cfg->never_ban,
                   cfg->never_ban_count * sizeof(*store->never_ban));
            store->never_ban_count = cfg->never_ban_count;
        }
    }
    if (err != 0) {
        ban_store_free(store);
        return err;
    }
    *out = store;
    return 0;
}

void ban_store_free(struct ban_store *store)
{
    if (store == NULL) {
        return;
    }
    for (size_t i = store->backend_count; i > 0; i--) {
        const struct ban_backend *b = &store->backends[i - 1];
        if (b->ops->close != NULL) {
            b->ops->close(b->ctx);
        }
    }
    for (size_t i = 0; i < BAN_SHARDS && store->shards != NULL; i++) {
        struct ban_shard *shard = &store->shards[i];
        if (shard->mask != 0) {
            pthread_mutex_destroy(&shard->lock);
        }
        sw_free(shard->slots);
        shard->slots = NULL;
        sw_free(shard->cold);
        shard->cold = NULL;
        sw_free(shard->free_cold);
        shard->free_cold = NULL;
    }
    sw_free(store->shards);
    store->shards = NULL;
    sw_free(store->never_ban);
    store->never_ban = NULL;
    sw_free(store);
}

int ban_store_attach(struct ban_store *store, const struct ban_store_ops *ops, void *backend)
{
    SW_ASSERT(ops != NULL);
    if (store->backend_count == BAN_BACKENDS_MAX) {
        return -SW_EFULL;
    }
    /* Attached first so that a load that re-publishes skips its origin only. */
    store->backends[store->backend_count] = (struct ban_backend){ .ops = ops, .ctx = backend };
    store->backend_count++;
    if (ops->load != NULL) {
        int err = ops->load(backend, store, sw_wall_s());
        if (err != 0) {
            store->backend_count--;
            return err;
        }
    }
    return 0;
}

bool ban_store_is_exempt(const struct ban_store *store, const struct sw_ip *ip)
{
    for (size_t i = 0; i < store->never_ban_count; i++) {
        if (sw_cidr_contains(&store->never_ban[i], ip)) {
            return true;
        }
    }
    return false;
}

struct sw_ip ban_store_key(const struct ban_store *store, const struct sw_ip *ip)
{
    struct sw_ip key = sw_ip_aggregate(ip, store->v6_prefix_len);
    if (sw_ip_eq(&key, ip)) {
        return key;
    }
    struct sw_cidr prefix = { .ip = key, .prefix_len = (uint8_t)store->v6_prefix_len };
    for (size_t i = 0; i < store->never_ban_count; i++) {
        const struct sw_cidr *exempt = &store->never_ban[i];
        if (sw_cidr_contains(exempt, &key) || sw_cidr_contains(&prefix, &exempt->ip)) {
            return *ip; /* the prefix holds an exempt address: ban this one alone */
        }
    }
    return key;
}

unsigned ban_store_key_prefix_len(const struct ban_store *store, const struct sw_ip *key)
{
    if (store->v6_prefix_len == 0 || sw_ip_is_v4(key)) {
        return 128;
    }
    struct sw_ip first = sw_ip_aggregate(key, store->v6_prefix_len);
    return sw_ip_eq(&first, key) ? store->v6_prefix_len : 128;
}

/* The prefix a lookup of `ip` must also try, or false when that is `ip` itself. */
static bool other_key(const struct ban_store *store, const struct sw_ip *ip, struct sw_ip *out)
{
    *out = sw_ip_aggregate(ip, store->v6_prefix_len);
    return !sw_ip_eq(out, ip);
}

uint32_t ban_store_duration(const struct ban_store *store, uint32_t offence)
{
    double duration = store->bantime_s;
    /* Bounded: the cap is reached long before 64 doublings of any factor > 1. */
    for (uint32_t i = 1; i < offence && i < 64 && duration < store->bantime_max_s; i++) {
        duration *= store->factor;
    }
    if (duration > store->bantime_max_s) {
        duration = store->bantime_max_s;
    }
    return (uint32_t)duration;
}

/* Slot index of `key` in the shard, or -1. Relaxed loads: callers hold the lock or the seq. */
static long probe(const struct ban_shard *shard, struct ban_key key, uint64_t hash)
{
    uint32_t i = (uint32_t)hash & shard->mask;
    for (uint32_t n = 0; n <= shard->mask; n++) {
        const struct ban_slot *slot = &shard->slots[i];
        if (atomic_load_explicit(&slot->end_s, memory_order_relaxed) == 0) {
            return -1;
        }
        if (atomic_load_explicit(&slot->key[0], memory_order_relaxed) == key.words[0] &&
            atomic_load_explicit(&slot->key[1], memory_order_relaxed) == key.words[1]) {
            return (long)i;
        }
        i = (i + 1) & shard->mask;
    }
    return -1;
}

static int64_t read_end_locked(struct ban_shard *shard, struct ban_key key, uint64_t hash)
{
    pthread_mutex_lock(&shard->lock);
    long at = probe(shard, key, hash);
    int64_t end = at < 0 ? 0 : atomic_load_explicit(&shard->slots[at].end_s, memory_order_relaxed);
    pthread_mutex_unlock(&shard->lock);
    return end;
}

static bool is_banned_key(const struct ban_store *store, const struct sw_ip *ip, int64_t now_s)
{
    uint64_t hash = hash_of(ip);
    struct ban_key key = key_of(ip);
    struct ban_shard *shard = shard_of(store, hash);
    for (int attempt = 0; attempt < BAN_READ_RETRIES; attempt++) {
        uint32_t before = atomic_load_explicit(&shard->seq, memory_order_acquire);
        if ((before & 1u) != 0) {
            continue;
        }
        long at = probe(shard, key, hash);
        int64_t end =
            at < 0 ? 0 : atomic_load_explicit(&shard->slots[at].end_s, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&shard->seq, memory_order_relaxed) == before) {
            return end > now_s;
        }
    }
    /* A writer kept the shard busy: take the lock rather than spin without bound. */
    return read_end_locked(shard, key, hash) > now_s;
}

bool ban_store_is_banned(const struct ban_store *store, const struct sw_ip *ip, int64_t now_s)
{
    struct sw_ip prefix;
    return is_banned_key(store, ip, now_s) ||
           (other_key(store, ip, &prefix) && is_banned_key(store, &prefix, now_s));
}

/* Writers: the seq is odd between write_begin and write_end, under the shard mutex. */
static void write_begin(struct ban_shard *shard)
{
    uint32_t seq = atomic_load_explicit(&shard->seq, memory_order_relaxed);
    atomic_store_explicit(&shard->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_end(struct ban_shard *shard)
{
    uint32_t seq = atomic_load_explicit(&shard->seq, memory_order_relaxed);
    atomic_store_explicit(&shard->seq, seq + 1, memory_order_release);
}

static void slot_copy(struct ban_slot *dst, const struct ban_slot *src)
{
    for (int w = 0; w < 2; w++) {
        atomic_store_explicit(&dst->key[w],
                              atomic_load_explicit(&src->key[w], memory_order_relaxed),
                              memory_order_relaxed);
    }
    atomic_store_explicit(&dst->cold, atomic_load_explicit(&src->cold, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&dst->end_s, atomic_load_explicit(&src->end_s, memory_order_relaxed),
                          memory_order_relaxed);
}

/* Removes the entry at `at` (linear probing, backward-shift deletion). Inside a write. */
static void slot_remove(struct ban_shard *shard, uint32_t at)
{
    uint32_t cold = atomic_load_explicit(&shard->slots[at].cold, memory_order_relaxed);
    if (shard->cold[cold].is_counted) {
        shard->cold[cold].is_counted = false;
        shard->active--;
    }
    shard->free_cold[shard->free_count++] = cold;
    shard->count--;
    uint32_t hole = at;
    uint32_t j = at;
    for (uint32_t n = 0; n < shard->mask; n++) {
        j = (j + 1) & shard->mask;
        const struct ban_slot *next = &shard->slots[j];
        if (atomic_load_explicit(&next->end_s, memory_order_relaxed) == 0) {
            break;
        }
        uint32_t home =
            (uint32_t)shard->cold[atomic_load_explicit(&next->cold, memory_order_relaxed)].hash &
            shard->mask;
        /* Leave `next` where it is when its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays) {
            continue;
        }
        slot_copy(&shard->slots[hole], next);
        hole = j;
    }
    atomic_store_explicit(&shard->slots[hole].end_s, 0, memory_order_relaxed);
}

static void entry_read(const struct ban_shard *shard, uint32_t at, struct ban_entry *out)
{
    const struct ban_slot *slot = &shard->slots[at];
    const struct ban_cold *cold =
        &shard->cold[atomic_load_explicit(&slot->cold, memory_order_relaxed)];
    uint64_t words[2] = { atomic_load_explicit(&slot->key[0], memory_order_relaxed),
                          atomic_load_explicit(&slot->key[1], memory_order_relaxed) };
    memcpy(out->ip.bytes, words, sizeof(out->ip.bytes));
    out->end_s = atomic_load_explicit(&slot->end_s, memory_order_relaxed);
    out->start_s = cold->start_s;
    out->offence = cold->offence;
    out->source = (enum ban_source)cold->source;
    memcpy(out->reason, cold->reason, sizeof(out->reason));
}

/* Overwrites the entry at `at` with `entry` (slot already keyed). Inside a write. */
static void entry_write(struct ban_shard *shard, uint32_t at, const struct ban_entry *entry)
{
    struct ban_slot *slot = &shard->slots[at];
    struct ban_cold *cold = &shard->cold[atomic_load_explicit(&slot->cold, memory_order_relaxed)];
    cold->start_s = entry->start_s;
    cold->offence = entry->offence;
    cold->source = (uint8_t)entry->source;
    cold->is_expire_reported = false;
    if (!cold->is_counted) {
        cold->is_counted = true;
        shard->active++;
    }
    memcpy(cold->reason, entry->reason, sizeof(cold->reason));
    cold->reason[sizeof(cold->reason) - 1] = '\0';
    /* end_s is never 0 for a stored entry: 0 marks empty slots. */
    int64_t end = entry->end_s > 0 ? entry->end_s : 1;
    if (end < shard->next_due_s) {
        shard->next_due_s = end;
    }
    atomic_store_explicit(&slot->end_s, end, memory_order_relaxed);
}

/*
 * The slot to drop when the shard is full: the soonest-ending entry that is automatic or
 * already over. Returns -1 when every entry is an active manual ban. Under the lock.
 */
static long eviction_victim(const struct ban_shard *shard, int64_t now_s)
{
    long victim = -1;
    int64_t victim_end = BAN_FOREVER;
    for (uint32_t i = 0; i <= shard->mask; i++) {
        const struct ban_slot *slot = &shard->slots[i];
        int64_t end = atomic_load_explicit(&slot->end_s, memory_order_relaxed);
        if (end == 0) {
            continue;
        }
        const struct ban_cold *cold =
            &shard->cold[atomic_load_explicit(&slot->cold, memory_order_relaxed)];
        bool is_evictable = cold->source == BAN_SOURCE_AUTO || end <= now_s;
        if (is_evictable && (victim < 0 || end < victim_end)) {
            victim = (long)i;
            victim_end = end;
        }
    }
    return victim;
}

/*
 * Finds or makes the slot for `key`. Sets *is_new when it was made. Returns -1 when the
 * shard is full of active manual bans. Inside a write.
 */
static long slot_claim(struct ban_shard *shard, struct ban_key key, uint64_t hash, int64_t now_s,
                       bool *is_new)
{
    long at = probe(shard, key, hash);
    *is_new = at < 0;
    if (at >= 0) {
        return at;
    }
    if (shard->count == shard->max_count) {
        long victim = eviction_victim(shard, now_s);
        if (victim < 0) {
            return -1;
        }
        slot_remove(shard, (uint32_t)victim);
    }
    SW_ASSERT(shard->free_count > 0);
    uint32_t i = (uint32_t)hash & shard->mask;
    for (uint32_t n = 0; n <= shard->mask; n++) {
        struct ban_slot *slot = &shard->slots[i];
        if (atomic_load_explicit(&slot->end_s, memory_order_relaxed) == 0) {
            uint32_t cold = shard->free_cold[--shard->free_count];
            shard->cold[cold].hash = hash;
            atomic_store_explicit(&slot->key[0], key.words[0], memory_order_relaxed);
            atomic_store_explicit(&slot->key[1], key.words[1], memory_order_relaxed);
            atomic_store_explicit(&slot->cold, cold, memory_order_relaxed);
            shard->count++;
            return (long)i;
        }
        i = (i + 1) & shard->mask;
    }
    /* Unreachable: the table has twice as many slots as entries. */
    SW_ASSERT(false);
    return -1;
}

static void notify(struct ban_store *store, enum ban_change change, const struct ban_entry *entry,
                   const void *origin)
{
    for (size_t i = 0; i < store->backend_count; i++) {
        const struct ban_backend *b = &store->backends[i];
        if (b->ctx != origin && b->ops->publish != NULL) {
            b->ops->publish(b->ctx, change, entry);
        }
    }
}

static int64_t end_of(int64_t now_s, uint32_t duration_s)
{
    return duration_s == BAN_DURATION_FOREVER ? BAN_FOREVER : now_s + (int64_t)duration_s;
}

/* The new entry for `req` given the entry found (NULL when none). */
static void entry_build(const struct ban_store *store, const struct ban_request *req, int64_t now_s,
                        const struct ban_entry *found, struct ban_entry *out)
{
    memset(out, 0, sizeof(*out));
    out->ip = req->ip;
    out->start_s = now_s;
    out->source = req->source;
    out->offence = found != NULL ? found->offence + 1 : 1;
    uint32_t duration =
        req->duration_s != 0 ? req->duration_s : ban_store_duration(store, out->offence);
    out->end_s = end_of(now_s, duration);
    if (req->reason != NULL) {
        size_t len = strnlen(req->reason, sizeof(out->reason) - 1);
        memcpy(out->reason, req->reason, len);
    }
}

/* What ban_store_add does with an address that is banned already. */
static bool replaces_active(const struct ban_request *req, const struct ban_entry *found)
{
    return req->source == BAN_SOURCE_MANUAL &&
           (found->source == BAN_SOURCE_AUTO || req->duration_s != 0);
}

enum ban_outcome ban_store_add(struct ban_store *store, const struct ban_request *req,
                               int64_t now_s, struct ban_entry *out)
{
    if (ban_store_is_exempt(store, &req->ip)) {
        return BAN_OUTCOME_EXEMPT;
    }
    /* An operator's ban is of the address given (its prefix when that is the prefix's
       first address); an automatic one covers the source's prefix. */
    struct sw_ip ip = req->source == BAN_SOURCE_MANUAL ? req->ip : ban_store_key(store, &req->ip);
    uint64_t hash = hash_of(&ip);
    struct ban_key key = key_of(&ip);
    struct ban_shard *shard = shard_of(store, hash);
    struct ban_entry found;
    struct ban_entry entry;
    enum ban_outcome outcome = BAN_OUTCOME_ADDED;
    pthread_mutex_lock(&shard->lock);
    long at = probe(shard, key, hash);
    bool has_found = at >= 0;
    if (has_found) {
        entry_read(shard, (uint32_t)at, &found);
    }
    if (has_found && found.end_s > now_s && !replaces_active(req, &found)) {
        pthread_mutex_unlock(&shard->lock);
        if (out != NULL) {
            *out = found;
        }
        return BAN_OUTCOME_EXISTS;
    }
    if (has_found && found.end_s > now_s) {
        outcome = BAN_OUTCOME_UPDATED;
        /* Replacing a ban is not a new offence. */
        found.offence--;
    }
    entry_build(store, req, now_s, has_found ? &found : NULL, &entry);
    entry.ip = ip;
    write_begin(shard);
    bool is_new = false;
    at = slot_claim(shard, key, hash, now_s, &is_new);
    if (at >= 0) {
        entry_write(shard, (uint32_t)at, &entry);
    }
    write_end(shard);
    pthread_mutex_unlock(&shard->lock);
    if (at < 0) {
        return BAN_OUTCOME_FULL;
    }
    if (out != NULL) {
        *out = entry;
    }
    notify(store, BAN_CHANGE_ADD, &entry, NULL);
    return outcome;
}

/* Removes `ip` when present and, if `only_active`, banned. 0 or -SW_ENOTFOUND. */
static int remove_entry(struct ban_store *store, const struct sw_ip *ip, int64_t now_s,
                        bool only_active, struct ban_entry *removed)
{
    uint64_t hash = hash_of(ip);
    struct ban_shard *shard = shard_of(store, hash);
    pthread_mutex_lock(&shard->lock);
    long at = probe(shard, key_of(ip), hash);
    if (at >= 0) {
        entry_read(shard, (uint32_t)at, removed);
    }
    if (at < 0 || (only_active && removed->end_s <= now_s)) {
        pthread_mutex_unlock(&shard->lock);
        return -SW_ENOTFOUND;
    }
    write_begin(shard);
    slot_remove(shard, (uint32_t)at);
    write_end(shard);
    pthread_mutex_unlock(&shard->lock);
    return 0;
}

int ban_store_del(struct ban_store *store, const struct sw_ip *ip, int64_t now_s)
{
    struct ban_entry removed;
    struct sw_ip prefix;
    int err = remove_entry(store, ip, now_s, true, &removed);
    if (err != 0 && other_key(store, ip, &prefix)) {
        err = remove_entry(store, &prefix, now_s, true, &removed);
    }
    if (err == 0) {
        notify(store, BAN_CHANGE_DEL, &removed, NULL);
    }
    return err;
}

static bool get_key(const struct ban_store *store, const struct sw_ip *ip, struct ban_entry *out)
{
    uint64_t hash = hash_of(ip);
    struct ban_shard *shard = shard_of(store, hash);
    pthread_mutex_lock(&shard->lock);
    long at = probe(shard, key_of(ip), hash);
    if (at >= 0) {
        entry_read(shard, (uint32_t)at, out);
    }
    pthread_mutex_unlock(&shard->lock);
    return at >= 0;
}

bool ban_store_get(const struct ban_store *store, const struct sw_ip *ip, struct ban_entry *out)
{
    struct sw_ip prefix;
    return get_key(store, ip, out) ||
           (other_key(store, ip, &prefix) && get_key(store, &prefix, out));
}

size_t ban_store_each(const struct ban_store *store, int64_t now_s, ban_entry_fn *fn, void *ctx)
{
    size_t total = 0;
    for (size_t s = 0; s < BAN_SHARDS; s++) {
        struct ban_shard *shard = &store->shards[s];
        pthread_mutex_lock(&shard->lock);
        for (uint32_t i = 0; i <= shard->mask; i++) {
            if (atomic_load_explicit(&shard->slots[i].end_s, memory_order_relaxed) <= now_s) {
                continue;
            }
            if (fn != NULL) {
                struct ban_entry entry;
                entry_read(shard, i, &entry);
                fn(ctx, &entry);
            }
            total++;
        }
        pthread_mutex_unlock(&shard->lock);
    }
    return total;
}

struct list_ctx {
    struct ban_entry *out;
    size_t cap;
    size_t count;
};

static void list_one(void *ctx, const struct ban_entry *entry)
{
    struct list_ctx *list = ctx;
    if (list->count < list->cap) {
        list->out[list->count++] = *entry;
    }
}

size_t ban_store_list(const struct ban_store *store, int64_t now_s, struct ban_entry *out,
                      size_t cap)
{
    struct list_ctx list = { .out = out, .cap = cap, .count = 0 };
    return ban_store_each(store, now_s, cap > 0 ? list_one : NULL, &list);
}

/* Removes the entries of `ips` (present, under the lock) in one write. */
static void forget_entries(struct ban_shard *shard, const struct sw_ip *ips, size_t count)
{
    if (count == 0) {
        return;
    }
    write_begin(shard);
    for (size_t k = 0; k < count; k++) {
        long at = probe(shard, key_of(&ips[k]), hash_of(&ips[k]));
        SW_ASSERT(at >= 0);
        slot_remove(shard, (uint32_t)at);
    }
    write_end(shard);
}

/* When ban_store_expire next has work with the entry at slot `i` (`end` <= now_s or not). */
static int64_t due_of(const struct ban_store *store, const struct ban_cold *cold, int64_t end)
{
    if (!cold->is_expire_reported) {
        return end;
    }
    return end > BAN_FOREVER - (int64_t)store->history_s ? BAN_FOREVER
                                                         : end + (int64_t)store->history_s;
}

/* Reports the end of the entry at `i` (under the lock): it no longer counts as active. */
static void report_end(struct ban_shard *shard, uint32_t i, struct ban_cold *cold,
                       struct ban_entry *out)
{
    cold->is_expire_reported = true;
    if (cold->is_counted) {
        cold->is_counted = false;
        shard->active--;
    }
    entry_read(shard, i, out);
}

/*
 * One pass over a shard: collects up to BAN_NOTIFY_BATCH newly ended bans into `ended`
 * and drops up to as many entries whose history is over, and sets the shard's next due
 * time from what stays. Returns true when a batch filled up (another pass is needed).
 * Under the lock.
 */
static bool expire_pass(struct ban_store *store, struct ban_shard *shard, int64_t now_s,
                        struct ban_entry *ended, size_t *ended_count)
{
    struct sw_ip forget[BAN_NOTIFY_BATCH];
    size_t forget_count = 0;
    int64_t next_due = BAN_FOREVER;
    for (uint32_t i = 0; i <= shard->mask; i++) {
        int64_t end = atomic_load_explicit(&shard->slots[i].end_s, memory_order_relaxed);
        if (end == 0) {
            continue;
        }
        struct ban_cold *cold =
            &shard->cold[atomic_load_explicit(&shard->slots[i].cold, memory_order_relaxed)];
        if (end <= now_s && !cold->is_expire_reported && *ended_count < BAN_NOTIFY_BATCH) {
            report_end(shard, i, cold, &ended[(*ended_count)++]);
        }
        int64_t due = due_of(store, cold, end);
        if (due <= now_s && cold->is_expire_reported && forget_count < BAN_NOTIFY_BATCH) {
            struct ban_entry gone;
            entry_read(shard, i, &gone);
            forget[forget_count++] = gone.ip;
            continue;
        }
        if (due < next_due) {
            next_due = due;
        }
    }
    forget_entries(shard, forget, forget_count);
    shard->next_due_s = next_due;
    return *ended_count == BAN_NOTIFY_BATCH || forget_count == BAN_NOTIFY_BATCH;
}

size_t ban_store_expire(struct ban_store *store, int64_t now_s)
{
    size_t reported = 0;
    struct ban_entry ended[BAN_NOTIFY_BATCH];
    for (size_t s = 0; s < BAN_SHARDS; s++) {
        struct ban_shard *shard = &store->shards[s];
        /* Each full pass reports or forgets BAN_NOTIFY_BATCH entries, so this ends. */
        uint32_t max_passes = shard->max_count / BAN_NOTIFY_BATCH + 2;
        bool is_more = true;
        for (uint32_t pass = 0; pass < max_passes && is_more; pass++) {
            size_t ended_count = 0;
            pthread_mutex_lock(&shard->lock);
            /* Nothing due: the shard is not scanned (an idle store costs 64 lock pairs). */
            is_more =
                shard->next_due_s <= now_s && expire_pass(store, shard, now_s, ended, &ended_count);
            pthread_mutex_unlock(&shard->lock);
            for (size_t k = 0; k < ended_count; k++) {
                notify(store, BAN_CHANGE_EXPIRE, &ended[k], NULL);
            }
            reported += ended_count;
        }
    }
    return reported;
}

size_t ban_store_active_count(const struct ban_store *store)
{
    size_t total = 0;
    for (size_t s = 0; s < BAN_SHARDS; s++) {
        struct ban_shard *shard = &store->shards[s];
        pthread_mutex_lock(&shard->lock);
        total += shard->active;
        pthread_mutex_unlock(&shard->lock);
    }
    return total;
}

/*
 * Stores an entry from a backend. An automatic ban never replaces an active manual one
 * here (another node's automatic ban must not shorten the operator's): that returns
 * 1, "nothing changed". 0 when stored, -SW_EFULL.
 */
static int apply_add(struct ban_store *store, const struct ban_entry *entry, int64_t now_s)
{
    uint64_t hash = hash_of(&entry->ip);
    struct ban_shard *shard = shard_of(store, hash);
    pthread_mutex_lock(&shard->lock);
    long at = probe(shard, key_of(&entry->ip), hash);
    if (at >= 0 && entry->source == BAN_SOURCE_AUTO) {
        struct ban_entry found;
        entry_read(shard, (uint32_t)at, &found);
        if (found.source == BAN_SOURCE_MANUAL && found.end_s > now_s) {
            pthread_mutex_unlock(&shard->lock);
            return 1;
        }
    }
    write_begin(shard);
    bool is_new = false;
    at = slot_claim(shard, key_of(&entry->ip), hash, now_s, &is_new);
    if (at >= 0) {
        entry_write(shard, (uint32_t)at, entry);
    }
    write_end(shard);
    pthread_mutex_unlock(&shard->lock);
    return at >= 0 ? 0 : -SW_EFULL;
}

int ban_store_apply(struct ban_store *store, enum ban_change change, const struct ban_entry *entry,
                    int64_t now_s, const void *origin)
{
    if (change == BAN_CHANGE_EXPIRE) {
        return 0;
    }
    if (change == BAN_CHANGE_DEL) {
        struct ban_entry removed;
        int err = remove_entry(store, &entry->ip, now_s, false, &removed);
        if (err == 0) {
            notify(store, BAN_CHANGE_DEL, &removed, origin);
        }
        return err;
    }
    if (ban_store_is_exempt(store, &entry->ip)) {
        return 0;
    }
    /* A row written before ipv6_prefix was set (or changed) comes back under its key. */
    struct ban_entry keyed = *entry;
    if (entry->source == BAN_SOURCE_AUTO) {
        keyed.ip = ban_store_key(store, &entry->ip);
    }
    int err = apply_add(store, &keyed, now_s);
    if (err == 0) {
        notify(store, BAN_CHANGE_ADD, &keyed, origin);
    }
    return err > 0 ? 0 : err;
}

size_t ban_store_count(const struct ban_store *store)
{
    size_t total = 0;
    for (size_t s = 0; s < BAN_SHARDS; s++) {
        struct ban_shard *shard = &store->shards[s];
        pthread_mutex_lock(&shard->lock);
        total += shard->count;
        pthread_mutex_unlock(&shard->lock);
    }
    return total;
}

size_t ban_store_capacity(const struct ban_store *store)
{
    return (size_t)store->shards[0].max_count * BAN_SHARDS;
}

size_t ban_store_memory_bytes(const struct ban_store *store)
{
    return store->memory_bytes;
}

size_t ban_store_shard_index(const struct ban_store *store, const struct sw_ip *ip)
{
    return (size_t)(shard_of(store, hash_of(ip)) - store->shards);
}
