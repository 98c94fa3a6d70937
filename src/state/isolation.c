#include "state/isolation.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "state/sqlutil.h"

static const char schema_sql[] = "PRAGMA journal_mode=WAL;"
                                 "CREATE TABLE IF NOT EXISTS isolation ("
                                 " kind TEXT NOT NULL, name TEXT NOT NULL,"
                                 " since_s INTEGER NOT NULL, by TEXT NOT NULL,"
                                 " reason TEXT NOT NULL, PRIMARY KEY (kind, name));";

/* The table (unordered; a cleared entry is replaced by the last one). */
static struct isolation_entry entries[ISOLATION_MAX];
static size_t entry_count;
static atomic_size_t held_count; /* entry_count, readable without the lock */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The writer: wakes when `is_dirty` or `is_stopping` is set (under `lock`). */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static sqlite3 *conn;
static pthread_t writer;
static bool has_writer;
static bool is_dirty;
static bool is_stopping;

const char *isolation_kind_name(enum isolation_kind kind)
{
    return kind == ISOLATION_TRUNK ? "trunk" : "account";
}

/* The entry of `name`, or NULL. Caller holds the lock. */
static struct isolation_entry *find(enum isolation_kind kind, struct sv name)
{
    for (size_t i = 0; i < entry_count; i++) {
        struct isolation_entry *e = &entries[i];
        if (e->kind == kind && strlen(e->name) == name.len &&
            memcmp(e->name, name.ptr, name.len) == 0) {
            return e;
        }
    }
    return NULL;
}

static void mark_dirty(void)
{
    is_dirty = true;
    pthread_cond_signal(&wake);
}

enum isolation_outcome isolation_set(enum isolation_kind kind, struct sv name, const char *by,
                                     const char *reason, int64_t now_s)
{
    if (name.ptr == NULL || name.len == 0 || name.len >= ISOLATION_NAME_CAP) {
        return ISOLATION_FULL;
    }
    pthread_mutex_lock(&lock);
    enum isolation_outcome outcome = ISOLATION_EXISTS;
    if (find(kind, name) == NULL && entry_count >= ISOLATION_MAX) {
        outcome = ISOLATION_FULL;
    } else if (find(kind, name) == NULL) {
        struct isolation_entry *e = &entries[entry_count];
        *e = (struct isolation_entry){ .kind = kind, .since_s = now_s };
        memcpy(e->name, name.ptr, name.len);
        (void)snprintf(e->by, sizeof(e->by), "%s", by != NULL ? by : "");
        (void)snprintf(e->reason, sizeof(e->reason), "%s", reason != NULL ? reason : "");
        entry_count++;
        atomic_store(&held_count, entry_count);
        mark_dirty();
        outcome = ISOLATION_ADDED;
    }
    pthread_mutex_unlock(&lock);
    return outcome;
}

bool isolation_clear(enum isolation_kind kind, struct sv name)
{
    pthread_mutex_lock(&lock);
    struct isolation_entry *e = name.ptr != NULL ? find(kind, name) : NULL;
    if (e != NULL) {
        *e = entries[entry_count - 1];
        entry_count--;
        atomic_store(&held_count, entry_count);
        mark_dirty();
    }
    pthread_mutex_unlock(&lock);
    return e != NULL;
}

bool isolation_get(enum isolation_kind kind, struct sv name, struct isolation_entry *out)
{
    if (atomic_load(&held_count) == 0 || name.ptr == NULL) {
        return false; /* the common case of every new call: no lock */
    }
    pthread_mutex_lock(&lock);
    const struct isolation_entry *e = find(kind, name);
    if (e != NULL && out != NULL) {
        *out = *e;
    }
    pthread_mutex_unlock(&lock);
    return e != NULL;
}

bool isolation_is_held(enum isolation_kind kind, struct sv name)
{
    return isolation_get(kind, name, NULL);
}

size_t isolation_list(struct isolation_entry *out, size_t cap)
{
    pthread_mutex_lock(&lock);
    size_t count = entry_count;
    for (size_t i = 0; i < count && i < cap; i++) {
        out[i] = entries[i];
    }
    pthread_mutex_unlock(&lock);
    return count;
}

/* ---- persistence ------------------------------------------------------------------- */

static int write_row(sqlite3_stmt *insert, const struct isolation_entry *e)
{
    (void)sqlite3_reset(insert); /* the error, if any, was the previous step's */
    if (sqlite3_bind_text(insert, 1, isolation_kind_name(e->kind), -1, SQLITE_STATIC) !=
            SQLITE_OK ||
        sqlite3_bind_text(insert, 2, e->name, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(insert, 3, e->since_s) != SQLITE_OK ||
        sqlite3_bind_text(insert, 4, e->by, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_text(insert, 5, e->reason, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(insert) != SQLITE_DONE) {
        return -SW_EIO;
    }
    return 0;
}

/* Rewrites the table from `snapshot` in one transaction. Writer thread. */
static void write_all(const struct isolation_entry *snapshot, size_t count)
{
    sqlite3_stmt *insert = NULL;
    int rc = sqlutil_exec(conn, "isolation", "BEGIN; DELETE FROM isolation;");
    if (rc == 0 && sqlite3_prepare_v2(conn,
                                      "INSERT INTO isolation (kind, name, since_s, by, reason)"
                                      " VALUES (?1, ?2, ?3, ?4, ?5)",
                                      -1, &insert, NULL) != SQLITE_OK) {
        rc = -SW_EIO;
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = write_row(insert, &snapshot[i]);
    }
    (void)sqlite3_finalize(insert); /* NULL is a no-op */
    if (rc != 0) {
        log_err(NULL, "isolation: cannot write the incident state: %s", sqlite3_errmsg(conn));
        (void)sqlutil_exec(conn, "isolation", "ROLLBACK;");
        return;
    }
    (void)sqlutil_exec(conn, "isolation", "COMMIT;"); /* logged on failure */
}

static void *writer_main(void *arg)
{
    (void)arg;
    struct isolation_entry *snapshot = sw_calloc(ISOLATION_MAX, sizeof(*snapshot));
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!is_dirty && !is_stopping) {
            pthread_cond_wait(&wake, &lock);
        }
        if (!is_dirty) {
            break; /* stopping with nothing left to write */
        }
        is_dirty = false;
        size_t count = entry_count;
        if (snapshot != NULL) {
            memcpy(snapshot, entries, count * sizeof(*snapshot));
        }
        pthread_mutex_unlock(&lock);
        if (snapshot != NULL) {
            write_all(snapshot, count);
        } else {
            log_err(NULL, "isolation: out of memory: the incident state is not persisted");
        }
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    sw_free(snapshot);
    return NULL;
}

static enum isolation_kind kind_of(const unsigned char *text)
{
    return text != NULL && strcmp((const char *)text, "trunk") == 0 ? ISOLATION_TRUNK
                                                                    : ISOLATION_ACCOUNT;
}

static const char *text_or_empty(const unsigned char *text)
{
    return text != NULL ? (const char *)text : "";
}

/* Replaces the table in memory with the rows of the database. Main thread. */
static int load_rows(void)
{
    sqlite3_stmt *select = NULL;
    if (sqlite3_prepare_v2(conn, "SELECT kind, name, since_s, by, reason FROM isolation", -1,
                           &select, NULL) != SQLITE_OK) {
        return -SW_EIO;
    }
    pthread_mutex_lock(&lock);
    entry_count = 0;
    int step = sqlite3_step(select);
    for (; step == SQLITE_ROW && entry_count < ISOLATION_MAX; step = sqlite3_step(select)) {
        const char *name = text_or_empty(sqlite3_column_text(select, 1));
        if (name[0] == '\0' || strlen(name) >= ISOLATION_NAME_CAP) {
            continue;
        }
        struct isolation_entry *e = &entries[entry_count++];
        *e = (struct isolation_entry){ .kind = kind_of(sqlite3_column_text(select, 0)),
                                       .since_s = sqlite3_column_int64(select, 2) };
        (void)snprintf(e->name, sizeof(e->name), "%s", name);
        (void)snprintf(e->by, sizeof(e->by), "%s", text_or_empty(sqlite3_column_text(select, 3)));
        (void)snprintf(e->reason, sizeof(e->reason), "%s",
                       text_or_empty(sqlite3_column_text(select, 4)));
    }
    atomic_store(&held_count, entry_count);
    pthread_mutex_unlock(&lock);
    (void)sqlite3_finalize(select);
    return step == SQLITE_DONE || step == SQLITE_ROW ? 0 : -SW_EIO;
}

int isolation_open(const char *path)
{
    isolation_close();
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    int rc = sqlite3_open_v2(path, &conn, flags, NULL) == SQLITE_OK ? 0 : -SW_EIO;
    if (rc == 0 && (sqlite3_busy_timeout(conn, 5000) != SQLITE_OK ||
                    sqlutil_exec(conn, "isolation", schema_sql) != 0 || load_rows() != 0)) {
        rc = -SW_EIO;
    }
    if (rc == 0) {
        is_stopping = false;
        is_dirty = false;
        int err = pthread_create(&writer, NULL, writer_main, NULL);
        rc = err == 0 ? 0 : -err;
        has_writer = err == 0;
    }
    if (rc != 0) {
        log_err(NULL, "isolation: %s: %s", path, conn != NULL ? sqlite3_errmsg(conn) : "?");
        isolation_close();
    }
    return rc;
}

void isolation_close(void)
{
    if (has_writer) {
        pthread_mutex_lock(&lock);
        is_stopping = true;
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&lock);
        (void)pthread_join(writer, NULL);
        has_writer = false;
    }
    if (conn != NULL) {
        (void)sqlite3_close(conn); /* statements are finalized: never busy */
        conn = NULL;
    }
    pthread_mutex_lock(&lock);
    entry_count = 0;
    atomic_store(&held_count, 0);
    is_dirty = false;
    pthread_mutex_unlock(&lock);
}
