#include <string.h>

#include "base/alloc.h"
#include "support/unit.h"
#include "tools/rotate.h"

static void check_rewrite(const char *text, const unsigned *drop, size_t drop_count,
                          unsigned insert, const char *block, const char *expected)
{
    size_t len = 0;
    struct rotate_edit edit = {
        .drop = drop, .drop_count = drop_count, .insert_line = insert, .block = block
    };
    char *out = tools_rotate_rewrite(text, strlen(text), &edit, &len);
    assert_non_null(out);
    assert_string_equal(out, expected);
    assert_int_equal(len, strlen(expected));
    sw_free(out);
}

static void test_rotate_rewrite(void **state)
{
    (void)state;
    const char *text = "[a]\ntype = account\n; desk\nsecret = x\nmax_calls = 2\n";
    static const unsigned drop_secret[] = { 4 };
    /* The secret's line gives way to the block, in place; the comment stays. */
    check_rewrite(text, drop_secret, 1, 4, "ha1 = 1\nrotated = 2026-12-07\n",
                  "[a]\ntype = account\n; desk\nha1 = 1\nrotated = 2026-12-07\nmax_calls = 2\n");
    /* Nothing dropped, appended after the last line. */
    check_rewrite(text, NULL, 0, 6, "ha1 = 1\n",
                  "[a]\ntype = account\n; desk\nsecret = x\nmax_calls = 2\nha1 = 1\n");
    /* A last line without its newline gets one before the block. */
    check_rewrite("[a]\ntype = account", NULL, 0, 3, "ha1 = 1\n", "[a]\ntype = account\nha1 = 1\n");
    /* ...and keeps the file's ending when the block goes earlier. */
    check_rewrite("[a]\nsecret = x\nmax_calls = 2", drop_secret, 0, 2, "ha1 = 1\n",
                  "[a]\nha1 = 1\nsecret = x\nmax_calls = 2");
    /* CRLF lines stay as they are; several lines dropped. */
    static const unsigned drop_two[] = { 2, 4 };
    check_rewrite("[a]\r\nha1 = 0\r\ntype = account\r\nrotated = 2020-01-01\r\n", drop_two, 2, 2,
                  "ha1 = 1\n", "[a]\r\nha1 = 1\ntype = account\r\n");
}

static void test_rotate_section_end(void **state)
{
    (void)state;
    const char *text = "[g]\nk = 1\n[a]\ntype = account\nsecret = x\n\n; next one\n[b]\nk = 2\n";
    /* After the last key of [a], before the blank line, the comment and [b]. */
    assert_int_equal(tools_rotate_section_end(text, strlen(text), 3), 6);
    /* The last section runs to the end of the file. */
    assert_int_equal(tools_rotate_section_end(text, strlen(text), 8), 10);
    /* A section with no key: right after its header. */
    assert_int_equal(tools_rotate_section_end("[a]\n[b]\n", 8, 1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotate_rewrite),
        cmocka_unit_test(test_rotate_section_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
