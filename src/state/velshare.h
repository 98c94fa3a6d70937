/*
 * Velocity counters shared by a cluster of gateways (issue #15): the new calls of the last
 * minute and the international calls of the last hour of each account and trunk, counted
 * across the nodes. The local fraud store (state/fraudstore.h) counts this node's dials;
 * this table keeps, per key, the node's latest counts for the cluster thread to publish
 * and the other nodes' counts as Redis last gave them, which velshare_dial adds to the
 * local ones: the local counter plus the others' last known sum decides.
 *
 * Staleness, and which way it errs: a node publishes a key's counts after each of its
 * dials (the cluster thread batches them: one round at most every 2 ms) and learns the
 * others' counts in the same answer. A node's published count is kept until its window
 * has passed (a minute for calls, an hour for international calls), so calls that slid
 * out of another node's window still count here: that errs towards refusing (under-admits).
 * The others' dials since this node last published the key are unknown to it: the dials
 * it judges before the answer to its publish (one batch) may be over-admitted, never
 * more.
 *
 * Bounds: at most `max_keys` keys (a key beyond is judged on local counts only); keys are
 * never evicted (they come from the configuration's accounts and trunks).
 *
 * Threads: velshare_dial from any worker; the cluster thread takes the dirty keys and sets
 * the remote counts; new, free and install while no other thread uses the table. One
 * mutex, held for a hash probe.
 */
#ifndef SW_STATE_VELSHARE_H
#define SW_STATE_VELSHARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define VELSHARE_KEY_CAP 96

/* The counts of one key. */
struct velshare_counts {
    uint32_t calls_minute;
    uint32_t international_hour;
};

/* A key to publish with this node's counts. */
struct velshare_item {
    char key[VELSHARE_KEY_CAP];
    struct velshare_counts local;
};

/* Called when a key became dirty (quick, never blocking). */
typedef void velshare_hook_fn(void *ctx);

struct velshare;

/* A table for `max_keys` keys; NULL when out of memory or max_keys is 0. */
struct velshare *velshare_new(size_t max_keys);

/* Frees the table; NULL is a no-op. */
void velshare_free(struct velshare *v);

/* Sets the hook run when a key becomes dirty (NULL = none); before the workers run. */
void velshare_on_dirty(struct velshare *v, velshare_hook_fn *fn, void *ctx);

/*
 * A dial of `key` was counted locally, `counts` holding the local counts with the dial:
 * records them for publishing and adds the other nodes' counts as last known. Any thread.
 */
void velshare_dial(struct velshare *v, struct sv key, struct velshare_counts *counts);

/*
 * The dirty key queued first into `out`, no longer dirty (a queue: no scan of the table).
 * False when there is none. Cluster thread.
 */
bool velshare_next_dirty(struct velshare *v, struct velshare_item *out);

/* Marks `key` dirty again (its publish failed). Cluster thread. */
void velshare_redirty(struct velshare *v, const char *key);

/* The other nodes' counts of `key` as Redis gave them. Cluster thread. */
void velshare_set_remote(struct velshare *v, const char *key, struct velshare_counts remote);

/* Redis away: forgets the others' counts (each node judges on its own). Cluster thread. */
void velshare_clear_remote(struct velshare *v);

/*
 * The process's table that the fraud stage adds to its counts (NULL uninstalls); while
 * no worker runs.
 */
void velshare_install(struct velshare *v);

/* velshare_dial on the installed table; a no-op without one. Any thread. */
void velshare_shared_dial(struct sv key, struct velshare_counts *counts);

#endif
