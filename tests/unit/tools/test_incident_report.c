#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
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

/* The configuration's loads: how each stands to the one before, and the summary's section. */
static void test_incident_config_note(void **state)
{
    (void)state;
    static const char a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    static const char b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    struct incident first = { .since_ms = 1000000, .until_ms = INT64_MAX };
    assert_string_equal(incident_config_note(&first, 1000000, "/etc/sw.conf", a), "first known");
    assert_int_equal(first.config_loads, 1);

    struct incident inc = { .since_ms = 1000000, .until_ms = INT64_MAX, .has_config_table = true };
    (void)snprintf(inc.config_sha256, sizeof(inc.config_sha256), "%s", a);
    assert_string_equal(incident_config_note(&inc, 999000, "/etc/sw.conf", a), "in force");
    assert_string_equal(incident_config_note(&inc, 1001000, "/etc/sw.conf", a), "unchanged");
    assert_string_equal(incident_config_note(&inc, 1002000, "/etc/sw|x.conf", b), "changed");
    assert_string_equal(incident_config_note(&inc, 1003000, "/etc/sw.conf", a), "changed");
    assert_int_equal(inc.config_loads, 3);
    assert_int_equal(inc.config_changes, 2);
    assert_int_equal(inc.config_row_count, 4);
    assert_string_equal(inc.config_rows[2],
                        "| 1970-01-01 00:16:42 | changed | `bbbbbbbbbbbbbbbbbbbbbbb"
                        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb` | /etc/sw%7Cx.conf |");

    /* The summary lists them; the file as it is now is the last one loaded. */
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    char source[] = "/etc/sw.conf";
    struct cfg cfg = { .source = source };
    inc.cfg = &cfg;
    incident_write_summary(&inc, out);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "\n## Configuration changes\n\n3 loads of the configuration "
                                 "(starts and reloads) in the span, 2 of them with a changed "
                                 "file (config-history.csv):\n"));
    assert_non_null(strstr(text, "\n| 1970-01-01 00:16:39 | in force | `aaaa"));
    assert_null(strstr(text, "is not the one the gateway loaded last"));
    free(text);

    /* Edited after the last load: said. */
    (void)snprintf(inc.config_sha256, sizeof(inc.config_sha256), "%s", b);
    text = NULL;
    out = open_memstream(&text, &len);
    assert_non_null(out);
    incident_write_summary(&inc, out);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "**The file now (SHA-256 `bbbb"));
    free(text);

    /* A database without the table (a gateway older than the history): said. */
    inc.has_config_table = false;
    text = NULL;
    out = open_memstream(&text, &len);
    assert_non_null(out);
    incident_write_summary(&inc, out);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(text, "\n## Configuration changes\n\nThe database keeps no "
                                 "configuration history (no [state] path,"));
    assert_null(strstr(text, "config-history.csv):"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_event_parse),
        cmocka_unit_test(test_incident_tally),
        cmocka_unit_test(test_incident_config_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
