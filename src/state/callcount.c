#include "state/callcount.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/hash.h"
#include "base/sv.h"

struct callcount_slot {
    atomic_uint count;
    atomic_uint shared_cap; /* 0 = not shared by a cluster */
    atomic_uint grant;      /* CALLCOUNT_NO_GRANT = none */
    atomic_bool is_wanted;
    struct callcount *table;
    enum callcount_kind kind;
    char name[CALLCOUNT_NAME_CAP];
};

struct callcount {
    struct callcount_slot *slots; /* created in order, never moved */
    atomic_size_t slot_count;     /* published after the slot is ready */
    callcount_wanted_fn *on_wanted;
    void *on_wanted_ctx;
    size_t max_names;
    uint32_t *index; /* open addressing: slot number + 1, 0 = empty; twice max_names */
    size_t index_mask;
};

struct callcount *callcount_new(size_t max_names)
{
    struct callcount *t = sw_calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    size_t index_cap = 16;
    while (index_cap < max_names * 2) {
        index_cap <<= 1;
    }
    t->max_names = max_names;
    t->slots = sw_calloc(max_names == 0 ? 1 : max_names, sizeof(*t->slots));
    t->index = sw_calloc(index_cap, sizeof(*t->index));
    t->index_mask = index_cap - 1;
    if (t->slots == NULL || t->index == NULL) {
        callcount_free(t);
        return NULL;
    }
    return t;
}

void callcount_free(struct callcount *t)
{
    if (t == NULL) {
        return;
    }
    sw_free(t->slots);
    sw_free(t->index);
    sw_free(t);
}

static size_t name_hash(enum callcount_kind kind, struct sv name)
{
    return (size_t)(sw_hash_sv(name) ^ ((uint64_t)kind * 0x9e3779b97f4a7c15ull));
}

struct callcount_slot *callcount_slot(struct callcount *t, enum callcount_kind kind,
                                      const char *name)
{
    struct sv key = sv_from_cstr(name);
    if (key.len >= CALLCOUNT_NAME_CAP) {
        return NULL;
    }
    size_t pos = name_hash(kind, key) & t->index_mask;
    /* Bounded: the index is at most half full, so an empty entry comes within its size. */
    for (size_t step = 0; step <= t->index_mask; step++) {
        uint32_t entry = t->index[pos];
        if (entry == 0) {
            break;
        }
        struct callcount_slot *s = &t->slots[entry - 1];
        if (s->kind == kind && sv_eq(sv_from_cstr(s->name), key)) {
            return s;
        }
        pos = (pos + 1) & t->index_mask;
    }
    size_t count = atomic_load(&t->slot_count);
    if (count == t->max_names) {
        return NULL;
    }
    struct callcount_slot *s = &t->slots[count];
    s->kind = kind;
    s->table = t;
    memcpy(s->name, key.ptr, key.len);
    s->name[key.len] = '\0';
    atomic_store(&s->count, 0);
    atomic_store(&s->shared_cap, 0);
    atomic_store(&s->grant, CALLCOUNT_NO_GRANT);
    atomic_store(&s->is_wanted, false);
    t->index[pos] = (uint32_t)(count + 1);
    atomic_store(&t->slot_count, count + 1);
    return s;
}

/* Tells the cluster thread that `slot`'s grant is used up (it asks for more). */
static void want_more(struct callcount_slot *slot)
{
    atomic_store(&slot->is_wanted, true);
    if (slot->table->on_wanted != NULL) {
        slot->table->on_wanted(slot->table->on_wanted_ctx);
    }
}

bool callcount_reserve(struct callcount_slot *slot, uint32_t max)
{
    if (slot == NULL) {
        return true;
    }
    unsigned seen = atomic_load(&slot->count);
    for (;;) {
        if (max != 0 && seen >= max) {
            return false;
        }
        unsigned grant = atomic_load(&slot->grant);
        if (seen >= grant) {
            want_more(slot); /* the cluster's grant is used up, not the cap itself */
            return false;
        }
        if (atomic_compare_exchange_weak(&slot->count, &seen, seen + 1)) {
            if (grant != CALLCOUNT_NO_GRANT && seen + 1 >= grant) {
                want_more(slot); /* the next call would find no room: ask before it comes */
            }
            return true;
        }
    }
}

void callcount_release(struct callcount_slot *slot)
{
    if (slot == NULL) {
        return;
    }
    unsigned before = atomic_fetch_sub(&slot->count, 1);
    SW_ASSERT(before > 0); /* a release without its reservation is a bug of ours */
}

void callcount_share(struct callcount_slot *slot, uint32_t cap)
{
    atomic_store(&slot->shared_cap, cap);
    if (cap == 0) {
        atomic_store(&slot->grant, CALLCOUNT_NO_GRANT);
    }
}

uint32_t callcount_shared_cap(const struct callcount_slot *slot)
{
    return atomic_load(&slot->shared_cap);
}

void callcount_grant_set(struct callcount_slot *slot, uint32_t grant)
{
    atomic_store(&slot->grant, grant);
}

uint32_t callcount_grant(const struct callcount_slot *slot)
{
    return atomic_load(&slot->grant);
}

bool callcount_take_wanted(struct callcount_slot *slot)
{
    return atomic_exchange(&slot->is_wanted, false);
}

size_t callcount_slot_count(const struct callcount *table)
{
    return atomic_load(&table->slot_count);
}

struct callcount_slot *callcount_slot_at(struct callcount *table, size_t i)
{
    SW_ASSERT(i < atomic_load(&table->slot_count));
    return &table->slots[i];
}

void callcount_on_wanted(struct callcount *table, callcount_wanted_fn *fn, void *ctx)
{
    table->on_wanted = fn;
    table->on_wanted_ctx = ctx;
}

uint32_t callcount_value(const struct callcount_slot *slot)
{
    return slot == NULL ? 0 : atomic_load(&slot->count);
}

const char *callcount_name(const struct callcount_slot *slot)
{
    return slot->name;
}

enum callcount_kind callcount_slot_kind(const struct callcount_slot *slot)
{
    return slot->kind;
}

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct callcount *shared_table;
static size_t shared_refs;

struct callcount *callcount_acquire(size_t max_names)
{
    pthread_mutex_lock(&shared_lock);
    if (shared_table == NULL) {
        shared_table = callcount_new(max_names);
    }
    struct callcount *table = shared_table;
    shared_refs += table != NULL ? 1u : 0u;
    pthread_mutex_unlock(&shared_lock);
    return table;
}

void callcount_release_shared(struct callcount *table)
{
    if (table == NULL) {
        return;
    }
    pthread_mutex_lock(&shared_lock);
    SW_ASSERT(table == shared_table && shared_refs > 0);
    if (--shared_refs == 0) {
        callcount_free(shared_table);
        shared_table = NULL;
    }
    pthread_mutex_unlock(&shared_lock);
}
