#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "config/config.h"
#include "obs/alert_sink.h"
#include "support/unit.h"

static char dir[64];

static struct alert sample(void)
{
    struct alert a = { .state = ALERT_FIRING,
                       .severity = CFG_SEVERITY_HIGH,
                       .metric = CFG_METRIC_AUTH_FAILURES,
                       .value = 11,
                       .threshold = 10,
                       .window_s = 300,
                       .incident = 7,
                       .wall_us = 1796614126535000ull,
                       .cause_us = 1796614126533000ull,
                       .sink_mask = 1 };
    (void)snprintf(a.rule, sizeof(a.rule), "brute_force_account");
    (void)snprintf(a.title, sizeof(a.title), "brute force attempt");
    /* The key is an account name an attacker chose: quotes, CR LF and a fake header. */
    (void)snprintf(a.key, sizeof(a.key), "x\"\r\nBcc: evil@example.org");
    (void)snprintf(a.detail, sizeof(a.detail), "auth_failures of %s: 11", a.key);
    return a;
}

static void format(void (*fn)(const struct alert *, enum cfg_sink_template, struct sw_buf *),
                   enum cfg_sink_template t, char *out, size_t cap)
{
    struct alert a = sample();
    struct sw_buf buf;
    sw_buf_init(&buf, out, cap - 1);
    fn(&a, t, &buf);
    assert_false(buf.is_overflow);
    out[buf.len] = '\0';
}

static void test_alert_json_generic(void **state)
{
    (void)state;
    char out[ALERT_TEXT_MAX];
    format(alert_format_json, CFG_TEMPLATE_GENERIC, out, sizeof(out));
    json_error_t err;
    json_t *root = json_loads(out, 0, &err);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "rule")), "brute_force_account");
    assert_string_equal(json_string_value(json_object_get(root, "state")), "firing");
    assert_string_equal(json_string_value(json_object_get(root, "severity")), "high");
    assert_string_equal(json_string_value(json_object_get(root, "metric")), "auth_failures");
    assert_string_equal(json_string_value(json_object_get(root, "detail")),
                        "auth_failures of x%22%0D%0ABcc: evil@example.org: 11");
    assert_string_equal(json_string_value(json_object_get(root, "key")),
                        "x%22%0D%0ABcc: evil@example.org");
    assert_int_equal(json_integer_value(json_object_get(root, "value")), 11);
    assert_int_equal(json_integer_value(json_object_get(root, "threshold")), 10);
    assert_int_equal(json_integer_value(json_object_get(root, "incident")), 7);
    assert_string_equal(json_string_value(json_object_get(root, "time")),
                        "2026-12-07T03:28:46.535Z");
    assert_null(strchr(out, '\n'));
    json_decref(root);
}

static void test_alert_json_slack(void **state)
{
    (void)state;
    char out[ALERT_TEXT_MAX];
    format(alert_format_json, CFG_TEMPLATE_SLACK, out, sizeof(out));
    json_error_t err;
    json_t *root = json_loads(out, 0, &err);
    assert_non_null(root);
    assert_int_equal(json_object_size(root), 1);
    const char *text = json_string_value(json_object_get(root, "text"));
    assert_non_null(text);
    assert_true(
        strncmp(text, "[HIGH] FIRING brute force attempt: auth_failures of x%22%0D%0A", 61) == 0);
    json_decref(root);
}

static void test_alert_mail_has_no_injected_header(void **state)
{
    (void)state;
    struct alert a = sample();
    char out[ALERT_TEXT_MAX];
    struct sw_buf buf;
    sw_buf_init(&buf, out, sizeof(out) - 1);
    alert_format_mail(&a, "sipwarden@example.net", "ops@example.net", &buf);
    assert_false(buf.is_overflow);
    out[buf.len] = '\0';
    assert_true(strncmp(out, "From: sipwarden@example.net\nTo: ops@example.net\nSubject: ", 56) ==
                0);
    assert_null(strstr(out, "\nBcc:"));
    assert_null(strchr(out, '\r'));
    assert_non_null(strstr(out, "\n\n[HIGH] FIRING brute force attempt"));
    assert_non_null(strstr(out, "\nincident: 7\n"));
}

static void write_script(const char *name, const char *body, char *path, size_t cap)
{
    (void)snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(body, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0700), 0);
}

static struct cfg *load(const char *text)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("s.conf", text, &diag);
    sw_diag_print(&diag, stderr);
    sw_diag_fini(&diag);
    assert_non_null(cfg);
    return cfg;
}

static char *slurp(const char *path)
{
    static char text[8192];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    (void)fclose(f);
    text[n] = '\0';
    return text;
}

static void test_alert_command_and_sendmail_deliver(void **state)
{
    (void)state;
    char pager[128];
    char mailer[128];
    char script[512];
    (void)snprintf(script, sizeof(script), "#!/bin/sh\ncat > %s/pager.out\n", dir);
    write_script("pager", script, pager, sizeof(pager));
    (void)snprintf(script, sizeof(script), "#!/bin/sh\n{ echo \"ARGS: $*\"; cat; } > %s/mail.out\n",
                   dir);
    write_script("sendmail", script, mailer, sizeof(mailer));
    char text[1024];
    (void)snprintf(text, sizeof(text),
                   "[p]\ntype = sink\nkind = command\ncommand = %s\n"
                   "[m]\ntype = sink\nkind = sendmail\nsendmail = %s\nto = ops@example.net\n",
                   pager, mailer);
    struct cfg *cfg = load(text);
    struct alert_sinks *sinks = NULL;
    assert_int_equal(alert_sinks_new(cfg, &sinks), 0);
    assert_int_equal(alert_sinks_count(sinks), 2);
    assert_int_equal(alert_sinks_find(sinks, "m"), 1);
    assert_int_equal(alert_sinks_find(sinks, "x"), -1);
    assert_int_equal(alert_sinks_start(sinks), 0);
    struct alert a = sample();
    a.sink_mask = 3;
    alert_sinks_deliver(sinks, &a);
    assert_true(alert_sinks_flush(sinks, 10000));
    struct alert_sink_stats st;
    for (size_t i = 0; i < 2; i++) {
        alert_sinks_stats(sinks, i, &st);
        assert_int_equal(st.delivered, 1);
        assert_int_equal(st.failed_attempts, 0);
    }
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/pager.out", dir);
    assert_non_null(strstr(slurp(path), "\"rule\":\"brute_force_account\""));
    (void)snprintf(path, sizeof(path), "%s/mail.out", dir);
    const char *mail = slurp(path);
    assert_true(strncmp(mail, "ARGS: -i -- ops@example.net\nFrom: sipwarden\n", 44) == 0);
    alert_sinks_free(sinks);
    cfg_free(cfg);
}

static void test_alert_failing_sink_retries_then_gives_up(void **state)
{
    (void)state;
    char failing[128];
    write_script("failing", "#!/bin/sh\ncat >/dev/null\nexit 3\n", failing, sizeof(failing));
    char text[512];
    (void)snprintf(text, sizeof(text),
                   "[f]\ntype = sink\nkind = command\ncommand = %s\nretries = 1\n", failing);
    struct cfg *cfg = load(text);
    struct alert_sinks *sinks = NULL;
    assert_int_equal(alert_sinks_new(cfg, &sinks), 0);
    assert_int_equal(alert_sinks_start(sinks), 0);
    struct alert a = sample();
    alert_sinks_push(sinks, 0, &a);
    assert_true(alert_sinks_flush(sinks, 10000)); /* one retry after 1 s */
    struct alert_sink_stats st;
    alert_sinks_stats(sinks, 0, &st);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.failed_attempts, 2);
    assert_int_equal(st.given_up, 1);
    alert_sinks_free(sinks);
    cfg_free(cfg);
}

static void test_alert_full_queue_drops_oldest(void **state)
{
    (void)state;
    struct cfg *cfg = load("[alerts]\nqueue_size = 8\n[s]\ntype = sink\nkind = syslog\n");
    struct alert_sinks *sinks = NULL;
    assert_int_equal(alert_sinks_new(cfg, &sinks), 0); /* not started: nothing drains */
    struct alert a = sample();
    for (int i = 0; i < 11; i++) {
        alert_sinks_push(sinks, 0, &a);
    }
    struct alert_sink_stats st;
    alert_sinks_stats(sinks, 0, &st);
    assert_int_equal(st.dropped, 3);
    alert_sinks_free(sinks);
    cfg_free(cfg);
}

static int setup(void **state)
{
    (void)state;
    (void)signal(SIGPIPE, SIG_IGN);
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-alertsink-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = { "pager", "sendmail", "failing", "pager.out", "mail.out" };
    char path[128];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        (void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (void)unlink(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_json_generic),
        cmocka_unit_test(test_alert_json_slack),
        cmocka_unit_test(test_alert_mail_has_no_injected_header),
        cmocka_unit_test(test_alert_command_and_sendmail_deliver),
        cmocka_unit_test(test_alert_failing_sink_retries_then_gives_up),
        cmocka_unit_test(test_alert_full_queue_drops_oldest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
