#include <string.h>

#include "number/money.h"
#include "support/guarded.h"
#include "support/unit.h"

struct money_case {
    const char *text;
    enum money_status status;
    int64_t micro;
};

static void test_money_parse_table(void **state)
{
    (void)state;
    static const struct money_case cases[] = {
        { "0", MONEY_OK, 0 },
        { "12", MONEY_OK, 12000000 },
        { "0.0125", MONEY_OK, 12500 },
        { "0.000001", MONEY_OK, 1 },
        { "1.5", MONEY_OK, 1500000 },
        { "007.50", MONEY_OK, 7500000 },
        { "9223372036854.775807", MONEY_OK, INT64_MAX },
        { "9223372036854.775808", MONEY_OVERFLOW, 0 },
        { "9223372036855", MONEY_OVERFLOW, 0 },
        { "99999999999999999999999", MONEY_OVERFLOW, 0 },
        { "0.0000001", MONEY_TOO_PRECISE, 0 },
        { "1.1234567", MONEY_TOO_PRECISE, 0 },
        { "1.12345670", MONEY_TOO_PRECISE, 0 }, /* exact means exact: no rounding, no guess */
        { "1.12x4567", MONEY_SYNTAX, 0 },
        { "-1", MONEY_NEGATIVE, 0 },
        { "-0.01", MONEY_NEGATIVE, 0 },
        { "+1", MONEY_SYNTAX, 0 },
        { "", MONEY_EMPTY, 0 },
        { ".5", MONEY_SYNTAX, 0 },
        { "5.", MONEY_SYNTAX, 0 },
        { "1.2.3", MONEY_SYNTAX, 0 },
        { "1,5", MONEY_SYNTAX, 0 },
        { "1e3", MONEY_SYNTAX, 0 },
        { " 1", MONEY_SYNTAX, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t micro = -7;
        enum money_status status = money_parse(guarded_sv(cases[i].text), &micro);
        if (status != cases[i].status) {
            fail_msg("'%s': %s", cases[i].text, money_status_text(status));
        }
        if (status == MONEY_OK) {
            assert_int_equal(micro, cases[i].micro);
        }
    }
    assert_int_equal(money_parse(SV_NULL, &(int64_t){ 0 }), MONEY_EMPTY);
    guarded_release_all();
}

static void test_money_format(void **state)
{
    (void)state;
    char buf[MONEY_FORMAT_CAP];
    assert_string_equal(money_format(0, buf, sizeof(buf)), "0.00");
    assert_string_equal(money_format(12500, buf, sizeof(buf)), "0.0125");
    assert_string_equal(money_format(1, buf, sizeof(buf)), "0.000001");
    assert_string_equal(money_format(12000000, buf, sizeof(buf)), "12.00");
    assert_string_equal(money_format(-1500000, buf, sizeof(buf)), "-1.50");
    assert_string_equal(money_format(INT64_MAX, buf, sizeof(buf)), "9223372036854.775807");
    assert_string_equal(money_format(INT64_MIN, buf, sizeof(buf)), "-9223372036854.775808");
}

static void test_rate_cost_with_increments(void **state)
{
    (void)state;
    /* 0.06/min, connect 0.10, 30 s then 6 s blocks. */
    struct rate rate = { .per_minute_micro = 60000,
                         .connect_fee_micro = 100000,
                         .first_increment_s = 30,
                         .next_increment_s = 6 };
    assert_int_equal(rate_billed_s(&rate, 0), 0);
    assert_int_equal(rate_cost(&rate, 0), 0);
    assert_int_equal(rate_billed_s(&rate, 1), 30);
    assert_int_equal(rate_cost(&rate, 1), 100000 + 30000);
    assert_int_equal(rate_billed_s(&rate, 30000), 30);
    assert_int_equal(rate_billed_s(&rate, 30001), 36);
    assert_int_equal(rate_cost(&rate, 30001), 100000 + 36000);
    assert_int_equal(rate_billed_s(&rate, 36000), 36);
    assert_int_equal(rate_billed_s(&rate, 36001), 42);
    assert_int_equal(rate_cost(&rate, 3600000), 100000 + 3600000);
    /* Per-second billing rounds each part-micro-unit up: 0.01/min for 1 s = 166.67 micro. */
    struct rate per_s = { .per_minute_micro = 10000,
                          .first_increment_s = 1,
                          .next_increment_s = 1 };
    assert_int_equal(rate_cost(&per_s, 1000), 167);
    assert_int_equal(rate_cost(&per_s, 60000), 10000);
    assert_int_equal(rate_cost(&per_s, 61000), 10167);
    /* Saturation, never wrap-around. */
    struct rate dear = { .per_minute_micro = INT64_MAX,
                         .connect_fee_micro = INT64_MAX,
                         .first_increment_s = 60,
                         .next_increment_s = 60 };
    assert_int_equal(rate_cost(&dear, 1), INT64_MAX);
    assert_int_equal(rate_cost(&dear, UINT64_MAX), INT64_MAX);
    struct rate huge = { .per_minute_micro = INT64_MAX / 2,
                         .first_increment_s = 60,
                         .next_increment_s = 60 };
    assert_int_equal(rate_cost(&huge, 60000), INT64_MAX / 2);
    assert_int_equal(rate_cost(&huge, 180000), INT64_MAX);
}

/* The defining property of the inverse: cost(T) <= budget < cost(T + 1 ms). */
static void check_inverse(const struct rate *rate, int64_t budget)
{
    uint64_t t = rate_max_duration_ms(rate, budget);
    if (t == 0) {
        assert_true(rate_cost(rate, 1) > budget);
        return;
    }
    if (t == RATE_UNLIMITED_MS) {
        assert_int_equal(rate->per_minute_micro, 0);
        return;
    }
    /* A saturated cost (INT64_MAX) never exceeds a budget of INT64_MAX (money.h). */
    bool is_saturated =
        (rate_cost(rate, t + 1) == INT64_MAX && budget == INT64_MAX) || t == RATE_UNLIMITED_MS - 1;
    if (rate_cost(rate, t) > budget || (rate_cost(rate, t + 1) <= budget && !is_saturated)) {
        fail_msg("rate %lld/%lld/%u/%u budget %lld: %llu ms", (long long)rate->per_minute_micro,
                 (long long)rate->connect_fee_micro, rate->first_increment_s,
                 rate->next_increment_s, (long long)budget, (unsigned long long)t);
    }
}

static void test_rate_max_duration(void **state)
{
    (void)state;
    struct rate rate = { .per_minute_micro = 60000,
                         .connect_fee_micro = 100000,
                         .first_increment_s = 30,
                         .next_increment_s = 6 };
    assert_int_equal(rate_max_duration_ms(&rate, 0), 0);
    assert_int_equal(rate_max_duration_ms(&rate, 99999), 0);  /* not the connect fee */
    assert_int_equal(rate_max_duration_ms(&rate, 129999), 0); /* not the first block */
    assert_int_equal(rate_max_duration_ms(&rate, 130000), 30000);
    assert_int_equal(rate_max_duration_ms(&rate, 135999), 30000);
    assert_int_equal(rate_max_duration_ms(&rate, 136000), 36000);
    assert_int_equal(rate_max_duration_ms(&rate, 100000 + 3600000), 3600000);
    assert_int_equal(rate_max_duration_ms(&rate, -5), 0);
    struct rate free_rate = { .connect_fee_micro = 5,
                              .first_increment_s = 1,
                              .next_increment_s = 1 };
    assert_int_equal(rate_max_duration_ms(&free_rate, 5), RATE_UNLIMITED_MS);
    assert_int_equal(rate_max_duration_ms(&free_rate, 4), 0);
    static const struct rate rates[] = {
        { 60000, 100000, 30, 6 },
        { 10000, 0, 1, 1 },
        { 7, 0, 60, 60 },
        { 1, 1, 1, 1 },
        { 999999, 3, 45, 7 },
        { INT64_MAX / 3, 0, 1, 1 },
        { 1000000, 0, 86400, 86400 },
    };
    static const int64_t budgets[] = {
        0,      1,      2,       166,       167,           10000,         10001,     129999,
        130000, 136000, 1000000, 999999999, INT64_MAX / 2, INT64_MAX - 1, INT64_MAX,
    };
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
            check_inverse(&rates[r], budgets[b]);
        }
    }
    /* Budgets far beyond any call still give a limit, never "free". */
    struct rate cheap = { .per_minute_micro = 1, .first_increment_s = 1, .next_increment_s = 1 };
    assert_int_equal(rate_max_duration_ms(&cheap, INT64_MAX), RATE_UNLIMITED_MS - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_money_parse_table),
        cmocka_unit_test(test_money_format),
        cmocka_unit_test(test_rate_cost_with_increments),
        cmocka_unit_test(test_rate_max_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
