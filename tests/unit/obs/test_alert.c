#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/hash.h"
#include "config/config.h"
#include "obs/alert.h"
#include "obs/alert_rules.h"
#include "obs/geoip.h"
#include "support/mmdb.h"
#include "support/unit.h"

#define MAX_SEEN 32

/* What the engine handed to its sinks, in order. */
struct seen {
    struct alert alerts[MAX_SEEN];
    size_t count;
};

static void record(void *ctx, const struct alert *alert)
{
    struct seen *seen = ctx;
    assert_true(seen->count < MAX_SEEN);
    seen->alerts[seen->count++] = *alert;
}

static struct alert_rule rule_of(enum cfg_alert_metric metric, enum cfg_alert_scope scope,
                                 uint32_t window_s, uint32_t threshold, uint32_t cooldown_s)
{
    struct alert_rule r = { .metric = metric,
                            .scope = scope,
                            .window_s = window_s,
                            .threshold = threshold,
                            .severity = CFG_SEVERITY_HIGH,
                            .cooldown_s = cooldown_s,
                            .sink_mask = 1 };
    (void)snprintf(r.name, sizeof(r.name), "rule");
    (void)snprintf(r.title, sizeof(r.title), "brute force attempt");
    return r;
}

static struct alert_engine *engine_of(const struct alert_rule *rules, size_t count,
                                      struct seen *seen, const struct cfg_trunk *trunks,
                                      size_t trunk_count)
{
    struct alert_engine_config cfg = { .rules = rules,
                                       .rule_count = count,
                                       .max_keys = 8,
                                       .max_sources = 64,
                                       .new_source_days = 30,
                                       .trunks = trunks,
                                       .trunk_count = trunk_count,
                                       .deliver = record,
                                       .deliver_ctx = seen };
    struct alert_engine *engine = NULL;
    assert_int_equal(alert_engine_new(&cfg, &engine), 0);
    return engine;
}

static struct sw_event event_of(enum sw_event_kind kind, const char *account, const char *ip)
{
    struct sw_event ev;
    sw_event_init(&ev, kind);
    (void)snprintf(ev.account, sizeof(ev.account), "%s", account);
    struct sockaddr_in *in = (struct sockaddr_in *)&ev.remote;
    in->sin_family = AF_INET;
    in->sin_port = htons(5060);
    assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
    return ev;
}

static void fail_times(struct alert_engine *e, const char *account, unsigned count, uint64_t now_ms)
{
    struct sw_event ev = event_of(EV_INVALID_PASSWORD, account, "192.0.2.7");
    for (unsigned i = 0; i < count; i++) {
        alert_engine_event(e, &ev, now_ms);
    }
}

static void test_alert_fires_above_threshold_once(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_TOTAL, 300, 10, 900);
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0);
    fail_times(e, "1001", 10, 1000);
    assert_int_equal(seen.count, 0); /* 10 is not above 10 */
    fail_times(e, "1001", 1, 1000);
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.alerts[0].state, ALERT_FIRING);
    assert_int_equal(seen.alerts[0].value, 11);
    assert_int_equal(seen.alerts[0].threshold, 10);
    assert_int_equal(seen.alerts[0].severity, CFG_SEVERITY_HIGH);
    assert_string_equal(seen.alerts[0].title, "brute force attempt");
    assert_true(seen.alerts[0].cause_us != 0);
    fail_times(e, "1001", 50, 2000); /* a storm of failures: still one alert */
    assert_int_equal(seen.count, 1);
    alert_engine_free(e);
}

static void test_alert_update_after_cooldown_then_resolved(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_TOTAL, 60, 10, 30);
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0);
    fail_times(e, "1001", 11, 1000);
    assert_int_equal(seen.count, 1);
    alert_engine_tick(e, 20000); /* within the cooldown, no growth: nothing */
    assert_int_equal(seen.count, 1);
    fail_times(e, "1001", 5, 32000); /* grew, cooldown over: one update */
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.alerts[1].state, ALERT_UPDATE);
    assert_int_equal(seen.alerts[1].value, 12); /* the first failure past the cooldown */
    assert_int_equal(seen.alerts[1].incident, seen.alerts[0].incident);
    fail_times(e, "1001", 5, 33000); /* within the new cooldown: nothing */
    assert_int_equal(seen.count, 2);
    alert_engine_tick(e, 40000); /* the first 11 are still in the window */
    assert_int_equal(seen.count, 2);
    alert_engine_tick(e, 1000 + 60000 + 2000); /* the first burst left the window: 10 */
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.alerts[2].state, ALERT_RESOLVED);
    alert_engine_tick(e, 200000);
    assert_int_equal(seen.count, 3);
    struct alert_engine_stats st;
    alert_engine_stats_get(e, &st);
    assert_int_equal(st.firing, 0);
    assert_int_equal(st.messages, 3);
    alert_engine_free(e);
}

static void test_alert_reopened_within_cooldown_is_silent(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_TOTAL, 10, 2, 600);
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0);
    fail_times(e, "a", 3, 1000);
    alert_engine_tick(e, 13000);
    assert_int_equal(seen.count, 2); /* firing, resolved */
    fail_times(e, "a", 3, 14000);    /* again within the cooldown */
    alert_engine_tick(e, 30000);
    assert_int_equal(seen.count, 2); /* no new alert and no second resolved */
    fail_times(e, "a", 3, 700000);   /* after the cooldown: a new incident */
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.alerts[2].state, ALERT_FIRING);
    assert_true(seen.alerts[2].incident > seen.alerts[0].incident);
    alert_engine_free(e);
}

static void test_alert_scope_account_counts_each_account(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_ACCOUNT, 300, 3, 900);
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0);
    fail_times(e, "1001", 3, 1000);
    fail_times(e, "1002", 3, 1000);
    fail_times(e, "", 10, 1000); /* no account: not counted for this scope */
    assert_int_equal(seen.count, 0);
    fail_times(e, "1002", 1, 1000);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.alerts[0].key, "1002");
    alert_engine_free(e);
}

static void test_alert_table_refuses_keys_when_busy(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_ACCOUNT, 300, 100, 900);
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0); /* 8 keys: 2 sets of 4 */
    char name[16];
    for (unsigned i = 0; i < 64; i++) {
        (void)snprintf(name, sizeof(name), "u%u", i);
        fail_times(e, name, 1, 1000);
    }
    struct alert_engine_stats st;
    alert_engine_stats_get(e, &st);
    assert_true(st.keys_refused >= 64 - 8);
    alert_engine_tick(e, 1000 + 301000); /* windows emptied: keys are idle and reusable */
    fail_times(e, "late", 101, 302000);
    assert_int_equal(seen.count, 1);
    alert_engine_free(e);
}

static void test_alert_new_source_after_first_address(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_NEW_SOURCE, CFG_SCOPE_ACCOUNT, 3600, 0, 900);
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0);
    struct sw_event ev = event_of(EV_SUCCESSFUL_AUTH, "1001", "192.0.2.1");
    alert_engine_event(e, &ev, 1000); /* the first address is learnt */
    alert_engine_event(e, &ev, 2000);
    assert_int_equal(seen.count, 0);
    struct sw_event other = event_of(EV_SUCCESSFUL_AUTH, "1001", "198.51.100.9");
    alert_engine_event(e, &other, 3000);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.alerts[0].key, "1001");
    alert_engine_event(e, &other, 4000); /* seen now */
    assert_int_equal(seen.count, 1);
    /* 31 days later: the account comes back from its first address (learnt again), then
     * from the second, which is older than new_source_days: new again. */
    alert_engine_tick(e, 3000 + 3600000 + 200000); /* the first incident resolves */
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.alerts[1].state, ALERT_RESOLVED);
    ev.wall_us += (uint64_t)31 * 86400 * 1000000;
    other.wall_us = ev.wall_us + 1000000;
    alert_engine_event(e, &ev, 5000000);
    assert_int_equal(seen.count, 2);
    alert_engine_event(e, &other, 5001000);
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.alerts[2].state, ALERT_FIRING);
    alert_engine_free(e);
}

/* With a country database: the account's history (restored, 3 days old) is in DE; a
 * sighting in NG is a new country (one alert naming it and the address, no address
 * alert beside it); a new DE address is only a new address; NG is known afterwards. */
static void test_alert_new_country(void **state)
{
    (void)state;
    char dir[] = "/tmp/sw-alert-geo-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    (void)snprintf(path, sizeof(path), "%s/c.mmdb", dir);
    static const char *const networks[] = { "127.0.0.0/28=DE", "127.0.0.16/28=NG", NULL };
    assert_int_equal(mmdb_test_write(path, networks), 0);
    struct geoip *geo = NULL;
    char error[256];
    assert_int_equal(geoip_open(path, &geo, error, sizeof(error)), 0);
    struct alert_rule rules[2] = {
        rule_of(CFG_METRIC_NEW_SOURCE, CFG_SCOPE_ACCOUNT, 3600, 0, 0),
        rule_of(CFG_METRIC_NEW_COUNTRY, CFG_SCOPE_ACCOUNT, 3600, 0, 0),
    };
    struct seen seen = { 0 };
    struct alert_engine_config cfg = { .rules = rules,
                                       .rule_count = 2,
                                       .new_source_days = 30,
                                       .deliver = record,
                                       .deliver_ctx = &seen,
                                       .geo = geo };
    struct alert_engine *e = NULL;
    assert_int_equal(alert_engine_new(&cfg, &e), 0);
    struct sw_event ng = event_of(EV_SUCCESSFUL_AUTH, "1001", "127.0.0.18");
    struct sw_ip home;
    assert_true(sw_ip_parse(SV("127.0.0.2"), &home));
    alert_engine_source_restore(e, "1001", &home,
                                (int64_t)(ng.wall_us / 1000000u) - (int64_t)3 * 86400);

    alert_engine_event(e, &ng, 1000);
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.alerts[0].metric, CFG_METRIC_NEW_COUNTRY);
    assert_string_equal(seen.alerts[0].key, "1001");
    assert_non_null(strstr(seen.alerts[0].detail, "new country NG, from 127.0.0.18"));
    assert_string_equal(alert_metric_name(CFG_METRIC_NEW_COUNTRY), "new_country");

    struct sw_event de = event_of(EV_SUCCESSFUL_AUTH, "1001", "127.0.0.3");
    alert_engine_event(e, &de, 2000);
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.alerts[1].metric, CFG_METRIC_NEW_SOURCE);
    assert_non_null(strstr(seen.alerts[1].detail, "from 127.0.0.3 (DE)"));

    struct sw_event ng2 = event_of(EV_SUCCESSFUL_AUTH, "1001", "127.0.0.19");
    alert_engine_event(e, &ng2, 3000); /* a new address in a country seen now */
    for (size_t i = 2; i < seen.count; i++) {
        assert_int_equal(seen.alerts[i].metric, CFG_METRIC_NEW_SOURCE);
    }
    cfg.geo = NULL; /* a reload without the database: no more countries */
    assert_int_equal(alert_engine_reconfigure(e, &cfg), 0);
    struct sw_event other = event_of(EV_SUCCESSFUL_AUTH, "1001", "192.0.2.1");
    size_t before = seen.count;
    alert_engine_event(e, &other, 4000);
    for (size_t i = before; i < seen.count; i++) {
        assert_int_equal(seen.alerts[i].metric, CFG_METRIC_NEW_SOURCE);
    }
    alert_engine_free(e);
    geoip_free(geo);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* A reload: a rule of the same name, metric, scope and window carries its count and its
 * incident over to its new threshold and sinks; a rule whose window changed starts
 * empty, its incident ended; messages go to the new deliver context from then on. */
static void test_alert_reconfigure(void **state)
{
    (void)state;
    struct seen before = { 0 };
    struct alert_rule rules[2] = {
        rule_of(CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_TOTAL, 300, 3, 0),
        rule_of(CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_ACCOUNT, 300, 3, 0),
    };
    (void)snprintf(rules[1].name, sizeof(rules[1].name), "per_account");
    struct alert_engine *e = engine_of(rules, 2, &before, NULL, 0);
    fail_times(e, "1001", 4, 1000);
    assert_int_equal(before.count, 2); /* both fire */
    struct alert_engine_stats st;
    alert_engine_stats_get(e, &st);
    assert_int_equal(st.firing, 2);

    struct seen after = { 0 };
    rules[0].threshold = 5; /* carries on */
    rules[0].sink_mask = 2;
    rules[1].window_s = 600; /* starts again */
    struct alert_engine_config cfg = { .rules = rules,
                                       .rule_count = 2,
                                       .max_keys = 8,
                                       .new_source_days = 30,
                                       .deliver = record,
                                       .deliver_ctx = &after };
    assert_int_equal(alert_engine_reconfigure(e, &cfg), 0);
    alert_engine_stats_get(e, &st);
    assert_int_equal(st.firing, 1);
    alert_engine_tick(e, 2000); /* 4 is not above 5: resolved, to the new sinks */
    assert_int_equal(after.count, 1);
    assert_int_equal(after.alerts[0].state, ALERT_RESOLVED);
    assert_string_equal(after.alerts[0].rule, "rule");
    assert_int_equal(after.alerts[0].sink_mask, 2);
    fail_times(e, "1001", 2, 3000); /* 6 in the carried window, 2 in the new one */
    assert_int_equal(after.count, 2);
    assert_int_equal(after.alerts[1].state, ALERT_FIRING);
    assert_int_equal(after.alerts[1].value, 6);
    fail_times(e, "1001", 2, 3500); /* 4 > 3 in the new per-account window */
    assert_int_equal(after.alerts[after.count - 1].state, ALERT_FIRING);
    assert_string_equal(after.alerts[after.count - 1].rule, "per_account");
    assert_int_equal(before.count, 2); /* nothing more to the old context */
    alert_engine_free(e);
}

static void test_alert_international_calls(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_INTERNATIONAL_CALLS, CFG_SCOPE_TRUNK, 3600, 1, 900);
    char name[] = "carrier";
    char country_code[] = "44";
    struct cfg_trunk trunks[1] = { { .name = name, .country_code = country_code } };
    struct alert_engine *e = engine_of(&r, 1, &seen, trunks, 1);
    struct sw_event ev = event_of(EV_CALL_STARTED, "", "127.0.0.1");
    (void)snprintf(ev.detail, sizeof(ev.detail), "trunk=carrier to=02079460000");
    alert_engine_event(e, &ev, 1000); /* national */
    (void)snprintf(ev.detail, sizeof(ev.detail), "trunk=carrier to=+442079460000");
    alert_engine_event(e, &ev, 1000); /* national in E.164 */
    (void)snprintf(ev.detail, sizeof(ev.detail), "trunk=carrier to=0033142685300");
    alert_engine_event(e, &ev, 1000); /* France: 1 */
    assert_int_equal(seen.count, 0);
    (void)snprintf(ev.detail, sizeof(ev.detail), "trunk=carrier to=+2348012345678");
    alert_engine_event(e, &ev, 1000); /* Nigeria: 2 > 1 */
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.alerts[0].key, "carrier");
    assert_int_equal(seen.alerts[0].value, 2);
    (void)snprintf(ev.detail, sizeof(ev.detail), "trunk=other to=+2348012345678");
    alert_engine_event(e, &ev, 1000); /* no such trunk: ignored */
    alert_engine_free(e);
}

static void test_alert_levels_calls_and_certificates(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule rules[2] = {
        rule_of(CFG_METRIC_CONCURRENT_CALLS, CFG_SCOPE_TOTAL, 60, 3, 900),
        rule_of(CFG_METRIC_CERTIFICATE_EXPIRY, CFG_SCOPE_TOTAL, 86400, 30, 900),
    };
    struct alert_engine *e = engine_of(rules, 2, &seen, NULL, 0);
    struct sw_event start = event_of(EV_CALL_STARTED, "", "127.0.0.1");
    struct sw_event end = event_of(EV_CALL_ENDED, "", "127.0.0.1");
    for (int i = 0; i < 4; i++) {
        alert_engine_event(e, &start, 1000);
    }
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.alerts[0].value, 4);
    alert_engine_event(e, &end, 2000);
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.alerts[1].state, ALERT_RESOLVED);
    alert_engine_observe(e, CFG_METRIC_CERTIFICATE_EXPIRY, "tls", 45, 3000);
    assert_int_equal(seen.count, 2);
    alert_engine_observe(e, CFG_METRIC_CERTIFICATE_EXPIRY, "tls", 5, 3000);
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.alerts[2].severity, CFG_SEVERITY_CRITICAL);
    assert_string_equal(seen.alerts[2].key, "tls");
    alert_engine_free(e);
}

struct persisted {
    char account[64];
    int64_t seen_s;
    size_t count;
};

static void persist(void *ctx, const char *account, const struct sw_ip *ip, int64_t seen_s)
{
    (void)ip;
    struct persisted *p = ctx;
    (void)snprintf(p->account, sizeof(p->account), "%s", account);
    p->seen_s = seen_s;
    p->count++;
}

static void test_alert_sources_persist_and_restore(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct persisted persisted = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_NEW_SOURCE, CFG_SCOPE_ACCOUNT, 3600, 0, 900);
    struct alert_engine_config cfg = { .rules = &r,
                                       .rule_count = 1,
                                       .max_sources = 64,
                                       .deliver = record,
                                       .deliver_ctx = &seen,
                                       .on_source = persist,
                                       .source_ctx = &persisted };
    struct alert_engine *e = NULL;
    assert_int_equal(alert_engine_new(&cfg, &e), 0);
    /* Restored from the database: 1001 was seen at 192.0.2.1 ten days ago. */
    struct sw_event ev = event_of(EV_SUCCESSFUL_AUTH, "1001", "192.0.2.1");
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr("192.0.2.1"), &ip));
    alert_engine_source_restore(e, "1001", &ip, (int64_t)(ev.wall_us / 1000000) - 10 * 86400);
    alert_engine_event(e, &ev, 1000); /* known: no alert, persisted again (a day passed) */
    assert_int_equal(seen.count, 0);
    assert_int_equal(persisted.count, 1);
    alert_engine_event(e, &ev, 2000); /* persisted within the day: not again */
    assert_int_equal(persisted.count, 1);
    struct sw_event other = event_of(EV_SUCCESSFUL_AUTH, "1001", "203.0.113.5");
    alert_engine_event(e, &other, 3000); /* new after the restart: alert and persisted */
    assert_int_equal(seen.count, 1);
    assert_int_equal(persisted.count, 2);
    assert_string_equal(persisted.account, "1001");
    alert_engine_free(e);
}

static void test_alert_learned_peak(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r =
        rule_of(CFG_METRIC_CONCURRENT_CALLS, CFG_SCOPE_TOTAL, 60, UINT32_MAX, 900);
    r.is_learned = true;
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0);
    struct sw_event start = event_of(EV_CALL_STARTED, "", "127.0.0.1");
    struct sw_event end = event_of(EV_CALL_ENDED, "", "127.0.0.1");
    for (int i = 0; i < 5; i++) {
        alert_engine_event(e, &start, 1000);
    }
    alert_engine_event(e, &end, 1000);
    assert_int_equal(seen.count, 0); /* no peak known yet */
    assert_int_equal(alert_engine_calls_peak_take(e), 5);
    assert_int_equal(alert_engine_calls_peak_take(e), 4); /* restarts from the level now */
    alert_engine_set_peak(e, 4);                          /* fires above 6 */
    alert_engine_event(e, &start, 2000);
    alert_engine_event(e, &start, 2000);
    assert_int_equal(seen.count, 0);
    alert_engine_event(e, &start, 2000);
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.alerts[0].value, 7);
    assert_int_equal(seen.alerts[0].threshold, 6);
    alert_engine_free(e);
}

/* Bans, lost trunk registrations, dropped events and restarts: one message each. */
static void test_alert_operational_rules(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule rules[4] = {
        rule_of(CFG_METRIC_BANS, CFG_SCOPE_TOTAL, 300, 0, 900),
        rule_of(CFG_METRIC_TRUNK_REGISTRATION, CFG_SCOPE_TRUNK, 60, 0, 900),
        rule_of(CFG_METRIC_EVENTS_DROPPED, CFG_SCOPE_TOTAL, 300, 0, 900),
        rule_of(CFG_METRIC_RESTART, CFG_SCOPE_TOTAL, 60, 0, 900),
    };
    struct alert_engine *e = engine_of(rules, 4, &seen, NULL, 0);
    struct sw_event ban = event_of(EV_BAN_ADDED, "", "203.0.113.9");
    alert_engine_event(e, &ban, 1000);
    alert_engine_event(e, &ban, 1500); /* a second ban: the same incident */
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.alerts[0].metric, CFG_METRIC_BANS);
    alert_engine_observe(e, CFG_METRIC_TRUNK_REGISTRATION, "carrier", 0, 2000);
    assert_int_equal(seen.count, 1);
    alert_engine_observe(e, CFG_METRIC_TRUNK_REGISTRATION, "carrier", 1, 3000);
    assert_int_equal(seen.count, 2);
    assert_string_equal(seen.alerts[1].key, "carrier");
    alert_engine_observe(e, CFG_METRIC_TRUNK_REGISTRATION, "carrier", 0, 4000);
    assert_int_equal(seen.count, 3);
    assert_int_equal(seen.alerts[2].state, ALERT_RESOLVED);
    alert_engine_observe(e, CFG_METRIC_EVENTS_DROPPED, "", 17, 5000);
    assert_int_equal(seen.count, 4);
    assert_int_equal(seen.alerts[3].value, 17);
    alert_engine_observe(e, CFG_METRIC_RESTART, "", 1, 5000);
    assert_int_equal(seen.count, 5);
    alert_engine_tick(e, 400000); /* every window passed: bans and drops resolve, not the
                                   * restart, which has no condition that clears */
    assert_int_equal(seen.count, 7);
    for (size_t i = 5; i < 7; i++) {
        assert_int_equal(seen.alerts[i].state, ALERT_RESOLVED);
        assert_true(seen.alerts[i].metric != CFG_METRIC_RESTART);
    }
    struct alert_engine_stats st;
    alert_engine_stats_get(e, &st);
    assert_int_equal(st.firing, 0);
    alert_engine_free(e);
}

static void test_alert_policy_blocks_per_account(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct alert_rule r = rule_of(CFG_METRIC_POLICY_BLOCKS, CFG_SCOPE_ACCOUNT, 300, 2, 900);
    struct alert_engine *e = engine_of(&r, 1, &seen, NULL, 0);
    struct sw_event hit = event_of(EV_POLICY_HIT, "1001", "192.0.2.7");
    (void)snprintf(hit.detail, sizeof(hit.detail), "max_calls reached");
    for (int i = 0; i < 2; i++) {
        alert_engine_event(e, &hit, 1000);
    }
    struct sw_event fraud = event_of(EV_FRAUD_BLOCK, "1001", "192.0.2.7");
    alert_engine_event(e, &fraud, 1000); /* a toll-fraud refusal counts too: 3 > 2 */
    assert_int_equal(seen.count, 1);
    assert_int_equal(seen.alerts[0].metric, CFG_METRIC_POLICY_BLOCKS);
    assert_string_equal(seen.alerts[0].key, "1001");
    assert_string_equal(alert_metric_name(CFG_METRIC_POLICY_BLOCKS), "policy_blocks");
    alert_engine_free(e);
}

static void test_alert_rules_from_cfg(void **state)
{
    (void)state;
    const char *text = "[general]\n"
                       "[alerts]\n"
                       "brute_force_threshold = 5\n"
                       "sinks = hook\n"
                       "[hook]\n"
                       "type = sink\n"
                       "kind = webhook\n"
                       "url = https://alerts.example.net/in\n"
                       "[mail]\n"
                       "type = sink\n"
                       "kind = sendmail\n"
                       "to = ops@example.net\n"
                       "[banned]\n"
                       "type = alert\n"
                       "metric = bans\n"
                       "threshold = 3\n"
                       "sinks = mail\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("a.conf", text, &diag);
    sw_diag_print(&diag, stderr);
    assert_non_null(cfg);
    struct alert_rule rules[32];
    size_t count = alert_rules_from_cfg(cfg, rules, 32);
    assert_int_equal(count, 10); /* 12 built in, 2 off (no threshold, no geoip_db), 1
                                  * replaced, + 1 */
    assert_string_equal(rules[0].name, "brute_force");
    assert_int_equal(rules[0].threshold, 5);
    assert_int_equal(rules[0].sink_mask, 1);
    const struct alert_rule *ban = &rules[count - 1];
    assert_string_equal(ban->name, "banned");
    assert_int_equal(ban->threshold, 3);
    assert_int_equal(ban->sink_mask, 2);
    cfg_free(cfg);
    /* A country database turns the new-country rule on (the loader does not open it). */
    cfg = cfg_load_string("b.conf", "[alerts]\ngeoip_db = /nonexistent/country.mmdb\n", &diag);
    assert_non_null(cfg);
    count = alert_rules_from_cfg(cfg, rules, 32);
    bool has_country = false;
    for (size_t i = 0; i < count; i++) {
        has_country |= rules[i].metric == CFG_METRIC_NEW_COUNTRY &&
                       strcmp(rules[i].name, "new_country") == 0 &&
                       rules[i].scope == CFG_SCOPE_ACCOUNT;
    }
    assert_true(has_country);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

/* Bad alert configuration is refused with the file, line and key. */
static void test_alert_config_refused(void **state)
{
    (void)state;

    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        { "[r]\ntype = alert\nmetric = cpu\n", "a.conf:3: r.metric: error: bad value" },
        { "[r]\ntype = alert\nthreshold = 3\n", "a.conf:1: r.metric: error: an alert rule needs" },
        { "[r]\ntype = alert\nmetric = bans\nsinks = pager\n",
          "a.conf:4: r.sinks: error: unknown sink \"pager\"" },
        { "[alerts]\nsinks = nowhere\n", "a.conf:2: alerts.sinks: error: unknown sink" },
        { "[s]\ntype = sink\nkind = webhook\nurl = http://192.0.2.1/hook\n",
          "a.conf:4: s.url: error: the URL is not https" },
        { "[s]\ntype = sink\nkind = webhook\n", "a.conf:1: s.url: error: a webhook sink needs" },
        { "[s]\ntype = sink\nkind = command\ncommand = page.sh\n",
          "a.conf:4: s.command: error: a command sink needs the absolute path" },
        { "[s]\ntype = sink\nkind = sendmail\n", "a.conf:1: s.to: error: a sendmail sink needs" },
        { "[s]\ntype = sink\nkind = pager\n", "a.conf:3: s.kind: error: bad value" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sw_diag diag;
        sw_diag_init(&diag);
        struct cfg *cfg = cfg_load_string("a.conf", cases[i].text, &diag);
        char out[4096] = "";
        FILE *f = fmemopen(out, sizeof(out) - 1, "w");
        assert_non_null(f);
        sw_diag_print(&diag, f);
        (void)fclose(f);
        if (cfg != NULL || strstr(out, cases[i].message) == NULL) {
            (void)fprintf(stderr, "case %zu: expected %s\ngot:\n%s", i, cases[i].message, out);
        }
        assert_null(cfg);
        assert_non_null(strstr(out, cases[i].message));
        sw_diag_fini(&diag);
    }
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_fires_above_threshold_once),
        cmocka_unit_test(test_alert_update_after_cooldown_then_resolved),
        cmocka_unit_test(test_alert_reopened_within_cooldown_is_silent),
        cmocka_unit_test(test_alert_scope_account_counts_each_account),
        cmocka_unit_test(test_alert_table_refuses_keys_when_busy),
        cmocka_unit_test(test_alert_new_source_after_first_address),
        cmocka_unit_test(test_alert_new_country),
        cmocka_unit_test(test_alert_reconfigure),
        cmocka_unit_test(test_alert_international_calls),
        cmocka_unit_test(test_alert_levels_calls_and_certificates),
        cmocka_unit_test(test_alert_sources_persist_and_restore),
        cmocka_unit_test(test_alert_learned_peak),
        cmocka_unit_test(test_alert_operational_rules),
        cmocka_unit_test(test_alert_policy_blocks_per_account),
        cmocka_unit_test(test_alert_rules_from_cfg),
        cmocka_unit_test(test_alert_config_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
