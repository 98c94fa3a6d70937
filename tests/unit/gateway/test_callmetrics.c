/*
 * Calls and international calls on /metrics (gateway_callmetrics.h): each ended call is
 * counted under its account (else its trunk, else "other"), direction and result; an
 * outbound call through a trunk to another country code is international; the label
 * values are bounded by the configuration.
 */
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "config/config.h"
#include "gateway/gateway_callmetrics.h"
#include "obs/metrics.h"
#include "support/unit.h"

static const char conf[] = "[general]\ncontrol_socket =\n"
                           "[log]\nsecurity_log =\n"
                           "[state]\npath = :memory:\n"
                           "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                           "permit = 203.0.113.0/24\ncountry_code = 49\n"
                           "[1001]\ntype = account\nsecret = Str0ng-1001-xQ7v\n";

static struct call_record record(const char *direction, const char *account, const char *trunk,
                                 const char *e164, uint16_t code)
{
    struct call_record rec;
    memset(&rec, 0, sizeof(rec));
    CALLREC_SET(rec.direction, direction);
    CALLREC_SET(rec.policy.account, account);
    CALLREC_SET(rec.policy.trunk, trunk);
    CALLREC_SET(rec.policy.dialled_e164, e164);
    rec.final_code = code;
    return rec;
}

/* The value of the series whose line starts with `series` (name and labels), or -1. */
static long long value_of(const char *text, const char *series)
{
    const char *at = strstr(text, series);
    if (at == NULL || (at != text && at[-1] != '\n')) {
        return -1;
    }
    long long value = -1;
    return sscanf(at + strlen(series), " %lld", &value) == 1 ? value : -1;
}

static void test_callmetrics_count(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("test.conf", conf, &diag);
    assert_non_null(cfg);
    struct metrics_config mc = { .slot_count = 2, .max_series = 256 };
    struct metrics *reg = NULL;
    assert_int_equal(metrics_new(&mc, &reg), 0);
    struct gw_call_metrics *cm = NULL;
    assert_int_equal(gw_call_metrics_new(reg, cfg, &cm), 0);

    const struct call_record calls[] = {
        record("pbx-trunk", "", "provider", "+4930123456", 200),   /* national */
        record("pbx-trunk", "", "provider", "+442071234567", 200), /* abroad */
        record("pbx-trunk", "", "provider", "+33123456789", 486),  /* abroad, busy */
        record("trunk-pbx", "", "provider", "+4930123456", 487),
        record("account-pbx", "1001", "", "", 408),
        record("pbx-account", "1001", "", "", 503),
        record("account-pbx", "1002", "", "", 200), /* not configured at start */
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        gw_call_metrics_count(cm, (unsigned)(i % 2), &calls[i]);
    }
    char text[65536];
    struct sw_buf out;
    sw_buf_init(&out, text, sizeof(text) - 1);
    assert_int_equal(metrics_render(reg, &out), 0);
    text[out.len] = '\0';

    const char *calls_total = "sipwarden_calls_total{party=";
    char series[160];

    static const struct {
        const char *labels;
        long long want;
    } expected[] = {
        { "\"trunk:provider\",direction=\"outbound\",result=\"answered\"}", 2 },
        { "\"trunk:provider\",direction=\"outbound\",result=\"busy\"}", 1 },
        { "\"trunk:provider\",direction=\"inbound\",result=\"no_answer\"}", 1 },
        { "\"account:1001\",direction=\"inbound\",result=\"no_answer\"}", 1 },
        { "\"account:1001\",direction=\"outbound\",result=\"failed\"}", 1 },
        { "\"other\",direction=\"inbound\",result=\"answered\"}", 1 },
        { "\"trunk:provider\",direction=\"inbound\",result=\"answered\"}", 0 },
    };

    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        (void)snprintf(series, sizeof(series), "%s%s", calls_total, expected[i].labels);
        if (value_of(text, series) != expected[i].want) {
            fail_msg("%s: %lld, expected %lld", series, value_of(text, series), expected[i].want);
        }
    }
    assert_int_equal(
        value_of(text, "sipwarden_international_calls_total{party=\"trunk:provider\"}"), 2);
    /* An account has no international series; "other" has no spend series. */
    assert_null(strstr(text, "sipwarden_international_calls_total{party=\"account:1001\"}"));
    assert_null(strstr(text, "sipwarden_spend_micro{budget=\"other\""));
    assert_non_null(strstr(text, "sipwarden_spend_micro{budget=\"global\",period=\"today\"}"));

    gw_call_metrics_spend(cm, 0, NULL); /* no spending caps: nothing to set */
    gw_call_metrics_free(cm);
    metrics_free(reg);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

/* A reload's new account and trunk get their own series (found through the index); the
 * parties before keep theirs; a party already there is not added twice. */
static void test_callmetrics_reload(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("test.conf", conf, &diag);
    assert_non_null(cfg);
    struct metrics_config mc = { .slot_count = 1, .max_series = 256 };
    struct metrics *reg = NULL;
    assert_int_equal(metrics_new(&mc, &reg), 0);
    struct gw_call_metrics *cm = NULL;
    assert_int_equal(gw_call_metrics_new(reg, cfg, &cm), 0);
    struct call_record rec = record("account-pbx", "1002", "", "", 200);
    gw_call_metrics_count(cm, 0, &rec); /* not configured yet: "other" */

    char more[2048];
    (void)snprintf(more, sizeof(more),
                   "%s[1002]\ntype = account\nsecret = Str0ng-1002-xQ7v\n"
                   "[second]\ntype = trunk\nprovider = udp:198.51.100.7:5060\n"
                   "country_code = 44\n",
                   conf);
    /* Two trunks need a default one; [general] is the first section of `conf`. */
    char *general = strstr(more, "[general]\n");
    assert_non_null(general);
    char patched[2100];
    (void)snprintf(patched, sizeof(patched), "[general]\ndefault_trunk = provider\n%s",
                   general + strlen("[general]\n"));
    struct cfg *reloaded = cfg_load_string("test.conf", patched, &diag);
    assert_non_null(reloaded);
    assert_int_equal(gw_call_metrics_reload(cm, reloaded), 2);
    assert_int_equal(gw_call_metrics_reload(cm, reloaded), 0);
    gw_call_metrics_count(cm, 0, &rec);
    struct call_record abroad = record("pbx-trunk", "", "second", "+4930123456", 200);
    gw_call_metrics_count(cm, 0, &abroad);
    struct call_record old = record("account-pbx", "1001", "", "", 200);
    gw_call_metrics_count(cm, 0, &old);

    char text[65536];
    struct sw_buf out;
    sw_buf_init(&out, text, sizeof(text) - 1);
    assert_int_equal(metrics_render(reg, &out), 0);
    text[out.len] = '\0';
    assert_int_equal(value_of(text, "sipwarden_calls_total{party=\"account:1002\",direction="
                                    "\"inbound\",result=\"answered\"}"),
                     1);
    assert_int_equal(value_of(text, "sipwarden_calls_total{party=\"other\",direction="
                                    "\"inbound\",result=\"answered\"}"),
                     1);
    assert_int_equal(value_of(text, "sipwarden_calls_total{party=\"account:1001\",direction="
                                    "\"inbound\",result=\"answered\"}"),
                     1);
    assert_int_equal(value_of(text, "sipwarden_international_calls_total{party=\"trunk:second\"}"),
                     1);
    assert_non_null(
        strstr(text, "sipwarden_spend_micro{budget=\"account:1002\",period=\"today\"}"));
    gw_call_metrics_free(cm);
    metrics_free(reg);
    cfg_free(reloaded);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callmetrics_count),
        cmocka_unit_test(test_callmetrics_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
