/*
 * Concurrent-call counters keyed by the name of what they count (a trunk, an account, a
 * side of the gateway), so that they survive a reload that reorders, adds or removes
 * sections: a call keeps the slot it reserved and gives it back when it ends, whatever
 * the configuration has become meanwhile.
 *
 * Slots are created by one thread (the main thread, at start and on reload) and never
 * move or disappear before callcount_free, so workers hold plain pointers to them;
 * reserving and releasing are lock-free and exact across threads (the check and the
 * increment are one compare-and-swap). Bounded: at most `max_names` slots; a full table
 * refuses new names (the caller refuses the configuration).
 *
 * A cluster (issue #15, state/cluster.h) shares the cap of a trunk or account between
 * nodes: the main thread marks such a slot with its cap (callcount_share), and the
 * cluster thread sets the slot's grant, the part of the cap Redis gave this node (or its
 * local share while Redis is away). A reservation then needs room under both the
 * caller's `max` and the grant. A slot that was never granted anything has no such bound.
 */
#ifndef SW_STATE_CALLCOUNT_H
#define SW_STATE_CALLCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum callcount_kind {
    CALLCOUNT_TRUNK,
    CALLCOUNT_ACCOUNT,
    CALLCOUNT_SIDE,         /* one side of the gateway (the provider side, the PBX, the accounts) */
    CALLCOUNT_TRUNK_INTL,   /* a trunk's international calls (the fraud policy) */
    CALLCOUNT_ACCOUNT_INTL, /* an account's international calls */
};

#define CALLCOUNT_NAME_CAP 128
#define CALLCOUNT_NO_GRANT UINT32_MAX /* a slot the cluster does not bound */

struct callcount;
struct callcount_slot;

/* A table for at most `max_names` names; NULL when out of memory. */
struct callcount *callcount_new(size_t max_names);

/* Frees the table; every slot pointer becomes invalid. NULL is a no-op. */
void callcount_free(struct callcount *table);

/*
 * The slot of (`kind`, `name`), created at zero when new. NULL when the table is full or
 * the name is longer than CALLCOUNT_NAME_CAP - 1. One thread at a time (main thread).
 */
struct callcount_slot *callcount_slot(struct callcount *table, enum callcount_kind kind,
                                      const char *name);

/*
 * Takes one call on `slot` if fewer than `max` are counted (`max` 0 = no limit): true
 * when taken. Exact under concurrency: two threads never both take the last place.
 * A NULL slot takes nothing and always succeeds. Any thread.
 */
bool callcount_reserve(struct callcount_slot *slot, uint32_t max);

/* Gives one call back (a reserved one). NULL is a no-op. Any thread. */
void callcount_release(struct callcount_slot *slot);

/*
 * Marks `slot` as one whose cap of `cap` calls the cluster shares (0 = not shared, and
 * its grant is lifted). Main thread, at start and on reload.
 */
void callcount_share(struct callcount_slot *slot, uint32_t cap);

/* The cap shared by the cluster (0 = not shared). Any thread. */
uint32_t callcount_shared_cap(const struct callcount_slot *slot);

/* Sets the part of the cap this node may use; CALLCOUNT_NO_GRANT lifts it. Any thread. */
void callcount_grant_set(struct callcount_slot *slot, uint32_t grant);

/* The grant now (CALLCOUNT_NO_GRANT: none). Any thread. */
uint32_t callcount_grant(const struct callcount_slot *slot);

/*
 * True once after a reservation found the grant used up, or used up its last place (the
 * cluster should ask for more); clears the mark. Any thread.
 */
bool callcount_take_wanted(struct callcount_slot *slot);

/* Slots created so far, and the i-th (0 <= i < count): the cluster walks them. Any thread. */
size_t callcount_slot_count(const struct callcount *table);
struct callcount_slot *callcount_slot_at(struct callcount *table, size_t i);

/*
 * Calls `fn(ctx)` (from the reserving thread) whenever a reservation finds the grant used
 * up or takes its last place; `fn` must be quick and never block on I/O. Set before the
 * workers run and cleared after they stopped. NULL = none.
 */
typedef void callcount_wanted_fn(void *ctx);
void callcount_on_wanted(struct callcount *table, callcount_wanted_fn *fn, void *ctx);

/*
 * The process's shared table, which outlives configuration reloads (the limits and fraud
 * stages of every pipeline and the gateway find the same slots by name): created at the
 * first acquire for `max_names` names (later acquires keep the first size), freed at the
 * last release. NULL when out of memory. Main thread (like callcount_slot).
 */
struct callcount *callcount_acquire(size_t max_names);

/* Gives back one acquire; NULL is a no-op. Main thread. */
void callcount_release_shared(struct callcount *table);

/* Calls counted now (0 for NULL). Any thread. */
uint32_t callcount_value(const struct callcount_slot *slot);

/* The slot's name and kind (for logs). */
const char *callcount_name(const struct callcount_slot *slot);
enum callcount_kind callcount_slot_kind(const struct callcount_slot *slot);

#endif
