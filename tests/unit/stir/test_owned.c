#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/time.h"
#include "stir/owned.h"
#include "support/unit.h"

static struct stir_tn tn_of(const char *text)
{
    struct stir_tn tn;
    assert_int_equal(stir_tn_normalize(sv_from_cstr(text), SV("1"), &tn), 0);
    return tn;
}

static bool owns(const struct stir_owned *set, const char *text)
{
    struct stir_tn tn = tn_of(text);
    return stir_owned_contains(set, &tn);
}

static void test_owned_singles_ranges_prefixes(void **state)
{
    (void)state;
    struct stir_owned *set = stir_owned_new();
    assert_non_null(set);
    assert_int_equal(stir_owned_add(set, SV("+15551230000-+15551230099"), SV("1")), 0);
    assert_int_equal(stir_owned_add(set, SV("+4930123*"), SV("1")), 0);
    assert_int_equal(stir_owned_add(set, SV("2155551212"), SV("1")), 0);
    assert_int_equal(stir_owned_add(set, SV(" +44 20 7946 0000 "), SV("1")), 0);
    /* Queries before sealing see nothing. */
    assert_false(owns(set, "+15551230000"));
    assert_int_equal(stir_owned_seal(set), 0);
    assert_true(owns(set, "+15551230000"));
    assert_true(owns(set, "+15551230050"));
    assert_true(owns(set, "+15551230099"));
    assert_false(owns(set, "+15551230100"));
    assert_false(owns(set, "+15551229999"));
    assert_true(owns(set, "+49301234567"));
    assert_true(owns(set, "+4930123"));
    assert_false(owns(set, "+4930124567"));
    assert_true(owns(set, "(215) 555-1212"));
    assert_false(owns(set, "(215) 555-1213"));
    assert_true(owns(set, "+442079460000"));
    /* A sealed set takes no more entries. */
    assert_int_equal(stir_owned_add(set, SV("+12155551213"), SV("1")), -SW_EBADARG);
    stir_owned_free(set);
}

static void test_owned_rejects_malformed_entries(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "*",
        "+*",
        "4930123*", /* a prefix must be global */
        "+49a0123*",
        "+15551230099-+15551230000",  /* reversed */
        "+15551230000-+155512300999", /* lengths differ */
        "+1555123000x-+15551230099",
        "5551230000-+15551230099", /* range ends must be global */
        "alice",
        "+28012345678", /* no such country code */
    };
    struct stir_owned *set = stir_owned_new();
    assert_non_null(set);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (stir_owned_add(set, sv_from_cstr(bad[i]), SV("1")) != -SW_EBADARG) {
            fail_msg("entry %zu (%s) accepted", i, bad[i]);
        }
    }
    assert_int_equal(stir_owned_seal(set), 0);
    assert_int_equal(stir_owned_range_count(set), 0);
    assert_int_equal(stir_owned_prefix_count(set), 0);
    stir_owned_free(set);
    stir_owned_free(NULL);
}

static void test_owned_merges_overlaps(void **state)
{
    (void)state;
    struct stir_owned *set = stir_owned_new();
    assert_non_null(set);
    assert_int_equal(stir_owned_add(set, SV("+15551230000-+15551230049"), SV("")), 0);
    assert_int_equal(stir_owned_add(set, SV("+15551230050-+15551230099"), SV("")), 0);
    assert_int_equal(stir_owned_add(set, SV("+15551230020-+15551230030"), SV("")), 0);
    assert_int_equal(stir_owned_add(set, SV("+15551230077"), SV("")), 0);
    assert_int_equal(stir_owned_add(set, SV("+4930*"), SV("")), 0);
    assert_int_equal(stir_owned_add(set, SV("+4930*"), SV("")), 0);
    assert_int_equal(stir_owned_seal(set), 0);
    assert_int_equal(stir_owned_range_count(set), 1);
    assert_int_equal(stir_owned_prefix_count(set), 1);
    assert_true(owns(set, "+15551230063"));
    stir_owned_free(set);
}

/* 200,000 entries: lookups stay logarithmic (a linear scan would take seconds). */
static void test_owned_big_list_is_fast(void **state)
{
    (void)state;
    struct stir_owned *set = stir_owned_new();
    assert_non_null(set);
    char entry[64];
    for (unsigned i = 0; i < 100000; i++) {
        (void)snprintf(entry, sizeof(entry), "+1%03u%07u", 201U + i % 700U, i * 37U % 10000000U);
        assert_int_equal(stir_owned_add(set, sv_from_cstr(entry), SV("")), 0);
        (void)snprintf(entry, sizeof(entry), "+44%04u*", i % 10000U);
        assert_int_equal(stir_owned_add(set, sv_from_cstr(entry), SV("")), 0);
    }
    assert_int_equal(stir_owned_seal(set), 0);
    uint64_t start = sw_mono_us();
    unsigned hits = 0;
    for (unsigned i = 0; i < 100000; i++) {
        (void)snprintf(entry, sizeof(entry), "+1%03u%07u", 201U + i % 700U, i * 37U % 10000000U);
        struct stir_tn tn = tn_of(entry);
        hits += stir_owned_contains(set, &tn) ? 1U : 0U;
    }
    uint64_t elapsed_us = sw_mono_us() - start;
    assert_int_equal(hits, 100000);
    assert_true(owns(set, "+44123456789"));
    assert_false(owns(set, "+15551239999"));
    (void)printf("# 100000 lookups in a 200000-entry set: %llu us\n",
                 (unsigned long long)elapsed_us);
    assert_true(elapsed_us < 2000000);
    stir_owned_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owned_singles_ranges_prefixes),
        cmocka_unit_test(test_owned_rejects_malformed_entries),
        cmocka_unit_test(test_owned_merges_overlaps),
        cmocka_unit_test(test_owned_big_list_is_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
