#include "state/callcount.h"

#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/hash.h"
#include "base/sv.h"

struct callcount_slot {
    atomic_uint count;
    enum callcount_kind kind;
    char name[CALLCOUNT_NAME_CAP];
};

struct callcount {
    struct callcount_slot *slots; /* created in order, never moved */
    size_t slot_count;
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
    if (t->slot_count == t->max_names) {
        return NULL;
    }
    struct callcount_slot *s = &t->slots[t->slot_count];
    s->kind = kind;
    memcpy(s->name, key.ptr, key.len);
    s->name[key.len] = '\0';
    atomic_store(&s->count, 0);
    t->index[pos] = (uint32_t)++t->slot_count;
    return s;
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
        if (atomic_compare_exchange_weak(&slot->count, &seen, seen + 1)) {
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
