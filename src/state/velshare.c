#include "state/velshare.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"

struct entry {
    char key[VELSHARE_KEY_CAP]; /* "" = free */
    struct velshare_counts local;
    struct velshare_counts remote;
    bool is_dirty;
};

struct velshare {
    pthread_mutex_t lock;
    struct entry *entries;
    size_t cap; /* a power of two, at least twice max_keys */
    size_t count;
    size_t max_keys;
    uint32_t *dirty; /* a ring of the dirty entries' indexes (each at most once) */
    size_t dirty_head;
    size_t dirty_count;
    velshare_hook_fn *dirty_fn;
    void *dirty_ctx;
};

static _Atomic(struct velshare *) installed;

struct velshare *velshare_new(size_t max_keys)
{
    if (max_keys == 0 || max_keys > ((size_t)1 << 24)) {
        return NULL;
    }
    struct velshare *v = sw_calloc(1, sizeof(*v));
    if (v == NULL) {
        return NULL;
    }
    v->cap = 16;
    while (v->cap < max_keys * 2) {
        v->cap *= 2;
    }
    v->max_keys = max_keys;
    v->entries = sw_calloc(v->cap, sizeof(*v->entries));
    v->dirty = sw_calloc(max_keys, sizeof(*v->dirty));
    if (v->entries == NULL || v->dirty == NULL) {
        sw_free(v->entries);
        sw_free(v->dirty);
        sw_free(v);
        return NULL;
    }
    (void)pthread_mutex_init(&v->lock, NULL); /* defaults: cannot fail */
    return v;
}

void velshare_free(struct velshare *v)
{
    if (v == NULL) {
        return;
    }
    pthread_mutex_destroy(&v->lock);
    sw_free(v->dirty);
    sw_free(v->entries);
    sw_free(v);
}

void velshare_on_dirty(struct velshare *v, velshare_hook_fn *fn, void *ctx)
{
    pthread_mutex_lock(&v->lock);
    v->dirty_fn = fn;
    v->dirty_ctx = ctx;
    pthread_mutex_unlock(&v->lock);
}

/* The entry of `key`, added when `may_add` and there is room; lock held. */
static struct entry *entry_find(struct velshare *v, struct sv key, bool may_add)
{
    if (key.len == 0 || key.len >= VELSHARE_KEY_CAP) {
        return NULL;
    }
    size_t mask = v->cap - 1;
    for (size_t i = (size_t)sw_hash_sv(key) & mask, n = 0; n < v->cap; i = (i + 1) & mask, n++) {
        struct entry *e = &v->entries[i];
        if (e->key[0] == '\0') {
            if (!may_add || v->count >= v->max_keys) {
                return NULL;
            }
            (void)sv_copy_cstr(key, e->key, sizeof(e->key));
            v->count++;
            return e;
        }
        if (sv_eq(sv_from_cstr(e->key), key)) {
            return e;
        }
    }
    return NULL;
}

/* Queues `e` for the cluster thread unless it is queued; true when it was not. Lock held. */
static bool mark_dirty(struct velshare *v, struct entry *e)
{
    if (e->is_dirty) {
        return false;
    }
    e->is_dirty = true;
    /* Room: each of the at most max_keys entries is queued at most once. */
    v->dirty[(v->dirty_head + v->dirty_count) % v->max_keys] = (uint32_t)(e - v->entries);
    v->dirty_count++;
    return true;
}

static uint32_t add_u32(uint32_t a, uint32_t b)
{
    return b > UINT32_MAX - a ? UINT32_MAX : a + b;
}

void velshare_dial(struct velshare *v, struct sv key, struct velshare_counts *counts)
{
    pthread_mutex_lock(&v->lock);
    struct entry *e = entry_find(v, key, true);
    velshare_hook_fn *fn = NULL;
    if (e != NULL) {
        e->local = *counts;
        fn = mark_dirty(v, e) ? v->dirty_fn : NULL;
        counts->calls_minute = add_u32(counts->calls_minute, e->remote.calls_minute);
        counts->international_hour =
            add_u32(counts->international_hour, e->remote.international_hour);
    }
    void *ctx = v->dirty_ctx;
    pthread_mutex_unlock(&v->lock);
    if (fn != NULL) {
        fn(ctx);
    }
}

bool velshare_next_dirty(struct velshare *v, struct velshare_item *out)
{
    pthread_mutex_lock(&v->lock);
    bool is_found = v->dirty_count > 0;
    if (is_found) {
        struct entry *e = &v->entries[v->dirty[v->dirty_head]];
        v->dirty_head = (v->dirty_head + 1) % v->max_keys;
        v->dirty_count--;
        e->is_dirty = false;
        memcpy(out->key, e->key, sizeof(out->key));
        out->local = e->local;
    }
    pthread_mutex_unlock(&v->lock);
    return is_found;
}

void velshare_redirty(struct velshare *v, const char *key)
{
    pthread_mutex_lock(&v->lock);
    struct entry *e = entry_find(v, sv_from_cstr(key), false);
    if (e != NULL) {
        (void)mark_dirty(v, e);
    }
    pthread_mutex_unlock(&v->lock);
}

void velshare_set_remote(struct velshare *v, const char *key, struct velshare_counts remote)
{
    pthread_mutex_lock(&v->lock);
    struct entry *e = entry_find(v, sv_from_cstr(key), false);
    if (e != NULL) {
        e->remote = remote;
    }
    pthread_mutex_unlock(&v->lock);
}

void velshare_clear_remote(struct velshare *v)
{
    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < v->cap; i++) {
        v->entries[i].remote = (struct velshare_counts){ 0 };
        if (v->entries[i].key[0] != '\0') {
            (void)mark_dirty(v, &v->entries[i]); /* published again at return */
        }
    }
    pthread_mutex_unlock(&v->lock);
}

void velshare_install(struct velshare *v)
{
    atomic_store_explicit(&installed, v, memory_order_release);
}

void velshare_shared_dial(struct sv key, struct velshare_counts *counts)
{
    struct velshare *v = atomic_load_explicit(&installed, memory_order_acquire);
    if (v != NULL) {
        velshare_dial(v, key, counts);
    }
}
