/*
 * Velocity patterns of one account's dialling that precede or make up IRSF fraud:
 *   - sequential dialling: incrementing (or decrementing) numbers in one number range,
 *     e.g. +88213 400 001, ...002, ...003 (a scanner hunting for an answering number);
 *   - a sweep through one range in any order: many distinct numbers of one block;
 *   - a burst of short answered calls into one range (the "test calls" that check the
 *     route before the pumping starts).
 * Pure functions over a fixed-size history (VELOCITY_HISTORY dials, oldest evicted): no
 * allocation, bounded memory per account. A history belongs to one thread (the worker
 * that owns the account's state), or to whoever holds the lock around it.
 */
#ifndef SW_NUMBER_VELOCITY_H
#define SW_NUMBER_VELOCITY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sv.h"
#include "number/numplan.h"

#define VELOCITY_HISTORY     32u  /* dials remembered per account */
#define VELOCITY_MAX_RANGE   6u   /* a range spans at most the last 6 digits */
#define VELOCITY_DURATION_NA (-1) /* the call has not ended (or its end is unknown) */

/* What the history shows. */
enum velocity_pattern {
    VELOCITY_NONE = 0,
    VELOCITY_SEQUENTIAL,  /* incrementing or decrementing numbers in one range */
    VELOCITY_RANGE_SWEEP, /* many distinct numbers of one range, in any order */
    VELOCITY_SHORT_BURST, /* many short answered calls into one range */
};

/* One remembered dial. */
struct velocity_dial {
    char digits[E164_MAX_DIGITS + 1]; /* E.164, no '+' */
    uint8_t len;
    int64_t at_ms; /* when it was dialled */
    int64_t
        duration_ms; /* answered duration once ended (0: not answered), or VELOCITY_DURATION_NA */
};

/* The recent dials of one account: a ring, oldest overwritten. */
struct velocity_history {
    struct velocity_dial dials[VELOCITY_HISTORY];
    uint32_t next;  /* slot of the next dial */
    uint32_t count; /* dials held, at most VELOCITY_HISTORY */
};

/* Thresholds; VELOCITY_CFG_DEFAULT holds levels a normal office never reaches. */
struct velocity_cfg {
    int64_t window_ms;           /* only dials this recent count */
    unsigned range_digits;       /* sequential/sweep: numbers equal but for their last N digits */
    unsigned max_step;           /* sequential: each number at most this far from the previous */
    unsigned min_run;            /* sequential: numbers in a row, the new one included (>= 2) */
    unsigned min_distinct;       /* sweep: distinct numbers of one range, the new one included */
    int64_t short_call_ms;       /* burst: an answered call up to this long is short */
    unsigned burst_range_digits; /* burst: the range, as range_digits */
    unsigned min_short;          /* burst: short calls into the range before the new one */
};

/* The defaults: a 10 min window, ranges of 1,000 numbers (10,000 for bursts), a run of 4
 * numbers at most 10 apart, 10 distinct numbers of one range, or 4 answered calls of at
 * most 10 s into one range. */
#define VELOCITY_CFG_DEFAULT                         \
    ((struct velocity_cfg){ .window_ms = 600000,     \
                            .range_digits = 3,       \
                            .max_step = 10,          \
                            .min_run = 4,            \
                            .min_distinct = 10,      \
                            .short_call_ms = 10000,  \
                            .burst_range_digits = 4, \
                            .min_short = 4 })

/* What was found. */
struct velocity_finding {
    enum velocity_pattern pattern;
    unsigned count;                  /* numbers (or short calls) that make the pattern */
    char range[E164_MAX_DIGITS + 1]; /* the digits the range shares (the number minus its tail) */
};

/* Empties `history`. */
void velocity_history_init(struct velocity_history *history);

/* Remembers that `digits` (E.164, 1 to 15 digits) was dialled at `at_ms`; the oldest dial
 * is forgotten when the history is full. Returns false (nothing stored) for bad digits. */
bool velocity_history_add(struct velocity_history *history, struct sv digits, int64_t at_ms);

/* Records the end of the newest not-yet-ended dial of `digits` made at `at_ms`: answered
 * for `duration_ms` (0: never answered). Returns false when no such dial is remembered. */
bool velocity_history_end(struct velocity_history *history, struct sv digits, int64_t at_ms,
                          int64_t duration_ms);

/*
 * Judges a new dial of `digits` at `now_ms` against the history (before adding it): a
 * sequential run first, then a sweep, then a short-call burst into its range. Returns the
 * pattern (VELOCITY_NONE when none) and fills `out` when not NULL. A configuration with a
 * threshold of 0 or a range outside 1..VELOCITY_MAX_RANGE disables that check.
 */
enum velocity_pattern velocity_check(const struct velocity_history *history, struct sv digits,
                                     int64_t now_ms, const struct velocity_cfg *cfg,
                                     struct velocity_finding *out);

/* The lower-case name of a pattern ("sequential"...). Never NULL. */
const char *velocity_pattern_name(enum velocity_pattern pattern);

#endif
