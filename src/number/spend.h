/*
 * Spending caps (issue #11): the arithmetic of one budget, in integer micro-units. A
 * budget (an account, a trunk, or everything leaving through the trunks) has a daily and
 * a monthly cap; its spend is the closed cost of the calls that ended in the current
 * period plus the live cost of the calls in progress, each priced from its answer with
 * its rate (connect fee, first and next increments: number/money.h). This module says
 * when the live calls would carry the spend past what the caps leave, so that the gateway
 * can end them at that instant, and where the daily and monthly periods start in a time
 * zone with a reset hour.
 *
 * Pure functions (the zone is read-only): any thread.
 */
#ifndef SW_NUMBER_SPEND_H
#define SW_NUMBER_SPEND_H

#include <stddef.h>
#include <stdint.h>

#include "number/money.h"

#define SPEND_NEVER    INT64_MAX /* no crossing: the calls are free or there is no cap */
#define SPEND_NO_CAP   0         /* a cap of 0 is "no cap" */
#define SPEND_MAX_HOUR 23u

struct tz_zone;

/* One answered call in progress on a budget. */
struct spend_live {
    struct rate rate;
    int64_t answer_ms; /* when it was answered, on the caller's clock (monotonic) */
};

/* A budget's caps in micro-units; SPEND_NO_CAP = none. */
struct spend_caps {
    int64_t daily_micro;
    int64_t monthly_micro;
};

enum spend_period {
    SPEND_DAY,
    SPEND_MONTH,
};

/*
 * The cost of `count` live calls at `at_ms`: each call's rate_cost() for its duration
 * since its answer (nothing before it). Saturates at INT64_MAX.
 */
int64_t spend_live_cost(const struct spend_live *calls, size_t count, int64_t at_ms);

/*
 * The cost of a call of `duration_ms` answered under the rate given by its parts, as the
 * call records keep it (base/callrec.h): 0 when first_increment_s is 0 (not rated) or the
 * rate is not valid, else rate_cost(). The one formula of a record's cost column, of
 * the spend it closes and of the records recovered after a crash.
 */
int64_t spend_record_cost(int64_t per_minute_micro, int64_t connect_fee_micro,
                          uint32_t first_increment_s, uint32_t next_increment_s,
                          uint64_t duration_ms);

/*
 * The first millisecond t >= now_ms at which the live cost of the calls exceeds
 * `budget_micro` (so t - 1 is the last instant within it): now_ms when it already
 * does (or the budget is negative), SPEND_NEVER when it never will (no call, or only
 * free ones whose connect fees fit).
 */
int64_t spend_crossing_ms(const struct spend_live *calls, size_t count, int64_t budget_micro,
                          int64_t now_ms);

/*
 * What the caps leave after the closed spend of the day and of the month: the smaller
 * of daily - day_closed and monthly - month_closed over the caps that are set (negative
 * when a cap is overrun), INT64_MAX without any cap.
 */
int64_t spend_remaining(const struct spend_caps *caps, int64_t day_closed_micro,
                        int64_t month_closed_micro);

/*
 * The start (UTC seconds) of the day or month that contains `utc_s` in `zone` (NULL:
 * UTC), a day starting at `reset_hour` (0..23) local time and a month on its first day
 * at that hour.
 */
int64_t spend_period_start(const struct tz_zone *zone, unsigned reset_hour,
                           enum spend_period period, int64_t utc_s);

/* The start (UTC seconds) of the period after the one that contains `utc_s`. */
int64_t spend_period_next(const struct tz_zone *zone, unsigned reset_hour, enum spend_period period,
                          int64_t utc_s);

#endif
