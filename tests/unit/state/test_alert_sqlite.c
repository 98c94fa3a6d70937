#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/time.h"
#include "state/alert_sqlite.h"
#include "state/sqlutil.h"
#include "support/unit.h"

#define DAY_S 86400

static char dir[64];
static char path[128];

/* What a load handed back. */
struct loaded {
    char accounts[8][64];
    struct sw_ip ips[8];
    int64_t seen[8];
    size_t source_count;
    int64_t periods[8];
    uint32_t calls[8];
    size_t level_count;
};

static void on_source(void *ctx, const char *account, const struct sw_ip *ip, int64_t seen_s)
{
    struct loaded *l = ctx;
    assert_true(l->source_count < 8);
    (void)snprintf(l->accounts[l->source_count], sizeof(l->accounts[0]), "%s", account);
    l->ips[l->source_count] = *ip;
    l->seen[l->source_count++] = seen_s;
}

static void on_level(void *ctx, int64_t period, uint32_t calls)
{
    struct loaded *l = ctx;
    assert_true(l->level_count < 8);
    l->periods[l->level_count] = period;
    l->calls[l->level_count++] = calls;
}

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static void test_alert_sqlite_survives_a_restart(void **state)
{
    (void)state;
    int64_t now = sw_wall_s();
    struct alert_sqlite *db = NULL;
    assert_int_equal(alert_sqlite_open(path, 30, &db), 0);
    assert_int_equal(alert_sqlite_start(db), 0);
    struct sw_ip a = ip_of("192.0.2.7");
    struct sw_ip b = ip_of("2001:db8::9");
    alert_sqlite_note_source(db, "1001", &a, now - 100);
    alert_sqlite_note_source(db, "1001", &a, now - 200);          /* older: the later stays */
    alert_sqlite_note_source(db, "1002", &b, now - 31LL * DAY_S); /* purged at load */
    alert_sqlite_note_level(db, now / 900 - 4, 5);
    alert_sqlite_note_level(db, now / 900 - 4, 3); /* lower: the higher stays */
    alert_sqlite_close(db);

    struct loaded l = { 0 };
    assert_int_equal(alert_sqlite_open(path, 30, &db), 0);
    assert_int_equal(alert_sqlite_load(db, now, on_source, on_level, &l), 0);
    struct alert_sqlite_stats st;
    alert_sqlite_stats_get(db, &st);
    assert_int_equal(st.errors, 0);
    alert_sqlite_close(db);
    assert_int_equal(l.source_count, 1);
    assert_string_equal(l.accounts[0], "1001");
    assert_true(sw_ip_eq(&l.ips[0], &a));
    assert_int_equal(l.seen[0], now - 100);
    assert_int_equal(l.level_count, 1);
    assert_int_equal(l.periods[0], now / 900 - 4);
    assert_int_equal(l.calls[0], 5);
}

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-alert-sqlite-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(path, sizeof(path), "%s/state.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        char file[160];
        (void)snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        (void)unlink(file);
    }
    return rmdir(dir);
}

struct alerts_read {
    char rules[4][48];
    int64_t times[4];
    size_t count;
};

static int on_alert(void *ctx, const struct alert_sqlite_alert *alert)
{
    struct alerts_read *r = ctx;
    assert_true(r->count < 4);
    (void)snprintf(r->rules[r->count], sizeof(r->rules[0]), "%s", alert->rule);
    r->times[r->count++] = alert->time_ms;
    assert_string_equal(alert->severity, "high");
    assert_string_equal(alert->detail, "a \"quoted\" detail");
    return 0;
}

/* Every alert message is kept; the span of a report reads those of its time. */
static void test_alert_sqlite_alert_history(void **state)
{
    (void)state;
    int64_t now_ms = sw_wall_s() * 1000;
    struct alert_sqlite *db = NULL;
    assert_int_equal(alert_sqlite_open(path, 30, &db), 0);
    assert_int_equal(alert_sqlite_start(db), 0);
    static const char *const rules[] = { "before", "first", "second", "after" };
    for (int i = 0; i < 4; i++) {
        struct alert_sqlite_alert alert = {
            .time_ms = now_ms + (int64_t)i * 1000,
            .rule = rules[i],
            .state = "firing",
            .severity = "high",
            .key = "1001",
            .title = "t",
            .detail = "a \"quoted\" detail",
            .value = 11,
        };
        alert_sqlite_note_alert(db, &alert);
    }
    alert_sqlite_note_alert(NULL, NULL); /* no database: a no-op */
    alert_sqlite_close(db);              /* writes what is queued */

    struct alerts_read r = { .count = 0 };
    char error[256] = "";
    struct sqlutil_query query = { .path = path, .since = now_ms + 1000, .until = now_ms + 3000 };
    assert_int_equal(alert_sqlite_read_alerts(&query, on_alert, &r, error, sizeof(error)), 0);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.rules[0], "first");
    assert_string_equal(r.rules[1], "second");
    assert_int_equal(r.times[1], now_ms + 2000);
    query.path = "/nonexistent/alerts.db";
    assert_int_equal(alert_sqlite_read_alerts(&query, on_alert, &r, error, sizeof(error)), -SW_EIO);
}

struct configs_read {
    int64_t times[4];
    char hashes[4][65];
    size_t count;
};

static int on_config(void *ctx, int64_t time_ms, const char *config_path, const char *sha256)
{
    struct configs_read *r = ctx;
    assert_true(r->count < 4);
    assert_string_equal(config_path, "/etc/sipwarden/sipwarden.conf");
    (void)snprintf(r->hashes[r->count], sizeof(r->hashes[0]), "%s", sha256);
    r->times[r->count++] = time_ms;
    return 0;
}

static void read_configs(int64_t since_ms, int64_t until_ms, struct configs_read *r)
{
    char error[256] = "";
    struct sqlutil_query query = { .path = path, .since = since_ms, .until = until_ms };
    *r = (struct configs_read){ .count = 0 };
    assert_int_equal(alert_sqlite_read_configs(&query, on_config, r, error, sizeof(error)), 0);
}

/*
 * Every load of the configuration is kept; a span reads the one in force at its start,
 * then its own. The purge spares the newest load, however old: it is the one in force.
 */
static void test_alert_sqlite_config_history(void **state)
{
    (void)state;
    int64_t now_ms = sw_wall_s() * 1000;
    int64_t old_ms = now_ms - 40LL * DAY_S * 1000;
    struct alert_sqlite *db = NULL;
    assert_int_equal(alert_sqlite_open(path, 30, &db), 0);
    assert_int_equal(alert_sqlite_start(db), 0);
    static const char *const conf = "/etc/sipwarden/sipwarden.conf";
    alert_sqlite_note_config(db, old_ms - 1000, conf, "00"); /* purged: not the newest */
    alert_sqlite_note_config(db, old_ms, conf, "aa");        /* the newest for now */
    alert_sqlite_note_config(NULL, now_ms, conf, "zz");      /* no database: a no-op */
    alert_sqlite_close(db);
    assert_int_equal(alert_sqlite_open(path, 30, &db), 0);
    assert_int_equal(alert_sqlite_load(db, sw_wall_s(), NULL, NULL, NULL), 0); /* purges */
    alert_sqlite_close(db);
    struct configs_read r;
    read_configs(0, INT64_MAX, &r);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.hashes[0], "aa");
    assert_int_equal(r.times[0], old_ms);

    assert_int_equal(alert_sqlite_open(path, 30, &db), 0);
    assert_int_equal(alert_sqlite_start(db), 0);
    alert_sqlite_note_config(db, now_ms + 1000, conf, "bb");
    alert_sqlite_note_config(db, now_ms + 2000, conf, "cc");
    alert_sqlite_note_config(db, now_ms + 3000, conf, "dd");
    alert_sqlite_close(db);
    /* The span [now + 1.5 s, now + 3 s): bb was in force, then cc. */
    read_configs(now_ms + 1500, now_ms + 3000, &r);
    assert_int_equal(r.count, 2);
    assert_string_equal(r.hashes[0], "bb");
    assert_int_equal(r.times[0], now_ms + 1000);
    assert_string_equal(r.hashes[1], "cc");
    /* A span before any load: nothing. */
    read_configs(0, old_ms, &r);
    assert_int_equal(r.count, 0);
    /* A span starting at a load reads the one before too (in force up to it). */
    read_configs(now_ms + 2000, INT64_MAX, &r);
    assert_int_equal(r.count, 3);
    assert_string_equal(r.hashes[0], "bb");
    assert_string_equal(r.hashes[2], "dd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_sqlite_survives_a_restart),
        cmocka_unit_test(test_alert_sqlite_alert_history),
        cmocka_unit_test(test_alert_sqlite_config_history),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
