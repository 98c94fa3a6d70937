#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "number/tzif.h"
#include "support/testdata.h"
#include "support/unit.h"

struct offset_case {
    int64_t utc_s;
    int32_t offset_s;
};

static struct tz_zone *load_zone(const char *name)
{
    char root[512];
    (void)snprintf(root, sizeof(root), "%s/tzif", testdata_dir());
    struct tz_zone *zone = NULL;
    const char *reason = NULL;
    int rc = tz_zone_load(root, sv_from_cstr(name), &zone, &reason);
    if (rc != 0) {
        fail_msg("%s: %s", name, reason != NULL ? reason : "?");
    }
    return zone;
}

static void check_offsets(const struct tz_zone *zone, const struct offset_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int32_t got = tz_zone_offset(zone, cases[i].utc_s);
        if (got != cases[i].offset_s) {
            fail_msg("case %zu (%lld): offset %d, expected %d", i, (long long)cases[i].utc_s, got,
                     cases[i].offset_s);
        }
    }
}

/* Expected values from Python's zoneinfo on the same tz data. */
static void test_tzif_berlin_across_dst(void **state)
{
    (void)state;
    static const struct offset_case cases[] = {
        { 1774745940, 3600 }, /* 2026-03-29 00:59 UTC: CET */
        { 1774746000, 7200 }, /* 01:00 UTC: CEST from 02:00 local */
        { 1792889940, 7200 }, /* 2026-10-25 00:59 UTC: CEST */
        { 1792890000, 3600 }, /* 01:00 UTC: back to CET */
        { 4109878740, 3600 }, /* 2100-03-28 00:59 UTC: past the table, from the footer rule */
        { 4109878800, 7200 },
        { 4128627540, 7200 }, /* 2100-10-31 */
        { 4128627600, 3600 },
        { -775872000, 10800 }, /* 1945-06-01: Central European Midsummer Time */
        { -2208988800, 3600 }, /* 1900-01-01 */
    };
    struct tz_zone *zone = load_zone("Europe/Berlin");
    check_offsets(zone, cases, sizeof(cases) / sizeof(cases[0]));
    tz_zone_free(zone);
}

static void test_tzif_new_york_across_dst(void **state)
{
    (void)state;
    static const struct offset_case cases[] = {
        { 1772953140, -18000 }, /* 2026-03-08 06:59 UTC: EST */
        { 1772953200, -14400 }, /* 07:00 UTC = 02:00 EST: EDT */
        { 1793512740, -14400 }, /* 2026-11-01 05:59 UTC: EDT */
        { 1793512800, -18000 }, /* 06:00 UTC = 02:00 EDT: EST */
        { 3792985140, -18000 }, /* 2090-03-12: from the footer rule */
        { 3792985200, -14400 },
    };
    struct tz_zone *zone = load_zone("America/New_York");
    check_offsets(zone, cases, sizeof(cases) / sizeof(cases[0]));
    tz_zone_free(zone);
    zone = load_zone("UTC");
    assert_int_equal(tz_zone_offset(zone, 1772953200), 0);
    assert_int_equal(tz_zone_offset(zone, INT64_MAX), 0);
    tz_zone_free(zone);
}

static void test_tzif_rules(void **state)
{
    (void)state;
    static const struct offset_case sydney[] = {
        { 1767225600, 39600 }, /* 2026-01-01: southern summer, AEDT */
        { 1775318340, 39600 }, /* 2026-04-04 15:59 UTC */
        { 1775318400, 36000 }, /* 16:00 UTC = 03:00 AEDT: AEST */
        { 1782864000, 36000 }, { 1791043140, 36000 },
        { 1791043200, 39600 }, /* 2026-10-03 16:00 UTC = 02:00 AEST: AEDT */
    };
    struct tz_zone *zone = NULL;
    assert_int_equal(tz_zone_parse_rule(SV("AEST-10AEDT,M10.1.0,M4.1.0/3"), &zone), 0);
    check_offsets(zone, sydney, sizeof(sydney) / sizeof(sydney[0]));
    tz_zone_free(zone);
    assert_int_equal(tz_zone_parse_rule(SV("<+0530>-5:30"), &zone), 0);
    assert_int_equal(tz_zone_offset(zone, 0), 19800);
    tz_zone_free(zone);
    /* Julian day forms: EST5EDT with J60 (1 March) to J300; 2026-03-01 07:00 UTC. */
    assert_int_equal(tz_zone_parse_rule(SV("EST5EDT4,J60/2,J300/2"), &zone), 0);
    assert_int_equal(tz_zone_offset(zone, 1772348340), -18000);
    assert_int_equal(tz_zone_offset(zone, 1772348400), -14400);
    tz_zone_free(zone);
    static const char *const bad[] = {
        "",
        "C-1",
        "CET",
        "CET-1CEST",
        "CET-1CEST,M3.5.0",
        "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0",
        "CET-1CEST,M3.5.7,M10.5.0",
        "CET-25",
        "CET-1CEST,J0,J10",
        "CET-1CEST,M3.5.0/200,M10.5.0",
        "<AB>1",
        "CET-1:60",
        "CET-1CEST,M3.5.0,M10.5.0x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tz_zone_parse_rule(sv_from_cstr(bad[i]), &zone) != -SW_EBADARG) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_null(zone);
    }
}

/* A minimal version-1 TZif file with `times` transitions to alternating types 0/1. */
static size_t build_v1(uint8_t *buf, const int32_t *times, size_t count)
{
    memset(buf, 0, 44);
    static const uint8_t magic[4] = { 'T', 'Z', 'i', 'f' };
    memcpy(buf, magic, sizeof(magic));
    buf[35] = (uint8_t)count; /* timecnt */
    buf[39] = 2;              /* typecnt */
    buf[43] = 4;              /* charcnt */
    size_t pos = 44;
    for (size_t i = 0; i < count; i++) {
        uint32_t t = (uint32_t)times[i];
        buf[pos++] = (uint8_t)(t >> 24);
        buf[pos++] = (uint8_t)(t >> 16);
        buf[pos++] = (uint8_t)(t >> 8);
        buf[pos++] = (uint8_t)t;
    }
    for (size_t i = 0; i < count; i++) {
        buf[pos++] = (uint8_t)(i % 2 == 0 ? 1 : 0);
    }
    static const uint8_t types[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0x0e, 0x10, 1, 2 };
    memcpy(buf + pos, types, sizeof(types));
    pos += sizeof(types);
    static const uint8_t names[4] = { 'A', 0, 'B', 0 };
    memcpy(buf + pos, names, sizeof(names));
    return pos + sizeof(names);
}

static void test_tzif_validates_files(void **state)
{
    (void)state;
    uint8_t buf[256];
    static const int32_t times[] = { 100, 200 };
    size_t len = build_v1(buf, times, 2);
    struct tz_zone *zone = NULL;
    const char *reason = NULL;
    assert_int_equal(tz_zone_parse(buf, len, &zone, &reason), 0);
    assert_int_equal(tz_zone_offset(zone, 99), 0);
    assert_int_equal(tz_zone_offset(zone, 100), 3600);
    assert_int_equal(tz_zone_offset(zone, 200), 0);
    tz_zone_free(zone);
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(tz_zone_parse(buf, cut, &zone, &reason), -SW_EBADARG);
        assert_null(zone);
    }
    static const int32_t backwards[] = { 200, 100 };
    len = build_v1(buf, backwards, 2);
    assert_int_equal(tz_zone_parse(buf, len, &zone, &reason), -SW_EBADARG);
    assert_string_equal(reason, "transition times not ascending");
    len = build_v1(buf, times, 2);
    buf[44 + 8] = 7; /* a transition to type 7 of 2 */
    assert_int_equal(tz_zone_parse(buf, len, &zone, &reason), -SW_EBADARG);
    len = build_v1(buf, times, 2);
    buf[4] = '9';
    assert_int_equal(tz_zone_parse(buf, len, &zone, &reason), -SW_EBADARG);
    len = build_v1(buf, times, 2);
    buf[31] = 1; /* a leap second */
    assert_int_equal(tz_zone_parse(buf, len, &zone, &reason), -SW_EBADARG);
    len = build_v1(buf, times, 2);
    buf[39] = 0; /* no type */
    assert_int_equal(tz_zone_parse(buf, len, &zone, &reason), -SW_EBADARG);
}

static void test_tzif_refuses_bad_names(void **state)
{
    (void)state;
    static const char *const names[] = {
        "",
        "/etc/passwd",
        "../etc/passwd",
        "Europe/../../etc/passwd",
        "Europe//Berlin",
        "Europe/Berlin/",
        "Europe/Ber lin",
        "Europe/Berlin\n",
        "Europe/.hidden",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct tz_zone *zone = NULL;
        const char *reason = NULL;
        assert_int_equal(tz_zone_load(testdata_dir(), sv_from_cstr(names[i]), &zone, &reason),
                         -SW_EBADARG);
        assert_null(zone);
    }
    struct tz_zone *zone = NULL;
    const char *reason = NULL;
    assert_true(tz_zone_load(testdata_dir(), SV("Mars/Olympus_Mons"), &zone, &reason) < 0);
    /* A file that is there but is not a zone file. */
    assert_int_equal(tz_zone_load(testdata_dir(), SV("README.md"), &zone, &reason), -SW_EBADARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tzif_berlin_across_dst),
        cmocka_unit_test(test_tzif_new_york_across_dst),
        cmocka_unit_test(test_tzif_rules),
        cmocka_unit_test(test_tzif_validates_files),
        cmocka_unit_test(test_tzif_refuses_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
