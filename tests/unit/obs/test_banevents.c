#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "obs/banevents.h"
#include "obs/seclog.h"
#include "support/testdata.h"
#include "support/unit.h"

#define NOW 1795707001 /* 2026-11-26 15:30:01 UTC */

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static void test_banevents_fill(void **state)
{
    (void)state;
    struct ban_entry entry = { .ip = ip_of("2001:db8::7"),
                               .start_s = NOW,
                               .end_s = NOW + 86400,
                               .offence = 2,
                               .source = BAN_SOURCE_AUTO };
    (void)snprintf(entry.reason, sizeof(entry.reason), "InvalidPassword=3");
    struct sw_event ev;
    banevents_fill(BAN_CHANGE_ADD, &entry, &ev);
    assert_int_equal(ev.kind, EV_BAN_ADDED);
    assert_string_equal(ev.detail,
                        "offence=2 source=auto end=2026-11-27T15:30:01Z reason=InvalidPassword=3");
    assert_string_equal(ev.module, "ban");
    char text[SW_ADDR_STRLEN];
    sw_sockaddr_format(&ev.remote, text, sizeof(text));
    assert_string_equal(text, "[2001:db8::7]:0");
    entry.end_s = BAN_FOREVER;
    entry.source = BAN_SOURCE_MANUAL;
    banevents_fill(BAN_CHANGE_DEL, &entry, &ev);
    assert_int_equal(ev.kind, EV_BAN_REMOVED);
    assert_string_equal(ev.detail,
                        "lifted offence=2 source=manual end=never reason=InvalidPassword=3");
    banevents_fill(BAN_CHANGE_EXPIRE, &entry, &ev);
    assert_true(strncmp(ev.detail, "ended ", 6) == 0);
}

/* Store -> event queue -> security log: every ban change becomes one line. */
static void test_banevents_reach_the_security_log(void **state)
{
    (void)state;
    char path[] = "/tmp/sw-banevents-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(close(fd), 0);
    struct seclog *log = NULL;
    assert_int_equal(seclog_open(&(struct seclog_config){ .path = path }, &log), 0);
    struct evq *queue = NULL;
    assert_int_equal(evq_new(&(struct evq_config){ .producer_count = 2 }, &queue), 0);
    struct event_sink sink = { .emit = seclog_emit, .ctx = log };
    assert_int_equal(evq_add_sink(queue, &sink), 0);
    assert_int_equal(evq_start(queue), 0);
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(&(struct ban_config){ .bantime_s = 60 }, &store), 0);
    struct banevents *be = NULL;
    assert_int_equal(banevents_new(queue, 1, &be), 0);
    assert_int_equal(ban_store_attach(store, &banevents_ops, be), 0);

    struct ban_request a = { .ip = ip_of("192.0.2.1"), .reason = "FailedACL=3" };
    struct ban_request b = { .ip = ip_of("192.0.2.2"), .reason = "ScannerDetected=1" };
    assert_int_equal(ban_store_add(store, &a, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban_store_add(store, &b, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban_store_del(store, &a.ip, NOW + 1), 0);
    assert_int_equal(ban_store_expire(store, NOW + 60), 1);
    ban_store_free(store);
    evq_stop(queue);
    evq_free(queue);
    seclog_close(log);

    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);
    static const char *const expected[] = {
        "SecurityEvent=\"BanAdded\"",
        "RemoteAddress=\"IPV4/UDP/192.0.2.1/0\",Module=\"ban\",",
        "Detail=\"offence=1 source=auto end=2026-11-26T15:31:01Z reason=FailedACL=3\"",
        "SecurityEvent=\"BanRemoved\"",
        "Detail=\"lifted offence=1",
        "Detail=\"ended offence=1 source=auto end=2026-11-26T15:31:01Z reason=ScannerDetected=1\"",
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        if (strstr(text, expected[i]) == NULL) {
            fail_msg("missing %s in:\n%s", expected[i], text);
        }
    }
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) {
        lines += text[i] == '\n';
    }
    assert_int_equal(lines, 4);
    free(text);
    assert_int_equal(unlink(path), 0);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    /* Single-threaded here: the environment is set before any thread starts. */
    assert_int_equal(setenv("TZ", "UTC", 1), 0); /* NOLINT(concurrency-mt-unsafe) */
    tzset();                                     /* NOLINT(concurrency-mt-unsafe) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_banevents_fill),
        cmocka_unit_test(test_banevents_reach_the_security_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
