#include <stdio.h>
#include <string.h>

#include "number/spend.h"
#include "number/tzif.h"
#include "support/testdata.h"
#include "support/unit.h"

/* 1.20 a minute = 20,000 micro-units a second. */
static const struct rate per_second = { .per_minute_micro = 1200000,
                                        .first_increment_s = 1,
                                        .next_increment_s = 1 };

static void test_live_cost_sums_each_call_from_its_answer(void **state)
{
    (void)state;
    struct spend_live calls[] = {
        { per_second, 1000 },
        { { .per_minute_micro = 600000,
            .connect_fee_micro = 50000,
            .first_increment_s = 60,
            .next_increment_s = 30 },
          5000 },
    };
    assert_int_equal(spend_live_cost(calls, 2, 1000), 0);
    assert_int_equal(spend_live_cost(calls, 2, 1001), 20000);
    assert_int_equal(spend_live_cost(calls, 2, 5000), 4 * 20000);
    /* The second call: connect fee and its first minute from its first millisecond. */
    assert_int_equal(spend_live_cost(calls, 2, 5001), 5 * 20000 + 50000 + 600000);
    assert_int_equal(spend_live_cost(calls, 2, 65000), 64 * 20000 + 650000);
    assert_int_equal(spend_live_cost(calls, 2, 65001), 65 * 20000 + 650000 + 300000);
    assert_int_equal(spend_live_cost(NULL, 0, 65001), 0);
}

static void test_crossing_of_one_call(void **state)
{
    (void)state;
    struct spend_live call = { per_second, 1000 };
    /* 1.00 buys 50 s: the 51st second starts at 50,001 ms after the answer. */
    assert_int_equal(spend_crossing_ms(&call, 1, 1000000, 1000), 51001);
    assert_int_equal(spend_crossing_ms(&call, 1, 1000000, 30000), 51001);
    assert_int_equal(spend_crossing_ms(&call, 1, 999999, 1000), 50001);
    /* Already past: now. A negative budget (a cap overrun): now. */
    assert_int_equal(spend_crossing_ms(&call, 1, 1000000, 60000), 60000);
    assert_int_equal(spend_crossing_ms(&call, 1, -1, 0), 0);
    /* Nothing live, or free calls: never. */
    assert_int_equal(spend_crossing_ms(NULL, 0, 0, 5), SPEND_NEVER);
    struct spend_live free_call = {
        { .connect_fee_micro = 10, .first_increment_s = 1, .next_increment_s = 1 }, 0
    };
    assert_int_equal(spend_crossing_ms(&free_call, 1, 10, 5), SPEND_NEVER);
    /* A free call whose connect fee does not fit crosses at its first millisecond. */
    free_call.answer_ms = 100;
    assert_int_equal(spend_crossing_ms(&free_call, 1, 9, 0), 101);
}

/* The crossing against a scan of every millisecond. */
static void check_against_scan(const struct spend_live *calls, size_t count, int64_t budget,
                               int64_t now_ms, int64_t horizon_ms)
{
    int64_t expected = SPEND_NEVER;
    for (int64_t t = now_ms; t <= horizon_ms; t++) {
        if (spend_live_cost(calls, count, t) > budget) {
            expected = t;
            break;
        }
    }
    int64_t got = spend_crossing_ms(calls, count, budget, now_ms);
    if (got != expected) {
        fail_msg("budget %lld now %lld: crossing %lld, scan %lld", (long long)budget,
                 (long long)now_ms, (long long)got, (long long)expected);
    }
}

static void test_crossing_of_several_calls_matches_a_scan(void **state)
{
    (void)state;
    struct spend_live calls[] = {
        { per_second, 0 },
        { { .per_minute_micro = 2500000,
            .connect_fee_micro = 100000,
            .first_increment_s = 30,
            .next_increment_s = 6 },
          2500 },
        { { .per_minute_micro = 90000, .first_increment_s = 60, .next_increment_s = 60 }, 7000 },
        { { .per_minute_micro = 0,
            .connect_fee_micro = 70000,
            .first_increment_s = 1,
            .next_increment_s = 1 },
          9000 },
    };
    static const int64_t budgets[] = { 0, 19999, 20000, 500000, 1234567, 2000000, 3333333 };
    for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
        for (size_t n = 1; n <= 4; n++) {
            check_against_scan(calls, n, budgets[b], 0, 400000);
            check_against_scan(calls, n, budgets[b], 8000, 400000);
        }
    }
}

static void test_remaining_takes_the_tighter_cap(void **state)
{
    (void)state;
    struct spend_caps none = { 0 };
    assert_int_equal(spend_remaining(&none, 5, 5), INT64_MAX);
    struct spend_caps daily = { .daily_micro = 1000 };
    assert_int_equal(spend_remaining(&daily, 300, 900000), 700);
    struct spend_caps both = { .daily_micro = 1000, .monthly_micro = 5000 };
    assert_int_equal(spend_remaining(&both, 300, 4500), 500);
    assert_int_equal(spend_remaining(&both, 1200, 4500), -200);
}

static struct tz_zone *zone(const char *name)
{
    char root[512];
    (void)snprintf(root, sizeof(root), "%s/tzif", testdata_dir());
    struct tz_zone *z = NULL;
    const char *reason = NULL;
    if (tz_zone_load(root, sv_from_cstr(name), &z, &reason) != 0) {
        fail_msg("%s: %s", name, reason != NULL ? reason : "?");
    }
    return z;
}

static void test_periods_in_utc(void **state)
{
    (void)state;
    /* 2026-12-31 23:30 UTC: the day began at 00:00, the month on 12-01, the next in 2027. */
    assert_int_equal(spend_period_start(NULL, 0, SPEND_DAY, 1798759800), 1798675200);
    assert_int_equal(spend_period_next(NULL, 0, SPEND_DAY, 1798759800), 1798761600);
    assert_int_equal(spend_period_start(NULL, 0, SPEND_MONTH, 1798759800), 1796083200);
    assert_int_equal(spend_period_next(NULL, 0, SPEND_MONTH, 1798759800), 1798761600);
    /* Reset at 06:00: 2026-12-07 06:00 starts a day, one second before belongs to the 6th. */
    assert_int_equal(spend_period_start(NULL, 6, SPEND_DAY, 1796623200), 1796623200);
    assert_int_equal(spend_period_start(NULL, 6, SPEND_DAY, 1796623199), 1796623200 - 86400);
    /* The month's first day before 06:00 still belongs to the month before. */
    assert_int_equal(spend_period_start(NULL, 6, SPEND_MONTH, 1796083200),
                     1796083200 - 30 * 86400 + 6 * 3600);
}

static void test_periods_in_zones_across_dst(void **state)
{
    (void)state;
    struct tz_zone *berlin = zone("Europe/Berlin");
    /* 2026-03-29, the day Berlin moves to CEST at 01:00 UTC; reset at 06:00 local. */
    int64_t noon = 1774785600; /* 12:00 UTC = 14:00 CEST */
    assert_int_equal(spend_period_start(berlin, 6, SPEND_DAY, noon), 1774756800); /* 04:00 UTC */
    /* 03:00 UTC = 05:00 CEST: still the day that began 2026-03-28 06:00 CET (05:00 UTC). */
    assert_int_equal(spend_period_start(berlin, 6, SPEND_DAY, 1774753200), 1774674000);
    assert_int_equal(spend_period_next(berlin, 6, SPEND_DAY, 1774753200), 1774756800);
    tz_zone_free(berlin);
    struct tz_zone *new_york = zone("America/New_York");
    /* 2026-02-15: the month began 02-01 00:00 EST (05:00 UTC) and the next on 03-01. */
    assert_int_equal(spend_period_start(new_york, 0, SPEND_MONTH, 1771156800), 1769922000);
    assert_int_equal(spend_period_next(new_york, 0, SPEND_MONTH, 1771156800), 1772341200);
    tz_zone_free(new_york);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_cost_sums_each_call_from_its_answer),
        cmocka_unit_test(test_crossing_of_one_call),
        cmocka_unit_test(test_crossing_of_several_calls_matches_a_scan),
        cmocka_unit_test(test_remaining_takes_the_tighter_cap),
        cmocka_unit_test(test_periods_in_utc),
        cmocka_unit_test(test_periods_in_zones_across_dst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
