#include <string.h>

#include "number/spend.h"
#include "obs/spendjson.h"
#include "state/spendstore.h"
#include "support/unit.h"

static struct spend_view view_of(int64_t cluster_day, int64_t grant)
{
    struct spend_view v;
    memset(&v, 0, sizeof(v));
    (void)snprintf(v.key, sizeof(v.key), "account:1001");
    v.day_micro = 700000;
    v.month_micro = 2500000;
    v.live_micro = 300000;
    v.caps.daily_micro = 1500000;
    v.answered = 2;
    v.ringing = 1;
    v.crossing_ms = 12931;
    v.cluster_day_micro = cluster_day;
    v.cluster_month_micro = -1;
    v.grant_micro = grant;
    return v;
}

static char *dump(const struct spend_view *v, bool is_text)
{
    json_t *o = spendjson_budget(v, 10000, is_text);
    assert_non_null(o);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(text);
    return text;
}

/* The API's form: micro-units, the cluster's figures when in a cluster. */
static void test_spendjson_micro_units(void **state)
{
    (void)state;
    struct spend_view v = view_of(650000, 120000);
    char *text = dump(&v, false);
    assert_string_equal(text, "{\"budget\":\"account:1001\",\"today\":700000,\"month\":2500000,"
                              "\"live\":300000,\"daily_cap\":1500000,\"monthly_cap\":null,"
                              "\"answered\":2,\"ringing\":1,\"crossing_in_ms\":2931,"
                              "\"cluster_today\":650000,\"grant\":120000}");
    free(text); /* jansson's allocation */
}

/* The tool's form: money text; alone (no cluster), no crossing: null. */
static void test_spendjson_money_text(void **state)
{
    (void)state;
    struct spend_view v = view_of(-1, -1);
    v.crossing_ms = SPEND_NEVER;
    char *text = dump(&v, true);
    assert_non_null(strstr(text, "\"today\":\"0.70\""));
    assert_non_null(strstr(text, "\"daily_cap\":\"1.50\""));
    assert_non_null(strstr(text, "\"crossing_in_ms\":null"));
    assert_non_null(strstr(text, "\"cluster_today\":null,\"grant\":null"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spendjson_micro_units),
        cmocka_unit_test(test_spendjson_money_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
