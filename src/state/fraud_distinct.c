#include "state/fraud_distinct.h"

#include <stdlib.h>
#include <string.h>

#include "base/assert.h"

#define NIL        0xffffu
#define TABLE_CAP  (2u * FRAUD_DISTINCT_MAX) /* at most half full: short probes */
#define TABLE_MASK (TABLE_CAP - 1u)

_Static_assert((TABLE_CAP & TABLE_MASK) == 0, "the table's size is a power of two");
_Static_assert(FRAUD_DISTINCT_MAX < NIL && FRAUD_DISTINCT_MAX % 64 == 0, "slots fit the links");

static bool is_recent(const struct fraud_distinct_dest *d, int64_t since_ms)
{
    return d->hash != 0 && d->at_ms > since_ms;
}

uint32_t fraud_distinct_count_scan(struct fraud_distinct_ring *ring, uint64_t hash, int64_t now_ms,
                                   int64_t window_ms)
{
    int64_t since = now_ms - window_ms;
    bool is_known = false;
    uint32_t count = 0;
    for (size_t i = 0; i < FRAUD_DISTINCT_MAX; i++) {
        struct fraud_distinct_dest *d = &ring->dests[i];
        bool is_in = is_recent(d, since);
        if (is_in && d->hash == hash) {
            d->at_ms = now_ms;
            is_known = true;
        }
        count += is_in ? 1u : 0u;
    }
    if (!is_known) {
        /* The slot overwritten is the oldest remembered: recent only when the ring is full
         * of the window's destinations, and then the count stays at the maximum. */
        struct fraud_distinct_dest *slot = &ring->dests[ring->next % FRAUD_DISTINCT_MAX];
        count -= is_recent(slot, since) ? 1u : 0u;
        *slot = (struct fraud_distinct_dest){ hash, now_ms };
        ring->next = (ring->next + 1) % FRAUD_DISTINCT_MAX;
        count++;
    }
    return count;
}

void fraud_distinct_index_reset(struct fraud_distinct_index *index)
{
    index->is_ready = false;
}

/* ---- the index: a list by time and a table by hash, of the entries within the window ---- */

static size_t home_of(uint64_t hash)
{
    return (size_t)(hash >> 1) & TABLE_MASK; /* the low bit is always set */
}

static bool is_listed(const struct fraud_distinct_index *index, uint32_t slot)
{
    return (index->is_listed[slot / 64] >> (slot % 64) & 1u) != 0;
}

/* The listed slot of `hash`, or NIL. */
static uint32_t table_find(const struct fraud_distinct_index *index,
                           const struct fraud_distinct_ring *ring, uint64_t hash)
{
    for (size_t at = home_of(hash);; at = (at + 1) & TABLE_MASK) {
        uint32_t entry = index->table[at];
        if (entry == 0) {
            return NIL;
        }
        if (ring->dests[entry - 1].hash == hash) {
            return entry - 1;
        }
    }
}

/* Adds `slot`; false (nothing added) when its hash is there already. */
static bool table_add(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                      uint32_t slot)
{
    uint64_t hash = ring->dests[slot].hash;
    size_t at = home_of(hash);
    while (index->table[at] != 0) {
        if (ring->dests[index->table[at] - 1].hash == hash) {
            return false;
        }
        at = (at + 1) & TABLE_MASK;
    }
    index->table[at] = (uint16_t)(slot + 1);
    return true;
}

/* Removes `slot` (listed), moving later entries of its cluster back so that no probe stops
 * early: linear probing without tombstones. */
static void table_remove(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                         uint32_t slot)
{
    size_t hole = home_of(ring->dests[slot].hash);
    while (index->table[hole] != slot + 1) {
        SW_ASSERT(index->table[hole] != 0);
        hole = (hole + 1) & TABLE_MASK;
    }
    for (size_t at = (hole + 1) & TABLE_MASK; index->table[at] != 0; at = (at + 1) & TABLE_MASK) {
        size_t home = home_of(ring->dests[index->table[at] - 1].hash);
        /* The entry may fill the hole when its home is not within (hole, at]. */
        if (((at - home) & TABLE_MASK) >= ((at - hole) & TABLE_MASK)) {
            index->table[hole] = index->table[at];
            hole = at;
        }
    }
    index->table[hole] = 0;
}

/* Lists `slot` as the newest; its hash is not listed yet. */
static void list_add(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                     uint32_t slot)
{
    bool is_added = table_add(index, ring, slot);
    SW_ASSERT(is_added);
    index->older[slot] = index->newest;
    index->newer[slot] = NIL;
    if (index->newest != NIL) {
        index->newer[index->newest] = (uint16_t)slot;
    } else {
        index->oldest = (uint16_t)slot;
    }
    index->newest = (uint16_t)slot;
    index->is_listed[slot / 64] |= (uint64_t)1 << (slot % 64);
    index->count++;
}

static void list_unlink(struct fraud_distinct_index *index, uint32_t slot)
{
    uint16_t older = index->older[slot];
    uint16_t newer = index->newer[slot];
    if (older != NIL) {
        index->newer[older] = newer;
    } else {
        index->oldest = newer;
    }
    if (newer != NIL) {
        index->older[newer] = older;
    } else {
        index->newest = older;
    }
}

static void list_remove(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                        uint32_t slot)
{
    table_remove(index, ring, slot);
    list_unlink(index, slot);
    index->is_listed[slot / 64] &= ~((uint64_t)1 << (slot % 64));
    index->count--;
}

/* Moves `slot` (listed) to the newest end. */
static void list_touch(struct fraud_distinct_index *index, uint32_t slot)
{
    if (index->newest == slot) {
        return;
    }
    list_unlink(index, slot);
    index->older[slot] = index->newest;
    index->newer[slot] = NIL;
    index->newer[index->newest] = (uint16_t)slot; /* not NIL: slot was listed apart from it */
    index->newest = (uint16_t)slot;
}

struct timed_slot {
    int64_t at_ms;
    uint32_t slot;
};

static int timed_slot_cmp(const void *a, const void *b)
{
    const struct timed_slot *x = a;
    const struct timed_slot *y = b;
    if (x->at_ms != y->at_ms) {
        return x->at_ms < y->at_ms ? -1 : 1;
    }
    return x->slot < y->slot ? -1 : x->slot > y->slot ? 1 : 0;
}

/*
 * Lists the ring's entries within the window ending at `now_ms`, oldest first. False when
 * two of them share a hash (only a clock that went back leaves that, and the pass over the
 * ring, which moves both, is then the measure) or when the ring holds a time after
 * `now_ms` (the list would not stay in order).
 */
static bool index_build(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                        int64_t now_ms, int64_t since_ms)
{
    memset(index, 0, sizeof(*index));
    index->oldest = NIL;
    index->newest = NIL;
    index->latest_ms = INT64_MIN;
    struct timed_slot recent[FRAUD_DISTINCT_MAX];
    size_t count = 0;
    for (uint32_t i = 0; i < FRAUD_DISTINCT_MAX; i++) {
        const struct fraud_distinct_dest *d = &ring->dests[i];
        if (d->hash != 0 && d->at_ms > index->latest_ms) {
            index->latest_ms = d->at_ms;
        }
        if (is_recent(d, since_ms)) {
            recent[count++] = (struct timed_slot){ d->at_ms, i };
        }
    }
    if (index->latest_ms > now_ms) {
        return false;
    }
    qsort(recent, count, sizeof(recent[0]), timed_slot_cmp);
    for (size_t i = 0; i < count; i++) {
        if (table_find(index, ring, ring->dests[recent[i].slot].hash) != NIL) {
            return false;
        }
        list_add(index, ring, recent[i].slot);
    }
    index->is_ready = true;
    return true;
}

uint32_t fraud_distinct_count(struct fraud_distinct_ring *ring, struct fraud_distinct_index *index,
                              uint64_t hash, int64_t now_ms, int64_t window_ms)
{
    SW_ASSERT((hash & 1u) != 0);
    int64_t since = now_ms - window_ms;
    /* The list stays in the order of time only while the clock does not go back. */
    bool is_usable =
        index->is_ready ? now_ms >= index->latest_ms : index_build(index, ring, now_ms, since);
    if (!is_usable) {
        index->is_ready = false;
        return fraud_distinct_count_scan(ring, hash, now_ms, window_ms);
    }
    while (index->count > 0 && ring->dests[index->oldest].at_ms <= since) {
        list_remove(index, ring, index->oldest);
    }
    uint32_t slot = table_find(index, ring, hash);
    if (slot != NIL) {
        ring->dests[slot].at_ms = now_ms;
        list_touch(index, slot);
    } else {
        /* The oldest remembered makes room, as in the pass over the ring. */
        slot = ring->next % FRAUD_DISTINCT_MAX;
        if (is_listed(index, slot)) {
            list_remove(index, ring, slot);
        }
        ring->dests[slot] = (struct fraud_distinct_dest){ hash, now_ms };
        ring->next = (slot + 1) % FRAUD_DISTINCT_MAX;
        list_add(index, ring, slot);
    }
    index->latest_ms = now_ms;
    return index->count;
}
