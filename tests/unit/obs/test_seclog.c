#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "obs/seclog.h"
#include "support/testdata.h"
#include "support/unit.h"

/* 2026-11-26 15:30:01 UTC */
#define T_SAMPLE 1795707001ull

static struct sw_event event_of(enum sw_event_kind kind, uint64_t wall_us, const char *remote)
{
    struct sw_event ev;
    sw_event_init(&ev, kind);
    ev.wall_us = wall_us;
    ev.transport = SW_TRANSPORT_UDP;
    assert_true(sw_sockaddr_parse(sv_from_cstr(remote), 0, &ev.remote));
    assert_true(sw_sockaddr_parse(SV("127.0.0.1:5060"), 0, &ev.local));
    return ev;
}

static void format_line(const struct sw_event *ev, enum seclog_format format, char *out, size_t cap)
{
    struct sw_buf buf;
    sw_buf_init(&buf, out, cap - 1);
    seclog_format(ev, format, NULL, 4242, true, &buf);
    assert_false(buf.is_overflow);
    out[buf.len] = '\0';
}

/* The four failure events reproduce the sample lines of TOOLS-NOTES §3.2 exactly. */
static void test_seclog_asterisk_lines(void **state)
{
    (void)state;
    char line[SECLOG_LINE_MAX + 1];
    struct sw_event ev = event_of(EV_FAILED_ACL, T_SAMPLE * 1000000 + 123000, "192.0.2.10:5070");
    SW_EVENT_SET(&ev, account, SV("1001"));
    SW_EVENT_SET(&ev, session, SV("a84c2f1d-77@127.0.0.1"));
    SW_EVENT_SET(&ev, detail, SV("gateway_acl"));
    format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
    assert_string_equal(
        line,
        "[2026-11-26 15:30:01] SECURITY[4242] res_security_log.c: "
        "SecurityEvent=\"FailedACL\",EventTV=\"2026-11-26T15:30:01.123+0000\",Severity=\"Error\","
        "Service=\"SIP\",EventVersion=\"1\",AccountID=\"1001\",SessionID=\"a84c2f1d-77@127.0.0.1\","
        "LocalAddress=\"IPV4/UDP/127.0.0.1/5060\",RemoteAddress=\"IPV4/UDP/192.0.2.10/5070\","
        "ACLName=\"gateway_acl\"\n");

    ev = event_of(EV_INVALID_ACCOUNT_ID, (T_SAMPLE + 1) * 1000000 + 456000, "192.0.2.11:5061");
    SW_EVENT_SET(&ev, account, SV("9999"));
    SW_EVENT_SET(&ev, session, SV("3368993973"));
    format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
    assert_string_equal(
        line, "[2026-11-26 15:30:02] SECURITY[4242] res_security_log.c: "
              "SecurityEvent=\"InvalidAccountID\",EventTV=\"2026-11-26T15:30:02.456+0000\","
              "Severity=\"Error\",Service=\"SIP\",EventVersion=\"1\",AccountID=\"9999\","
              "SessionID=\"3368993973\",LocalAddress=\"IPV4/UDP/127.0.0.1/5060\","
              "RemoteAddress=\"IPV4/UDP/192.0.2.11/5061\"\n");

    ev = event_of(EV_CHALLENGE_RESPONSE_FAILED, (T_SAMPLE + 2) * 1000000 + 789000,
                  "192.0.2.12:5062");
    SW_EVENT_SET(&ev, account, SV("1001"));
    SW_EVENT_SET(&ev, session, SV("4186316060"));
    SW_EVENT_SET(&ev, challenge, SV("awhP82sIT9XRetPn"));
    SW_EVENT_SET(&ev, response, SV("0d3f928be5ecf490ebee891120d49e09"));
    format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
    assert_string_equal(
        line, "[2026-11-26 15:30:03] SECURITY[4242] res_security_log.c: "
              "SecurityEvent=\"ChallengeResponseFailed\",EventTV=\"2026-11-26T15:30:03.789+0000\","
              "Severity=\"Error\",Service=\"SIP\",EventVersion=\"1\",AccountID=\"1001\","
              "SessionID=\"4186316060\",LocalAddress=\"IPV4/UDP/127.0.0.1/5060\","
              "RemoteAddress=\"IPV4/UDP/192.0.2.12/5062\",Challenge=\"awhP82sIT9XRetPn\","
              "Response=\"0d3f928be5ecf490ebee891120d49e09\",ExpectedResponse=\"\"\n");

    ev = event_of(EV_INVALID_PASSWORD, (T_SAMPLE + 3) * 1000000 + 12000, "192.0.2.13:5063");
    SW_EVENT_SET(&ev, account, SV("1001"));
    SW_EVENT_SET(&ev, session, SV("4186316061"));
    SW_EVENT_SET(&ev, challenge, SV("awhP82sIT9XRetPn"));
    SW_EVENT_SET(&ev, response, SV("0d3f928be5ecf490ebee891120d49e09"));
    format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
    assert_string_equal(
        line,
        "[2026-11-26 15:30:04] SECURITY[4242] res_security_log.c: "
        "SecurityEvent=\"InvalidPassword\",EventTV=\"2026-11-26T15:30:04.012+0000\","
        "Severity=\"Error\",Service=\"SIP\",EventVersion=\"2\",AccountID=\"1001\","
        "SessionID=\"4186316061\",LocalAddress=\"IPV4/UDP/127.0.0.1/5060\","
        "RemoteAddress=\"IPV4/UDP/192.0.2.13/5063\",Challenge=\"awhP82sIT9XRetPn\","
        "ReceivedChallenge=\"awhP82sIT9XRetPn\",ReceivedHash=\"0d3f928be5ecf490ebee891120d49e09\"\n");
}

/* Issue #9.15: the field held 63 characters, so every nonce (64) lost its last digit. */
static void test_seclog_challenge_keeps_a_whole_nonce(void **state)
{
    (void)state;
    static const char nonce[] = "8f14e45fceea167a5a36dedd4bea2543c4ca4238a0b923820dcc509a6f75849b";
    char line[SECLOG_LINE_MAX + 1];
    struct sw_event ev = event_of(EV_INVALID_PASSWORD, T_SAMPLE * 1000000, "192.0.2.13:5063");
    SW_EVENT_SET(&ev, challenge, sv_from_cstr(nonce));
    format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
    assert_non_null(strstr(line, ",Challenge=\"8f14e45fceea167a5a36dedd4bea2543c4ca4238a0b923820dcc"
                                 "509a6f75849b\","));
    assert_non_null(strstr(line,
                           ",ReceivedChallenge=\"8f14e45fceea167a5a36dedd4bea2543c4ca4238a0b92"
                           "3820dcc509a6f75849b\","));
}

static void test_seclog_own_kinds_and_ipv6(void **state)
{
    (void)state;
    char line[SECLOG_LINE_MAX + 1];
    struct sw_event ev = event_of(EV_RATE_EXCEEDED, T_SAMPLE * 1000000, "[2001:db8::7]:5080");
    ev.transport = SW_TRANSPORT_TLS;
    ev.count = 50;
    SW_EVENT_SET(&ev, module, SV("ratelimit"));
    SW_EVENT_SET(&ev, user_agent, SV("friendly-scanner"));
    SW_EVENT_SET(&ev, detail, SV("INVITE"));
    format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
    assert_non_null(strstr(line, "SecurityEvent=\"RateExceeded\","));
    assert_non_null(strstr(line,
                           ",RemoteAddress=\"IPV6/TLS/2001:db8::7/5080\",Module=\"ratelimit\","
                           "UserAgent=\"friendly-scanner\",Detail=\"INVITE\",Count=\"50\"\n"));

    ev = event_of(EV_SUCCESSFUL_AUTH, T_SAMPLE * 1000000, "192.0.2.1:5060");
    format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
    assert_non_null(strstr(line, "Severity=\"Informational\""));
    assert_non_null(strstr(line, "/5060\",UsingPassword=\"1\"\n"));
    /* Without date (syslog): the line starts with SECURITY[pid]. */
    struct sw_buf buf;
    sw_buf_init(&buf, line, sizeof(line) - 1);
    seclog_format(&ev, SECLOG_FORMAT_ASTERISK, "PJSIP", 7, false, &buf);
    line[buf.len] = '\0';
    assert_true(strncmp(line, "SECURITY[7] res_security_log.c: SecurityEvent=", 46) == 0);
    assert_non_null(strstr(line, "Service=\"PJSIP\""));
}

static void test_seclog_neutralize(void **state)
{
    (void)state;

    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        { "1001", 4, "1001" },
        { "a\"b", 3, "a%22b" },
        { "back\\slash", 10, "back%5Cslash" },
        { "100%", 4, "100%25" },
        { "cr\rlf\n", 6, "cr%0Dlf%0A" },
        { "tab\tesc\x1b", 8, "tab%09esc%1B" },
        { "del\x7f", 4, "del%7F" },
        { "caf\xc3\xa9", 5, "caf%C3%A9" },
        { "nul\0after", 9, "nul" },
        { "x\",RemoteAddress=\"IPV4/UDP/10.0.0.1/5060", 40,
          "x%22,RemoteAddress=%22IPV4/UDP/10.0.0.1/5060" },
        { "", 0, "" },
        /* Plain runs between, before and after encoded bytes; a NUL after one. */
        { "\"\"ab%%c\\", 8, "%22%22ab%25%25c%5C" },
        { "\nx", 2, "%0Ax" },
        { "\0abc", 4, "" },
        { "ab\"\0cd", 5, "ab%22" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        struct sw_buf buf;
        sw_buf_init(&buf, out, sizeof(out) - 1);
        seclog_neutralize(sv_make(cases[i].in, cases[i].len), &buf);
        out[buf.len] = '\0';
        assert_string_equal(out, cases[i].out);
    }
}

static size_t count_of(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* Every field an attacker writes, stuffed with a fake RemoteAddress, quotes and line ends. */
static void test_seclog_injection_stays_one_line(void **state)
{
    (void)state;
    static const char evil[] = "x\",RemoteAddress=\"IPV4/UDP/10.0.0.1/5060\"\r\n[2026-11-26 "
                               "15:30:01] SECURITY[1] res_security_log.c: SecurityEvent=\"X\"";
    for (int kind = 0; kind < EV_KIND_COUNT; kind++) {
        struct sw_event ev =
            event_of((enum sw_event_kind)kind, T_SAMPLE * 1000000, "192.0.2.9:5060");
        SW_EVENT_SET(&ev, account, sv_make(evil, sizeof(evil) - 1));
        SW_EVENT_SET(&ev, session, sv_make(evil, sizeof(evil) - 1));
        SW_EVENT_SET(&ev, user_agent, sv_make(evil, sizeof(evil) - 1));
        SW_EVENT_SET(&ev, detail, sv_make(evil, sizeof(evil) - 1));
        SW_EVENT_SET(&ev, challenge, sv_make(evil, sizeof(evil) - 1));
        SW_EVENT_SET(&ev, response, sv_make(evil, sizeof(evil) - 1));
        char line[SECLOG_LINE_MAX + 1];
        format_line(&ev, SECLOG_FORMAT_ASTERISK, line, sizeof(line));
        assert_int_equal(count_of(line, "\n"), 1);
        assert_int_equal(count_of(line, "\r"), 0);
        assert_int_equal(count_of(line, "RemoteAddress=\""), 1);
        /* "SECURITY[" may appear inside a value, but never a quoted SecurityEvent. */
        assert_int_equal(count_of(line, "SecurityEvent=\""), 1);
        assert_null(strstr(line, "10.0.0.1/5060\""));
        format_line(&ev, SECLOG_FORMAT_JSON, line, sizeof(line));
        assert_int_equal(count_of(line, "\n"), 1);
    }
}

static void test_seclog_json(void **state)
{
    (void)state;
    char line[SECLOG_LINE_MAX + 1];
    struct sw_event ev = event_of(EV_INVALID_PASSWORD, T_SAMPLE * 1000000, "192.0.2.13:5063");
    SW_EVENT_SET(&ev, account, SV("10\"01\xff"));
    format_line(&ev, SECLOG_FORMAT_JSON, line, sizeof(line));
    json_error_t error;
    json_t *obj = json_loads(line, 0, &error);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "event")), "InvalidPassword");
    assert_string_equal(json_string_value(json_object_get(obj, "account")), "10%2201%FF");
    assert_string_equal(json_string_value(json_object_get(obj, "remote")),
                        "IPV4/UDP/192.0.2.13/5063");
    assert_string_equal(json_string_value(json_object_get(obj, "time")),
                        "2026-11-26T15:30:01.000+0000");
    assert_int_equal(json_integer_value(json_object_get(obj, "version")), 2);
    json_decref(obj);
}

static char *read_all(const char *path)
{
    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);
    return text;
}

static void test_seclog_file_and_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-seclog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    char rotated[128];
    (void)snprintf(path, sizeof(path), "%s/security.log", dir);
    (void)snprintf(rotated, sizeof(rotated), "%s/security.log.1", dir);
    struct seclog *log = NULL;
    struct seclog_config cfg = { .format = SECLOG_FORMAT_ASTERISK, .path = path };
    assert_int_equal(seclog_open(&cfg, &log), 0);
    struct sw_event ev = event_of(EV_FAILED_ACL, T_SAMPLE * 1000000, "192.0.2.10:5070");
    assert_int_equal(seclog_write(log, &ev), 0);
    assert_int_equal(rename(path, rotated), 0);
    assert_int_equal(seclog_write(log, &ev), 0); /* still the old file */
    seclog_reopen(log);
    seclog_emit(log, &ev); /* the new file */
    struct seclog_stats stats;
    seclog_stats_get(log, &stats);
    assert_int_equal(stats.lines, 3);
    assert_int_equal(stats.reopens, 1);
    seclog_close(log);
    char *old_text = read_all(rotated);
    char *new_text = read_all(path);
    assert_int_equal(count_of(old_text, "\n"), 2);
    assert_int_equal(count_of(new_text, "\n"), 1);
    char expected_prefix[64];
    (void)snprintf(expected_prefix, sizeof(expected_prefix), "[2026-11-26 15:30:01] SECURITY[%ld] ",
                   (long)getpid());
    assert_true(strncmp(new_text, expected_prefix, strlen(expected_prefix)) == 0);
    free(old_text);
    free(new_text);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(unlink(rotated), 0);
    assert_int_equal(rmdir(dir), 0);

    struct seclog_config bad = { .format = SECLOG_FORMAT_ASTERISK, .path = "/nonexistent/x/y.log" };
    assert_true(seclog_open(&bad, &log) < 0);
}

static size_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (size_t)st.st_size;
}

/*
 * Held lines (#13): nothing reaches the file until seclog_flush, then the batch does, in
 * order; a direct seclog_write comes after the lines held before it; lines beyond the
 * held room are written as it fills, none lost; seclog_close writes what is left.
 */
static void test_seclog_held_lines_wait_for_the_flush(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-seclog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/security.log", dir);
    struct seclog *log = NULL;
    struct seclog_config cfg = { .format = SECLOG_FORMAT_ASTERISK, .path = path };
    assert_int_equal(seclog_open(&cfg, &log), 0);
    struct sw_event first = event_of(EV_FAILED_ACL, T_SAMPLE * 1000000, "192.0.2.10:5071");
    struct sw_event second = event_of(EV_FAILED_ACL, T_SAMPLE * 1000000, "192.0.2.10:5072");
    struct sw_event third = event_of(EV_FAILED_ACL, T_SAMPLE * 1000000, "192.0.2.10:5073");
    seclog_emit_held(log, &first);
    seclog_emit_held(log, &second);
    assert_int_equal(file_size(path), 0);
    seclog_flush(log);
    seclog_flush(log); /* nothing more held: nothing written twice */
    size_t two = file_size(path);
    seclog_emit_held(log, &first);
    assert_int_equal(seclog_write(log, &third), 0);
    char *text = read_all(path);
    assert_int_equal(count_of(text, "\n"), 4);
    const char *a = strstr(text, "5072");
    const char *b = strstr(text + two, "5071");
    const char *c = strstr(text + two, "5073");
    assert_true(strstr(text, "5071") < a && a < b && b < c);
    free(text);
    /* More than the held room: written as it fills. */
    size_t many = 3 * SECLOG_HELD_MAX / 200;
    for (size_t i = 0; i < many; i++) {
        seclog_emit_held(log, &second);
    }
    assert_true(file_size(path) > two);
    seclog_close(log); /* the rest */
    text = read_all(path);
    assert_int_equal(count_of(text, "\n"), 4 + many);
    free(text);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* Syslog destination: the line goes to syslog(3) without the date (syslog adds its own). */
static void test_seclog_syslog(void **state)
{
    (void)state;
    struct seclog *log = NULL;
    struct seclog_config cfg = { .format = SECLOG_FORMAT_ASTERISK,
                                 .dest = SECLOG_DEST_SYSLOG,
                                 .syslog_facility = LOG_LOCAL0,
                                 .syslog_ident = "sipwarden-test" };
    assert_int_equal(seclog_open(&cfg, &log), 0);
    struct sw_event ev = event_of(EV_FAILED_ACL, T_SAMPLE * 1000000, "192.0.2.10:5070");
    assert_int_equal(seclog_write(log, &ev), 0);
    seclog_reopen(log); /* meaningless for syslog, harmless */
    assert_int_equal(seclog_write(log, &ev), 0);
    seclog_emit_held(log, &ev); /* syslog holds nothing back */
    struct seclog_stats stats;
    seclog_stats_get(log, &stats);
    assert_int_equal(stats.lines, 3);
    seclog_close(log);
}

int main(void)
{
    /* The expected lines are in UTC; fail2ban reads local time, so the log writes local. */
    /* Single-threaded here: the environment is set before any thread starts. */
    assert_int_equal(setenv("TZ", "UTC", 1), 0); /* NOLINT(concurrency-mt-unsafe) */
    tzset();                                     /* NOLINT(concurrency-mt-unsafe) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seclog_asterisk_lines),
        cmocka_unit_test(test_seclog_challenge_keeps_a_whole_nonce),
        cmocka_unit_test(test_seclog_own_kinds_and_ipv6),
        cmocka_unit_test(test_seclog_neutralize),
        cmocka_unit_test(test_seclog_injection_stays_one_line),
        cmocka_unit_test(test_seclog_json),
        cmocka_unit_test(test_seclog_file_and_reopen),
        cmocka_unit_test(test_seclog_held_lines_wait_for_the_flush),
        cmocka_unit_test(test_seclog_syslog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
