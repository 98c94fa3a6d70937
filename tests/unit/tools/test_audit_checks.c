#include <string.h>

#include "support/unit.h"
#include "tools/audit_checks.h"
#include "tools/audit_secret.h"

static void test_audit_date_parse(void **state)
{
    (void)state;

    const struct {
        const char *text;
        bool is_ok;
        int64_t unix_time;
    } cases[] = {
        { "1970-01-01", true, 0 },
        { "2026-11-26", true, 1795651200 },
        { "2024-02-29", true, 1709164800 },
        { "2023-02-29", false, 0 },
        { "2100-02-29", false, 0 },
        { "2026-13-01", false, 0 },
        { "2026-00-10", false, 0 },
        { "2026-04-31", false, 0 },
        { "26-11-2026", false, 0 },
        { "2026-11-2", false, 0 },
        { "2026-11-26x", false, 0 },
        { "2026/11/26", false, 0 },
        { "", false, 0 },
        { "1969-12-31", false, 0 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = -1;
        assert_int_equal(audit_date_parse(sv_from_cstr(cases[i].text), &t), cases[i].is_ok);
        if (cases[i].is_ok) {
            assert_int_equal(t, cases[i].unix_time);
        }
    }
}

static void test_audit_list_and_truth(void **state)
{
    (void)state;
    assert_true(audit_list_has(SV("port, Invite"), SV("invite")));
    assert_true(audit_list_has(SV("very"), SV("very")));
    assert_false(audit_list_has(SV("invitee,port2"), SV("invite")));
    assert_false(audit_list_has(SV(""), SV("udp")));
    assert_true(audit_is_true(SV("YES")));
    assert_true(audit_is_true(SV("1")));
    assert_false(audit_is_true(SV("no")));
    assert_false(audit_is_true(SV_NULL));
}

static void test_audit_rotation_comment(void **state)
{
    (void)state;
    static const char text[] = "[old]\n; rotated=2026-01-01\nsecret=x\n"
                               "[recent]\n;rotated: 2026-11-01 by ops\n"
                               "[bad]\n; rotated=someday\n"
                               "[none]\n; nothing here\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct asterisk_conf *conf = NULL;
    assert_int_equal(
        asterisk_conf_parse("r.conf", sv_make(text, sizeof(text) - 1), 0, &conf, &diag), 0);
    struct audit_report report;
    audit_report_init(&report, 1795651200); /* 2026-11-26 */
    for (size_t i = 0; i < conf->section_count; i++) {
        audit_checks_rotation_comment(&report, &conf->sections[i]);
    }
    assert_int_equal(report.count, 3);
    assert_int_equal(report.items[0].status, AUDIT_WARN);
    assert_int_equal(report.items[0].line, 2);
    assert_non_null(strstr(report.items[0].message, "329 days ago"));
    assert_int_equal(report.items[1].status, AUDIT_PASS);
    assert_int_equal(report.items[2].status, AUDIT_WARN);
    assert_non_null(strstr(report.items[2].message, "unreadable"));
    audit_report_fini(&report);
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);
}

static void test_audit_secret_rules(void **state)
{
    (void)state;

    const struct {
        const char *secret;
        bool is_long_enough;
        bool has_classes;
        bool is_hard_to_guess;
    } cases[] = {
        { "1001", false, false, false },
        { "Welcome2024!", false, true, false },
        { "Summer2023!Summer", true, true, false }, /* classes and length, but a pattern */
        { "abcdefghijklmnopqrstuvwxyz", true, false, false },
        { "Qw7kLp2xZ9mNvT4r", true, true, true }, /* random, no symbol: 3 classes */
        { "Kx9!mQ2@vL7#pR4$wT8^", true, true, true },
        { "qwertyuiopasdfgh1!Q", true, true, false }, /* keyboard walk */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct audit_secret_score score;
        audit_secret_score(sv_from_cstr(cases[i].secret), NULL, 0, &score);
        assert_int_equal(score.is_long_enough, cases[i].is_long_enough);
        assert_int_equal(score.has_classes, cases[i].has_classes);
        assert_int_equal(score.is_hard_to_guess, cases[i].is_hard_to_guess);
        assert_int_equal(score.is_ok, cases[i].is_long_enough && cases[i].has_classes &&
                                          cases[i].is_hard_to_guess);
    }
    /* The user name as a known word lowers the estimate of a secret built on it. */
    struct audit_secret_score plain;
    struct audit_secret_score with_user;
    const struct sv words[] = { SV("alexandria") };
    audit_secret_score(SV("alexandria#1987!Xy"), NULL, 0, &plain);
    audit_secret_score(SV("alexandria#1987!Xy"), words, 1, &with_user);
    assert_true(with_user.bits < plain.bits);
    char text[256];
    audit_secret_describe(&with_user, text, sizeof(text));
    assert_non_null(strstr(text, "weak: 18 characters"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audit_date_parse),
        cmocka_unit_test(test_audit_list_and_truth),
        cmocka_unit_test(test_audit_rotation_comment),
        cmocka_unit_test(test_audit_secret_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
