#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obs/cdr_wal.h"
#include "support/unit.h"

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-cdr-wal-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(db_path, sizeof(db_path), "%s/w.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const files[] = { "w.db", "w.db-wal", "w.db-shm" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char file[160];
        (void)snprintf(file, sizeof(file), "%s/%s", dir, files[i]);
        (void)unlink(file);
    }
    return rmdir(dir);
}

static void exec_ok(sqlite3 *conn, const char *sql)
{
    char *error = NULL;
    int rc = sqlite3_exec(conn, sql, NULL, NULL, &error);
    if (rc != SQLITE_OK) {
        fail_msg("%s: %s", sql, error != NULL ? error : "?");
    }
}

static int64_t count_rows(sqlite3 *conn, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
}

/* Inserts `rows` rows of `bytes` random bytes in one transaction. */
static void insert_rows(sqlite3 *conn, int rows, int bytes)
{
    char sql[256];
    (void)snprintf(sql, sizeof(sql),
                   "BEGIN; INSERT INTO t (v) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
                   " SELECT i + 1 FROM n WHERE i < %d) SELECT randomblob(%d) FROM n; COMMIT;",
                   rows, bytes);
    exec_ok(conn, sql);
}

/*
 * Transactions of one page, of more than the default VFS writes at once (128 KiB) and of
 * more than is gathered (CDR_WAL_GATHER_MAX): after each commit, a connection of the
 * default VFS (as another process would) reads every row; a rollback leaves nothing; a
 * checkpoint copies everything into the database, which checks whole.
 */
static void test_cdr_wal_commits_are_readable_at_once(void **state)
{
    (void)state;
    const char *vfs = cdr_wal_vfs();
    assert_non_null(vfs);
    sqlite3 *writer = NULL;
    sqlite3 *reader = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    assert_int_equal(sqlite3_open_v2(db_path, &writer, flags, vfs), SQLITE_OK);
    exec_ok(writer, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    " PRAGMA wal_autocheckpoint=0;"
                    " CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);");
    assert_int_equal(sqlite3_open_v2(db_path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    static const int batches[][2] = { { 1, 10 }, { 100, 2000 }, { 600, 3000 }, { 3, 100 } };
    int64_t total = 0;
    for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
        insert_rows(writer, batches[i][0], batches[i][1]);
        total += batches[i][0];
        assert_int_equal(count_rows(reader, "SELECT COUNT(*) FROM t"), total);
        assert_int_equal(count_rows(reader, "SELECT COUNT(*) FROM t WHERE length(v) > 0"), total);
    }
    exec_ok(writer, "BEGIN; INSERT INTO t (v) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
                    " SELECT i + 1 FROM n WHERE i < 500) SELECT randomblob(4000) FROM n;"
                    " ROLLBACK;");
    assert_int_equal(count_rows(reader, "SELECT COUNT(*) FROM t"), total);
    insert_rows(writer, 2, 50);
    total += 2;
    assert_int_equal(count_rows(reader, "SELECT COUNT(*) FROM t"), total);
    exec_ok(writer, "PRAGMA wal_checkpoint(TRUNCATE);");
    insert_rows(writer, 10, 5000); /* the WAL starts again at its beginning */
    total += 10;
    assert_int_equal(count_rows(reader, "SELECT COUNT(*) FROM t"), total);
    assert_int_equal(sqlite3_close(reader), SQLITE_OK);
    assert_int_equal(sqlite3_close(writer), SQLITE_OK);

    assert_int_equal(sqlite3_open_v2(db_path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(reader, "PRAGMA integrity_check", -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "ok");
    sqlite3_finalize(stmt);
    assert_int_equal(count_rows(reader, "SELECT COUNT(*) FROM t"), total);
    assert_int_equal(sqlite3_close(reader), SQLITE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cdr_wal_commits_are_readable_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
