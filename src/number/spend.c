#include "number/spend.h"

#include <stdbool.h>

#include "base/assert.h"
#include "number/tzif.h"

#define DAY_S  86400
#define HOUR_S 3600

int64_t spend_live_cost(const struct spend_live *calls, size_t count, int64_t at_ms)
{
    int64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (at_ms <= calls[i].answer_ms) {
            continue;
        }
        int64_t cost = rate_cost(&calls[i].rate, (uint64_t)(at_ms - calls[i].answer_ms));
        total = cost > INT64_MAX - total ? INT64_MAX : total + cost;
    }
    return total;
}

int64_t spend_record_cost(int64_t per_minute_micro, int64_t connect_fee_micro,
                          uint32_t first_increment_s, uint32_t next_increment_s,
                          uint64_t duration_ms)
{
    if (first_increment_s == 0 || next_increment_s == 0 ||
        first_increment_s > RATE_MAX_INCREMENT_S || next_increment_s > RATE_MAX_INCREMENT_S ||
        per_minute_micro < 0 || connect_fee_micro < 0) {
        return 0;
    }
    struct rate rate = { .per_minute_micro = per_minute_micro,
                         .connect_fee_micro = connect_fee_micro,
                         .first_increment_s = first_increment_s,
                         .next_increment_s = next_increment_s };
    return rate_cost(&rate, duration_ms);
}

/*
 * A time at which the calls surely exceed the budget: the earliest moment one call alone
 * does. SPEND_NEVER when none ever does (the sum of free calls is constant).
 */
static int64_t upper_bound_ms(const struct spend_live *calls, size_t count, int64_t budget_micro)
{
    int64_t bound = SPEND_NEVER;
    for (size_t i = 0; i < count; i++) {
        uint64_t max_ms = rate_max_duration_ms(&calls[i].rate, budget_micro);
        if (max_ms == RATE_UNLIMITED_MS || max_ms >= (uint64_t)(INT64_MAX / 2)) {
            continue;
        }
        int64_t at = calls[i].answer_ms + (int64_t)max_ms + 1;
        if (at < bound) {
            bound = at;
        }
    }
    return bound;
}

int64_t spend_crossing_ms(const struct spend_live *calls, size_t count, int64_t budget_micro,
                          int64_t now_ms)
{
    if (budget_micro < 0 || spend_live_cost(calls, count, now_ms) > budget_micro) {
        return now_ms;
    }
    int64_t high = upper_bound_ms(calls, count, budget_micro);
    if (high == SPEND_NEVER) {
        return SPEND_NEVER;
    }
    SW_ASSERT(high > now_ms);
    /* The live cost never decreases with time: bisect between a fitting and an
     * exceeding instant (about 40 steps for any horizon in ms). */
    int64_t low = now_ms;
    while (high - low > 1) {
        int64_t mid = low + (high - low) / 2;
        if (spend_live_cost(calls, count, mid) > budget_micro) {
            high = mid;
        } else {
            low = mid;
        }
    }
    return high;
}

int64_t spend_remaining(const struct spend_caps *caps, int64_t day_closed_micro,
                        int64_t month_closed_micro)
{
    int64_t left = INT64_MAX;
    if (caps->daily_micro != SPEND_NO_CAP && caps->daily_micro - day_closed_micro < left) {
        left = caps->daily_micro - day_closed_micro;
    }
    if (caps->monthly_micro != SPEND_NO_CAP && caps->monthly_micro - month_closed_micro < left) {
        left = caps->monthly_micro - month_closed_micro;
    }
    return left;
}

/* ---- periods ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the era-based conversion). */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2 ? 1 : 0;
    int64_t era = floor_div(year, 400);
    int64_t year_of_era = year - era * 400;
    unsigned shifted_month = month > 2 ? month - 3 : month + 9;
    int64_t day_of_year = (153 * (int64_t)shifted_month + 2) / 5 + (int64_t)day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

/* The year and month of a day number (the inverse of days_from_civil). */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month)
{
    days += 719468;
    int64_t era = floor_div(days, 146097);
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t shifted_month = (5 * day_of_year + 2) / 153;
    *month = (unsigned)(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
    *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

static int32_t offset_at(const struct tz_zone *zone, int64_t utc_s)
{
    return zone != NULL ? tz_zone_offset(zone, utc_s) : 0;
}

/* The UTC instant of a local wall time (the offset in force then; in a gap or an overlap
 * the earlier reading). */
static int64_t local_to_utc(const struct tz_zone *zone, int64_t local_s)
{
    int64_t guess = local_s - offset_at(zone, local_s);
    return local_s - offset_at(zone, guess);
}

/* The local day number (days since 1970-01-01, a day starting at the reset hour). */
static int64_t local_day(const struct tz_zone *zone, unsigned reset_hour, int64_t utc_s)
{
    int64_t local = utc_s + offset_at(zone, utc_s);
    return floor_div(local - (int64_t)reset_hour * HOUR_S, DAY_S);
}

/* The first day of the month `months_after` months after the one that holds `day`. */
static int64_t month_first_day(int64_t day, unsigned months_after)
{
    int64_t year = 0;
    unsigned month = 0;
    civil_from_days(day, &year, &month);
    month += months_after;
    while (month > 12) {
        month -= 12;
        year++;
    }
    return days_from_civil(year, month, 1);
}

static int64_t period_start_after(const struct tz_zone *zone, unsigned reset_hour,
                                  enum spend_period period, int64_t utc_s, unsigned after)
{
    SW_ASSERT(reset_hour <= SPEND_MAX_HOUR);
    int64_t day = local_day(zone, reset_hour, utc_s);
    int64_t first = period == SPEND_DAY ? day + after : month_first_day(day, after);
    return local_to_utc(zone, first * DAY_S + (int64_t)reset_hour * HOUR_S);
}

int64_t spend_period_start(const struct tz_zone *zone, unsigned reset_hour,
                           enum spend_period period, int64_t utc_s)
{
    return period_start_after(zone, reset_hour, period, utc_s, 0);
}

int64_t spend_period_next(const struct tz_zone *zone, unsigned reset_hour, enum spend_period period,
                          int64_t utc_s)
{
    return period_start_after(zone, reset_hour, period, utc_s, 1);
}
