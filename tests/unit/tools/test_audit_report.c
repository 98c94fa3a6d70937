#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/unit.h"
#include "tools/audit_report.h"

static char *render(const struct audit_report *report, enum audit_format format)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(audit_report_write(report, format, out), 0);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void fill(struct audit_report *report)
{
    struct audit_where b = { .file = "b.conf", .line = 3, .section = SV("trunk") };
    struct audit_where a9 = { .file = "a.conf", .line = 9, .section = SV("x") };
    struct audit_where a2 = { .file = "a.conf", .line = 2, .section = SV_NULL };
    audit_report_add(report, &b, AUDIT_WARN, "tls.transport", "transport=tls", "udp only");
    audit_report_add(report, &a9, AUDIT_PASS, "acl.source", NULL, "deny/permit");
    audit_report_add(report, &a2, AUDIT_FAIL, "auth.guest", "allowguest=no", "guests %d", 1);
    audit_report_secret(report, &b, SV("same-secret"), SV("trunk-user"));
    audit_report_secret(report, &a9, SV("same-secret"), SV("x"));
    audit_report_secret(report, &a2, SV("other"), SV("y"));
    /* The same account written twice (peer and register line) is not reuse. */
    struct audit_where reg = { .file = "a.conf", .line = 1, .section = SV("general") };
    audit_report_secret(report, &reg, SV("other"), SV("y"));
    audit_report_input(report, "a.conf", "sip.conf");
    audit_report_input(report, "b.conf", "pjsip.conf");
    audit_report_finish(report);
}

static void test_report_sorts_and_finds_reuse(void **state)
{
    (void)state;
    struct audit_report report;
    audit_report_init(&report, 1795651200); /* 2026-11-26 */
    fill(&report);
    assert_int_equal(report.count, 7);
    /* Sorted by file, line, section, check. */
    assert_string_equal(report.items[0].file, "a.conf");
    assert_int_equal(report.items[0].line, 1);
    assert_string_equal(report.items[0].check, "auth.secret-reuse");
    assert_int_equal(report.items[0].status, AUDIT_PASS);
    assert_string_equal(report.items[1].check, "auth.guest");
    assert_int_equal(report.items[1].line, 2);
    assert_string_equal(report.items[2].check, "auth.secret-reuse");
    assert_int_equal(report.items[2].status, AUDIT_PASS);
    assert_string_equal(report.items[3].check, "acl.source");
    assert_string_equal(report.items[4].check, "auth.secret-reuse");
    assert_int_equal(report.items[4].status, AUDIT_FAIL);
    assert_non_null(strstr(report.items[4].message, "[trunk] at b.conf:3"));
    assert_string_equal(report.items[6].file, "b.conf");
    assert_int_equal(audit_report_worst(&report), AUDIT_FAIL);
    assert_non_null(audit_check_why("auth.secret"));
    assert_null(audit_check_why("no.such.check"));
    audit_report_fini(&report);
}

static void test_report_json_schema(void **state)
{
    (void)state;
    struct audit_report report;
    audit_report_init(&report, 1795651200);
    fill(&report);
    char *text = render(&report, AUDIT_FORMAT_JSON);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "schema")), AUDIT_JSON_SCHEMA);
    assert_string_equal(json_string_value(json_object_get(root, "date")), "2026-11-26");
    assert_string_equal(json_string_value(json_object_get(root, "result")), "FAIL");
    assert_true(json_is_true(json_object_get(root, "complete")));
    json_t *summary = json_object_get(root, "summary");
    assert_int_equal(json_integer_value(json_object_get(summary, "fail")), 3);
    assert_int_equal(json_integer_value(json_object_get(summary, "warn")), 1);
    assert_int_equal(json_integer_value(json_object_get(summary, "pass")), 3);
    assert_int_equal(json_array_size(json_object_get(root, "inputs")), 2);
    json_t *first = json_array_get(json_object_get(root, "findings"), 1);
    assert_string_equal(json_string_value(json_object_get(first, "check")), "auth.guest");
    assert_string_equal(json_string_value(json_object_get(first, "status")), "FAIL");
    assert_string_equal(json_string_value(json_object_get(first, "message")), "guests 1");
    assert_string_equal(json_string_value(json_object_get(first, "fix")), "allowguest=no");
    assert_true(json_is_null(json_object_get(first, "section")));
    assert_int_equal(json_integer_value(json_object_get(first, "line")), 2);
    assert_true(json_string_length(json_object_get(first, "why")) > 0);
    json_decref(root);
    /* The same report renders to the same bytes (stable output for CI diffs). */
    char *again = render(&report, AUDIT_FORMAT_JSON);
    assert_string_equal(text, again);
    free(again);
    free(text);
    audit_report_fini(&report);
}

static void test_report_text(void **state)
{
    (void)state;
    struct audit_report report;
    audit_report_init(&report, 1795651200);
    fill(&report);
    char *text = render(&report, AUDIT_FORMAT_TEXT);
    assert_non_null(strstr(text, "FAIL auth.guest             a.conf:2: guests 1\n"
                                 "     why: "));
    assert_non_null(strstr(text, "     fix: allowguest=no\n"));
    assert_non_null(strstr(text, "PASS acl.source             a.conf:9 [x]: deny/permit\n"
                                 "FAIL"));
    assert_non_null(strstr(text, "audit: 3 FAIL, 1 WARN, 3 PASS in 2 files (as of 2026-11-26)\n"));
    free(text);
    audit_report_fini(&report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_sorts_and_finds_reuse),
        cmocka_unit_test(test_report_json_schema),
        cmocka_unit_test(test_report_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
