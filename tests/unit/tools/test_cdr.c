#include <stdint.h>

#include "support/unit.h"
#include "tools/cdr.h"

static void test_cdr_parse_time(void **state)
{
    (void)state;

    static const struct {
        const char *text;
        bool is_valid;
        int64_t ms;
    } cases[] = {
        { "2026-11-26", true, 1795651200000 },
        { "2026-11-26T15:30", true, 1795707000000 },
        { "2026-11-26 15:30:01", true, 1795707001000 },
        { "2026-11-26T15:30:01Z", true, 1795707001000 },
        { "1795707001", true, 1795707001000 },
        { "0", true, 0 },
        { "", false, 0 },
        { "2026-13-01", false, 0 },
        { "2026-02-30", false, 0 },
        { "2026-11-26T24:00", false, 0 },
        { "2026-11-26T15:60", false, 0 },
        { "2026-11-26X15:30", false, 0 },
        { "2026-11-26T15", false, 0 },
        { "yesterday", false, 0 },
        { "-5", false, 0 },
        { "99999999999999999999", false, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = -1;
        assert_int_equal(tools_cdr_parse_time(cases[i].text, &ms), cases[i].is_valid);
        if (cases[i].is_valid) {
            assert_int_equal(ms, cases[i].ms);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cdr_parse_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
