#include "state/alert_sqlite.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "state/sqlutil.h"

#define AS_QUEUE       1024
#define AS_ACCOUNT_CAP 64
#define AS_DAY_S       86400
#define AS_PURGE_S     3600
#define AS_SLOT_S      900
#define AS_ALERTS      64 /* alert messages waiting: they are rare (one per cooldown) */

enum as_kind {
    AS_SOURCE,
    AS_LEVEL,
};

/* One queued write: a sighting (account, ip, seen) or a level (slot, calls). */
struct as_write {
    enum as_kind kind;
    char account[AS_ACCOUNT_CAP];
    struct sw_ip ip;
    int64_t when; /* seen_s, or the slot */
    uint32_t calls;
};

/* One queued alert message of the history, its texts copied; or, is_config, a loaded
 * configuration (key = its SHA-256, detail = its path). */
struct as_alert {
    bool is_config;
    int64_t time_ms;
    int64_t value;
    char rule[48];
    char state[16];
    char severity[16];
    char key[80];
    char title[96];
    char detail[192];
};

struct alert_sqlite {
    sqlite3 *conn;
    sqlite3_stmt *put_source;
    sqlite3_stmt *put_level;
    sqlite3_stmt *put_alert;
    sqlite3_stmt *put_config;
    int64_t keep_s;
    int64_t purged_s;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct as_write pending[AS_QUEUE];
    size_t pending_count;
    struct as_write writing[AS_QUEUE]; /* the thread's copy */
    struct as_alert alerts[AS_ALERTS];
    size_t alert_count;
    struct as_alert alerts_writing[AS_ALERTS]; /* the thread's copy */
    bool is_stopping;
    bool has_thread;
    pthread_t thread;
    struct alert_sqlite_stats stats; /* under lock */
};

static const char tables_sql[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS alert_sources ("
    " account TEXT NOT NULL, ip TEXT NOT NULL, seen_s INTEGER NOT NULL,"
    " PRIMARY KEY (account, ip));"
    "CREATE TABLE IF NOT EXISTS alert_levels ("
    " slot INTEGER PRIMARY KEY, calls INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alert_history ("
    " time_ms INTEGER NOT NULL, rule TEXT NOT NULL, state TEXT NOT NULL,"
    " severity TEXT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL, detail TEXT NOT NULL,"
    " value INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS alert_history_time ON alert_history (time_ms);"
    "CREATE TABLE IF NOT EXISTS config_history ("
    " time_ms INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL);";

static const char put_alert_sql[] =
    "INSERT INTO alert_history (time_ms, rule, state, severity, key, title, detail, value)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

static int report(struct alert_sqlite *db, const char *what)
{
    log_err(NULL, "alert_sqlite: %s: %s", what, sqlite3_errmsg(db->conn));
    pthread_mutex_lock(&db->lock);
    db->stats.errors++;
    pthread_mutex_unlock(&db->lock);
    return -SW_EIO;
}

int alert_sqlite_open(const char *path, uint32_t keep_days, struct alert_sqlite **out)
{
    struct alert_sqlite *db = sw_calloc(1, sizeof(*db));
    if (db == NULL) {
        return -ENOMEM;
    }
    (void)pthread_mutex_init(&db->lock, NULL); /* defaults: cannot fail */
    (void)pthread_cond_init(&db->wake, NULL);
    db->keep_s = (int64_t)(keep_days != 0 ? keep_days : 30) * AS_DAY_S;
    int rc = sqlutil_open(path, tables_sql, &db->conn);
    if (rc == 0 &&
        (sqlite3_prepare_v2(db->conn,
                            "INSERT INTO alert_sources (account, ip, seen_s) VALUES (?1, ?2, ?3)"
                            " ON CONFLICT (account, ip) DO UPDATE SET seen_s ="
                            " MAX(seen_s, excluded.seen_s)",
                            -1, &db->put_source, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(db->conn,
                            "INSERT INTO alert_levels (slot, calls) VALUES (?1, ?2)"
                            " ON CONFLICT (slot) DO UPDATE SET calls = MAX(calls, excluded.calls)",
                            -1, &db->put_level, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(db->conn, put_alert_sql, -1, &db->put_alert, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(
             db->conn, "INSERT INTO config_history (time_ms, path, sha256) VALUES (?1, ?2, ?3)", -1,
             &db->put_config, NULL) != SQLITE_OK)) {
        rc = -SW_EIO;
    }
    if (rc != 0) {
        (void)report(db, path);
        alert_sqlite_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

static void purge(struct alert_sqlite *db, int64_t now_s)
{
    char sql[384];
    (void)snprintf(sql, sizeof(sql),
                   "DELETE FROM alert_sources WHERE seen_s < %lld;"
                   "DELETE FROM alert_levels WHERE slot < %lld;"
                   "DELETE FROM alert_history WHERE time_ms < %lld;"
                   "DELETE FROM config_history WHERE time_ms < %lld"
                   " AND rowid < (SELECT MAX(rowid) FROM config_history);",
                   (long long)(now_s - db->keep_s), (long long)((now_s - db->keep_s) / AS_SLOT_S),
                   (long long)(now_s - db->keep_s) * 1000, (long long)(now_s - db->keep_s) * 1000);
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK) {
        (void)report(db, "purge");
    }
    db->purged_s = now_s;
}

static int load_sources(struct alert_sqlite *db, alert_sqlite_source_fn *fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db->conn, "SELECT account, ip, seen_s FROM alert_sources", -1, &stmt,
                           NULL) != SQLITE_OK) {
        return report(db, "load sources");
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char *account = sqlite3_column_text(stmt, 0);
        const unsigned char *text = sqlite3_column_text(stmt, 1);
        struct sw_ip ip;
        if (account != NULL && text != NULL && sw_ip_parse(sv_from_cstr((const char *)text), &ip)) {
            fn(ctx, (const char *)account, &ip, sqlite3_column_int64(stmt, 2));
        }
    }
    sqlite3_finalize(stmt);
    return 0;
}

static int load_levels(struct alert_sqlite *db, alert_sqlite_level_fn *fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db->conn, "SELECT slot, calls FROM alert_levels", -1, &stmt, NULL) !=
        SQLITE_OK) {
        return report(db, "load levels");
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        int64_t calls = sqlite3_column_int64(stmt, 1);
        fn(ctx, sqlite3_column_int64(stmt, 0),
           calls < 0 ? 0 : (calls > UINT32_MAX ? UINT32_MAX : (uint32_t)calls));
    }
    sqlite3_finalize(stmt);
    return 0;
}

int alert_sqlite_load(struct alert_sqlite *db, int64_t now_s, alert_sqlite_source_fn *on_source,
                      alert_sqlite_level_fn *on_level, void *ctx)
{
    purge(db, now_s);
    int rc = on_source != NULL ? load_sources(db, on_source, ctx) : 0;
    if (rc == 0 && on_level != NULL) {
        rc = load_levels(db, on_level, ctx);
    }
    return rc;
}

/* Binds and runs one queued write. */
static bool write_one(struct alert_sqlite *db, const struct as_write *w)
{
    sqlite3_stmt *stmt = w->kind == AS_SOURCE ? db->put_source : db->put_level;
    sqlite3_reset(stmt);
    int rc = SQLITE_OK;
    if (w->kind == AS_SOURCE) {
        char ip[SW_ADDR_STRLEN];
        sw_ip_format(&w->ip, ip, sizeof(ip));
        rc |= sqlite3_bind_text(stmt, 1, w->account, -1, SQLITE_TRANSIENT);
        rc |= sqlite3_bind_text(stmt, 2, ip, -1, SQLITE_TRANSIENT);
        rc |= sqlite3_bind_int64(stmt, 3, w->when);
    } else {
        rc |= sqlite3_bind_int64(stmt, 1, w->when);
        rc |= sqlite3_bind_int64(stmt, 2, w->calls);
    }
    return rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_DONE;
}

static bool write_config(struct alert_sqlite *db, const struct as_alert *a)
{
    sqlite3_stmt *stmt = db->put_config;
    sqlite3_reset(stmt);
    int rc = sqlite3_bind_int64(stmt, 1, a->time_ms);
    rc |= sqlite3_bind_text(stmt, 2, a->detail, -1, SQLITE_TRANSIENT);
    rc |= sqlite3_bind_text(stmt, 3, a->key, -1, SQLITE_TRANSIENT);
    return rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_DONE;
}

static bool write_alert(struct alert_sqlite *db, const struct as_alert *a)
{
    if (a->is_config) {
        return write_config(db, a);
    }
    sqlite3_stmt *stmt = db->put_alert;
    sqlite3_reset(stmt);
    const char *const texts[] = { a->rule, a->state, a->severity, a->key, a->title, a->detail };
    int rc = sqlite3_bind_int64(stmt, 1, a->time_ms);
    for (int i = 0; i < 6; i++) {
        rc |= sqlite3_bind_text(stmt, i + 2, texts[i], -1, SQLITE_TRANSIENT);
    }
    rc |= sqlite3_bind_int64(stmt, 8, a->value);
    return rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_DONE;
}

static void write_all(struct alert_sqlite *db, size_t count, size_t alert_count)
{
    size_t failed = 0;
    (void)sqlite3_exec(db->conn, "BEGIN", NULL, NULL, NULL); /* a failure shows per row */
    for (size_t i = 0; i < count; i++) {
        failed += write_one(db, &db->writing[i]) ? 0 : 1;
    }
    for (size_t i = 0; i < alert_count; i++) {
        failed += write_alert(db, &db->alerts_writing[i]) ? 0 : 1;
    }
    count += alert_count;
    if (sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        failed = count;
    }
    if (failed != 0) {
        (void)report(db, "write");
    }
    pthread_mutex_lock(&db->lock);
    db->stats.written += count - failed;
    pthread_mutex_unlock(&db->lock);
}

static void *writer_main(void *arg)
{
    struct alert_sqlite *db = arg;
    pthread_mutex_lock(&db->lock);
    while (!db->is_stopping || db->pending_count > 0 || db->alert_count > 0) {
        if (db->pending_count == 0 && db->alert_count == 0) {
            struct timespec until;
            (void)clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            (void)pthread_cond_timedwait(&db->wake, &db->lock, &until); /* or a purge */
        }
        size_t count = db->pending_count;
        memcpy(db->writing, db->pending, count * sizeof(db->pending[0]));
        db->pending_count = 0;
        size_t alert_count = db->alert_count;
        memcpy(db->alerts_writing, db->alerts, alert_count * sizeof(db->alerts[0]));
        db->alert_count = 0;
        pthread_mutex_unlock(&db->lock);
        if (count + alert_count > 0) {
            write_all(db, count, alert_count);
        }
        int64_t now_s = sw_wall_s();
        if (now_s - db->purged_s >= AS_PURGE_S) {
            purge(db, now_s);
        }
        pthread_mutex_lock(&db->lock);
    }
    pthread_mutex_unlock(&db->lock);
    return NULL;
}

int alert_sqlite_start(struct alert_sqlite *db)
{
    int rc = pthread_create(&db->thread, NULL, writer_main, db);
    if (rc != 0) {
        return -rc;
    }
    db->has_thread = true;
    return 0;
}

static void enqueue(struct alert_sqlite *db, const struct as_write *w)
{
    pthread_mutex_lock(&db->lock);
    if (db->pending_count == AS_QUEUE) {
        db->stats.dropped++;
    } else {
        db->pending[db->pending_count++] = *w;
        pthread_cond_signal(&db->wake);
    }
    pthread_mutex_unlock(&db->lock);
}

void alert_sqlite_note_source(struct alert_sqlite *db, const char *account, const struct sw_ip *ip,
                              int64_t seen_s)
{
    struct as_write w = { .kind = AS_SOURCE, .ip = *ip, .when = seen_s };
    (void)snprintf(w.account, sizeof(w.account), "%s", account);
    enqueue(db, &w);
}

void alert_sqlite_note_level(struct alert_sqlite *db, int64_t slot, uint32_t calls)
{
    struct as_write w = { .kind = AS_LEVEL, .when = slot, .calls = calls };
    enqueue(db, &w);
}

static void enqueue_alert(struct alert_sqlite *db, const struct as_alert *a)
{
    pthread_mutex_lock(&db->lock);
    if (db->alert_count == AS_ALERTS) {
        db->stats.dropped++;
    } else {
        db->alerts[db->alert_count++] = *a;
        pthread_cond_signal(&db->wake);
    }
    pthread_mutex_unlock(&db->lock);
}

void alert_sqlite_note_alert(struct alert_sqlite *db, const struct alert_sqlite_alert *alert)
{
    if (db == NULL) {
        return;
    }
    struct as_alert a = { .time_ms = alert->time_ms, .value = alert->value };
    (void)snprintf(a.rule, sizeof(a.rule), "%s", alert->rule);
    (void)snprintf(a.state, sizeof(a.state), "%s", alert->state);
    (void)snprintf(a.severity, sizeof(a.severity), "%s", alert->severity);
    (void)snprintf(a.key, sizeof(a.key), "%s", alert->key);
    (void)snprintf(a.title, sizeof(a.title), "%s", alert->title);
    (void)snprintf(a.detail, sizeof(a.detail), "%s", alert->detail);
    enqueue_alert(db, &a);
}

void alert_sqlite_note_config(struct alert_sqlite *db, int64_t time_ms, const char *path,
                              const char *sha256)
{
    if (db == NULL) {
        return;
    }
    struct as_alert a = { .is_config = true, .time_ms = time_ms };
    (void)snprintf(a.key, sizeof(a.key), "%s", sha256);
    (void)snprintf(a.detail, sizeof(a.detail), "%s", path);
    enqueue_alert(db, &a);
}

struct read_ctx {
    alert_sqlite_alert_fn *fn;
    void *ctx;
};

static int read_row(void *ctx, sqlite3_stmt *stmt)
{
    const struct read_ctx *read = ctx;
    struct alert_sqlite_alert alert = {
        .time_ms = sqlite3_column_int64(stmt, 0),
        .rule = sqlutil_column_text(stmt, 1),
        .state = sqlutil_column_text(stmt, 2),
        .severity = sqlutil_column_text(stmt, 3),
        .key = sqlutil_column_text(stmt, 4),
        .title = sqlutil_column_text(stmt, 5),
        .detail = sqlutil_column_text(stmt, 6),
        .value = sqlite3_column_int64(stmt, 7),
    };
    return read->fn(read->ctx, &alert);
}

int alert_sqlite_read_alerts(const struct sqlutil_query *query, alert_sqlite_alert_fn *fn,
                             void *ctx, char *error, size_t cap)
{
    static const char sql[] = "SELECT time_ms, rule, state, severity, key, title, detail, value"
                              " FROM alert_history WHERE time_ms >= ?1 AND time_ms < ?2"
                              " ORDER BY time_ms, rowid";
    struct read_ctx read = { .fn = fn, .ctx = ctx };
    return sqlutil_read(query, sql, read_row, &read, error, cap);
}

void alert_sqlite_stats_get(struct alert_sqlite *db, struct alert_sqlite_stats *out)
{
    pthread_mutex_lock(&db->lock);
    *out = db->stats;
    pthread_mutex_unlock(&db->lock);
}

void alert_sqlite_close(struct alert_sqlite *db)
{
    if (db == NULL) {
        return;
    }
    if (db->has_thread) {
        pthread_mutex_lock(&db->lock);
        db->is_stopping = true;
        pthread_cond_signal(&db->wake);
        pthread_mutex_unlock(&db->lock);
        (void)pthread_join(db->thread, NULL);
    }
    sqlite3_finalize(db->put_source);
    sqlite3_finalize(db->put_level);
    sqlite3_finalize(db->put_alert);
    sqlite3_finalize(db->put_config);
    if (db->conn != NULL) {
        (void)sqlite3_close(db->conn); /* statements are finalized: never busy */
    }
    pthread_cond_destroy(&db->wake);
    pthread_mutex_destroy(&db->lock);
    sw_free(db);
}

struct config_read_ctx {
    alert_sqlite_config_fn *fn;
    void *ctx;
};

static int read_config_row(void *ctx, sqlite3_stmt *stmt)
{
    const struct config_read_ctx *read = ctx;
    return read->fn(read->ctx, sqlite3_column_int64(stmt, 0), sqlutil_column_text(stmt, 1),
                    sqlutil_column_text(stmt, 2));
}

int alert_sqlite_read_configs(const struct sqlutil_query *query, alert_sqlite_config_fn *fn,
                              void *ctx, char *error, size_t cap)
{
    /* The span's loads, after the last one before it: the configuration in force at ?1. */
    static const char sql[] =
        "SELECT time_ms, path, sha256 FROM config_history WHERE time_ms < ?2 AND time_ms >="
        " COALESCE((SELECT MAX(time_ms) FROM config_history WHERE time_ms < ?1), ?1)"
        " ORDER BY time_ms, rowid";
    struct config_read_ctx read = { .fn = fn, .ctx = ctx };
    return sqlutil_read(query, sql, read_config_row, &read, error, cap);
}
