#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "number/schedule.h"
#include "support/testdata.h"
#include "support/unit.h"

struct when_case {
    int64_t utc_s;
    bool is_inside;
};

static void parse_ok(const char *text, struct schedule *out)
{
    char root[512];
    (void)snprintf(root, sizeof(root), "%s/tzif", testdata_dir());
    const char *reason = NULL;
    int rc = schedule_parse(sv_from_cstr(text), root, out, &reason);
    if (rc != 0) {
        fail_msg("%s: %s", text, reason != NULL ? reason : "?");
    }
}

static void check(const struct schedule *s, const struct when_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (schedule_contains(s, cases[i].utc_s) != cases[i].is_inside) {
            fail_msg("case %zu (%lld)", i, (long long)cases[i].utc_s);
        }
    }
}

/* Office hours in Berlin the week the clocks go forward (Sunday 2026-03-29). */
static void test_schedule_berlin_office_hours_across_dst(void **state)
{
    (void)state;
    static const struct when_case cases[] = {
        { 1774594740, false }, /* Fri 2026-03-27 06:59 UTC = 07:59 CET */
        { 1774594800, true },  /* 07:00 UTC = 08:00 CET */
        { 1774630740, true },  /* 16:59 UTC = 17:59 CET */
        { 1774630800, false }, /* 17:00 UTC = 18:00 CET */
        { 1774850340, false }, /* Mon 2026-03-30 05:59 UTC = 07:59 CEST */
        { 1774850400, true },  /* 06:00 UTC = 08:00 CEST: one hour earlier in UTC */
        { 1774886340, true },  /* 15:59 UTC = 17:59 CEST */
        { 1774886400, false }, /* 16:00 UTC = 18:00 CEST */
        { 1774778400, false }, /* Sun 2026-03-29 10:00 UTC: weekend */
    };
    struct schedule s;
    parse_ok("mon-fri 08:00-18:00 Europe/Berlin", &s);
    check(&s, cases, sizeof(cases) / sizeof(cases[0]));
    schedule_fini(&s);
}

/* New York, the weekend the clocks go back (Sunday 2026-11-01, 02:00 EDT -> 01:00 EST). */
static void test_schedule_new_york_across_dst(void **state)
{
    (void)state;
    static const struct when_case cases[] = {
        { 1793509140, true },  /* Sun 04:59 UTC = 00:59 EDT */
        { 1793512740, true },  /* 05:59 UTC = 01:59 EDT */
        { 1793512800, true },  /* 06:00 UTC = 01:00 EST (the hour repeats) */
        { 1793516340, true },  /* 06:59 UTC = 01:59 EST */
        { 1793516400, false }, /* 07:00 UTC = 02:00 EST */
        { 1793505600, false }, /* 04:00 UTC = 00:00 EDT: before 00:30 */
    };
    struct schedule s;
    /* Sunday from 00:30 to 02:00 local: two hours of UTC that night, 1.5 on other Sundays. */
    parse_ok("sun 00:30-02:00 America/New_York", &s);
    check(&s, cases, sizeof(cases) / sizeof(cases[0]));
    schedule_fini(&s);
}

static void test_schedule_ranges_past_midnight_and_lists(void **state)
{
    (void)state;
    struct schedule s;
    /* Nights from Friday 22:00 to Saturday 06:00, and Saturday mornings, in UTC. */
    parse_ok("fri,sat 22:00-06:00,09:00-12:00 UTC", &s);
    assert_int_equal(s.days, (1u << 4) | (1u << 5));
    assert_int_equal(s.range_count, 2);
    static const struct when_case cases[] = {
        { 1774648800, true },  /* Fri 2026-03-27 22:00 */
        { 1774648799, false }, /* 21:59:59 */
        { 1774677599, true },  /* Sat 05:59:59: Friday's night */
        { 1774677600, false }, /* Sat 06:00 */
        { 1774688400, true },  /* Sat 09:00 */
        { 1774735200, true },  /* Sat 22:00 */
        { 1774760400, true },  /* Sun 05:00: inside Saturday's 22:00-06:00 */
        { 1774854000, false }, /* Mon 07:00 */
    };
    check(&s, cases, sizeof(cases) / sizeof(cases[0]));
    schedule_fini(&s);
    parse_ok("sat-mon 00:00-24:00 UTC", &s); /* a range that wraps the week */
    assert_int_equal(s.days, (1u << 5) | (1u << 6) | (1u << 0));
    assert_true(schedule_contains(&s, 1774854000));  /* Mon 07:00 */
    assert_false(schedule_contains(&s, 1774940400)); /* Tue 07:00 */
    (void)schedule_contains(&s, INT64_MAX);          /* no overflow at the ends of time */
    (void)schedule_contains(&s, INT64_MIN);
    schedule_fini(&s);
}

static void test_schedule_refuses_bad_text(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "mon-fri",
        "mon-fri 08:00-18:00",
        "mon-fri 08:00-18:00 Europe/Berlin extra",
        "monday 08:00-18:00 UTC",
        "mon-xyz 08:00-18:00 UTC",
        "mon 8:00-18:00 UTC",
        "mon 08:00-24:01 UTC",
        "mon 24:00-01:00 UTC",
        "mon 08:60-09:00 UTC",
        "mon 08:00-08:00 UTC",
        "mon 08:00 UTC",
        "mon 01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,06:00-07:00,07:00-08:00,08:00-09:00,09:00-10:00 UTC",
        "mon 08:00-18:00 ../UTC",
        "mon 08:00-18:00 No/Such_Zone",
    };
    char root[512];
    (void)snprintf(root, sizeof(root), "%s/tzif", testdata_dir());
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct schedule s;
        const char *reason = NULL;
        if (schedule_parse(sv_from_cstr(bad[i]), root, &s, &reason) == 0) {
            fail_msg("accepted '%s'", bad[i]);
        }
        assert_non_null(reason);
        assert_null(s.zone);
        assert_false(schedule_contains(&s, 0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_berlin_office_hours_across_dst),
        cmocka_unit_test(test_schedule_new_york_across_dst),
        cmocka_unit_test(test_schedule_ranges_past_midnight_and_lists),
        cmocka_unit_test(test_schedule_refuses_bad_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
