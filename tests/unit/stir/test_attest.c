#include "stir/attest.h"
#include "support/unit.h"

/* The rule of issue #4, as a table over every combination of the three inputs. */
static void test_attest_rule_table(void **state)
{
    (void)state;

    static const struct {
        bool is_authenticated;
        bool is_number_owned;
        bool is_policy_passed;
        enum stir_attest want;
    } rows[] = {
        { true, true, true, STIR_ATTEST_A },      { true, false, true, STIR_ATTEST_B },
        { false, true, true, STIR_ATTEST_C },     { false, false, true, STIR_ATTEST_C },
        { true, true, false, STIR_ATTEST_NONE },  { true, false, false, STIR_ATTEST_NONE },
        { false, true, false, STIR_ATTEST_NONE }, { false, false, false, STIR_ATTEST_NONE },
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct stir_attest_input in = {
            .is_authenticated = rows[i].is_authenticated,
            .is_number_owned = rows[i].is_number_owned,
            .is_policy_passed = rows[i].is_policy_passed,
        };
        assert_int_equal(stir_attest_decide(&in), rows[i].want);
    }
}

static void test_attest_text_and_parse(void **state)
{
    (void)state;
    enum stir_attest a = STIR_ATTEST_NONE;
    assert_true(stir_attest_parse(SV("A"), &a));
    assert_int_equal(a, STIR_ATTEST_A);
    assert_true(stir_attest_parse(SV("C"), &a));
    assert_string_equal(stir_attest_text(a), "C");
    assert_false(stir_attest_parse(SV("a"), &a));
    assert_false(stir_attest_parse(SV("AB"), &a));
    assert_false(stir_attest_parse(SV("D"), &a));
    assert_false(stir_attest_parse(SV(""), &a));
    assert_string_equal(stir_attest_text(STIR_ATTEST_NONE), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attest_rule_table),
        cmocka_unit_test(test_attest_text_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
