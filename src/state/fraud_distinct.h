/*
 * The distinct destinations a fraud key dialled within a window (issue #11; made cheap for
 * issue #13): a ring of the last FRAUD_DISTINCT_MAX destinations, the oldest overwritten,
 * which is part of the key's persistent image (state/fraudstore.h), and an index beside it
 * that is built from the ring when it cannot be trusted (a new key, an imported image) and
 * mended from it when the window begins before an entry that left it (a clock that went
 * back further than the last few milliseconds between workers).
 *
 * The count is the number of ring entries dialled within the window, the dial included;
 * a destination dialled again within the window has its time moved on, not a second entry.
 * With the index a dial costs a hash probe and the entries that left the window since the
 * previous dial, instead of a pass over the whole ring. The result is the same as that of
 * the pass (fraud_distinct_count_scan), also for dials whose times are not in order; the
 * pass itself serves only while two entries within the window share a destination (which
 * a clock that went back can leave).
 *
 * Ownership: both structures belong to the key's counters and are used under its lock.
 */
#ifndef SW_STATE_FRAUD_DISTINCT_H
#define SW_STATE_FRAUD_DISTINCT_H

#include <stdbool.h>
#include <stdint.h>

#define FRAUD_DISTINCT_MAX 512u /* distinct destinations of the last hour counted per key */

/* One remembered destination: the hash of its digits (low bit set; 0 = empty) and when it
 * was last dialled. */
struct fraud_distinct_dest {
    uint64_t hash;
    int64_t at_ms;
};

/* The persistent part: its layout is in the store's image. */
struct fraud_distinct_ring {
    struct fraud_distinct_dest dests[FRAUD_DISTINCT_MAX];
    uint32_t next; /* the slot the next new destination overwrites */
};

/*
 * The index of a ring (private to fraud_distinct.c; zeroed = to be rebuilt): the entries
 * within the window as of the last dial, in a list by time and a hash table by hash.
 */
struct fraud_distinct_index {
    uint16_t older[FRAUD_DISTINCT_MAX]; /* the list, oldest first; links are slots */
    uint16_t newer[FRAUD_DISTINCT_MAX];
    uint16_t table[2 * FRAUD_DISTINCT_MAX]; /* slot + 1 by hash, linear probing; 0 = empty */
    uint64_t is_listed[FRAUD_DISTINCT_MAX / 64];
    uint16_t oldest;
    uint16_t newest;
    uint32_t count;          /* entries listed */
    int64_t unlisted_max_ms; /* no entry not listed is newer */
    bool is_ready;
};

/* Makes the index rebuild itself from the ring at the next count (the ring was changed
 * or replaced other than by fraud_distinct_count). */
void fraud_distinct_index_reset(struct fraud_distinct_index *index);

/*
 * Remembers the dial of the destination `hash` (low bit set) at `now_ms` and returns the
 * distinct destinations of the ring dialled within the `window_ms` before `now_ms` (the
 * dial included): at least 1, at most FRAUD_DISTINCT_MAX. Every count of one ring and index
 * uses the same `window_ms`.
 */
uint32_t fraud_distinct_count(struct fraud_distinct_ring *ring, struct fraud_distinct_index *index,
                              uint64_t hash, int64_t now_ms, int64_t window_ms);

/* The same as fraud_distinct_count by a pass over the whole ring, without an index (which
 * then needs a reset). */
uint32_t fraud_distinct_count_scan(struct fraud_distinct_ring *ring, uint64_t hash, int64_t now_ms,
                                   int64_t window_ms);

#endif
