/*
 * The fraud policy's velocity levels (issue #11 "Velocity"), each set in [fraud] and
 * overridable per trunk and per account under the same key names: new calls per minute,
 * international calls per hour, distinct destinations per hour and international calls in
 * progress, each with a warn and a block level, and what a call outside the schedule gets
 * (refused, or capped by after_hours_max_calls and after_hours_calls_per_minute). A level a
 * section leaves unset comes from the next less specific one (account, then trunk, then
 * [fraud]).
 *
 * Also the concurrent-call counters the fraud stage reads and takes (state/callcount.h,
 * the process's shared table, keyed by name so a reload keeps them): each trunk's and
 * account's calls in progress (which the limits stage takes) and their international calls
 * in progress (which the fraud stage takes).
 *
 * Threads: built once (configuration thread), then read-only.
 */
#ifndef SW_POLICY_FRAUD_LIMITS_H
#define SW_POLICY_FRAUD_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cfg;
struct callcount;
struct callcount_slot;

/* The levels, each named by its configuration key (fraud_limit_key). */
enum fraud_limit {
    FRAUD_LIMIT_CALLS_MINUTE_WARN,
    FRAUD_LIMIT_CALLS_MINUTE_BLOCK,
    FRAUD_LIMIT_INTL_HOUR_WARN,
    FRAUD_LIMIT_INTL_HOUR_BLOCK,
    FRAUD_LIMIT_DESTS_HOUR_WARN,
    FRAUD_LIMIT_DESTS_HOUR_BLOCK,
    FRAUD_LIMIT_CONCURRENT_INTL_WARN,
    FRAUD_LIMIT_CONCURRENT_INTL_BLOCK,
    FRAUD_LIMIT_SCHEDULE_ACTION, /* enum cfg_schedule_action */
    FRAUD_LIMIT_AFTER_HOURS_CALLS,
    FRAUD_LIMIT_AFTER_HOURS_CALLS_MINUTE,
    FRAUD_LIMIT_COUNT,
};

/* The levels one section sets. */
struct fraud_limits {
    uint32_t value[FRAUD_LIMIT_COUNT];
    uint32_t set_mask; /* bit i: the section sets level i */
};

/* [fraud]'s levels of `cfg` (every level set). */
void fraud_limits_of_global(const struct cfg *cfg, struct fraud_limits *out);

/* The levels trunk `index` of `cfg` writes in its section (the others unset). */
void fraud_limits_of_trunk(const struct cfg *cfg, size_t index, struct fraud_limits *out);

/* The levels account `index` of `cfg` writes in its section. */
void fraud_limits_of_account(const struct cfg *cfg, size_t index, struct fraud_limits *out);

/*
 * Level `id` from the most specific of `levels` (most specific first; NULL entries are
 * skipped) that sets it; 0 (off) when none does.
 */
uint32_t fraud_limits_resolve(const struct fraud_limits *const *levels, size_t count,
                              enum fraud_limit id);

/* The configuration key of a level ("calls_per_minute_warn"...). */
const char *fraud_limit_key(enum fraud_limit id);

/* The counters of every trunk and account of one configuration. */
struct fraud_slots {
    struct callcount *table; /* the shared table (acquired) */
    struct callcount_slot **trunk_calls;
    struct callcount_slot **trunk_intl;
    struct callcount_slot **account_calls;
    struct callcount_slot **account_intl;
    size_t trunk_count;
    size_t account_count;
};

/* Acquires the shared table and finds (or makes) the slots; -ENOMEM or -ENOSPC (a full
 * table) leaves `slots` for fraud_slots_fini. Main thread. */
int fraud_slots_init(struct fraud_slots *slots, const struct cfg *cfg);

/* Gives the table back; a zeroed `slots` is a no-op. */
void fraud_slots_fini(struct fraud_slots *slots);

#endif
