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
 */
#ifndef SW_STATE_CALLCOUNT_H
#define SW_STATE_CALLCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum callcount_kind {
    CALLCOUNT_TRUNK,
    CALLCOUNT_ACCOUNT,
    CALLCOUNT_SIDE, /* one side of the gateway (the provider side, the PBX, the accounts) */
};

#define CALLCOUNT_NAME_CAP 128

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

/* Calls counted now (0 for NULL). Any thread. */
uint32_t callcount_value(const struct callcount_slot *slot);

/* The slot's name and kind (for logs). */
const char *callcount_name(const struct callcount_slot *slot);
enum callcount_kind callcount_slot_kind(const struct callcount_slot *slot);

#endif
