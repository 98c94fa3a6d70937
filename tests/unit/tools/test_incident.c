#include <string.h>

#include "support/unit.h"
#include "tools/incident_int.h"

static void test_incident_event_parse(void **state)
{
    (void)state;
    struct incident_event ev;
    /* Asterisk format, local time two hours east of UTC. */
    const char *asterisk =
        "[2026-11-26 17:30:01] SECURITY[42] res_security_log.c: SecurityEvent=\"InvalidPassword\","
        "EventTV=\"2026-11-26T17:30:01.123+0200\",Severity=\"Error\",Service=\"SIP\","
        "EventVersion=\"2\",AccountID=\"1001\",SessionID=\"a%22b\","
        "LocalAddress=\"IPV4/UDP/127.0.0.1/5060\",RemoteAddress=\"IPV4/UDP/192.0.2.7/5070\","
        "Module=\"auth\",Challenge=\"x\"\n";
    assert_true(incident_event_parse(sv_from_cstr(asterisk), &ev));
    assert_string_equal(ev.kind, "InvalidPassword");
    assert_string_equal(ev.account, "1001");
    assert_string_equal(ev.remote, "192.0.2.7");
    assert_int_equal(ev.time_ms, 1795707001123);
    assert_true(ev.is_anomalous);

    const char *fraud =
        "SECURITY[42] res_security_log.c: SecurityEvent=\"FraudBlock\","
        "EventTV=\"2026-11-26T15:30:01.000+0000\",AccountID=\"\","
        "RemoteAddress=\"IPV6/UDP/2001:db8::1/5060\",Detail=\"refused (country GB)\"";
    assert_true(incident_event_parse(sv_from_cstr(fraud), &ev));
    assert_string_equal(ev.remote, "2001:db8::1");
    assert_string_equal(ev.detail, "refused (country GB)");
    assert_true(ev.is_anomalous);

    /* JSON lines; an informational kind is no anomaly. */
    const char *json = "{\"time\":\"2026-11-26T15:30:01.500-0100\",\"event\":\"ChallengeSent\","
                       "\"account\":\"1002\",\"remote\":\"IPV4/TCP/198.51.100.2/40000\"}";
    assert_true(incident_event_parse(sv_from_cstr(json), &ev));
    assert_string_equal(ev.kind, "ChallengeSent");
    assert_string_equal(ev.remote, "198.51.100.2");
    assert_int_equal(ev.time_ms, 1795707001500 + 3600000);
    assert_false(ev.is_anomalous);

    /* Not events: other lines, a missing or bad time, broken JSON. */
    static const char *const bad[] = {
        "",
        "some other log line",
        "res_security_log.c: SecurityEvent=\"FailedACL\"",
        "res_security_log.c: SecurityEvent=\"FailedACL\",EventTV=\"yesterday\"",
        "res_security_log.c: EventTV=\"2026-11-26T15:30:01.000+0000\"",
        "{\"time\":\"2026-11-26T15:30:01.000+0000\"",
        "{\"event\":\"FailedACL\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(incident_event_parse(sv_from_cstr(bad[i]), &ev));
    }
}

static void test_incident_tally(void **state)
{
    (void)state;
    struct incident_tally tally = { 0 };
    static const char *const keys[] = { "b", "a", "b", "c", "b", "a" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct incident_tally_item *item = incident_tally_get(&tally, keys[i]);
        assert_non_null(item);
        item->count++;
    }
    incident_tally_sort(&tally);
    assert_int_equal(tally.count, 3);
    assert_string_equal(tally.items[0].key, "b");
    assert_int_equal(tally.items[0].count, 3);
    assert_string_equal(tally.items[1].key, "a");
    assert_string_equal(tally.items[2].key, "c");
    /* Bounded: keys past INCIDENT_TALLY_MAX count as others. */
    char key[16];
    for (unsigned i = 0; i < INCIDENT_TALLY_MAX + 10; i++) {
        (void)snprintf(key, sizeof(key), "k%u", i);
        struct incident_tally_item *item = incident_tally_get(&tally, key);
        if (item != NULL) {
            item->count++;
        }
    }
    assert_int_equal(tally.count, INCIDENT_TALLY_MAX);
    assert_int_equal(tally.others, 13);
    incident_tally_fini(&tally);
    assert_null(tally.items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_event_parse),
        cmocka_unit_test(test_incident_tally),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
