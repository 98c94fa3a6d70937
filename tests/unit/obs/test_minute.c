#include "obs/minute.h"
#include "support/unit.h"

static void test_minute_bounds(void **state)
{
    (void)state;
    assert_null(minute_counts_new(0));
    assert_null(minute_counts_new(MINUTE_SERIES_MAX + 1));
    minute_counts_free(NULL);
    struct minute_counts *m = minute_counts_new(2);
    assert_non_null(m);
    minute_counts_add(m, 2, 100, 5); /* a series out of range is ignored */
    assert_int_equal(minute_counts_sum(m, 2, 100), 0);
    assert_int_equal(minute_counts_sum(m, 0, 100), 0);
    minute_counts_free(m);
}

static void test_minute_window_slides(void **state)
{
    (void)state;
    struct minute_counts *m = minute_counts_new(2);
    assert_non_null(m);
    minute_counts_add(m, 0, 1000, 3);
    minute_counts_add(m, 0, 1000, 1);
    minute_counts_add(m, 1, 1000, 7);
    minute_counts_add(m, 0, 1030, 2);
    assert_int_equal(minute_counts_sum(m, 0, 1030), 6);
    assert_int_equal(minute_counts_sum(m, 1, 1030), 7);
    /* Second 1000 leaves the window at 1060; 1030 stays until 1090. */
    assert_int_equal(minute_counts_sum(m, 0, 1059), 6);
    assert_int_equal(minute_counts_sum(m, 0, 1060), 2);
    assert_int_equal(minute_counts_sum(m, 1, 1060), 0);
    /* Second 1060 reuses 1000's bucket: the old counts of every series are dropped. */
    minute_counts_add(m, 0, 1060, 1);
    assert_int_equal(minute_counts_sum(m, 0, 1060), 3);
    assert_int_equal(minute_counts_sum(m, 1, 1060), 0);
    assert_int_equal(minute_counts_sum(m, 0, 2000), 0);
    /* A reader whose clock is behind the writer's does not count the future. */
    assert_int_equal(minute_counts_sum(m, 0, 1029), 0);
    minute_counts_free(m);
}

static void test_minute_saturates(void **state)
{
    (void)state;
    struct minute_counts *m = minute_counts_new(1);
    assert_non_null(m);
    minute_counts_add(m, 0, 5, UINT32_MAX);
    minute_counts_add(m, 0, 5, 10);
    assert_int_equal(minute_counts_sum(m, 0, 5), UINT32_MAX);
    minute_counts_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minute_bounds),
        cmocka_unit_test(test_minute_window_slides),
        cmocka_unit_test(test_minute_saturates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
