#include <stdint.h>

#include "base/alloc.h"
#include "base/sv.h"
#include "support/guarded.h"
#include "support/unit.h"

struct u32_case {
    const char *text;
    bool ok;
    uint32_t value;
};

static void test_sv_to_u32_table(void **state)
{
    (void)state;
    static const struct u32_case cases[] = {
        { "0", true, 0 },
        { "000123", true, 123 },
        { "4294967295", true, 4294967295u },
        { "4294967296", false, 0 },
        { "99999999999999999999999", false, 0 },
        { "", false, 0 },
        { "-1", false, 0 },
        { "+1", false, 0 },
        { "12a", false, 0 },
        { " 1", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t value = 7;
        bool ok = sv_to_u32(guarded_sv(cases[i].text), &value);
        assert_int_equal(ok, cases[i].ok);
        if (ok) {
            assert_int_equal(value, cases[i].value);
        }
    }
    assert_false(sv_to_u32(SV_NULL, &(uint32_t){ 0 }));
    guarded_release_all();
}

static void test_sv_eq_distinguishes_absent_and_empty(void **state)
{
    (void)state;
    assert_true(sv_eq(SV_NULL, SV_NULL));
    assert_false(sv_eq(SV_NULL, SV("")));
    assert_true(sv_eq(SV(""), sv_make("x", 0)));
    assert_true(sv_eq_nocase(SV("Via"), SV("vIA")));
    assert_false(sv_eq_nocase(SV("Via"), SV("Vib")));
    assert_false(sv_eq_nocase(SV("Via"), SV("Vi")));
}

static void test_sv_trim_and_take_until(void **state)
{
    (void)state;
    struct sv trimmed = sv_trim(guarded_sv(" \t abc \r\n"));
    assert_true(sv_eq(trimmed, SV("abc")));
    assert_int_equal(sv_trim(guarded_sv("   ")).len, 0);

    struct sv cur = guarded_sv("a;b;;c");
    struct sv out;
    assert_true(sv_take_until(&cur, ';', &out));
    assert_true(sv_eq(out, SV("a")));
    assert_true(sv_take_until(&cur, ';', &out));
    assert_true(sv_eq(out, SV("b")));
    assert_true(sv_take_until(&cur, ';', &out));
    assert_int_equal(out.len, 0);
    assert_false(sv_take_until(&cur, ';', &out));
    assert_true(sv_eq(out, SV("c")));
    assert_int_equal(cur.len, 0);
    guarded_release_all();
}

static void test_sv_prefix_slice_find(void **state)
{
    (void)state;
    struct sv s = guarded_sv("sip:alice@example.com");
    assert_true(sv_starts_with(s, SV("sip:")));
    assert_true(sv_starts_with_nocase(s, SV("SIP:")));
    assert_false(sv_starts_with(SV("si"), SV("sip")));
    assert_int_equal(sv_find_char(s, '@'), 9);
    assert_int_equal(sv_find_char(s, '#'), -1);
    assert_true(sv_eq(sv_slice(s, 10, 100), SV("example.com")));
    assert_int_equal(sv_slice(s, 100, 1).len, 0);
    guarded_release_all();
}

static void test_sv_copies(void **state)
{
    (void)state;
    char buf[4];
    assert_true(sv_copy_cstr(SV("abc"), buf, sizeof(buf)));
    assert_string_equal(buf, "abc");
    assert_false(sv_copy_cstr(SV("abcd"), buf, sizeof(buf)));
    char *dup = sv_dup_cstr(SV("hello"));
    assert_non_null(dup);
    assert_string_equal(dup, "hello");
    sw_free(dup);
}

static void test_sv_hex(void **state)
{
    (void)state;
    const char *digits = "0123456789abcdefABCDEF";
    const int values[] = { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                           11, 12, 13, 14, 15, 10, 11, 12, 13, 14, 15 };
    for (size_t i = 0; digits[i] != '\0'; i++) {
        assert_int_equal(sv_hex_digit(digits[i]), values[i]);
    }
    /* Neighbours of the ranges, and 0x10, which "| 0x20" used to turn into '0'. */
    const char bad[] = { '/', ':', '@', 'G', '`', 'g', ' ', 0x10, 0x00, (char)0xff };
    for (size_t i = 0; i < sizeof(bad); i++) {
        assert_int_equal(sv_hex_digit(bad[i]), -1);
    }
    assert_int_equal(sv_hex_byte("00"), 0);
    assert_int_equal(sv_hex_byte("fF"), 255);
    assert_int_equal(sv_hex_byte("7e"), 0x7e);
    assert_int_equal(sv_hex_byte("g0"), -1);
    assert_int_equal(sv_hex_byte("0g"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sv_to_u32_table),
        cmocka_unit_test(test_sv_eq_distinguishes_absent_and_empty),
        cmocka_unit_test(test_sv_trim_and_take_until),
        cmocka_unit_test(test_sv_prefix_slice_find),
        cmocka_unit_test(test_sv_copies),
        cmocka_unit_test(test_sv_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
