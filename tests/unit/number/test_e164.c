#include <string.h>

#include "number/e164.h"
#include "support/guarded.h"
#include "support/unit.h"

struct e164_case {
    const char *in;
    const char *home; /* ISO code, NULL for none */
    enum e164_status status;
    const char *digits;
};

static void run_cases(const struct e164_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct numplan_territory *home =
            cases[i].home != NULL ? numplan_territory_by_iso(sv_from_cstr(cases[i].home)) : NULL;
        struct e164_number out;
        enum e164_status status = e164_normalize(guarded_sv(cases[i].in), home, &out);
        if (status != cases[i].status) {
            fail_msg("'%s' (%s): %s, expected %s", cases[i].in, cases[i].home,
                     e164_status_text(status), e164_status_text(cases[i].status));
        }
        if (status == E164_OK) {
            assert_string_equal(out.digits, cases[i].digits != NULL ? cases[i].digits : "?");
            assert_int_equal(out.len, strlen(out.digits));
            assert_true(out.code_len >= 1 && out.code_len <= 3);
        } else {
            assert_int_equal(out.len, 0);
        }
    }
    guarded_release_all();
}

static void test_e164_international_and_national_forms(void **state)
{
    (void)state;
    static const struct e164_case cases[] = {
        { "+4930123456", NULL, E164_OK, "4930123456" },
        { "+49-30-123456", "US", E164_OK, "4930123456" },
        { "+49.(30).123456", NULL, E164_OK, "4930123456" },
        { "tel:+1-201-555-0123", NULL, E164_OK, "12015550123" },
        { "TEL:+1-201-555-0123;ext=22", NULL, E164_OK, "12015550123" },
        { "0049301234567", "DE", E164_OK, "49301234567" },
        { "0049301234567", NULL, E164_OK, "49301234567" },
        { "011442071234567", "US", E164_OK, "442071234567" },
        { "011442071234567", NULL, E164_OK, "442071234567" },
        { "030123456", "DE", E164_OK, "4930123456" },
        { "(030) 123456", "DE", E164_NOT_A_NUMBER, NULL }, /* a space is not a separator */
        { "(030)-123456", "DE", E164_OK, "4930123456" },
        { "30123456", "DE", E164_OK, "4930123456" },
        { "12015550123", "US", E164_OK, "12015550123" }, /* NANP trunk prefix 1 */
        { "2015550123", "US", E164_OK, "12015550123" },
        { "06301234567", "HU", E164_OK, "36301234567" },      /* trunk prefix 06 */
        { "0612345678", "IT", E164_OK, "390612345678" },      /* no trunk prefix: 0 stays */
        { "89123456789", "RU", E164_OK, "79123456789" },      /* trunk prefix 8 */
        { "810441234567890", "RU", E164_OK, "441234567890" }, /* Russia's 810 */
        { "0011441234567", "AU", E164_OK, "441234567" },
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_e164_refuses_what_is_not_a_number(void **state)
{
    (void)state;
    static const struct e164_case cases[] = {
        { "", "DE", E164_EMPTY, NULL },
        { "+", "DE", E164_EMPTY, NULL },
        { "tel:", "DE", E164_EMPTY, NULL },
        { "---", "DE", E164_EMPTY, NULL },
        { "alice", "DE", E164_NOT_A_NUMBER, NULL },
        { "030abc", "DE", E164_NOT_A_NUMBER, NULL },
        { "+49 30 123456", "DE", E164_NOT_A_NUMBER, NULL },
        { "49+30", "DE", E164_NOT_A_NUMBER, NULL },
        { "++4930123456", NULL, E164_NOT_A_NUMBER, NULL },
        { "0301234\xc3\xa9", "DE", E164_NOT_A_NUMBER, NULL },
        { "*21#", "DE", E164_SERVICE_CODE, NULL },
        { "*6930123", "DE", E164_SERVICE_CODE, NULL },
        { "#31#030123", "DE", E164_SERVICE_CODE, NULL },
        { "+4930123456789012", NULL, E164_TOO_LONG, NULL },       /* 16 digits */
        { "+493012345678901", NULL, E164_OK, "493012345678901" }, /* 15: the limit */
        { "00493012345678901", "DE", E164_OK, "493012345678901" },
        { "004930123456789012", "DE", E164_TOO_LONG, NULL },
        { "0301234567890123456789", "DE", E164_TOO_LONG, NULL },
        { "+999123456", NULL, E164_UNKNOWN_CODE, NULL },
        { "+0123456", NULL, E164_UNKNOWN_CODE, NULL },
        { "+49", NULL, E164_TOO_SHORT, NULL },
        { "+491", NULL, E164_TOO_SHORT, NULL },
        { "0", "DE", E164_TOO_SHORT, NULL },
        { "030123456", NULL, E164_NO_COUNTRY, NULL },
        { "0044", "US", E164_OK, "10044" }, /* NANP: 00 is not international */
        { "0000000000", "DE", E164_OK, "49000000000" },
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
    struct e164_number out;
    assert_int_equal(e164_normalize(SV_NULL, NULL, &out), E164_EMPTY);
    char long_input[E164_MAX_INPUT + 2];
    memset(long_input, '-', sizeof(long_input) - 1);
    long_input[0] = '1';
    long_input[1] = '2';
    long_input[sizeof(long_input) - 1] = '\0';
    assert_int_equal(
        e164_normalize(sv_from_cstr(long_input), numplan_territory_by_iso(SV("US")), &out),
        E164_TOO_LONG);
}

static void test_e164_status_maps_to_sip(void **state)
{
    (void)state;
    assert_int_equal(e164_status_sip(E164_EMPTY), 484);
    assert_int_equal(e164_status_sip(E164_TOO_SHORT), 484);
    assert_int_equal(e164_status_sip(E164_NO_COUNTRY), 484);
    assert_int_equal(e164_status_sip(E164_NOT_A_NUMBER), 404);
    assert_int_equal(e164_status_sip(E164_SERVICE_CODE), 404);
    assert_int_equal(e164_status_sip(E164_TOO_LONG), 404);
    assert_int_equal(e164_status_sip(E164_UNKNOWN_CODE), 404);
    for (int s = E164_OK; s <= E164_NO_COUNTRY; s++) {
        assert_non_null(e164_status_text((enum e164_status)s));
    }
    struct e164_number out;
    assert_int_equal(e164_normalize(SV("+4930123456"), NULL, &out), E164_OK);
    assert_true(sv_eq(e164_digits(&out), SV("4930123456")));
    assert_int_equal(out.code_len, 2);
    assert_false(out.was_national);
    assert_int_equal(e164_normalize(SV("030123456"), numplan_territory_by_iso(SV("DE")), &out),
                     E164_OK);
    assert_true(out.was_national);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e164_international_and_national_forms),
        cmocka_unit_test(test_e164_refuses_what_is_not_a_number),
        cmocka_unit_test(test_e164_status_maps_to_sip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
