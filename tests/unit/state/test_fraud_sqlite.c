/*
 * The fraud counters across a restart (state/fraud_sqlite.c, the images of
 * state/fraudstore.c): after a save, a new store loaded from the database counts on from
 * where the old one was, also when the monotonic clock restarted (a reboot), and keeps
 * the Wangiri marks.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/fraud_sqlite.h"
#include "state/fraudstore.h"
#include "support/unit.h"

#define WALL_MS   1796644800000LL /* 2026-12-07 12:00 UTC */
#define BOOT_A_MS 5000000LL       /* the monotonic clock before the restart */
#define BOOT_B_MS 30000LL         /* ... and after it: a reboot 10 s after the last dial */

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-fraud-sqlite-XXXXXX");
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/state.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char name[160];
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        (void)snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
        (void)unlink(name);
    }
    (void)rmdir(dir);
    return 0;
}

/* Dials `digits` on `key` at monotonic `now_ms`; the counters after it. */
static struct fraud_dial_result dial(struct fraud_store *store, const char *key, const char *digits,
                                     bool is_international, int64_t now_ms)
{
    struct fraud_dial d = { sv_from_cstr(digits), is_international, now_ms };
    struct velocity_cfg cfg = VELOCITY_CFG_DEFAULT;
    struct fraud_dial_result r;
    fraud_store_dial(store, sv_from_cstr(key), &d, &cfg, &r);
    return r;
}

static void test_fraud_sqlite_counters_survive_a_reboot(void **state)
{
    (void)state;
    struct fraud_store *a = fraud_store_new_memory(64, 1024);
    assert_non_null(a);
    /* Three sequential international dials, then one more elsewhere, within 40 s. */
    static const char *const numbers[] = { "88213400001", "88213400002", "88213400003",
                                           "4930123456" };
    for (size_t i = 0; i < 4; i++) {
        (void)dial(a, "account:alice", numbers[i], i < 3, BOOT_A_MS - 40000 + (int64_t)i * 10000);
    }
    fraud_store_wangiri_mark(a, SV("23591234567"), WALL_MS / 1000 - 3600);
    int64_t shift_a = WALL_MS - BOOT_A_MS;
    struct fraud_sqlite *db = NULL;
    assert_int_equal(fraud_sqlite_open(path, &db), 0);
    struct fraud_sqlite_save_at at = { .wall_minus_mono_ms = shift_a,
                                       .now_wall_ms = WALL_MS,
                                       .journal_seq = 41 };
    assert_int_equal(fraud_sqlite_save(db, a, &at, false), 1);
    at.journal_seq = 42;
    assert_int_equal(fraud_sqlite_save(db, a, &at, false), 0); /* nothing new */
    fraud_sqlite_close(db);
    fraud_store_free(a);

    /* The restart: a new store, a monotonic clock that began again. */
    struct fraud_store *b = fraud_store_new_memory(64, 1024);
    assert_non_null(b);
    int64_t now_wall = WALL_MS + 10000;
    int64_t shift_b = now_wall - BOOT_B_MS;
    assert_int_equal(fraud_sqlite_open(path, &db), 0);
    struct fraud_sqlite_loaded loaded;
    assert_int_equal(fraud_sqlite_load(db, b, shift_b, now_wall, &loaded), 0);
    assert_int_equal(loaded.keys, 1);
    assert_int_equal(loaded.marks, 1);
    assert_int_equal(loaded.refused, 0);
    assert_int_equal(loaded.journal_seq, 42); /* the last save's position */
    /* 10 s after the last dial: the minute, the hour and the history go on. */
    struct fraud_dial_result r = dial(b, "account:alice", "88213400004", true, BOOT_B_MS);
    assert_int_equal(r.calls_minute, 5);
    assert_int_equal(r.international_hour, 4);
    assert_int_equal(r.distinct_hour, 5);
    assert_int_equal(r.finding.pattern, VELOCITY_SEQUENTIAL);
    assert_true(fraud_store_wangiri_marked(b, SV("23591234567"), now_wall / 1000, 259200));
    assert_false(fraud_store_wangiri_marked(b, SV("23591234568"), now_wall / 1000, 259200));
    /* A minute later the calls of the last minute are gone, the hour's are not. */
    r = dial(b, "account:alice", "4940123456", false, BOOT_B_MS + 61000);
    assert_int_equal(r.calls_minute, 1);
    assert_int_equal(r.international_hour, 4);
    fraud_sqlite_close(db);
    fraud_store_free(b);
}

static void test_fraud_sqlite_refuses_foreign_rows_and_drops_stale_ones(void **state)
{
    (void)state;
    struct fraud_sqlite *db = NULL;
    assert_int_equal(fraud_sqlite_open(path, &db), 0);
    fraud_sqlite_close(db);
    char sql[512];
    (void)snprintf(sql, sizeof(sql),
                   "INSERT INTO fraud_counters VALUES ('trunk:x', 99, x'00', %lld);"
                   "INSERT INTO fraud_counters VALUES ('trunk:y', 1, x'0000', %lld);"
                   "INSERT INTO fraud_counters VALUES ('trunk:old', 1, x'00', %lld);"
                   "INSERT INTO fraud_marks VALUES (3, %lld);",
                   WALL_MS, WALL_MS, WALL_MS - 3 * 3600 * 1000LL, WALL_MS / 1000 - 40 * 86400LL);
    sqlite3 *conn = NULL;
    assert_int_equal(sqlite3_open(path, &conn), SQLITE_OK);
    assert_int_equal(sqlite3_exec(conn, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(conn), SQLITE_OK);
    struct fraud_store *store = fraud_store_new_memory(64, 1024);
    assert_non_null(store);
    assert_int_equal(fraud_sqlite_open(path, &db), 0);
    struct fraud_sqlite_loaded loaded;
    assert_int_equal(fraud_sqlite_load(db, store, WALL_MS, WALL_MS, &loaded), 0);
    assert_int_equal(loaded.keys, 0);
    assert_int_equal(loaded.refused, 2); /* another version, another size; the old one went */
    assert_int_equal(loaded.marks, 0);
    fraud_sqlite_close(db);
    fraud_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fraud_sqlite_counters_survive_a_reboot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fraud_sqlite_refuses_foreign_rows_and_drops_stale_ones,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
