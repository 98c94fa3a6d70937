#include "number/money.h"

#include <stdio.h>

const char *money_status_text(enum money_status status)
{
    switch (status) {
    case MONEY_OK:
        return "ok";
    case MONEY_EMPTY:
        return "empty amount";
    case MONEY_NEGATIVE:
        return "negative amount";
    case MONEY_SYNTAX:
        return "not a decimal amount";
    case MONEY_TOO_PRECISE:
        return "more than 6 decimals";
    case MONEY_OVERFLOW:
        return "amount too large";
    }
    return "unknown status";
}

/* Accumulates the digits of `text` into *value; false on a non-digit or overflow (*status). */
static bool add_digits(struct sv text, int64_t *value, enum money_status *status)
{
    for (size_t i = 0; i < text.len; i++) {
        char c = text.ptr[i];
        if (c < '0' || c > '9') {
            *status = MONEY_SYNTAX;
            return false;
        }
        if (__builtin_mul_overflow(*value, 10, value) ||
            __builtin_add_overflow(*value, (int64_t)(c - '0'), value)) {
            *status = MONEY_OVERFLOW;
            return false;
        }
    }
    return true;
}

enum money_status money_parse(struct sv text, int64_t *micro)
{
    if (text.ptr == NULL || text.len == 0) {
        return MONEY_EMPTY;
    }
    if (text.ptr[0] == '-') {
        return MONEY_NEGATIVE;
    }
    struct sv whole = text;
    struct sv frac = SV_NULL;
    long dot = sv_find_char(text, '.');
    if (dot >= 0) {
        whole = sv_slice(text, 0, (size_t)dot);
        frac = sv_slice(text, (size_t)dot + 1, text.len - (size_t)dot - 1);
        if (frac.len == 0) {
            return MONEY_SYNTAX;
        }
    }
    if (whole.len == 0) {
        return MONEY_SYNTAX;
    }
    enum money_status status = MONEY_OK;
    int64_t value = 0;
    if (!add_digits(whole, &value, &status)) {
        return status;
    }
    if (frac.len > MONEY_MAX_DECIMALS) {
        /* Checked after the syntax so that "1.2x" is a syntax error, not a precision one. */
        int64_t ignored = 0;
        return add_digits(frac, &ignored, &status) || status == MONEY_OVERFLOW ? MONEY_TOO_PRECISE
                                                                               : status;
    }
    if (!add_digits(frac, &value, &status)) {
        return status;
    }
    for (size_t i = frac.len; i < MONEY_MAX_DECIMALS; i++) {
        if (__builtin_mul_overflow(value, 10, &value)) {
            return MONEY_OVERFLOW;
        }
    }
    *micro = value;
    return MONEY_OK;
}

const char *money_format(int64_t micro, char *buf, size_t cap)
{
    uint64_t magnitude = micro < 0 ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;
    uint64_t whole = magnitude / MONEY_MICRO;
    unsigned frac = (unsigned)(magnitude % MONEY_MICRO);
    int decimals = MONEY_MAX_DECIMALS;
    while (decimals > 2 && frac % 10 == 0) {
        frac /= 10;
        decimals--;
    }
    /* Cannot truncate: cap >= MONEY_FORMAT_CAP holds 20 digits, sign, point and 6 more. */
    (void)snprintf(buf, cap, "%s%llu.%0*u", micro < 0 ? "-" : "", (unsigned long long)whole,
                   decimals, frac);
    return buf;
}

uint64_t rate_billed_s(const struct rate *rate, uint64_t duration_ms)
{
    if (duration_ms == 0) {
        return 0;
    }
    uint64_t seconds = duration_ms / 1000 + (duration_ms % 1000 != 0 ? 1 : 0);
    if (seconds <= rate->first_increment_s) {
        return rate->first_increment_s;
    }
    uint64_t rest = seconds - rate->first_increment_s;
    uint64_t blocks = rest / rate->next_increment_s + (rest % rate->next_increment_s != 0 ? 1 : 0);
    return rate->first_increment_s + blocks * rate->next_increment_s;
}

/* 128-bit products keep the money arithmetic exact (GCC and clang both have the type). */
/* NOLINTNEXTLINE(readability-identifier-naming): a number type, not a function type. */
__extension__ typedef unsigned __int128 money_u128;

/* ceil(per_minute * seconds / 60), saturated at INT64_MAX. */
static int64_t time_cost(int64_t per_minute, uint64_t seconds)
{
    money_u128 product = (money_u128)(uint64_t)per_minute * seconds;
    money_u128 cost = product / 60 + (product % 60 != 0 ? 1 : 0);
    return cost > (money_u128)INT64_MAX ? INT64_MAX : (int64_t)cost;
}

int64_t rate_cost(const struct rate *rate, uint64_t duration_ms)
{
    uint64_t billed = rate_billed_s(rate, duration_ms);
    if (billed == 0) {
        return 0;
    }
    int64_t cost = 0;
    if (__builtin_add_overflow(rate->connect_fee_micro, time_cost(rate->per_minute_micro, billed),
                               &cost)) {
        return INT64_MAX;
    }
    return cost;
}

/* The most seconds s with ceil(per_minute * s / 60) <= remaining: floor(60 * remaining /
 * per_minute). */
static uint64_t affordable_s(uint64_t remaining, uint64_t per_minute)
{
    money_u128 seconds = (money_u128)remaining * 60 / per_minute;
    return seconds > (money_u128)UINT64_MAX ? UINT64_MAX : (uint64_t)seconds;
}

uint64_t rate_max_duration_ms(const struct rate *rate, int64_t budget_micro)
{
    if (budget_micro < rate->connect_fee_micro || rate->first_increment_s == 0 ||
        rate->next_increment_s == 0) {
        return 0;
    }
    uint64_t remaining = (uint64_t)budget_micro - (uint64_t)rate->connect_fee_micro;
    if (rate->per_minute_micro <= 0) {
        return RATE_UNLIMITED_MS;
    }
    uint64_t max_s = affordable_s(remaining, (uint64_t)rate->per_minute_micro);
    if (max_s < rate->first_increment_s) {
        return 0;
    }
    uint64_t blocks = (max_s - rate->first_increment_s) / rate->next_increment_s;
    money_u128 ms =
        ((money_u128)rate->first_increment_s + (money_u128)blocks * rate->next_increment_s) * 1000;
    if (ms >= (money_u128)RATE_UNLIMITED_MS) {
        return RATE_UNLIMITED_MS - 1; /* saturated: still a limit, never "free" */
    }
    return (uint64_t)ms;
}
