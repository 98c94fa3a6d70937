#include "state/ban_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "base/workq.h"
#include "state/sqlutil.h"

#define SQL_DEFAULT_QUEUE   4096u
#define SQL_DEFAULT_HISTORY (30u * 86400u)
#define SQL_BATCH           256
#define SQL_PURGE_EVERY_S   60
#define SQL_WAIT_MS         1000

struct sql_op {
    enum ban_change change;
    struct ban_entry entry;
};

struct ban_sqlite {
    sqlite3 *conn;
    sqlite3_stmt *upsert;
    sqlite3_stmt *remove;
    struct ban_store *store; /* set by load */
    uint32_t history_s;
    struct workq *queue; /* of struct sql_op; its thread, started by load, is the writer */
    atomic_bool is_resync_wanted;
    int64_t last_purge_s;
    _Atomic uint64_t written;
    _Atomic uint64_t dropped;
    _Atomic uint64_t resyncs;
    _Atomic uint64_t restored;
    _Atomic uint64_t errors;
};

static const char schema_sql[] = "PRAGMA journal_mode=WAL;"
                                 "PRAGMA synchronous=NORMAL;"
                                 "CREATE TABLE IF NOT EXISTS bans ("
                                 " ip TEXT PRIMARY KEY,"
                                 " start_s INTEGER NOT NULL,"
                                 " end_s INTEGER NOT NULL,"
                                 " offence INTEGER NOT NULL,"
                                 " source TEXT NOT NULL,"
                                 " reason TEXT NOT NULL);";

static const char upsert_sql[] =
    "INSERT OR REPLACE INTO bans (ip, start_s, end_s, offence, source, reason)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char remove_sql[] = "DELETE FROM bans WHERE ip = ?1";

static int sql_fail(struct ban_sqlite *db, const char *what)
{
    atomic_fetch_add_explicit(&db->errors, 1, memory_order_relaxed);
    log_err(NULL, "ban_sqlite: %s: %s", what, sqlite3_errmsg(db->conn));
    return -SW_EIO;
}

static int exec(struct ban_sqlite *db, const char *sql)
{
    int rc = sqlutil_exec(db->conn, "ban_sqlite", sql);
    if (rc != 0) {
        atomic_fetch_add_explicit(&db->errors, 1, memory_order_relaxed);
    }
    return rc;
}

static void writer_run(void *ctx, void *items, size_t count);

static void db_free(struct ban_sqlite *db)
{
    workq_free(db->queue); /* first: a started writer writes what is queued */
    sqlite3_finalize(db->upsert);
    sqlite3_finalize(db->remove);
    if (db->conn != NULL) {
        /* Statements are finalized: close cannot be busy. */
        (void)sqlite3_close(db->conn);
    }
    sw_free(db);
}

static int db_prepare(struct ban_sqlite *db, const char *path)
{
    int err = sqlutil_make_private(path, "ban_sqlite");
    if (err != 0) {
        return err;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, &db->conn, flags, NULL) != SQLITE_OK) {
        return sql_fail(db, path);
    }
    if (sqlite3_busy_timeout(db->conn, 5000) != SQLITE_OK || exec(db, schema_sql) != 0) {
        return -SW_EIO;
    }
    if (sqlite3_prepare_v2(db->conn, upsert_sql, -1, &db->upsert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->conn, remove_sql, -1, &db->remove, NULL) != SQLITE_OK) {
        return sql_fail(db, "prepare");
    }
    return 0;
}

int ban_sqlite_open(const struct ban_sqlite_config *cfg, struct ban_sqlite **out)
{
    if (cfg->path == NULL || cfg->queue_cap > (1u << 20)) {
        return -SW_EBADARG;
    }
    struct ban_sqlite *db = sw_calloc(1, sizeof(*db));
    if (db == NULL) {
        return -ENOMEM;
    }
    db->history_s = cfg->history_s != 0 ? cfg->history_s : SQL_DEFAULT_HISTORY;
    struct workq_config queue = {
        .item_size = sizeof(struct sql_op),
        .capacity = cfg->queue_cap != 0 ? cfg->queue_cap : SQL_DEFAULT_QUEUE,
        .batch_max = SQL_BATCH,
        .tick_ms = SQL_WAIT_MS, /* the purge runs on an idle database too */
        .is_drained_on_stop = true,
        .run = writer_run,
        .ctx = db,
    };
    int err = workq_new(&queue, &db->queue);
    if (err == 0) {
        err = db_prepare(db, cfg->path);
    }
    if (err != 0) {
        db_free(db);
        return err;
    }
    *out = db;
    return 0;
}

/* Writes one change. Inside the writer's transaction. */
static int write_op(struct ban_sqlite *db, const struct sql_op *op)
{
    char ip[SW_ADDR_STRLEN];
    sw_ip_format(&op->entry.ip, ip, sizeof(ip));
    sqlite3_stmt *stmt = op->change == BAN_CHANGE_DEL ? db->remove : db->upsert;
    sqlite3_reset(stmt);
    int rc = sqlite3_bind_text(stmt, 1, ip, -1, SQLITE_TRANSIENT);
    if (op->change != BAN_CHANGE_DEL) {
        rc |= sqlite3_bind_int64(stmt, 2, op->entry.start_s);
        rc |= sqlite3_bind_int64(stmt, 3, op->entry.end_s);
        rc |= sqlite3_bind_int64(stmt, 4, op->entry.offence);
        rc |= sqlite3_bind_text(stmt, 5, ban_source_name(op->entry.source), -1, SQLITE_STATIC);
        rc |= sqlite3_bind_text(stmt, 6, op->entry.reason, -1, SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE) {
        return sql_fail(db, "write");
    }
    atomic_fetch_add_explicit(&db->written, 1, memory_order_relaxed);
    return 0;
}

static void write_batch(struct ban_sqlite *db, const struct sql_op *ops, size_t count)
{
    if (count == 0 || exec(db, "BEGIN") != 0) {
        return;
    }
    for (size_t i = 0; i < count; i++) {
        /* An expired ban keeps its row (history); the purge removes it later. */
        if (ops[i].change != BAN_CHANGE_EXPIRE) {
            (void)write_op(db, &ops[i]);
        }
    }
    (void)exec(db, "COMMIT");
}

/* Rewrites the active bans from a snapshot after the queue dropped changes. */
static void resync(struct ban_sqlite *db, int64_t now_s)
{
    size_t cap = ban_store_capacity(db->store);
    struct sql_op *ops = sw_calloc(cap, sizeof(*ops));
    struct ban_entry *entries = sw_calloc(cap, sizeof(*entries));
    if (ops == NULL || entries == NULL) {
        log_err(NULL, "ban_sqlite: no memory for a resync; retrying later");
        sw_free(ops);
        sw_free(entries);
        atomic_store(&db->is_resync_wanted, true); /* on the next tick at the latest */
        return;
    }
    size_t count = ban_store_list(db->store, now_s, entries, cap);
    count = count < cap ? count : cap;
    for (size_t i = 0; i < count; i++) {
        ops[i] = (struct sql_op){ .change = BAN_CHANGE_ADD, .entry = entries[i] };
    }
    char sql[96];
    (void)snprintf(sql, sizeof(sql), "DELETE FROM bans WHERE end_s > %lld", (long long)now_s);
    if (exec(db, sql) == 0) {
        write_batch(db, ops, count);
        atomic_fetch_add_explicit(&db->resyncs, 1, memory_order_relaxed);
    }
    sw_free(ops);
    sw_free(entries);
}

static void purge(struct ban_sqlite *db, int64_t now_s)
{
    char sql[96];
    (void)snprintf(sql, sizeof(sql), "DELETE FROM bans WHERE end_s <= %lld",
                   (long long)(now_s - (int64_t)db->history_s));
    (void)exec(db, sql);
    db->last_purge_s = now_s;
}

/* The writer: a batch of changes in one transaction, a resync when changes were lost. */
static void writer_run(void *ctx, void *items, size_t count)
{
    struct ban_sqlite *db = ctx;
    bool is_resync = atomic_exchange(&db->is_resync_wanted, false);
    int64_t now = sw_wall_s();
    write_batch(db, items, count);
    if (is_resync) {
        resync(db, now);
    }
    if (now - db->last_purge_s >= SQL_PURGE_EVERY_S) {
        purge(db, now);
    }
}

static int row_to_entry(sqlite3_stmt *stmt, struct ban_entry *e)
{
    memset(e, 0, sizeof(*e));
    const unsigned char *ip = sqlite3_column_text(stmt, 0);
    const unsigned char *source = sqlite3_column_text(stmt, 4);
    const unsigned char *reason = sqlite3_column_text(stmt, 5);
    if (ip == NULL || !sw_ip_parse(sv_from_cstr((const char *)ip), &e->ip)) {
        return -SW_EBADARG;
    }
    e->start_s = sqlite3_column_int64(stmt, 1);
    e->end_s = sqlite3_column_int64(stmt, 2);
    int64_t offence = sqlite3_column_int64(stmt, 3);
    e->offence = offence > 0 && offence < UINT32_MAX ? (uint32_t)offence : 1;
    e->source = source != NULL && strcmp((const char *)source, "manual") == 0 ? BAN_SOURCE_MANUAL
                                                                              : BAN_SOURCE_AUTO;
    if (reason != NULL) {
        size_t len = strnlen((const char *)reason, sizeof(e->reason) - 1);
        memcpy(e->reason, reason, len);
    }
    return 0;
}

/* Restores every row still within its history window, then starts the writer. */
static int sqlite_load(void *backend, struct ban_store *store, int64_t now_s)
{
    struct ban_sqlite *db = backend;
    db->store = store;
    purge(db, now_s);
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db->conn, "SELECT ip, start_s, end_s, offence, source, reason FROM bans",
                           -1, &stmt, NULL) != SQLITE_OK) {
        return sql_fail(db, "load");
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct ban_entry entry;
        if (row_to_entry(stmt, &entry) != 0) {
            log_warn(NULL, "ban_sqlite: skipping a row with a bad address");
            continue;
        }
        if (ban_store_apply(store, BAN_CHANGE_ADD, &entry, now_s, db) == 0) {
            atomic_fetch_add_explicit(&db->restored, 1, memory_order_relaxed);
        }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return sql_fail(db, "load");
    }
    return workq_start(db->queue);
}

static void sqlite_publish(void *backend, enum ban_change change, const struct ban_entry *entry)
{
    struct ban_sqlite *db = backend;
    struct sql_op op = { .change = change, .entry = *entry };
    if (!workq_push(db->queue, &op)) {
        atomic_store(&db->is_resync_wanted, true);
        atomic_fetch_add_explicit(&db->dropped, 1, memory_order_relaxed);
        workq_kick(db->queue);
    }
}

static void sqlite_close(void *backend)
{
    struct ban_sqlite *db = backend;
    if (db == NULL) {
        return;
    }
    db_free(db);
}

const struct ban_store_ops ban_sqlite_ops = {
    .name = "sqlite",
    .load = sqlite_load,
    .publish = sqlite_publish,
    .close = sqlite_close,
};

void ban_sqlite_stats_get(struct ban_sqlite *db, struct ban_sqlite_stats *out)
{
    out->written = atomic_load_explicit(&db->written, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&db->dropped, memory_order_relaxed);
    out->resyncs = atomic_load_explicit(&db->resyncs, memory_order_relaxed);
    out->restored = atomic_load_explicit(&db->restored, memory_order_relaxed);
    out->errors = atomic_load_explicit(&db->errors, memory_order_relaxed);
}

static const char read_sql[] = "SELECT ip, start_s, end_s, offence, source, reason FROM bans"
                               " WHERE start_s < ?2 AND end_s >= ?1 ORDER BY start_s, ip";

struct read_ctx {
    ban_sqlite_row_fn *fn;
    void *ctx;
};

static int read_row(void *ctx, sqlite3_stmt *stmt)
{
    const struct read_ctx *read = ctx;
    struct ban_sqlite_row row = {
        .ip = sqlutil_column_text(stmt, 0),
        .start_s = sqlite3_column_int64(stmt, 1),
        .end_s = sqlite3_column_int64(stmt, 2),
        .offence = sqlite3_column_int64(stmt, 3),
        .source = sqlutil_column_text(stmt, 4),
        .reason = sqlutil_column_text(stmt, 5),
    };
    return read->fn(read->ctx, &row);
}

int ban_sqlite_read(const struct sqlutil_query *query, ban_sqlite_row_fn *fn, void *ctx,
                    char *error, size_t cap)
{
    struct read_ctx read = { .fn = fn, .ctx = ctx };
    return sqlutil_read(query, read_sql, read_row, &read, error, cap);
}
