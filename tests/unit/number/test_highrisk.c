#include <string.h>

#include "base/err.h"
#include "number/highrisk.h"
#include "number/ptrie.h"
#include "support/unit.h"

static void test_ptrie_longest_prefix(void **state)
{
    (void)state;
    struct ptrie trie;
    ptrie_init(&trie);
    uint32_t value = 0;
    size_t len = 0;
    assert_false(ptrie_longest(&trie, SV("49"), &value, &len)); /* empty */
    assert_int_equal(ptrie_insert(&trie, SV("4"), 1, NULL), 0);
    assert_int_equal(ptrie_insert(&trie, SV("4915"), 2, NULL), 0);
    assert_int_equal(ptrie_insert(&trie, SV("491"), 3, NULL), 0);
    uint32_t old = 0;
    assert_int_equal(ptrie_insert(&trie, SV("491"), 9, &old), 1);
    assert_int_equal(old, 3);
    assert_int_equal(ptrie_insert(&trie, SV(""), 1, NULL), -SW_EBADARG);
    assert_int_equal(ptrie_insert(&trie, SV("4x"), 1, NULL), -SW_EBADARG);
    assert_int_equal(ptrie_insert(&trie, SV("5"), UINT32_MAX, NULL), -SW_EBADARG);
    assert_true(ptrie_longest(&trie, SV("4915123"), &value, &len));
    assert_int_equal(value, 2);
    assert_int_equal(len, 4);
    assert_true(ptrie_longest(&trie, SV("4917"), &value, &len));
    assert_int_equal(value, 3);
    assert_int_equal(len, 3);
    assert_true(ptrie_longest(&trie, SV("4"), &value, &len));
    assert_int_equal(value, 1);
    assert_true(ptrie_longest(&trie, SV("4x915"), &value, NULL)); /* stops at the 'x' */
    assert_int_equal(value, 1);
    assert_false(ptrie_longest(&trie, SV("5"), &value, &len));
    assert_false(ptrie_longest(&trie, SV(""), &value, &len));
    assert_true(ptrie_set(&trie, SV("491"), 7));
    assert_true(ptrie_longest(&trie, SV("4917"), &value, NULL));
    assert_int_equal(value, 7);
    assert_false(ptrie_set(&trie, SV("49"), 7)); /* a node, but no value */
    assert_false(ptrie_set(&trie, SV("8"), 7));
    ptrie_fini(&trie);
}

static void test_highrisk_builtin_and_operator_rows(void **state)
{
    (void)state;
    struct highrisk *list = highrisk_new(true);
    assert_non_null(list);
    assert_int_equal(highrisk_count(list), numplan_highrisk_count());
    const struct highrisk_entry *e = highrisk_match(list, SV("18761234567"));
    assert_non_null(e);
    assert_string_equal(e->prefix, "1876");
    assert_non_null(strstr(e->list_id, "FTC-ONE-RING"));
    assert_non_null(e->builtin);
    assert_string_equal(e->builtin->iso, "JM");
    e = highrisk_match(list, SV("979123456789"));
    assert_string_equal(e->list_id, "DERIVED-ITU-NONGEO");
    assert_null(highrisk_match(list, SV("4930123456")));
    assert_null(highrisk_match(list, SV("12015550123"))); /* +1 alone is not listed */

    assert_int_equal(highrisk_add(list, SV("+4990"), SV("ops-premium")), 0);
    assert_int_equal(highrisk_add(list, SV("499001"), SV("ops.2")), 0);
    e = highrisk_match(list, SV("4990012345"));
    assert_string_equal(e->prefix, "499001");
    assert_string_equal(e->list_id, "ops.2");
    assert_null(e->builtin);
    assert_string_equal(highrisk_match(list, SV("4990912345"))->list_id, "ops-premium");
    /* An operator row replaces the built-in row of the same prefix. */
    size_t count = highrisk_count(list);
    assert_int_equal(highrisk_add(list, SV("1876"), SV("local")), 0);
    assert_int_equal(highrisk_count(list), count);
    assert_string_equal(highrisk_match(list, SV("18761234567"))->list_id, "local");

    assert_int_equal(highrisk_add(list, SV(""), SV("x")), -SW_EBADARG);
    assert_int_equal(highrisk_add(list, SV("+"), SV("x")), -SW_EBADARG);
    assert_int_equal(highrisk_add(list, SV("49a"), SV("x")), -SW_EBADARG);
    assert_int_equal(highrisk_add(list, SV("1234567890123456"), SV("x")), -SW_EBADARG);
    assert_int_equal(highrisk_add(list, SV("49"), SV("")), -SW_EBADARG);
    assert_int_equal(highrisk_add(list, SV("49"), SV("bad id")), -SW_EBADARG);
    assert_int_equal(highrisk_add(list, SV("49"), SV("123456789012345678901234567890123")),
                     -SW_EBADARG);
    highrisk_free(list);
    highrisk_free(NULL);

    list = highrisk_new(false);
    assert_int_equal(highrisk_count(list), 0);
    assert_null(highrisk_match(list, SV("979123456789")));
    highrisk_free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptrie_longest_prefix),
        cmocka_unit_test(test_highrisk_builtin_and_operator_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
