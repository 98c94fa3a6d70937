/*
 * Money in integer micro-units (1 EUR = 1,000,000): parsing of exact decimal strings,
 * formatting, and the cost of a call under a rate with billing increments, with its
 * inverse for spending caps (how long a call may run on a budget). Never floating point.
 * Pure functions: thread-safe.
 */
#ifndef SW_NUMBER_MONEY_H
#define SW_NUMBER_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define MONEY_MICRO          1000000 /* micro-units per currency unit */
#define MONEY_MAX_DECIMALS   6
#define MONEY_FORMAT_CAP     32         /* enough for any int64 with a sign, point and NUL */
#define RATE_MAX_INCREMENT_S 86400u     /* a billing increment is at most a day */
#define RATE_UNLIMITED_MS    UINT64_MAX /* a free destination: no duration limit */

/* Why a money string was refused. */
enum money_status {
    MONEY_OK = 0,
    MONEY_EMPTY,
    MONEY_NEGATIVE,    /* a '-' sign: money in a rate deck is never negative */
    MONEY_SYNTAX,      /* not digits[.digits] */
    MONEY_TOO_PRECISE, /* more than 6 decimals */
    MONEY_OVERFLOW,    /* more than INT64_MAX micro-units */
};

/* How a destination is billed (one rate-deck row). */
struct rate {
    int64_t per_minute_micro;   /* price of 60 billed seconds */
    int64_t connect_fee_micro;  /* charged once when a call is answered and lasts > 0 ms */
    uint32_t first_increment_s; /* the first billed block (1..RATE_MAX_INCREMENT_S) */
    uint32_t next_increment_s;  /* each following block (1..RATE_MAX_INCREMENT_S) */
};

/*
 * Parses a non-negative decimal amount ("0.0125", "12", "3.5") into micro-units,
 * exactly. Refuses an empty string, a sign, anything but digits and one '.' with digits
 * on both sides, more than 6 decimals and overflow.
 */
enum money_status money_parse(struct sv text, int64_t *micro);

/* A short description of `status`. Never NULL. */
const char *money_status_text(enum money_status status);

/*
 * Writes `micro` as a decimal with at least 2 and at most 6 decimals ("0.0125",
 * "12.00", "-1.50") into `buf` (`cap` >= MONEY_FORMAT_CAP). Returns `buf`.
 */
const char *money_format(int64_t micro, char *buf, size_t cap);

/*
 * The seconds billed for a call of `duration_ms`: 0 for 0 ms, else the first increment
 * and then whole next increments covering ceil(duration_ms / 1000) seconds.
 */
uint64_t rate_billed_s(const struct rate *rate, uint64_t duration_ms);

/*
 * The cost in micro-units of a call of `duration_ms` answered under `rate`: 0 for 0 ms,
 * else the connect fee plus per_minute * billed seconds / 60, rounded up to a whole
 * micro-unit (a cap is never under-counted). Saturates at INT64_MAX.
 */
int64_t rate_cost(const struct rate *rate, uint64_t duration_ms);

/*
 * The longest duration in ms a call may run before its cost would exceed `budget_micro`:
 * rate_cost(result) <= budget and rate_cost(result + 1) > budget. 0 when the budget does
 * not carry the connect fee and the first increment (the call must be refused);
 * RATE_UNLIMITED_MS for a free rate whose connect fee fits. Costs saturate at INT64_MAX, so
 * with a budget of INT64_MAX the second property holds only up to saturation; a duration
 * past UINT64_MAX ms saturates at RATE_UNLIMITED_MS - 1 (still a limit, never "free").
 */
uint64_t rate_max_duration_ms(const struct rate *rate, int64_t budget_micro);

#endif
