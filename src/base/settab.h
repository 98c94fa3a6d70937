/*
 * A bounded set-associative table with striped locks: the one shape of the per-source
 * caches that forget their oldest entries (scanner windows, authenticated addresses,
 * nonce counts). `entry_count` fixed-size entries, zeroed at start, are grouped in sets of
 * `ways`; a key's hash picks its set, and one of `lock_count` mutexes guards it. The
 * caller owns the entries' layout: it compares keys and chooses a victim within the set
 * (rules differ per user), so the table never calls back and never allocates after
 * settab_init.
 *
 * Threads: settab_init and settab_fini belong to the owner; between settab_lock and
 * settab_unlock of the same hash, any thread may read and write the set's entries.
 */
#ifndef SW_BASE_SETTAB_H
#define SW_BASE_SETTAB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct settab {
    unsigned char *entries;
    pthread_mutex_t *locks;
    size_t entry_size;
    size_t set_count;
    unsigned ways;
    unsigned lock_count;
};

/*
 * Allocates `entry_count` zeroed entries of `entry_size` bytes (rounded up to whole sets
 * of `ways`, 1 to 64) and `lock_count` locks (at least 1). Returns 0, -SW_EBADARG or
 * -ENOMEM; on failure nothing is held and settab_fini is still safe.
 */
int settab_init(struct settab *tab, size_t entry_size, size_t entry_count, unsigned ways,
                unsigned lock_count);

/* Frees the entries and locks; safe on a zeroed or failed table. */
void settab_fini(struct settab *tab);

/* Bytes settab_init allocated. */
size_t settab_memory_bytes(const struct settab *tab);

/* Locks the set of `hash` and returns its first entry; its `ways` entries follow. */
void *settab_lock(struct settab *tab, uint64_t hash);

/* Unlocks the set of `hash`, locked by settab_lock in this thread. */
void settab_unlock(struct settab *tab, uint64_t hash);

/* The entry `way` (below ways) of a set that settab_lock returned. */
static inline void *settab_way(const struct settab *tab, void *set, unsigned way)
{
    return (unsigned char *)set + (size_t)way * tab->entry_size;
}

#endif
