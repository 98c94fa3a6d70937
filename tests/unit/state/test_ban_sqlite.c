#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/time.h"
#include "state/ban_sqlite.h"
#include "state/sqlutil.h"
#include "support/unit.h"

#define HISTORY_S 1000

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-ban-sqlite-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(path, sizeof(path), "%s/bans.db", dir);
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

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

/* A store with the database attached (restoring what it holds). */
static struct ban_store *store_open(struct ban_sqlite **db_out)
{
    struct ban_config cfg = { .bantime_s = 600, .bantime_factor = 2, .history_s = HISTORY_S };
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(&cfg, &store), 0);
    struct ban_sqlite_config db_cfg = { .path = path, .history_s = HISTORY_S };
    struct ban_sqlite *db = NULL;
    assert_int_equal(ban_sqlite_open(&db_cfg, &db), 0);
    assert_int_equal(ban_store_attach(store, &ban_sqlite_ops, db), 0);
    if (db_out != NULL) {
        *db_out = db;
    }
    return store;
}

static void ban(struct ban_store *store, const char *ip, enum ban_source source, uint32_t duration,
                int64_t now)
{
    struct ban_request req = {
        .ip = ip_of(ip), .source = source, .duration_s = duration, .reason = "FailedACL=3"
    };
    enum ban_outcome outcome = ban_store_add(store, &req, now, NULL);
    assert_true(outcome == BAN_OUTCOME_ADDED || outcome == BAN_OUTCOME_UPDATED);
}

static long long row_count(void)
{
    sqlite3 *conn = NULL;
    assert_int_equal(sqlite3_open_v2(path, &conn, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(conn, "SELECT count(*) FROM bans", -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    long long n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return n;
}

static void test_ban_sqlite_restart_keeps_bans(void **state)
{
    (void)state;
    int64_t now = sw_wall_s();
    struct ban_store *store = store_open(NULL);
    ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 0, now);
    ban(store, "192.0.2.2", BAN_SOURCE_MANUAL, BAN_DURATION_FOREVER, now);
    ban(store, "2001:db8::3", BAN_SOURCE_AUTO, 0, now);
    ban(store, "192.0.2.4", BAN_SOURCE_AUTO, 0, now);
    struct sw_ip lifted = ip_of("192.0.2.4");
    assert_int_equal(ban_store_del(store, &lifted, now), 0);
    ban_store_free(store);
    assert_int_equal(row_count(), 3);

    struct ban_sqlite *db = NULL;
    store = store_open(&db);
    struct ban_sqlite_stats stats;
    ban_sqlite_stats_get(db, &stats);
    assert_int_equal(stats.restored, 3);
    static const char *const banned[] = { "192.0.2.1", "192.0.2.2", "2001:db8::3" };
    for (size_t i = 0; i < 3; i++) {
        struct sw_ip ip = ip_of(banned[i]);
        assert_true(ban_store_is_banned(store, &ip, now + 1));
    }
    assert_false(ban_store_is_banned(store, &lifted, now + 1));
    struct ban_entry entry;
    struct sw_ip manual = ip_of("192.0.2.2");
    assert_true(ban_store_get(store, &manual, &entry));
    assert_int_equal(entry.source, BAN_SOURCE_MANUAL);
    assert_int_equal(entry.end_s, BAN_FOREVER);
    assert_string_equal(entry.reason, "FailedACL=3");
    assert_int_equal(entry.start_s, now);
    ban_store_free(store);
}

struct read_ctx {
    char ips[4][48];
    size_t count;
};

static int on_row(void *ctx, const struct ban_sqlite_row *row)
{
    struct read_ctx *read = ctx;
    assert_true(read->count < 4);
    (void)snprintf(read->ips[read->count++], sizeof(read->ips[0]), "%s", row->ip);
    assert_string_equal(row->reason, "FailedACL=3");
    return 0;
}

/* The bans in force at some time of a span, read back offline (sipwarden incident). */
static void test_ban_sqlite_read_span(void **state)
{
    (void)state;
    int64_t now = sw_wall_s();
    struct ban_store *store = store_open(NULL);
    ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 100, now - 1000); /* ended before the span */
    ban(store, "192.0.2.2", BAN_SOURCE_AUTO, 600, now - 300);  /* began before, still on */
    ban(store, "192.0.2.3", BAN_SOURCE_MANUAL, 60, now + 10);  /* began within */
    ban(store, "192.0.2.4", BAN_SOURCE_AUTO, 60, now + 500);   /* after the span */
    ban_store_free(store);

    struct read_ctx read = { .count = 0 };
    char error[256] = "";
    struct sqlutil_query query = { .path = path, .since = now - 10, .until = now + 100 };
    assert_int_equal(ban_sqlite_read(&query, on_row, &read, error, sizeof(error)), 0);
    assert_int_equal(read.count, 2);
    assert_string_equal(read.ips[0], "192.0.2.2");
    assert_string_equal(read.ips[1], "192.0.2.3");

    /* A database without the table, and no database at all. */
    sqlite3 *conn = NULL;
    char other[160];
    (void)snprintf(other, sizeof(other), "%s/empty.db", dir);
    assert_int_equal(sqlite3_open(other, &conn), SQLITE_OK);
    assert_int_equal(sqlite3_exec(conn, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(conn);
    query.path = other;
    assert_int_equal(ban_sqlite_read(&query, on_row, &read, error, sizeof(error)), -SW_ENOTFOUND);
    (void)unlink(other);
    query.path = "/nonexistent/bans.db";
    assert_int_equal(ban_sqlite_read(&query, on_row, &read, error, sizeof(error)), -SW_EIO);
    assert_non_null(strstr(error, "/nonexistent/bans.db"));
}

/* Ended bans stay as history for HISTORY_S (repeat offenders), then go. */
static void test_ban_sqlite_expired_removed(void **state)
{
    (void)state;
    int64_t now = sw_wall_s();
    struct ban_store *store = store_open(NULL);
    ban(store, "198.51.100.1", BAN_SOURCE_AUTO, 10, now - 100000); /* long over */
    ban(store, "198.51.100.2", BAN_SOURCE_AUTO, 10, now - 100);    /* over, in history */
    ban_store_free(store);
    assert_int_equal(row_count(), 2);

    store = store_open(NULL);
    assert_int_equal(row_count(), 1);
    struct sw_ip old = ip_of("198.51.100.1");
    struct sw_ip recent = ip_of("198.51.100.2");
    struct ban_entry entry;
    assert_false(ban_store_get(store, &old, &entry));
    assert_true(ban_store_get(store, &recent, &entry));
    assert_false(ban_store_is_banned(store, &recent, now));
    /* A repeat offender: offence 2, twice the ban time. */
    struct ban_request req = { .ip = recent, .source = BAN_SOURCE_AUTO };
    assert_int_equal(ban_store_add(store, &req, now, &entry), BAN_OUTCOME_ADDED);
    assert_int_equal(entry.offence, 2);
    assert_int_equal(entry.end_s - entry.start_s, 1200);
    ban_store_free(store);
}

/* A full queue never blocks: the dropped changes are caught up by a resync. */
static void test_ban_sqlite_full_queue_resyncs(void **state)
{
    (void)state;
    int64_t now = sw_wall_s();
    struct ban_config cfg = { .bantime_s = 600, .history_s = HISTORY_S };
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(&cfg, &store), 0);
    for (int i = 0; i < 10; i++) {
        char ip[32];
        (void)snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
        ban(store, ip, BAN_SOURCE_AUTO, 0, now);
    }
    struct ban_sqlite_config db_cfg = { .path = path, .queue_cap = 2, .history_s = HISTORY_S };
    struct ban_sqlite *db = NULL;
    assert_int_equal(ban_sqlite_open(&db_cfg, &db), 0);
    /* Five changes before the writer runs: two fit, three are dropped. */
    for (int i = 0; i < 5; i++) {
        struct ban_entry ghost = { .ip = ip_of("192.0.2.99"), .start_s = now, .end_s = now + 60 };
        ghost.ip.bytes[15] = (uint8_t)(100 + i);
        ban_sqlite_ops.publish(db, BAN_CHANGE_ADD, &ghost);
    }
    assert_int_equal(ban_store_attach(store, &ban_sqlite_ops, db), 0);
    ban_store_free(store);
    assert_int_equal(row_count(), 10);

    store = store_open(&db);
    struct ban_sqlite_stats stats;
    ban_sqlite_stats_get(db, &stats);
    assert_int_equal(stats.restored, 10);
    assert_int_equal(ban_store_count(store), 10);
    ban_store_free(store);
}

static unsigned file_mode(const char *suffix)
{
    char file[160];
    (void)snprintf(file, sizeof(file), "%s%s", path, suffix);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    return (unsigned)(st.st_mode & 0777);
}

/* The database, its WAL and SHM name attackers and manual bans: owner only (#9). */
static void test_ban_sqlite_files_are_private(void **state)
{
    (void)state;
    mode_t old_mask = umask(022);
    struct ban_store *store = store_open(NULL);
    ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 0, sw_wall_s());
    assert_int_equal(file_mode(""), 0600);
    assert_int_equal(file_mode("-wal"), 0600);
    assert_int_equal(file_mode("-shm"), 0600);
    ban_store_free(store);

    /* A database an older version left world-readable is tightened at open. */
    assert_int_equal(chmod(path, 0644), 0);
    store = store_open(NULL);
    assert_int_equal(file_mode(""), 0600);
    ban_store_free(store);
    (void)umask(old_mask);
}

static void test_ban_sqlite_bad_path(void **state)
{
    (void)state;
    struct ban_sqlite *db = NULL;
    struct ban_sqlite_config cfg = { .path = "/nonexistent-dir/x/bans.db" };
    assert_int_not_equal(ban_sqlite_open(&cfg, &db), 0);
    struct ban_sqlite_config none = { 0 };
    assert_int_not_equal(ban_sqlite_open(&none, &db), 0);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ban_sqlite_restart_keeps_bans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_sqlite_expired_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_sqlite_read_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_sqlite_full_queue_resyncs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_sqlite_files_are_private, setup, teardown),
        cmocka_unit_test(test_ban_sqlite_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
