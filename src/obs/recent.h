/*
 * A bounded log of the most recent items of one fixed size (security events, alert
 * messages) for the admin API: a ring of `cap` items, the oldest overwritten. Items are
 * copied in and out under a mutex, so producers (the event consumer, the alert engine)
 * and readers (the admin server) may be any threads.
 */
#ifndef SW_OBS_RECENT_H
#define SW_OBS_RECENT_H

#include <stddef.h>
#include <stdint.h>

struct recent;

/* A ring of `cap` items of `item_size` bytes; NULL when out of memory or a size is 0. */
struct recent *recent_new(size_t item_size, size_t cap);

/* Frees; NULL is a no-op. */
void recent_free(struct recent *r);

/* Copies `item` in, over the oldest when full. */
void recent_push(struct recent *r, const void *item);

/* Copies up to `cap` items into `out`, newest first; returns how many. */
size_t recent_copy(struct recent *r, void *out, size_t cap);

/* Items pushed since the start (the ring keeps the last `cap` of them). */
uint64_t recent_total(struct recent *r);

#endif
