#include <stdio.h>
#include <string.h>

#include "support/unit.h"
#include "tools/spend.h"

static const char reply[] = "budget global 700000 700000 300000 0 0 2 0 -1\n"
                            "budget trunk:provider 700000 2500000 300000 1500000 0 2 1 2931\n"
                            "budget account:alice x\n"
                            "budget account:bob 100000 100000 0 1000000 0 0 0 -1 650000 -1\n"
                            "budget account:carol 0 0 0 1000000 0 0 0 -1 -1 -1\n"
                            "ok\n";

static void print(bool is_json, char *out, size_t cap, size_t expected_rows)
{
    FILE *f = fmemopen(out, cap - 1, "w");
    assert_non_null(f);
    assert_int_equal(tools_spend_print(reply, is_json, f), expected_rows);
    assert_int_equal(fclose(f), 0);
}

static void test_spend_table(void **state)
{
    (void)state;
    char out[2048] = "";
    print(false, out, sizeof(out), 4);
    assert_non_null(strstr(out, "BUDGET"));
    /* Amounts in the deck's currency; no cap is "-"; the crossing in seconds. */
    assert_non_null(strstr(out, "trunk:provider"));
    assert_non_null(strstr(
        out, "0.70         2.50         0.30         1.50            -    2/1    in 2.931 s"));
    assert_non_null(strstr(out, "global"));
    assert_null(strstr(out, "alice")); /* a malformed line is no row */
}

static void test_spend_json(void **state)
{
    (void)state;
    char out[4096] = "";
    print(true, out, sizeof(out), 4);
    assert_non_null(strstr(out, "\"budget\": \"trunk:provider\""));
    assert_non_null(strstr(out, "\"daily_cap\": \"1.50\""));
    assert_non_null(strstr(out, "\"monthly_cap\": null"));
    assert_non_null(strstr(out, "\"crossing_in_ms\": 2931"));
    assert_non_null(strstr(out, "\"today\": \"0.70\""));
    /* A daemon of a cluster adds the cluster's spend today and this node's grant left. */
    assert_non_null(strstr(out, "\"cluster_today\": \"0.65\",\n    \"grant\": null"));
    assert_non_null(strstr(out, "\"cluster_today\": null"));
}

static void test_spend_usage(void **state)
{
    (void)state;
    char words[6][16] = { "spend", "--account", "a", "--trunk", "t", "list" };
    char *bad[] = { words[0], words[1], words[2], words[3], words[4], NULL };
    assert_int_equal(tools_spend_main(5, bad), 2);
    char *extra[] = { words[0], words[5], NULL };
    assert_int_equal(tools_spend_main(2, extra), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spend_table),
        cmocka_unit_test(test_spend_json),
        cmocka_unit_test(test_spend_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
