#include "obs/alert_baseline.h"
#include "support/unit.h"

/* Sunday 2026-12-06 00:00 UTC and the hour 14:00 of that day. */
#define MONDAY_S  1796515200LL
#define HOUR_14_S (MONDAY_S + 14 * 3600)

static int64_t period_at(int64_t wall_s)
{
    return wall_s / BASELINE_PERIOD_S;
}

static void test_baseline_needs_enough_weeks(void **state)
{
    (void)state;
    static struct alert_baseline b;
    alert_baseline_init(&b);
    uint32_t peak = 99;
    assert_false(alert_baseline_peak(&b, HOUR_14_S + 600, 1, &peak));
    alert_baseline_record(&b, period_at(HOUR_14_S - BASELINE_WEEK_S + 900), 7);
    assert_false(alert_baseline_peak(&b, HOUR_14_S + 600, 2, &peak));
    assert_true(alert_baseline_peak(&b, HOUR_14_S + 600, 1, &peak));
    assert_int_equal(peak, 7);
}

static void test_baseline_highest_of_the_same_hour(void **state)
{
    (void)state;
    static struct alert_baseline b;
    alert_baseline_init(&b);
    for (int64_t w = 1; w <= 4; w++) {
        int64_t hour = HOUR_14_S - w * BASELINE_WEEK_S;
        alert_baseline_record(&b, period_at(hour), (uint32_t)(w * 2));
        alert_baseline_record(&b, period_at(hour + 2700), (uint32_t)(w * 3)); /* 14:45 */
        alert_baseline_record(&b, period_at(hour + 3600), 100);               /* 15:00 */
        alert_baseline_record(&b, period_at(hour - 900), 200);                /* 13:45 */
    }
    /* Five weeks ago is outside the window. */
    alert_baseline_record(&b, period_at(HOUR_14_S - 5 * BASELINE_WEEK_S), 300);
    uint32_t peak = 0;
    assert_true(alert_baseline_peak(&b, HOUR_14_S + 1799, 4, &peak));
    assert_int_equal(peak, 12);
    /* A period recorded twice keeps its higher level; an older period never overwrites. */
    alert_baseline_record(&b, period_at(HOUR_14_S - BASELINE_WEEK_S), 20);
    alert_baseline_record(&b, period_at(HOUR_14_S - BASELINE_WEEK_S), 1);
    assert_true(alert_baseline_peak(&b, HOUR_14_S, 4, &peak));
    assert_int_equal(peak, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_needs_enough_weeks),
        cmocka_unit_test(test_baseline_highest_of_the_same_hour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
