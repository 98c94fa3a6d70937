/*
 * Counts of what happened in the last minute (calls started, failures) for the admin
 * API and the dashboard: per series a ring of MINUTE_BUCKETS one-second buckets, each
 * stamped with the second it holds, so that a bucket left from an older minute counts
 * as empty. A count is exact to the second. Writers (the event consumer) and readers
 * (the admin server) may be any threads: a mutex guards the ring.
 */
#ifndef SW_OBS_MINUTE_H
#define SW_OBS_MINUTE_H

#include <stddef.h>
#include <stdint.h>

#define MINUTE_BUCKETS    60u
#define MINUTE_SERIES_MAX 4u

struct minute_counts;

/* `series` counters (1..MINUTE_SERIES_MAX); NULL when out of memory or out of range. */
struct minute_counts *minute_counts_new(size_t series);

/* Frees; NULL is a no-op. */
void minute_counts_free(struct minute_counts *m);

/* Adds `n` to `series` at second `now_s` (any monotonic or wall-clock seconds, the same
 * clock for every call). A series out of range is ignored. */
void minute_counts_add(struct minute_counts *m, size_t series, int64_t now_s, uint32_t n);

/* What `series` counted in the MINUTE_BUCKETS seconds up to and including `now_s`. */
uint64_t minute_counts_sum(struct minute_counts *m, size_t series, int64_t now_s);

#endif
