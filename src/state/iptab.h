/*
 * A fixed-capacity hash index for the state tables (failure tracker, rate buckets): maps
 * a 32-bit keyed hash to entry numbers of a caller-owned entry array. Open addressing with
 * linear probing and backward-shift deletion (no tombstones, so lookups stay short under
 * churn), twice as many slots as entries. The caller compares keys: the index stores only
 * the hash and the entry number. Nothing is allocated after iptab_init.
 *
 * Not thread-safe: the caller holds the lock of the shard that owns the index.
 */
#ifndef SW_STATE_IPTAB_H
#define SW_STATE_IPTAB_H

#include <stddef.h>
#include <stdint.h>

#define IPTAB_NONE UINT32_MAX

struct iptab_slot {
    uint32_t entry; /* IPTAB_NONE = empty */
    uint32_t hash;
};

struct iptab {
    struct iptab_slot *slots;
    uint32_t mask;
    uint32_t count;
    uint32_t max_count;
};

struct iptab_cursor {
    uint32_t hash;
    uint32_t pos;
    uint32_t steps;
};

/* Allocates room for `max_entries` entries. Returns 0 or -ENOMEM. */
int iptab_init(struct iptab *tab, uint32_t max_entries);

/* Frees the slots; safe on a zeroed or failed index. */
void iptab_fini(struct iptab *tab);

/* Bytes iptab_init allocated. */
size_t iptab_memory_bytes(const struct iptab *tab);

/* Starts a lookup of `hash`. */
void iptab_cursor_init(const struct iptab *tab, uint32_t hash, struct iptab_cursor *cur);

/* The next entry stored with the cursor's hash, or IPTAB_NONE when there is none. */
uint32_t iptab_next(const struct iptab *tab, struct iptab_cursor *cur);

/* Adds `entry` under `hash`. The caller makes sure count < max_count. */
void iptab_insert(struct iptab *tab, uint32_t hash, uint32_t entry);

/* Removes `entry` stored under `hash`; no-op when absent. */
void iptab_remove(struct iptab *tab, uint32_t hash, uint32_t entry);

#endif
