/*
 * Rate buckets: a token bucket per (source address, request class) and one global bucket
 * for unknown sources. The gate or the ratelimit stage calls ratelimit_take() once per
 * request; it never allocates.
 *
 * Budgets by side: `factor` multiplies a class's rate and burst. 1 is an unknown source:
 * the strict limits, and the global bucket too (the global budget protects the PBX from
 * a spoofed flood spread over many addresses). A known side (a provider range, the PBX,
 * an address an account authenticated from) passes factor > 1: a bigger budget, and the
 * global bucket does not apply, so a flood of strangers cannot lock out the known. 0 is
 * unlimited: nothing is counted.
 *
 * Floods: when one source exceeds its bucket `flood_threshold` times within
 * `flood_window_s`, ratelimit_take() returns RATELIMIT_FLOOD once for that window (the
 * caller emits a RateExceeded event with count = flood_threshold and feeds the failure
 * tracker); other over-budget requests return RATELIMIT_OVER.
 *
 * Bounds: at most `max_entries` buckets (rounded up to a multiple of RATELIMIT_SHARDS),
 * allocated at creation: ratelimit_memory_bytes() = 68 bytes per bucket on x86-64
 * (record, index slots and free list); 65,536 buckets (the default) = 4.3 MiB, whatever
 * the number of sources. Eviction, when a shard is full: CLOCK over the shard's buckets, starting
 * at the clock hand and looking at most RATELIMIT_EVICT_SCAN buckets: the first bucket
 * that is full again is dropped (it carries no information: a new bucket would be full
 * too); otherwise the first bucket not used since it was created or since the hand last
 * passed (its reference bit is clear; the hand clears the bits it passes); otherwise
 * the bucket under the hand. A new bucket starts with its reference bit clear, so a
 * flood of one-shot spoofed sources evicts itself while sources that keep sending stay.
 * An evicted source starts again with a full bucket: a flooding source loses its
 * history only if it stops sending long enough to be passed twice by the hand.
 *
 * Times are monotonic milliseconds. Thread-safe: sharded, one short critical section per
 * call; the global bucket is one lock-free compare-and-swap.
 */
#ifndef SW_STATE_RATELIMIT_H
#define SW_STATE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/sv.h"

#define RATELIMIT_SHARDS     64
#define RATELIMIT_EVICT_SCAN 64
#define RATELIMIT_FACTOR_MAX 1000

enum ratelimit_class {
    RATELIMIT_REGISTER,
    RATELIMIT_INVITE,
    RATELIMIT_OPTIONS,
    RATELIMIT_OTHER,
    RATELIMIT_CLASS_COUNT
};

enum ratelimit_result {
    RATELIMIT_OK,    /* within budget; a token was taken */
    RATELIMIT_OVER,  /* over budget: 503 with Retry-After, or a silent drop */
    RATELIMIT_FLOOD, /* over budget, and this source's flood is reported now (once) */
};

struct ratelimit_bucket_config {
    uint32_t rate_per_s; /* tokens added per second */
    uint32_t burst;      /* bucket size */
};

/* Zero members take the defaults given with each. */
struct ratelimit_config {
    /* REGISTER 5/s burst 20, INVITE 5/s 20, OPTIONS 5/s 20, other 10/s 40. */
    struct ratelimit_bucket_config per_class[RATELIMIT_CLASS_COUNT];
    struct ratelimit_bucket_config global; /* 500/s burst 1000; burst <= 4,000,000 */
    uint32_t flood_threshold;              /* 50 */
    uint32_t flood_window_s;               /* 10 */
    size_t max_entries;                    /* 65536 */
    unsigned v6_prefix_len; /* IPv6 sources share buckets per prefix (sw_ip_aggregate); 0 = 128 */
};

struct ratelimit;

/* Creates a table. Returns 0, -SW_EBADARG for a bad config, or -ENOMEM. */
int ratelimit_new(const struct ratelimit_config *cfg, struct ratelimit **out);

/* Frees the table; NULL is a no-op. */
void ratelimit_free(struct ratelimit *table);

/* Takes one token for a request of class `cls` from `ip` (see the file comment). */
enum ratelimit_result ratelimit_take(struct ratelimit *table, const struct sw_ip *ip,
                                     enum ratelimit_class cls, uint32_t factor, uint64_t now_ms);

/* Seconds a rejected client should wait (Retry-After): one token's time, at least 1. */
uint32_t ratelimit_retry_after_s(const struct ratelimit *table, enum ratelimit_class cls,
                                 uint32_t factor);

/* The class of a request method (case-sensitive, RFC 3261 §7.1). */
enum ratelimit_class ratelimit_class_of(struct sv method);

/* Buckets in use, most buckets, bytes allocated (fixed at creation). */
size_t ratelimit_count(const struct ratelimit *table);
size_t ratelimit_capacity(const struct ratelimit *table);
size_t ratelimit_memory_bytes(const struct ratelimit *table);

#endif
