/*
 * A bounded table of per-source records split into 64 locked shards: the one shape of
 * the failure tracker and the rate buckets. The top six bits of a record's 64-bit hash
 * pick its shard (so that they stay independent of the index's low bits); each shard has
 * a mutex, a fixed array of caller-defined records of `entry_size` bytes, a free list and
 * an iptab index from the hash's low 32 bits to record numbers. The caller compares keys
 * (shardtab_find) and chooses what to evict when shardtab_insert finds its shard full
 * (LRU, CLOCK...), so the hot path makes no indirect call. Nothing is allocated after
 * shardtab_init.
 *
 * Threads: shardtab_init and shardtab_fini belong to the owner; everything taking a
 * shard runs between shardtab_lock and shardtab_unlock of that shard, from any thread;
 * shardtab_count locks each shard in turn.
 */
#ifndef SW_STATE_SHARDTAB_H
#define SW_STATE_SHARDTAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/assert.h"
#include "state/iptab.h"

#define SHARDTAB_SHARDS 64
#define SHARDTAB_NONE   IPTAB_NONE

struct shardtab_shard {
    pthread_mutex_t lock;
    struct iptab index; /* holds exactly the records in use */
    unsigned char *entries;
    uint32_t *free_stack; /* records not in use; the top is handed out next */
    uint32_t free_count;
    uint32_t max_count;
    bool is_lock_ready;
    char pad[64]; /* keeps two shards' locks off one cache line */
};

struct shardtab {
    struct shardtab_shard *shards; /* SHARDTAB_SHARDS; a pointer so that const readers may lock */
    size_t entry_size;
    size_t memory_bytes;
};

/* True when the record `entry` has the key `key` (the caller's types). */
typedef bool shardtab_match_fn(const void *entry, const void *key);

/*
 * Allocates room for `max_entries` records (rounded up to a multiple of SHARDTAB_SHARDS,
 * at most 2^26) of `entry_size` bytes. Returns 0, -SW_EBADARG or -ENOMEM; on failure
 * shardtab_fini is still safe.
 */
int shardtab_init(struct shardtab *tab, size_t entry_size, size_t max_entries);

/* Frees everything; safe on a zeroed or failed table. */
void shardtab_fini(struct shardtab *tab);

/* Locks and returns the shard of `hash`. Inline, as the rest of the per-packet calls. */
static inline struct shardtab_shard *shardtab_lock(const struct shardtab *tab, uint64_t hash)
{
    struct shardtab_shard *shard = &tab->shards[hash >> 58];
    SW_ASSERT(pthread_mutex_lock(&shard->lock) == 0);
    return shard;
}

/* Unlocks a shard shardtab_lock returned. */
static inline void shardtab_unlock(struct shardtab_shard *shard)
{
    SW_ASSERT(pthread_mutex_unlock(&shard->lock) == 0);
}

/* Record `idx` of a shard. */
static inline void *shardtab_entry(const struct shardtab *tab, const struct shardtab_shard *shard,
                                   uint32_t idx)
{
    return shard->entries + (size_t)idx * tab->entry_size;
}

/* The record in use whose hash is `hash` and that `match` accepts, or SHARDTAB_NONE. */
static inline uint32_t shardtab_find(const struct shardtab *tab, const struct shardtab_shard *shard,
                                     uint64_t hash, shardtab_match_fn *match, const void *key)
{
    struct iptab_cursor cur;
    iptab_cursor_init(&shard->index, (uint32_t)hash, &cur);
    for (uint32_t idx = iptab_next(&shard->index, &cur); idx != IPTAB_NONE;
         idx = iptab_next(&shard->index, &cur)) {
        if (match(shardtab_entry(tab, shard, idx), key)) {
            return idx;
        }
    }
    return SHARDTAB_NONE;
}

/*
 * Takes a free record and indexes it under `hash`. Returns its number, or SHARDTAB_NONE
 * when the shard is full (the caller evicts one with shardtab_remove and tries again).
 * The record keeps what its last user left (zero at first): the caller initializes it.
 * Free records are handed out from number 0 upwards at first.
 */
static inline uint32_t shardtab_insert(struct shardtab_shard *shard, uint64_t hash)
{
    if (shard->free_count == 0) {
        return SHARDTAB_NONE;
    }
    uint32_t idx = shard->free_stack[--shard->free_count];
    iptab_insert(&shard->index, (uint32_t)hash, idx);
    return idx;
}

/* Unindexes record `idx`, stored under `hash`, and frees it; the next insert reuses it. */
static inline void shardtab_remove(struct shardtab_shard *shard, uint64_t hash, uint32_t idx)
{
    SW_DEBUG_ASSERT(shard->free_count < shard->max_count);
    iptab_remove(&shard->index, (uint32_t)hash, idx);
    shard->free_stack[shard->free_count++] = idx;
}

/* Records in use, over all shards. */
size_t shardtab_count(const struct shardtab *tab);

/* Records the table can hold. */
size_t shardtab_capacity(const struct shardtab *tab);

#endif
