#include <stdio.h>
#include <string.h>

#include "number/velocity.h"
#include "support/unit.h"

#define MINUTE_MS 60000

/* Dials `number` at `at_ms` after judging it; returns the judgement. */
static enum velocity_pattern dial(struct velocity_history *h, const char *number, int64_t at_ms,
                                  struct velocity_finding *finding)
{
    const struct velocity_cfg cfg = VELOCITY_CFG_DEFAULT;
    enum velocity_pattern p = velocity_check(h, sv_from_cstr(number), at_ms, &cfg, finding);
    assert_true(velocity_history_add(h, sv_from_cstr(number), at_ms));
    return p;
}

static void test_velocity_incrementing_numbers_are_sequential(void **state)
{
    (void)state;
    struct velocity_history h;
    velocity_history_init(&h);
    struct velocity_finding f;
    assert_int_equal(dial(&h, "882134000001", 0, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930123456", 1000, &f), VELOCITY_NONE); /* interleaved */
    assert_int_equal(dial(&h, "882134000002", 2000, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "882134000002", 2500, &f), VELOCITY_NONE); /* a redial */
    assert_int_equal(dial(&h, "882134000005", 3000, &f), VELOCITY_NONE);
    /* The fourth number in a row is refused: blocked within 5 calls. */
    assert_int_equal(dial(&h, "882134000006", 4000, &f), VELOCITY_SEQUENTIAL);
    assert_int_equal(f.pattern, VELOCITY_SEQUENTIAL);
    assert_int_equal(f.count, 4);
    assert_string_equal(f.range, "882134000");
    assert_string_equal(velocity_pattern_name(f.pattern), "sequential");

    /* Decrementing counts too. */
    velocity_history_init(&h);
    assert_int_equal(dial(&h, "4930555109", 0, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555108", 1, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555107", 2, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555106", 3, &f), VELOCITY_SEQUENTIAL);
    /* A change of direction ends a run; steps beyond max_step are not a sequence. */
    velocity_history_init(&h);
    assert_int_equal(dial(&h, "4930555200", 0, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555201", 1, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555202", 2, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555199", 3, &f), VELOCITY_NONE);
    velocity_history_init(&h);
    assert_int_equal(dial(&h, "4930555100", 0, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555120", 1, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555140", 2, &f), VELOCITY_NONE);
    assert_int_equal(dial(&h, "4930555160", 3, &f), VELOCITY_NONE);
}

static void test_velocity_sweep_in_any_order(void **state)
{
    (void)state;
    struct velocity_history h;
    velocity_history_init(&h);
    struct velocity_finding f;
    /* Nine numbers of one 1,000-number block, in no order, far apart. */
    static const unsigned tails[] = { 417, 93, 860, 255, 12, 731, 588, 301, 946 };
    char number[16];
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        (void)snprintf(number, sizeof(number), "37167000%03u", tails[i]);
        assert_int_equal(dial(&h, number, (int64_t)i * 1000, &f), VELOCITY_NONE);
    }
    assert_int_equal(dial(&h, "37167000712", 10000, &f), VELOCITY_RANGE_SWEEP);
    assert_int_equal(f.count, 10);
    assert_string_equal(f.range, "37167000");
    /* Outside the window the same dials no longer count. */
    assert_int_equal(
        velocity_check(&h, SV("37167000999"), 10000 + 11 * MINUTE_MS, &VELOCITY_CFG_DEFAULT, &f),
        VELOCITY_NONE);
    assert_int_equal(f.pattern, VELOCITY_NONE);
}

static void test_velocity_short_call_burst(void **state)
{
    (void)state;
    struct velocity_history h;
    velocity_history_init(&h);
    struct velocity_finding f;
    /* Test calls into one 10,000-number range, answered for a few seconds each. */
    static const char *const numbers[] = { "2327641234", "2327645678", "2327640001", "2327649999" };
    for (size_t i = 0; i < 4; i++) {
        int64_t at = (int64_t)i * 20000;
        assert_int_equal(dial(&h, numbers[i], at, &f), VELOCITY_NONE);
        assert_true(velocity_history_end(&h, sv_from_cstr(numbers[i]), at, 3000));
    }
    assert_int_equal(dial(&h, "2327643333", 90000, &f), VELOCITY_SHORT_BURST);
    assert_int_equal(f.count, 4);
    assert_string_equal(f.range, "232764");
    assert_false(velocity_history_end(&h, SV("2327641234"), 0, 5)); /* already ended */
    assert_false(velocity_history_end(&h, SV("2327600000"), 0, 5)); /* never dialled */

    /* Short calls to one number again and again (a voicemail, a busy line) are no burst. */
    velocity_history_init(&h);
    for (size_t i = 0; i < 8; i++) {
        int64_t at = (int64_t)i * 20000;
        assert_int_equal(dial(&h, "2327641234", at, &f), VELOCITY_NONE);
        assert_true(velocity_history_end(&h, SV("2327641234"), at, 3000));
    }
    assert_int_equal(dial(&h, "2327641234", 170000, &f), VELOCITY_NONE);

    /* Long or unanswered calls are not test calls. */
    velocity_history_init(&h);
    for (size_t i = 0; i < 4; i++) {
        int64_t at = (int64_t)i * 20000;
        assert_int_equal(dial(&h, numbers[i], at, &f), VELOCITY_NONE);
        assert_true(
            velocity_history_end(&h, sv_from_cstr(numbers[i]), at, i % 2 == 0 ? 0 : 600000));
    }
    assert_int_equal(dial(&h, "2327643333", 90000, &f), VELOCITY_NONE);
}

/* A benign office: many destinations, some called again, a few in one block. */
static void test_velocity_benign_mix_is_never_flagged(void **state)
{
    (void)state;
    struct velocity_history h;
    velocity_history_init(&h);
    char number[32];
    unsigned seed = 12345;
    for (int64_t i = 0; i < 10000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned pick = (seed >> 16) % 100;
        if (pick < 30) {
            (void)snprintf(number, sizeof(number), "4930%07u", (seed >> 8) % 10000000u);
        } else if (pick < 60) {
            /* Regular customers: 20 numbers in different blocks, called again and again. */
            (void)snprintf(number, sizeof(number), "4989%03u1234", ((seed >> 8) % 20u) * 37u);
        } else if (pick < 80) {
            (void)snprintf(number, sizeof(number), "4415%08u", (seed >> 4) % 100000000u);
        } else {
            /* One partner company: six direct dials in one block. */
            (void)snprintf(number, sizeof(number), "33142%06u", 100u + (seed >> 8) % 6u * 50u);
        }
        int64_t at = i * 30000; /* one call every 30 s */
        struct velocity_finding f;
        enum velocity_pattern p = dial(&h, number, at, &f);
        if (p != VELOCITY_NONE) {
            fail_msg("call %lld to %s: %s (%u)", (long long)i, number, velocity_pattern_name(p),
                     f.count);
        }
        /* Every tenth call is short (a wrong number, a quick question). */
        int64_t duration_ms = (seed >> 20) % 10u == 0 ? 5000 : 45000 + (int64_t)pick * 1000;
        assert_true(velocity_history_end(&h, sv_from_cstr(number), at, duration_ms));
    }
    assert_int_equal(h.count, VELOCITY_HISTORY); /* bounded */
}

static void test_velocity_bad_input_and_disabled_checks(void **state)
{
    (void)state;
    struct velocity_history h;
    velocity_history_init(&h);
    assert_false(velocity_history_add(&h, SV(""), 0));
    assert_false(velocity_history_add(&h, SV("49x"), 0));
    assert_false(velocity_history_add(&h, SV("1234567890123456"), 0));
    assert_int_equal(h.count, 0);
    struct velocity_finding f;
    assert_int_equal(velocity_check(&h, SV("abc"), 0, &VELOCITY_CFG_DEFAULT, &f), VELOCITY_NONE);
    for (int i = 0; i < 6; i++) {
        char number[16];
        (void)snprintf(number, sizeof(number), "8821340000%02d", i);
        assert_true(velocity_history_add(&h, sv_from_cstr(number), i));
    }
    struct velocity_cfg off = VELOCITY_CFG_DEFAULT;
    off.min_run = 0;
    off.min_distinct = 0;
    off.min_short = 0;
    assert_int_equal(velocity_check(&h, SV("882134000006"), 10, &off, &f), VELOCITY_NONE);
    off = VELOCITY_CFG_DEFAULT;
    off.range_digits = 7;
    off.burst_range_digits = 0;
    assert_int_equal(velocity_check(&h, SV("882134000006"), 10, &off, &f), VELOCITY_NONE);
    /* Numbers no longer than the range are never in one. */
    assert_int_equal(velocity_check(&h, SV("123"), 10, &VELOCITY_CFG_DEFAULT, NULL), VELOCITY_NONE);
    assert_int_equal(velocity_check(&h, SV("882134000006"), 10, &VELOCITY_CFG_DEFAULT, NULL),
                     VELOCITY_SEQUENTIAL);
    assert_string_equal(velocity_pattern_name((enum velocity_pattern)42), "none");
    /* Clock values at the ends of the range neither overflow nor count. */
    assert_true(velocity_history_add(&h, SV("882134000007"), INT64_MIN));
    assert_int_equal(velocity_check(&h, SV("882134000008"), INT64_MAX, &VELOCITY_CFG_DEFAULT, NULL),
                     VELOCITY_NONE);
}

/* What velocity_check makes of `number` with one remembered dial, `other`, at `at_ms`. */
static enum velocity_pattern check_pair(const char *number, const char *other, int64_t at_ms,
                                        const struct velocity_cfg *cfg)
{
    struct velocity_history h;
    velocity_history_init(&h);
    assert_true(velocity_history_add(&h, sv_from_cstr(other), 1000));
    return velocity_check(&h, sv_from_cstr(number), at_ms, cfg, NULL);
}

/* `number` against itself with the digit at `at` changed, and with a digit more. */
static void check_difference_at(const char *number, size_t at, const struct velocity_cfg *cfg)
{
    size_t len = strlen(number);
    char other[E164_MAX_DIGITS + 2];
    memcpy(other, number, len + 1);
    other[at] = (char)(other[at] == '9' ? '0' : other[at] + 1);
    enum velocity_pattern expected =
        at >= len - cfg->range_digits ? VELOCITY_RANGE_SWEEP : VELOCITY_NONE;
    assert_int_equal(check_pair(number, other, 2000, cfg), expected);
    /* Outside the window, or with a digit more, it is not in the range. */
    assert_int_equal(check_pair(number, other, 1001 + cfg->window_ms, cfg), VELOCITY_NONE);
    if (len < E164_MAX_DIGITS) {
        memcpy(other, number, len);
        other[len] = '5';
        other[len + 1] = '\0';
        assert_int_equal(check_pair(number, other, 2000, cfg), VELOCITY_NONE);
    }
}

/* A remembered dial is in the new one's range exactly when every digit before the range is
 * the same, wherever the first difference is (the comparison goes eight digits at a time)
 * and whatever the length; a dial of another length or outside the window never is. */
static void test_velocity_range_needs_the_whole_prefix(void **state)
{
    (void)state;
    struct velocity_cfg cfg = VELOCITY_CFG_DEFAULT;
    cfg.min_run = 0;
    cfg.min_short = 0;
    cfg.min_distinct = 2; /* one other number of the range is a sweep */
    static const char *const numbers[] = { "4412345678", "441234567890", "882123456789012" };
    for (size_t n = 0; n < 3; n++) {
        size_t len = strlen(numbers[n]);
        for (unsigned range = 1; range <= VELOCITY_MAX_RANGE && range < len; range++) {
            cfg.range_digits = range;
            for (size_t at = 0; at < len; at++) {
                check_difference_at(numbers[n], at, &cfg);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_velocity_incrementing_numbers_are_sequential),
        cmocka_unit_test(test_velocity_sweep_in_any_order),
        cmocka_unit_test(test_velocity_short_call_burst),
        cmocka_unit_test(test_velocity_benign_mix_is_never_flagged),
        cmocka_unit_test(test_velocity_bad_input_and_disabled_checks),
        cmocka_unit_test(test_velocity_range_needs_the_whole_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
