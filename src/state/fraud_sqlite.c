#include "state/fraud_sqlite.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "state/fraudstore.h"
#include "state/sqlutil.h"

#define KEEP_KEYS_MS  ((int64_t)2 * 3600 * 1000) /* the longest window is an hour */
#define KEEP_MARKS_MS ((int64_t)30 * 86400 * 1000)

struct fraud_sqlite {
    sqlite3 *conn;
    sqlite3_stmt *put_key;
    sqlite3_stmt *put_mark;
    sqlite3_stmt *put_seq;
    uint64_t marks_version; /* the store's mark version at the last save */
    int64_t now_wall_ms;    /* of the save running */
    bool has_failed;        /* a row of the save running could not be written */
    bool needs_all;         /* a save failed: the next one writes every key */
};

static const char tables_sql[] = "PRAGMA journal_mode=WAL;"
                                 "CREATE TABLE IF NOT EXISTS fraud_counters ("
                                 " key TEXT PRIMARY KEY, version INTEGER NOT NULL,"
                                 " image BLOB NOT NULL, saved_ms INTEGER NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS fraud_marks ("
                                 " hash INTEGER PRIMARY KEY, at_s INTEGER NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS fraud_meta ("
                                 " name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static int report(const struct fraud_sqlite *db, const char *what)
{
    log_err(NULL, "fraud_sqlite: %s: %s", what, sqlite3_errmsg(db->conn));
    return -SW_EIO;
}

int fraud_sqlite_open(const char *path, struct fraud_sqlite **out)
{
    struct fraud_sqlite *db = sw_calloc(1, sizeof(*db));
    if (db == NULL) {
        return -ENOMEM;
    }
    int rc = sqlutil_make_private(path, "fraud_sqlite"); /* the keys name accounts */
    if (rc != 0) {
        sw_free(db);
        return rc;
    }
    rc = sqlutil_open(path, tables_sql, &db->conn);
    if (rc == 0 && (sqlite3_prepare_v2(db->conn,
                                       "INSERT OR REPLACE INTO fraud_counters (key, version,"
                                       " image, saved_ms) VALUES (?1, ?2, ?3, ?4)",
                                       -1, &db->put_key, NULL) != SQLITE_OK ||
                    sqlite3_prepare_v2(db->conn,
                                       "INSERT OR REPLACE INTO fraud_marks (hash, at_s)"
                                       " VALUES (?1, ?2)",
                                       -1, &db->put_mark, NULL) != SQLITE_OK ||
                    sqlite3_prepare_v2(db->conn,
                                       "INSERT OR REPLACE INTO fraud_meta (name, value)"
                                       " VALUES ('journal_seq', ?1)",
                                       -1, &db->put_seq, NULL) != SQLITE_OK)) {
        rc = -SW_EIO;
    }
    if (rc != 0) {
        (void)report(db, path);
        fraud_sqlite_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void fraud_sqlite_close(struct fraud_sqlite *db)
{
    if (db == NULL) {
        return;
    }
    sqlite3_finalize(db->put_key);
    sqlite3_finalize(db->put_mark);
    sqlite3_finalize(db->put_seq);
    sqlite3_close(db->conn);
    sw_free(db);
}

static int load_keys(struct fraud_sqlite *db, struct fraud_store *store, int64_t shift_ms,
                     struct fraud_sqlite_loaded *out)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db->conn, "SELECT key, version, image FROM fraud_counters", -1, &stmt,
                           NULL) != SQLITE_OK) {
        return report(db, "load counters");
    }
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const unsigned char *key = sqlite3_column_text(stmt, 0);
        const void *image = sqlite3_column_blob(stmt, 2);
        int len = sqlite3_column_bytes(stmt, 2);
        bool is_ok = key != NULL && image != NULL && len > 0 &&
                     sqlite3_column_int64(stmt, 1) == FRAUD_STORE_IMAGE_VERSION &&
                     fraud_store_import_key(store, sv_from_cstr((const char *)key), image,
                                            (size_t)len, shift_ms);
        out->keys += is_ok ? 1u : 0u;
        out->refused += is_ok ? 0u : 1u;
    }
    sqlite3_finalize(stmt);
    return step == SQLITE_DONE ? 0 : report(db, "load counters");
}

static int load_marks(struct fraud_sqlite *db, struct fraud_store *store,
                      struct fraud_sqlite_loaded *out)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db->conn, "SELECT hash, at_s FROM fraud_marks", -1, &stmt, NULL) !=
        SQLITE_OK) {
        return report(db, "load marks");
    }
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        fraud_store_import_mark(store, (uint64_t)sqlite3_column_int64(stmt, 0),
                                sqlite3_column_int64(stmt, 1));
        out->marks++;
    }
    sqlite3_finalize(stmt);
    return step == SQLITE_DONE ? 0 : report(db, "load marks");
}

static int load_journal_seq(struct fraud_sqlite *db, struct fraud_sqlite_loaded *out)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db->conn, "SELECT value FROM fraud_meta WHERE name = 'journal_seq'", -1,
                           &stmt, NULL) != SQLITE_OK) {
        return report(db, "load journal position");
    }
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        out->journal_seq = (uint64_t)sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : report(db, "load journal position");
}

int fraud_sqlite_load(struct fraud_sqlite *db, struct fraud_store *store,
                      int64_t wall_minus_mono_ms, int64_t now_wall_ms,
                      struct fraud_sqlite_loaded *out)
{
    *out = (struct fraud_sqlite_loaded){ 0 };
    char sql[160];
    (void)snprintf(sql, sizeof(sql),
                   "DELETE FROM fraud_counters WHERE saved_ms < %lld;"
                   "DELETE FROM fraud_marks WHERE at_s < %lld;",
                   (long long)(now_wall_ms - KEEP_KEYS_MS),
                   (long long)((now_wall_ms - KEEP_MARKS_MS) / 1000));
    if (sqlutil_exec(db->conn, "fraud_sqlite", sql) != 0) {
        return -SW_EIO;
    }
    int rc = load_keys(db, store, wall_minus_mono_ms, out);
    rc = rc != 0 ? rc : load_marks(db, store, out);
    return rc != 0 ? rc : load_journal_seq(db, out);
}

static void put_key(void *ctx, struct sv key, const void *image, size_t len)
{
    struct fraud_sqlite *db = ctx;
    sqlite3_stmt *stmt = db->put_key;
    bool is_ok = sqlite3_bind_text(stmt, 1, key.ptr, (int)key.len, SQLITE_TRANSIENT) == SQLITE_OK &&
                 sqlite3_bind_int64(stmt, 2, FRAUD_STORE_IMAGE_VERSION) == SQLITE_OK &&
                 sqlite3_bind_blob(stmt, 3, image, (int)len, SQLITE_TRANSIENT) == SQLITE_OK &&
                 sqlite3_bind_int64(stmt, 4, db->now_wall_ms) == SQLITE_OK &&
                 sqlite3_step(stmt) == SQLITE_DONE;
    db->has_failed |= !is_ok;
    (void)sqlite3_reset(stmt); /* its error, if any, was the step's */
}

static void put_mark(void *ctx, uint64_t hash, int64_t at_s)
{
    struct fraud_sqlite *db = ctx;
    sqlite3_stmt *stmt = db->put_mark;
    bool is_ok = sqlite3_bind_int64(stmt, 1, (sqlite3_int64)hash) == SQLITE_OK &&
                 sqlite3_bind_int64(stmt, 2, at_s) == SQLITE_OK &&
                 sqlite3_step(stmt) == SQLITE_DONE;
    db->has_failed |= !is_ok;
    (void)sqlite3_reset(stmt);
}

long fraud_sqlite_save(struct fraud_sqlite *db, struct fraud_store *store,
                       const struct fraud_sqlite_save_at *at, bool is_all)
{
    int64_t wall_minus_mono_ms = at->wall_minus_mono_ms;
    int64_t now_wall_ms = at->now_wall_ms;
    if (sqlutil_exec(db->conn, "fraud_sqlite", "BEGIN") != 0) {
        return -SW_EIO;
    }
    db->now_wall_ms = now_wall_ms;
    db->has_failed = false;
    /* A failed save already took the changed marks of its keys: the next writes them all. */
    size_t keys =
        fraud_store_export_keys(store, wall_minus_mono_ms, is_all || db->needs_all, put_key, db);
    db->needs_all = true;
    uint64_t version = fraud_store_export_marks(store, db->marks_version, put_mark, db);
    db->has_failed |=
        sqlite3_bind_int64(db->put_seq, 1, (sqlite3_int64)at->journal_seq) != SQLITE_OK ||
        sqlite3_step(db->put_seq) != SQLITE_DONE;
    (void)sqlite3_reset(db->put_seq);
    if (db->has_failed) {
        (void)report(db, "save");
        (void)sqlutil_exec(db->conn, "fraud_sqlite", "ROLLBACK");
        return -SW_EIO;
    }
    if (sqlutil_exec(db->conn, "fraud_sqlite", "COMMIT") != 0) {
        return -SW_EIO;
    }
    db->needs_all = false;
    db->marks_version = version;
    return (long)keys;
}
