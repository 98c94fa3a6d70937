#include "state/fraudstore.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/hash.h"
#include "base/time.h"
#include "state/fraud_distinct.h"
#include "state/fraud_journal.h"

#define SHARDS         16u
#define SECOND_BUCKETS 60
#define MINUTE_BUCKETS 60
#define WANGIRI_WAYS   4u
#define MS_PER_MINUTE  60000
#define MS_PER_HOUR    3600000
/*
 * Every monotonic time is kept a day ahead of the caller's clock (longer than any window),
 * so that the times of a restored image stay positive when the clock began again at a
 * reboot shortly before the restart.
 */
#define TIME_BIAS_MS   86400000

/* A key's counters as its image holds them (FRAUD_STORE_IMAGE_VERSION): a change of this
 * layout needs a new version, or an old image would be misread. */
struct key_counts {
    char key[FRAUD_KEY_CAP];
    int64_t second_of[SECOND_BUCKETS]; /* the second each bucket counts (+1: 0 = never) */
    uint32_t per_second[SECOND_BUCKETS];
    int64_t minute_of[MINUTE_BUCKETS];
    uint32_t intl_per_minute[MINUTE_BUCKETS];
    struct fraud_distinct_ring distinct;
    struct velocity_history history;
    bool is_changed; /* counted or ended a dial since the last export */
};

/* The image of version 1, as saved by earlier releases. */
_Static_assert(sizeof(struct key_counts) == 11032 &&
                   offsetof(struct key_counts, distinct) == 1536 &&
                   offsetof(struct key_counts, history) == 9736,
               "the image's layout changed: bump FRAUD_STORE_IMAGE_VERSION");

/* The sum of a window's buckets as of the dial at `unit` (see window_add). */
struct window_sum {
    int64_t unit;
    uint32_t sum;
    bool is_ready; /* false: to be summed again from the buckets */
};

/* A key's counters and what is derived from them: rebuilt after an import, never saved. */
struct key_entry {
    struct key_counts counts;
    struct window_sum calls_minute;
    struct window_sum intl_hour;
    struct fraud_distinct_index distinct_index;
    struct key_entry *next_changed; /* the shard's list of changed keys (counts.is_changed) */
};

/* One window's buckets in a key's counters. */
struct bucket_window {
    int64_t *of;
    uint32_t *counts;
    size_t count;
};

struct shard {
    pthread_mutex_t lock;
    struct key_entry **slots; /* open addressing, linear probing, never deleted */
    size_t cap;               /* power of two, twice the keys allowed */
    size_t count;
    size_t max_count;
    size_t changed;                 /* keys whose is_changed is set */
    struct key_entry *changed_keys; /* those not yet taken by an export, newest first */
};

struct wangiri_mark {
    uint64_t hash; /* 0 = empty */
    int64_t at_s;
};

struct memory_store {
    struct shard shards[SHARDS];
    pthread_mutex_t wangiri_lock;
    struct wangiri_mark *wangiri; /* buckets of WANGIRI_WAYS */
    size_t wangiri_buckets;       /* power of two */
    uint64_t wangiri_version;     /* marks made so far (under wangiri_lock) */
    pthread_mutex_t disabled_lock;
    char (*disabled)[FRAUD_KEY_CAP];
    size_t disabled_count;
};

struct fraud_store {
    const struct fraud_store_ops *ops;
    void *impl;
    struct fraud_journal *_Atomic journal; /* NULL: counted in memory only */
};

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n && p < ((size_t)1 << 30)) {
        p <<= 1;
    }
    return p;
}

/* The entry of `key`, created when `create` and there is room; shard lock held. */
static struct key_entry *shard_find(struct shard *shard, struct sv key, uint64_t hash, bool create)
{
    size_t mask = shard->cap - 1;
    for (size_t i = 0, at = (size_t)(hash >> 8) & mask; i < shard->cap; i++, at = (at + 1) & mask) {
        struct key_entry *e = shard->slots[at];
        if (e == NULL) {
            if (!create || shard->count >= shard->max_count) {
                return NULL;
            }
            e = sw_calloc(1, sizeof(*e)); /* the index zeroed: built at the first dial */
            if (e == NULL) {
                return NULL;
            }
            (void)sv_copy_cstr(key, e->counts.key, sizeof(e->counts.key));
            velocity_history_init(&e->counts.history);
            shard->slots[at] = e;
            shard->count++;
            return e;
        }
        if (sv_eq(sv_from_cstr(e->counts.key), key)) {
            return e;
        }
    }
    return NULL;
}

static struct shard *shard_of(struct memory_store *m, struct sv key, uint64_t *hash)
{
    *hash = sw_hash_sv(key);
    return &m->shards[*hash % SHARDS];
}

/*
 * One window's buckets `of`/`counts` (each "unit number + 1", 0 = never; `count` of them,
 * the window) count `add` at `unit`; returns the window's sum, the dial included. While
 * time does not go back, `sum` follows the window: only the buckets that left it since the
 * last dial are subtracted, instead of a pass over all of them each time.
 */
static uint32_t window_add(const struct bucket_window *how, int64_t unit, uint32_t add,
                           struct window_sum *sum)
{
    int64_t count = (int64_t)how->count;
    size_t at = (size_t)(unit % count);
    bool is_fast = sum->is_ready && unit >= sum->unit;
    if (is_fast && unit - sum->unit >= count) {
        sum->sum = 0;
    } else if (is_fast) {
        for (int64_t gone = sum->unit - count + 1; gone <= unit - count; gone++) {
            size_t i = (size_t)(gone % count);
            sum->sum -= gone > 0 && how->of[i] == gone ? how->counts[i] : 0u;
        }
    }
    if (how->of[at] != unit) {
        how->of[at] = unit; /* an older unit of this place: out of the window already */
        how->counts[at] = 0;
    }
    how->counts[at] += add;
    if (is_fast) {
        sum->sum += add;
        sum->unit = unit;
        return sum->sum;
    }
    /* A first dial, an import, or a clock that went back: the whole pass, which also says
     * whether the sum can be followed from here (no bucket ahead of this unit). */
    uint32_t total = 0;
    bool is_ahead = false;
    for (size_t i = 0; i < how->count; i++) {
        total += how->of[i] > unit - count ? how->counts[i] : 0u;
        is_ahead |= how->of[i] > unit;
    }
    *sum = (struct window_sum){ .unit = unit, .sum = total, .is_ready = !is_ahead };
    return total;
}

/* Counts a call in `e` and fills the window counters (dial included). */
static void count_dial(struct key_entry *e, const struct fraud_dial *dial,
                       struct fraud_dial_result *out)
{
    struct key_counts *c = &e->counts;
    struct bucket_window seconds = { c->second_of, c->per_second, SECOND_BUCKETS };
    out->calls_minute = window_add(&seconds, dial->now_ms / 1000 + 1, 1, &e->calls_minute);
    struct bucket_window minutes = { c->minute_of, c->intl_per_minute, MINUTE_BUCKETS };
    out->international_hour = window_add(&minutes, dial->now_ms / MS_PER_MINUTE + 1,
                                         dial->is_international ? 1u : 0u, &e->intl_hour);
}

/* Lock held. */
static void mark_changed(struct shard *shard, struct key_entry *e)
{
    if (!e->counts.is_changed) {
        e->counts.is_changed = true;
        e->next_changed = shard->changed_keys;
        shard->changed_keys = e;
        shard->changed++;
    }
}

static void memory_dial(void *impl, struct sv key, const struct fraud_dial *caller_dial,
                        const struct velocity_cfg *cfg, struct fraud_dial_result *out)
{
    struct memory_store *m = impl;
    struct fraud_dial biased = *caller_dial;
    biased.now_ms += TIME_BIAS_MS;
    const struct fraud_dial *dial = &biased;
    memset(out, 0, sizeof(*out));
    uint64_t hash = 0;
    struct shard *shard = shard_of(m, key, &hash);
    pthread_mutex_lock(&shard->lock);
    struct key_entry *e = shard_find(shard, key, hash, true);
    if (e == NULL) {
        pthread_mutex_unlock(&shard->lock);
        out->is_untracked = true;
        out->calls_minute = 1;
        out->international_hour = dial->is_international ? 1u : 0u;
        out->distinct_hour = 1;
        return;
    }
    struct key_counts *c = &e->counts;
    (void)velocity_check(&c->history, dial->digits, dial->now_ms, cfg, &out->finding);
    (void)velocity_history_add(&c->history, dial->digits, dial->now_ms); /* bad digits: none */
    count_dial(e, dial, out);
    out->distinct_hour = fraud_distinct_count(
        &c->distinct, &e->distinct_index, sw_hash_sv(dial->digits) | 1u, dial->now_ms, MS_PER_HOUR);
    mark_changed(shard, e);
    pthread_mutex_unlock(&shard->lock);
}

static void memory_dial_end(void *impl, struct sv key, struct sv digits, int64_t at_ms,
                            int64_t duration_ms)
{
    struct memory_store *m = impl;
    uint64_t hash = 0;
    struct shard *shard = shard_of(m, key, &hash);
    pthread_mutex_lock(&shard->lock);
    struct key_entry *e = shard_find(shard, key, hash, false);
    if (e != NULL &&
        velocity_history_end(&e->counts.history, digits, at_ms + TIME_BIAS_MS, duration_ms)) {
        mark_changed(shard, e);
    }
    pthread_mutex_unlock(&shard->lock);
}

/* The index of `key` in the disabled set, or disabled_count; lock held. */
static size_t disabled_find(const struct memory_store *m, struct sv key)
{
    for (size_t i = 0; i < m->disabled_count; i++) {
        if (sv_eq(sv_from_cstr(m->disabled[i]), key)) {
            return i;
        }
    }
    return m->disabled_count;
}

static bool memory_set_disabled(void *impl, struct sv key, bool is_disabled)
{
    struct memory_store *m = impl;
    if (key.len >= FRAUD_KEY_CAP) {
        return false;
    }
    pthread_mutex_lock(&m->disabled_lock);
    size_t at = disabled_find(m, key);
    bool is_done = true;
    if (is_disabled && at == m->disabled_count) {
        is_done = m->disabled_count < FRAUD_DISABLED_MAX;
        if (is_done) {
            (void)sv_copy_cstr(key, m->disabled[m->disabled_count++], FRAUD_KEY_CAP);
        }
    } else if (!is_disabled && at < m->disabled_count) {
        memcpy(m->disabled[at], m->disabled[m->disabled_count - 1], FRAUD_KEY_CAP);
        m->disabled_count--;
    }
    pthread_mutex_unlock(&m->disabled_lock);
    return is_done;
}

static bool memory_is_disabled(void *impl, struct sv key)
{
    struct memory_store *m = impl;
    pthread_mutex_lock(&m->disabled_lock);
    bool is_disabled = disabled_find(m, key) < m->disabled_count;
    pthread_mutex_unlock(&m->disabled_lock);
    return is_disabled;
}

static void mark_hash(struct memory_store *m, uint64_t hash, int64_t now_s)
{
    struct wangiri_mark *bucket =
        &m->wangiri[(hash >> 1 & (m->wangiri_buckets - 1)) * WANGIRI_WAYS];
    pthread_mutex_lock(&m->wangiri_lock);
    size_t victim = 0;
    for (size_t i = 0; i < WANGIRI_WAYS; i++) {
        if (bucket[i].hash == hash) {
            victim = i;
            break;
        }
        if (bucket[i].at_s < bucket[victim].at_s) {
            victim = i; /* the oldest mark (or an empty way, at 0) makes room */
        }
    }
    bucket[victim] = (struct wangiri_mark){ hash, now_s };
    m->wangiri_version++;
    pthread_mutex_unlock(&m->wangiri_lock);
}

static void memory_wangiri_mark(void *impl, struct sv digits, int64_t now_s)
{
    mark_hash(impl, sw_hash_sv(digits) | 1u, now_s);
}

static bool memory_wangiri_marked(void *impl, struct sv digits, int64_t now_s, int64_t window_s)
{
    struct memory_store *m = impl;
    uint64_t hash = sw_hash_sv(digits) | 1u;
    const struct wangiri_mark *bucket =
        &m->wangiri[(hash >> 1 & (m->wangiri_buckets - 1)) * WANGIRI_WAYS];
    bool is_marked = false;
    pthread_mutex_lock(&m->wangiri_lock);
    for (size_t i = 0; i < WANGIRI_WAYS; i++) {
        is_marked |= bucket[i].hash == hash && now_s - bucket[i].at_s < window_s;
    }
    pthread_mutex_unlock(&m->wangiri_lock);
    return is_marked;
}

/* ---- persistence: images with wall-clock times ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* How one window's buckets move: `count` buckets of `unit_ms`, times moved by `shift_ms`. */
struct bucket_shift {
    size_t count;
    int64_t unit_ms;
    int64_t shift_ms;
};

/*
 * Moves the window buckets `of`/`counts` (each "unit number + 1", 0 = never) as `how`
 * says into `out_of`/`out_counts` (zeroed). A bucket that would fall before the clock's
 * start is dropped (it is older than any window then).
 */
static void shift_buckets(const struct bucket_shift *how, const int64_t *of, const uint32_t *counts,
                          int64_t *out_of, uint32_t *out_counts)
{
    for (size_t i = 0; i < how->count; i++) {
        if (of[i] == 0 || counts[i] == 0) {
            continue;
        }
        int64_t unit = floor_div((of[i] - 1) * how->unit_ms + how->shift_ms, how->unit_ms) + 1;
        if (unit <= 0) {
            continue;
        }
        size_t at = (size_t)(unit % (int64_t)how->count);
        if (out_of[at] > unit) {
            continue; /* a newer bucket holds the place: this one is out of the window */
        }
        if (out_of[at] < unit) {
            out_of[at] = unit;
            out_counts[at] = 0;
        }
        out_counts[at] += counts[i];
    }
}

/* `in` with every time moved by `shift_ms` (monotonic to wall clock and back). */
static void counts_shift(const struct key_counts *in, struct key_counts *out, int64_t shift_ms)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->key, in->key, sizeof(out->key));
    struct bucket_shift seconds = { SECOND_BUCKETS, 1000, shift_ms };
    shift_buckets(&seconds, in->second_of, in->per_second, out->second_of, out->per_second);
    struct bucket_shift minutes = { MINUTE_BUCKETS, MS_PER_MINUTE, shift_ms };
    shift_buckets(&minutes, in->minute_of, in->intl_per_minute, out->minute_of,
                  out->intl_per_minute);
    for (size_t i = 0; i < FRAUD_DISTINCT_MAX; i++) {
        const struct fraud_distinct_dest *d = &in->distinct.dests[i];
        int64_t at_ms = d->at_ms + shift_ms;
        if (d->hash != 0 && at_ms > 0) {
            out->distinct.dests[i] = (struct fraud_distinct_dest){ d->hash, at_ms };
        }
    }
    out->distinct.next = in->distinct.next % FRAUD_DISTINCT_MAX;
    out->history = in->history;
    out->history.next %= VELOCITY_HISTORY;
    out->history.count =
        out->history.count > VELOCITY_HISTORY ? VELOCITY_HISTORY : out->history.count;
    for (size_t i = 0; i < VELOCITY_HISTORY; i++) {
        out->history.dials[i].at_ms += shift_ms;
        out->history.dials[i].digits[E164_MAX_DIGITS] = '\0';
    }
}

/* Hands `fn` the image of `e` (lock held, and let go meanwhile: entries are never freed). */
static void export_one(struct shard *shard, const struct key_entry *e, int64_t shift_ms,
                       struct key_counts *image, fraud_store_image_fn *fn, void *ctx)
{
    counts_shift(&e->counts, image, shift_ms);
    pthread_mutex_unlock(&shard->lock);
    fn(ctx, sv_from_cstr(image->key), image, sizeof(*image));
    pthread_mutex_lock(&shard->lock);
}

/*
 * The keys of one shard that changed (all of them when `is_all`). The changed ones come
 * from the shard's list, not from a pass over its slots: once a second over a table sized
 * for every key, that pass was what a save cost. With `is_all` the pass exports the others
 * first (a key that changes meanwhile may be exported twice, never not at all).
 */
static size_t export_shard(struct shard *shard, int64_t wall_minus_mono_ms, bool is_all,
                           struct key_counts *image, fraud_store_image_fn *fn, void *ctx)
{
    int64_t shift_ms = wall_minus_mono_ms - TIME_BIAS_MS;
    size_t exported = 0;
    pthread_mutex_lock(&shard->lock);
    for (size_t i = 0; is_all && i < shard->cap; i++) {
        const struct key_entry *e = shard->slots[i];
        if (e != NULL && !e->counts.is_changed) {
            export_one(shard, e, shift_ms, image, fn, ctx);
            exported++;
        }
    }
    /* Taken whole: a key that changes again once exported waits for the next export. */
    struct key_entry *list = shard->changed_keys;
    shard->changed_keys = NULL;
    while (list != NULL) {
        struct key_entry *e = list;
        list = e->next_changed;
        e->next_changed = NULL;
        e->counts.is_changed = false;
        shard->changed--;
        export_one(shard, e, shift_ms, image, fn, ctx);
        exported++;
    }
    pthread_mutex_unlock(&shard->lock);
    return exported;
}

static size_t memory_export_keys(void *impl, int64_t wall_minus_mono_ms, bool is_all,
                                 fraud_store_image_fn *fn, void *ctx)
{
    struct memory_store *m = impl;
    struct key_counts *image = sw_malloc(sizeof(*image));
    if (image == NULL) {
        return 0;
    }
    size_t exported = 0;
    for (size_t s = 0; s < SHARDS; s++) {
        exported += export_shard(&m->shards[s], wall_minus_mono_ms, is_all, image, fn, ctx);
    }
    sw_free(image);
    return exported;
}

static bool memory_import_key(void *impl, struct sv key, const void *image, size_t len,
                              int64_t wall_minus_mono_ms)
{
    struct memory_store *m = impl;
    if (len != sizeof(struct key_counts) || key.len == 0 || key.len >= FRAUD_KEY_CAP) {
        return false;
    }
    struct key_counts *in = sw_malloc(sizeof(*in));
    if (in == NULL) {
        return false;
    }
    memcpy(in, image, len);
    uint64_t hash = 0;
    struct shard *shard = shard_of(m, key, &hash);
    pthread_mutex_lock(&shard->lock);
    struct key_entry *e = shard_find(shard, key, hash, true);
    if (e != NULL) {
        bool is_changed = e->counts.is_changed; /* it stays on the shard's list */
        counts_shift(in, &e->counts, TIME_BIAS_MS - wall_minus_mono_ms);
        e->counts.is_changed = is_changed;
        (void)sv_copy_cstr(key, e->counts.key,
                           sizeof(e->counts.key)); /* the row's, not the image's */
        e->calls_minute.is_ready = false;
        e->intl_hour.is_ready = false;
        fraud_distinct_index_reset(&e->distinct_index);
    }
    pthread_mutex_unlock(&shard->lock);
    sw_free(in);
    return e != NULL;
}

static uint64_t memory_export_marks(void *impl, uint64_t since_version, fraud_store_mark_fn *fn,
                                    void *ctx)
{
    struct memory_store *m = impl;
    pthread_mutex_lock(&m->wangiri_lock);
    uint64_t version = m->wangiri_version;
    pthread_mutex_unlock(&m->wangiri_lock);
    if (version == since_version) {
        return version;
    }
    size_t total = m->wangiri_buckets * WANGIRI_WAYS;
    for (size_t i = 0; i < total; i++) {
        pthread_mutex_lock(&m->wangiri_lock);
        struct wangiri_mark mark = m->wangiri[i];
        pthread_mutex_unlock(&m->wangiri_lock);
        if (mark.hash != 0) {
            fn(ctx, mark.hash, mark.at_s);
        }
    }
    return version;
}

static void memory_import_mark(void *impl, uint64_t hash, int64_t at_s)
{
    if ((hash & 1u) != 0) { /* every stored hash has its low bit set */
        mark_hash(impl, hash, at_s);
    }
}

static void memory_destroy(void *impl)
{
    struct memory_store *m = impl;
    if (m == NULL) {
        return;
    }
    for (size_t s = 0; s < SHARDS; s++) {
        struct shard *shard = &m->shards[s];
        for (size_t i = 0; shard->slots != NULL && i < shard->cap; i++) {
            sw_free(shard->slots[i]);
        }
        sw_free(shard->slots);
        pthread_mutex_destroy(&shard->lock);
    }
    sw_free(m->wangiri);
    sw_free(m->disabled);
    pthread_mutex_destroy(&m->wangiri_lock);
    pthread_mutex_destroy(&m->disabled_lock);
    sw_free(m);
}

static const struct fraud_store_ops memory_ops = {
    .dial = memory_dial,
    .dial_end = memory_dial_end,
    .set_disabled = memory_set_disabled,
    .is_disabled = memory_is_disabled,
    .wangiri_mark = memory_wangiri_mark,
    .wangiri_marked = memory_wangiri_marked,
    .export_keys = memory_export_keys,
    .import_key = memory_import_key,
    .export_marks = memory_export_marks,
    .import_mark = memory_import_mark,
    .destroy = memory_destroy,
};

static struct memory_store *memory_new(size_t max_keys, size_t wangiri_slots)
{
    struct memory_store *m = sw_calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    /* Mutexes first, so that memory_destroy may run from here on. */
    for (size_t s = 0; s < SHARDS; s++) {
        (void)pthread_mutex_init(&m->shards[s].lock, NULL); /* cannot fail on Linux */
    }
    (void)pthread_mutex_init(&m->wangiri_lock, NULL);
    (void)pthread_mutex_init(&m->disabled_lock, NULL);
    size_t per_shard = (max_keys + SHARDS - 1) / SHARDS;
    bool is_ok = true;
    for (size_t s = 0; s < SHARDS; s++) {
        struct shard *shard = &m->shards[s];
        shard->cap = pow2_at_least(2 * per_shard);
        shard->max_count = per_shard;
        shard->slots = sw_calloc(shard->cap, sizeof(struct key_entry *));
        is_ok = is_ok && shard->slots != NULL;
    }
    m->wangiri_buckets = pow2_at_least((wangiri_slots + WANGIRI_WAYS - 1) / WANGIRI_WAYS);
    m->wangiri = sw_calloc(m->wangiri_buckets * WANGIRI_WAYS, sizeof(*m->wangiri));
    m->disabled = sw_calloc(FRAUD_DISABLED_MAX, sizeof(*m->disabled));
    if (!is_ok || m->wangiri == NULL || m->disabled == NULL) {
        memory_destroy(m);
        return NULL;
    }
    return m;
}

struct fraud_store *fraud_store_new_memory(size_t max_keys, size_t wangiri_slots)
{
    if (max_keys == 0 || wangiri_slots == 0) {
        return NULL;
    }
    struct fraud_store *store = sw_calloc(1, sizeof(*store));
    if (store == NULL) {
        return NULL;
    }
    store->ops = &memory_ops;
    store->impl = memory_new(max_keys, wangiri_slots);
    if (store->impl == NULL) {
        sw_free(store);
        return NULL;
    }
    return store;
}

void fraud_store_free(struct fraud_store *store)
{
    if (store == NULL) {
        return;
    }
    store->ops->destroy(store->impl);
    sw_free(store);
}

void fraud_store_dial(struct fraud_store *store, struct sv key, const struct fraud_dial *dial,
                      const struct velocity_cfg *cfg, struct fraud_dial_result *out)
{
    SW_ASSERT(store != NULL && dial != NULL && out != NULL);
    store->ops->dial(store->impl, key, dial, cfg, out);
    /* After the count: a dial in the journal was counted, so a save that read the journal's
     * position before exporting holds every dial before that position. */
    struct fraud_journal *journal = atomic_load_explicit(&store->journal, memory_order_acquire);
    if (journal != NULL) {
        fraud_journal_dial(journal, key, dial->digits, dial->is_international,
                           (int64_t)(sw_wall_us() / 1000u));
    }
}

void fraud_store_dial_end(struct fraud_store *store, struct sv key, struct sv digits, int64_t at_ms,
                          int64_t duration_ms)
{
    SW_ASSERT(store != NULL);
    store->ops->dial_end(store->impl, key, digits, at_ms, duration_ms);
    struct fraud_journal *journal = atomic_load_explicit(&store->journal, memory_order_acquire);
    if (journal != NULL) {
        fraud_journal_dial_end(journal, key, digits, at_ms + sw_wall_minus_mono_ms(), duration_ms);
    }
}

bool fraud_store_set_disabled(struct fraud_store *store, struct sv key, bool is_disabled)
{
    SW_ASSERT(store != NULL);
    return store->ops->set_disabled(store->impl, key, is_disabled);
}

bool fraud_store_is_disabled(struct fraud_store *store, struct sv key)
{
    SW_ASSERT(store != NULL);
    return store->ops->is_disabled(store->impl, key);
}

void fraud_store_wangiri_mark(struct fraud_store *store, struct sv digits, int64_t now_s)
{
    SW_ASSERT(store != NULL);
    store->ops->wangiri_mark(store->impl, digits, now_s);
    struct fraud_journal *journal = atomic_load_explicit(&store->journal, memory_order_acquire);
    if (journal != NULL) {
        fraud_journal_mark(journal, digits, now_s);
    }
}

void fraud_store_set_journal(struct fraud_store *store, struct fraud_journal *journal)
{
    SW_ASSERT(store != NULL);
    atomic_store_explicit(&store->journal, journal, memory_order_release);
}

bool fraud_store_wangiri_marked(struct fraud_store *store, struct sv digits, int64_t now_s,
                                int64_t window_s)
{
    SW_ASSERT(store != NULL);
    return store->ops->wangiri_marked(store->impl, digits, now_s, window_s);
}

size_t fraud_store_export_keys(struct fraud_store *store, int64_t wall_minus_mono_ms, bool is_all,
                               fraud_store_image_fn *fn, void *ctx)
{
    SW_ASSERT(store != NULL && fn != NULL);
    return store->ops->export_keys != NULL
               ? store->ops->export_keys(store->impl, wall_minus_mono_ms, is_all, fn, ctx)
               : 0;
}

bool fraud_store_import_key(struct fraud_store *store, struct sv key, const void *image, size_t len,
                            int64_t wall_minus_mono_ms)
{
    SW_ASSERT(store != NULL);
    return store->ops->import_key != NULL &&
           store->ops->import_key(store->impl, key, image, len, wall_minus_mono_ms);
}

uint64_t fraud_store_export_marks(struct fraud_store *store, uint64_t since_version,
                                  fraud_store_mark_fn *fn, void *ctx)
{
    SW_ASSERT(store != NULL && fn != NULL);
    return store->ops->export_marks != NULL
               ? store->ops->export_marks(store->impl, since_version, fn, ctx)
               : since_version;
}

void fraud_store_import_mark(struct fraud_store *store, uint64_t hash, int64_t at_s)
{
    SW_ASSERT(store != NULL);
    if (store->ops->import_mark != NULL) {
        store->ops->import_mark(store->impl, hash, at_s);
    }
}

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fraud_store *shared_store;
static size_t shared_refs;

struct fraud_store *fraud_store_acquire(size_t max_keys, size_t wangiri_slots)
{
    pthread_mutex_lock(&shared_lock);
    if (shared_store == NULL) {
        shared_store = fraud_store_new_memory(max_keys, wangiri_slots);
    }
    struct fraud_store *store = shared_store;
    shared_refs += store != NULL ? 1u : 0u;
    pthread_mutex_unlock(&shared_lock);
    return store;
}

void fraud_store_release(struct fraud_store *store)
{
    if (store == NULL) {
        return;
    }
    pthread_mutex_lock(&shared_lock);
    SW_ASSERT(store == shared_store && shared_refs > 0);
    if (--shared_refs == 0) {
        fraud_store_free(shared_store);
        shared_store = NULL;
    }
    pthread_mutex_unlock(&shared_lock);
}

bool fraud_store_shared_is_disabled(struct sv key)
{
    pthread_mutex_lock(&shared_lock);
    bool is_disabled = shared_store != NULL && fraud_store_is_disabled(shared_store, key);
    pthread_mutex_unlock(&shared_lock);
    return is_disabled;
}

bool fraud_store_shared_set_disabled(struct sv key, bool is_disabled)
{
    pthread_mutex_lock(&shared_lock);
    bool is_done = shared_store != NULL && fraud_store_set_disabled(shared_store, key, is_disabled);
    pthread_mutex_unlock(&shared_lock);
    return is_done;
}

bool fraud_store_shared_wangiri_mark(struct sv digits, int64_t now_s)
{
    pthread_mutex_lock(&shared_lock);
    bool is_marked = shared_store != NULL;
    if (is_marked) {
        fraud_store_wangiri_mark(shared_store, digits, now_s);
    }
    pthread_mutex_unlock(&shared_lock);
    return is_marked;
}

void fraud_store_shared_dial_end(struct sv key, struct sv digits, int64_t at_ms,
                                 int64_t duration_ms)
{
    pthread_mutex_lock(&shared_lock);
    if (shared_store != NULL) {
        fraud_store_dial_end(shared_store, key, digits, at_ms, duration_ms);
    }
    pthread_mutex_unlock(&shared_lock);
}
