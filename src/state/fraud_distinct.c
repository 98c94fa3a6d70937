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

/* Links `slot` in after `older` (NIL: as the oldest). */
static void list_link(struct fraud_distinct_index *index, uint32_t slot, uint16_t older)
{
    uint16_t newer = older != NIL ? index->newer[older] : index->oldest;
    index->older[slot] = older;
    index->newer[slot] = newer;
    if (older != NIL) {
        index->newer[older] = (uint16_t)slot;
    } else {
        index->oldest = (uint16_t)slot;
    }
    if (newer != NIL) {
        index->older[newer] = (uint16_t)slot;
    } else {
        index->newest = (uint16_t)slot;
    }
}

/* The listed entry a time of `at_ms` goes after (NIL: none), looked for from the newest
 * end, where a dial's time belongs unless another worker's clock was a little ahead. */
static uint16_t list_place_of(const struct fraud_distinct_index *index,
                              const struct fraud_distinct_ring *ring, int64_t at_ms)
{
    uint16_t older = index->newest;
    while (older != NIL && ring->dests[older].at_ms > at_ms) {
        older = index->older[older];
    }
    return older;
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

/* Lists `slot`, its hash not listed yet, after `older` (NIL: as the oldest). */
static void list_add(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                     uint32_t slot, uint16_t older)
{
    bool is_added = table_add(index, ring, slot);
    SW_ASSERT(is_added);
    list_link(index, slot, older);
    index->is_listed[slot / 64] |= (uint64_t)1 << (slot % 64);
    index->count++;
}

static void list_remove(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                        uint32_t slot)
{
    table_remove(index, ring, slot);
    list_unlink(index, slot);
    index->is_listed[slot / 64] &= ~((uint64_t)1 << (slot % 64));
    index->count--;
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
 * Lists the entries of the ring within the window after `since_ms` that are not listed:
 * every one at a first count (the list empty) or when the window begins before the newest
 * entry that left the list (a clock that went back). Those are all older than the listed
 * ones, so they go before them. False when one shares its hash with another within the
 * window (a clock that went back can leave that; the pass over the ring is the measure).
 */
static bool index_relist(struct fraud_distinct_index *index, const struct fraud_distinct_ring *ring,
                         int64_t since_ms)
{
    struct timed_slot found[FRAUD_DISTINCT_MAX];
    size_t count = 0;
    index->unlisted_max_ms = INT64_MIN;
    for (uint32_t i = 0; i < FRAUD_DISTINCT_MAX; i++) {
        const struct fraud_distinct_dest *d = &ring->dests[i];
        if (d->hash == 0 || is_listed(index, i)) {
            continue;
        }
        if (d->at_ms > since_ms) {
            found[count++] = (struct timed_slot){ d->at_ms, i };
        } else if (d->at_ms > index->unlisted_max_ms) {
            index->unlisted_max_ms = d->at_ms;
        }
    }
    qsort(found, count, sizeof(found[0]), timed_slot_cmp);
    for (size_t i = count; i-- > 0;) {
        if (table_find(index, ring, ring->dests[found[i].slot].hash) != NIL) {
            return false;
        }
        list_add(index, ring, found[i].slot, NIL);
    }
    return true;
}

static void index_clear(struct fraud_distinct_index *index)
{
    memset(index, 0, sizeof(*index));
    index->oldest = NIL;
    index->newest = NIL;
    index->unlisted_max_ms = INT64_MAX; /* not known yet: the ring is to be looked at */
}

uint32_t fraud_distinct_count(struct fraud_distinct_ring *ring, struct fraud_distinct_index *index,
                              uint64_t hash, int64_t now_ms, int64_t window_ms)
{
    SW_ASSERT((hash & 1u) != 0);
    int64_t since = now_ms - window_ms;
    /* The list holds the entries after the last count's window start, in the order of
     * time, and every other entry is at most unlisted_max_ms: it is right for this window
     * once the oldest leave it, unless the window begins before unlisted_max_ms. */
    if (!index->is_ready) {
        index_clear(index);
        index->is_ready = true;
    }
    if (index->unlisted_max_ms > since) {
        if (!index_relist(index, ring, since)) {
            index->is_ready = false;
            return fraud_distinct_count_scan(ring, hash, now_ms, window_ms);
        }
    }
    while (index->count > 0 && ring->dests[index->oldest].at_ms <= since) {
        int64_t at_ms = ring->dests[index->oldest].at_ms;
        index->unlisted_max_ms = at_ms > index->unlisted_max_ms ? at_ms : index->unlisted_max_ms;
        list_remove(index, ring, index->oldest);
    }
    uint32_t slot = table_find(index, ring, hash);
    if (slot != NIL) {
        ring->dests[slot].at_ms = now_ms;
        list_unlink(index, slot);
        list_link(index, slot, list_place_of(index, ring, now_ms));
    } else {
        /* The oldest remembered makes room, as in the pass over the ring. */
        slot = ring->next % FRAUD_DISTINCT_MAX;
        if (is_listed(index, slot)) {
            list_remove(index, ring, slot);
        }
        ring->dests[slot] = (struct fraud_distinct_dest){ hash, now_ms };
        ring->next = (slot + 1) % FRAUD_DISTINCT_MAX;
        list_add(index, ring, slot, list_place_of(index, ring, now_ms));
    }
    return index->count;
}
