#include "obs/cdr_store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "number/spend.h"
#include "obs/cdr.h"
#include "obs/cdr_csv.h"
#include "obs/cdr_journal.h"
#include "obs/cdr_table.h"
#include "obs/cdr_wal.h"
#include "state/sqlutil.h"

#define CDR_DEFAULT_QUEUE       4096u
/* Records in one transaction at most. The batch is pointers into the queue (8 bytes a
 * record, not a copy of 1,392), so a big one costs little memory. */
#define CDR_BATCH               1024
#define CDR_HEARTBEAT_MS        1000u
/* A batch short of CDR_BATCH waits this long for more (issue #13): the system calls of a
 * commit (two pwrites for each page it dirtied, the WAL's locks, a checkpoint's copies)
 * are paid once per batch, and the pages a batch dirties are shared by its records. The
 * journal keeps the records meanwhile, so a crash in the wait loses nothing; the delay
 * costs only how soon a reader sees them, and cdr_store_flush cuts it short. */
#define CDR_LINGER_MS           1000u
/* A new database's page size: the rows a batch appends fill a few big pages rather than
 * many small ones (each page a commit dirties costs the same two pwrites, whatever its
 * size). An existing database keeps its own (WAL mode cannot change it). */
#define CDR_PAGE_SIZE           65536
/* The WAL is checkpointed into the database when it holds this many bytes of pages
 * (SQLite's default is 1000 pages whatever their size: 64 MiB of 64 KiB ones). Below the
 * default for 4 KiB pages, so that in a database shared with the [state] stores the CDR
 * writer checkpoints (its VFS copies runs of pages with one write each: obs/cdr_wal.h). */
#define CDR_CHECKPOINT_BYTES    ((int64_t)2 << 20)
/* The journal is emptied once the writer has caught up and it holds this much; past it
 * the writer stops lingering until it has caught up (under a steady load the queue is
 * never empty after a lingered batch, and the journal grew without end). Half its first
 * size: a steady load never makes it grow. */
#define CDR_JOURNAL_TRUNCATE_AT ((uint64_t)CDR_JOURNAL_INITIAL / 2)

/* A queue array that queue_grow replaced while the writer still read its batch there: the
 * writer frees it once the batch is written. */
struct retired_queue {
    struct call_record *records;
    struct retired_queue *next;
};

struct cdr_store {
    sqlite3 *conn;
    sqlite3_stmt *update; /* a row's every column but its key, found by its key */
    sqlite3_stmt *insert; /* a whole row, when `update` found none */
    sqlite3_stmt *heartbeat;
    sqlite3_stmt *begin; /* prepared once: parsing them was 39,000 instructions a batch */
    sqlite3_stmt *commit;
    struct cdr_csv csv;
    /* What the writer has not committed yet, safe from a kill -9 (obs/cdr_journal.h);
       NULL = none; appended under the lock. */
    struct cdr_journal *journal;
    char *journal_path;     /* the database's path + ".cdrq" */
    bool is_writer_held;    /* test seam: no writer thread (cdr_store_config) */
    bool has_failed_batch;  /* the writer's: the journal is kept until the next start */
    unsigned flush_waiters; /* under the lock: a flush cuts the linger short */
    char node[64];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t done;
    /* A ring: the records the writer is writing (in_flight, just before queue_head), then
       those queued (queue_len from queue_head). Submitters append; the writer's batch
       points into it, so neither side copies a record twice. */
    struct call_record *queue;
    size_t queue_cap;
    size_t queue_head;
    size_t queue_len;
    size_t in_flight;
    struct retired_queue *retired;
    uint64_t queued_seq;  /* records ever queued */
    uint64_t written_seq; /* records the writer finished */
    bool is_stopping;
    bool is_reopen_wanted;
    bool is_thread_started;
    pthread_t thread;
    uint64_t last_heartbeat_ms;
    /* The writer's: its batch, which records of it another record of the same call in it
       supersedes, and the table that finds them (index + 1 by uniqueid, 0 = empty). */
    const struct call_record *batch[CDR_BATCH];
    bool is_superseded[CDR_BATCH];
    uint16_t call_slots[2 * CDR_BATCH];
    _Atomic uint64_t submitted;
    _Atomic uint64_t written;
    _Atomic uint64_t coalesced;
    _Atomic uint64_t grown;
    _Atomic uint64_t interrupted;
    _Atomic uint64_t replayed;
    _Atomic uint64_t errors;
};

static int sql_fail(struct cdr_store *store, sqlite3 *conn, const char *what)
{
    if (store != NULL) {
        atomic_fetch_add_explicit(&store->errors, 1, memory_order_relaxed);
    }
    log_err(NULL, "cdr: %s: %s", what, conn != NULL ? sqlite3_errmsg(conn) : "no database");
    return -SW_EIO;
}

static int exec(struct cdr_store *store, const char *sql)
{
    int rc = sqlutil_exec(store->conn, "cdr", sql);
    if (rc != 0) {
        atomic_fetch_add_explicit(&store->errors, 1, memory_order_relaxed);
    }
    return rc;
}

/* The WAL's checkpoint every CDR_CHECKPOINT_BYTES, whatever the database's page size. */
static int set_checkpoint(struct cdr_store *store)
{
    sqlite3_stmt *stmt = NULL;
    int64_t page_size = 0;
    if (sqlite3_prepare_v2(store->conn, "PRAGMA page_size", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        page_size = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    if (page_size <= 0) {
        return sql_fail(store, store->conn, "page size");
    }
    int64_t pages = CDR_CHECKPOINT_BYTES / page_size;
    return sqlite3_wal_autocheckpoint(store->conn, (int)(pages < 16 ? 16 : pages)) == SQLITE_OK
               ? 0
               : sql_fail(store, store->conn, "autocheckpoint");
}

static int prepare(struct cdr_store *store)
{
    char text[CDR_TABLE_SQL_CAP];
    struct sw_buf sql;
    sw_buf_init(&sql, text, sizeof(text) - 1);
    cdr_table_update_sql(&sql);
    SW_ASSERT(!sql.is_overflow);
    text[sql.len] = '\0';
    if (sqlite3_prepare_v2(store->conn, text, -1, &store->update, NULL) != SQLITE_OK) {
        return sql_fail(store, store->conn, "prepare");
    }
    sw_buf_init(&sql, text, sizeof(text) - 1);
    cdr_table_insert_sql(&sql);
    SW_ASSERT(!sql.is_overflow);
    text[sql.len] = '\0';
    if (sqlite3_prepare_v2(store->conn, text, -1, &store->insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(store->conn,
                           "INSERT OR REPLACE INTO cdr_heartbeat (id, wall_ms) VALUES (1, ?1)", -1,
                           &store->heartbeat, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(store->conn, "BEGIN", -1, &store->begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(store->conn, "COMMIT", -1, &store->commit, NULL) != SQLITE_OK) {
        return sql_fail(store, store->conn, "prepare");
    }
    return 0;
}

/* The last moment the database shows the gateway alive: its heartbeat or its newest time. */
static int64_t last_alive_ms(struct cdr_store *store)
{
    sqlite3_stmt *stmt = NULL;
    int64_t alive = 0;
    if (sqlite3_prepare_v2(
            store->conn,
            "SELECT MAX(COALESCE((SELECT wall_ms FROM cdr_heartbeat WHERE id = 1), 0),"
            " COALESCE((SELECT MAX(MAX(end_ms, answer_ms, setup_ms)) FROM cdr), 0))",
            -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        alive = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return alive;
}

/*
 * Rows still open belong to calls the last run never ended: each is ended at the last
 * moment the gateway was seen alive (never before its answer), marked interrupted, and
 * appended to the CSV file.
 */
static int recover_open_rows(struct cdr_store *store)
{
    char text[CDR_TABLE_SQL_CAP];
    struct sw_buf sql;
    sw_buf_init(&sql, text, sizeof(text) - 1);
    sw_buf_str(&sql, "UPDATE cdr SET state = 'interrupted', hangup_side = 'gateway',"
                     " userfield = 'interrupted', end_ms = MAX(?1, answer_ms),"
                     " \"end\" = strftime('%Y-%m-%d %H:%M:%S', MAX(?1, answer_ms) / 1000,"
                     " 'unixepoch'),"
                     " duration = (MAX(?1, answer_ms) - setup_ms + 500) / 1000,"
                     " billsec = (MAX(?1, answer_ms) - answer_ms + 500) / 1000,"
                     " cost_micro = sw_record_cost(rate_micro, connect_fee_micro,"
                     " first_increment_s, next_increment_s, MAX(?1, answer_ms) - answer_ms)"
                     " WHERE state = 'open' RETURNING ");
    cdr_table_columns(&sql, false);
    SW_ASSERT(!sql.is_overflow);
    text[sql.len] = '\0';
    int64_t alive_ms = last_alive_ms(store);
    sqlite3_stmt *stmt = NULL;
    if (exec(store, "BEGIN") != 0) {
        return -SW_EIO;
    }
    if (sqlite3_prepare_v2(store->conn, text, -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 1, alive_ms) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        (void)exec(store, "ROLLBACK");
        return sql_fail(store, store->conn, "recovery");
    }
    int rc = SQLITE_ROW;
    uint64_t count = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct cdr_row row;
        cdr_table_row(stmt, &row);
        cdr_csv_append(&store->csv, &row);
        count++;
    }
    cdr_csv_flush(&store->csv);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        (void)exec(store, "ROLLBACK");
        return sql_fail(store, store->conn, "recovery");
    }
    if (count > 0) {
        log_notice(NULL, "cdr: %llu call(s) open at the last stop marked interrupted",
                   (unsigned long long)count);
    }
    atomic_fetch_add_explicit(&store->interrupted, count, memory_order_relaxed);
    return exec(store, "COMMIT");
}

static int write_heartbeat(struct cdr_store *store, uint64_t now_ms)
{
    sqlite3_reset(store->heartbeat);
    if (sqlite3_bind_int64(store->heartbeat, 1, (int64_t)now_ms) != SQLITE_OK ||
        sqlite3_step(store->heartbeat) != SQLITE_DONE) {
        return sql_fail(store, store->conn, "heartbeat");
    }
    store->last_heartbeat_ms = now_ms;
    return 0;
}

/* Rewrites the row of the record's call, or inserts it when there is none yet: the one
 * writer keeps a call to one row. */
static bool write_row(struct cdr_store *store, const struct call_record *rec,
                      const struct cdr_row *row)
{
    /* A call's first record: its row, or an open one of an earlier record (the index
     * cdr_open), is replaced without a search. */
    if (rec->state == CALLREC_STATE_OPEN) {
        sqlite3_reset(store->insert);
        return cdr_table_bind(store->insert, row) == SQLITE_OK &&
               sqlite3_step(store->insert) == SQLITE_DONE;
    }
    sqlite3_reset(store->update);
    if (cdr_table_bind(store->update, row) != SQLITE_OK ||
        sqlite3_step(store->update) != SQLITE_DONE) {
        return false;
    }
    if (sqlite3_changes(store->conn) > 0) {
        return true;
    }
    sqlite3_reset(store->insert);
    return cdr_table_bind(store->insert, row) == SQLITE_OK &&
           sqlite3_step(store->insert) == SQLITE_DONE;
}

static uint32_t uniqueid_hash(const char *id)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)id; *c != '\0'; c++) {
        h = (h ^ *c) * 16777619u;
    }
    return h;
}

/*
 * Marks the open records of the batch that a later record of the same call supersedes (its
 * end, when the call ended within the batch): the later row holds all the open one would,
 * so the open one is not written (one row write for the call instead of two). From the
 * last record back, each uniqueid enters the table the first time it is seen.
 */
static void mark_superseded(struct cdr_store *store, const struct call_record *const *recs,
                            size_t count)
{
    const uint32_t mask = (uint32_t)(sizeof(store->call_slots) / sizeof(store->call_slots[0])) - 1;
    SW_ASSERT(count <= CDR_BATCH);
    memset(store->call_slots, 0, sizeof(store->call_slots));
    for (size_t i = count; i-- > 0;) {
        const char *id = recs[i]->uniqueid;
        uint32_t at = uniqueid_hash(id) & mask;
        while (store->call_slots[at] != 0 &&
               strcmp(recs[store->call_slots[at] - 1]->uniqueid, id) != 0) {
            at = (at + 1) & mask;
        }
        store->is_superseded[i] =
            store->call_slots[at] != 0 && recs[i]->state == CALLREC_STATE_OPEN;
        if (store->call_slots[at] == 0) {
            store->call_slots[at] = (uint16_t)(i + 1);
        }
    }
}

/* Runs a statement without results; false (counted, logged) when it failed. */
static bool step_done(struct cdr_store *store, sqlite3_stmt *stmt, const char *what)
{
    sqlite3_reset(stmt);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        (void)sql_fail(store, store->conn, what);
        return false;
    }
    return true;
}

/* Writes a batch in one transaction (with the heartbeat, unless replaying: a replay must
 * not move the last moment the gateway was seen alive), then the CSV lines of the calls
 * that ended. False when the transaction failed. */
static bool write_batch(struct cdr_store *store, const struct call_record *const *recs,
                        size_t count, bool is_replay)
{
    uint64_t now_ms = sw_wall_us() / 1000u;
    if (!step_done(store, store->begin, "begin")) {
        return false;
    }
    mark_superseded(store, recs, count);
    /* The CSV lines of the calls that ended wait for the commit: a failed batch leaves
     * no line. */
    cdr_csv_drop(&store->csv);
    for (size_t i = 0; i < count; i++) {
        if (store->is_superseded[i]) {
            atomic_fetch_add_explicit(&store->coalesced, 1, memory_order_relaxed);
            continue;
        }
        struct cdr_row row;
        cdr_row_from_record(recs[i], &row);
        if (recs[i]->state != CALLREC_STATE_OPEN) {
            cdr_csv_append(&store->csv, &row); /* also when its row fails: the file is a copy */
        }
        if (!write_row(store, recs[i], &row)) {
            (void)sql_fail(store, store->conn, "write");
            continue;
        }
        atomic_fetch_add_explicit(&store->written, 1, memory_order_relaxed);
    }
    if (!is_replay) {
        (void)write_heartbeat(store, now_ms);
    }
    if (!step_done(store, store->commit, "commit")) {
        cdr_csv_drop(&store->csv);
        if (!sqlite3_get_autocommit(store->conn)) {
            (void)exec(store, "ROLLBACK"); /* the journal keeps the batch for the next start */
        }
        return false;
    }
    cdr_csv_flush(&store->csv);
    return true;
}

/* Empties the journal: everything in it is in the database. Under the lock. */
static void journal_truncate(struct cdr_store *store)
{
    if (store->journal != NULL) {
        cdr_journal_reset(store->journal);
    }
}

/* Appends a record to the journal; under the lock. A failure is counted and logged once:
 * the record still goes to the writer. */
static void journal_append(struct cdr_store *store, const struct call_record *rec)
{
    int rc = store->journal != NULL ? cdr_journal_append(store->journal, rec) : 0;
    if (rc != 0 && atomic_fetch_add_explicit(&store->errors, 1, memory_order_relaxed) == 0) {
        log_err(NULL, "cdr: journal %s: %s", store->journal_path, sw_strerror(rc));
    }
}

/* True when the database lacks the record or holds an earlier state of it. */
static bool journal_is_newer(struct cdr_store *store, sqlite3_stmt *lookup,
                             const struct call_record *rec)
{
    sqlite3_reset(lookup);
    if (sqlite3_bind_text(lookup, 1, rec->uniqueid, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(lookup, 2, (int64_t)(rec->setup_us / 1000u)) != SQLITE_OK) {
        return false;
    }
    int rc = sqlite3_step(lookup);
    if (rc == SQLITE_DONE) {
        return true;
    }
    if (rc != SQLITE_ROW) {
        (void)sql_fail(store, store->conn, "journal lookup");
        return false;
    }
    const unsigned char *state = sqlite3_column_text(lookup, 0);
    return rec->state != CALLREC_STATE_OPEN && state != NULL &&
           strcmp((const char *)state, "open") == 0;
}

struct replay {
    struct cdr_store *store;
    sqlite3_stmt *lookup;
    uint64_t replayed;
    bool is_ok;
};

static bool replay_one(void *ctx, const struct call_record *rec)
{
    struct replay *r = ctx;
    if (journal_is_newer(r->store, r->lookup, rec)) {
        r->is_ok = write_batch(r->store, &rec, 1, true);
        r->replayed++;
    }
    return r->is_ok;
}

/* Replays the journal of the last run into the database (records it lacks, or whose end
 * it lacks), then empties it. Before the recovery of open rows. */
static int journal_replay(struct cdr_store *store)
{
    struct replay r = { .store = store, .is_ok = true };
    if (sqlite3_prepare_v2(store->conn,
                           "SELECT state FROM cdr WHERE uniqueid = ?1 AND setup_ms = ?2", -1,
                           &r.lookup, NULL) != SQLITE_OK) {
        return sql_fail(store, store->conn, "journal lookup");
    }
    bool is_torn = false;
    uint64_t read = cdr_journal_replay(store->journal, replay_one, &r, &is_torn);
    sqlite3_finalize(r.lookup);
    if (!r.is_ok) {
        return -SW_EIO; /* the journal stays for the next start */
    }
    if (is_torn) {
        log_warn(NULL, "cdr: journal %s: entry %llu unreadable, replay ends there",
                 store->journal_path, (unsigned long long)read);
    }
    if (r.replayed > 0) {
        log_notice(NULL, "cdr: %llu record(s) replayed from the journal of the last run",
                   (unsigned long long)r.replayed);
    }
    atomic_fetch_add_explicit(&store->replayed, r.replayed, memory_order_relaxed);
    cdr_journal_reset(store->journal);
    return 0;
}

static int journal_open(struct cdr_store *store, const char *database)
{
    size_t len = strlen(database) + sizeof(".cdrq");
    store->journal_path = sw_malloc(len);
    if (store->journal_path == NULL) {
        return -ENOMEM;
    }
    (void)sw_snprintf(store->journal_path, len, "%s.cdrq", database);
    int rc = cdr_journal_open(store->journal_path, &store->journal);
    if (rc != 0) {
        log_err(NULL, "cdr: %s: %s", store->journal_path, sw_strerror(rc));
    }
    return rc;
}

/* Takes up to CDR_BATCH records off the queue, leaving them in place (in flight) until
 * the writer is done with them; under the lock. */
static size_t take_batch(struct cdr_store *store)
{
    size_t count = 0;
    while (count < CDR_BATCH && store->queue_len > 0) {
        store->batch[count++] = &store->queue[store->queue_head];
        store->queue_head = (store->queue_head + 1) % store->queue_cap;
        store->queue_len--;
    }
    store->in_flight = count;
    return count;
}

/* The batch is written: its slots are free again, and so are the arrays the queue grew out
 * of meanwhile; under the lock. */
static void release_batch(struct cdr_store *store)
{
    store->in_flight = 0;
    while (store->retired != NULL) {
        struct retired_queue *next = store->retired->next;
        sw_free(store->retired->records);
        sw_free(store->retired);
        store->retired = next;
    }
}

static void wait_for_work(struct cdr_store *store)
{
    struct timespec until;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    /* A timeout is the heartbeat's turn: the caller checks the queue either way. */
    (void)pthread_cond_timedwait(&store->wake, &store->lock, &until);
}

/* True when the journal wants emptying: the writer catches up rather than lingers (after
 * a failed batch the journal is kept for the next start: no use). */
static bool is_journal_full(const struct cdr_store *store)
{
    return store->journal != NULL && !store->has_failed_batch &&
           cdr_journal_bytes(store->journal) >= CDR_JOURNAL_TRUNCATE_AT;
}

/* Waits (under the lock) until a full batch is queued, CDR_LINGER_MS have passed, or a
 * stop, a flush or the journal wants the records now. */
static void linger(struct cdr_store *store)
{
    struct timespec until;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)CDR_LINGER_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    while (rc == 0 && store->queue_len > 0 && store->queue_len < CDR_BATCH && !store->is_stopping &&
           store->flush_waiters == 0 && !is_journal_full(store)) {
        rc = pthread_cond_timedwait(&store->wake, &store->lock, &until);
    }
}

static void *writer_main(void *arg)
{
    struct cdr_store *store = arg;
    pthread_mutex_lock(&store->lock);
    for (;;) {
        if (store->queue_len == 0 && !store->is_reopen_wanted) {
            if (store->is_stopping) {
                break;
            }
            wait_for_work(store);
        }
        linger(store);
        size_t count = take_batch(store);
        bool is_reopen = store->is_reopen_wanted;
        store->is_reopen_wanted = false;
        pthread_mutex_unlock(&store->lock);
        if (is_reopen) {
            cdr_csv_reopen(&store->csv);
        }
        uint64_t now_ms = sw_wall_us() / 1000u;
        bool is_written = true;
        if (count > 0) {
            is_written = write_batch(store, store->batch, count, false);
        } else if (now_ms >= store->last_heartbeat_ms + CDR_HEARTBEAT_MS) {
            (void)write_heartbeat(store, now_ms);
        }
        pthread_mutex_lock(&store->lock);
        release_batch(store);
        /* Everything journaled is committed when the queue is empty and no batch failed. */
        store->has_failed_batch |= !is_written;
        if (store->queue_len == 0 && is_journal_full(store)) {
            journal_truncate(store);
        }
        store->written_seq += count;
        pthread_cond_broadcast(&store->done);
    }
    pthread_mutex_unlock(&store->lock);
    return NULL;
}

static void store_free(struct cdr_store *store)
{
    sqlite3_finalize(store->update);
    sqlite3_finalize(store->insert);
    sqlite3_finalize(store->heartbeat);
    sqlite3_finalize(store->begin);
    sqlite3_finalize(store->commit);
    if (store->conn != NULL) {
        (void)sqlite3_close(store->conn); /* statements finalized: cannot be busy */
    }
    cdr_csv_close(&store->csv);
    cdr_journal_close(store->journal);
    sw_free(store->journal_path);
    pthread_cond_destroy(&store->done);
    pthread_cond_destroy(&store->wake);
    pthread_mutex_destroy(&store->lock);
    release_batch(store);
    sw_free(store->queue);
    sw_free(store);
}

static int open_database(struct cdr_store *store, const char *path)
{
    /* Call records name people and numbers: the database and its WAL files are the owner's. */
    int rc = sqlutil_make_private(path, "cdr");
    if (rc != 0) {
        return rc;
    }
    /* One thread at a time uses the connection (open, then the writer, then close): no
     * mutex around each of SQLite's calls (a bind took one, 40 to a row). */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    /* cdr_wal_vfs: a commit's WAL frames in one write (obs/cdr_wal.h). */
    if (sqlite3_open_v2(path, &store->conn, flags, cdr_wal_vfs()) != SQLITE_OK) {
        return sql_fail(store, store->conn, path);
    }
    if (sqlite3_busy_timeout(store->conn, 5000) != SQLITE_OK ||
        cdr_table_create(store->conn, CDR_PAGE_SIZE) != 0 || set_checkpoint(store) != 0) {
        atomic_fetch_add_explicit(&store->errors, 1, memory_order_relaxed);
        return -SW_EIO;
    }
    return prepare(store);
}

static int store_init(struct cdr_store *store, const struct cdr_store_config *cfg)
{
    store->csv.fd = -1; /* cdr_csv_open sets it; store_free may come first */
    store->is_writer_held = cfg->is_writer_held;
    store->queue_cap = cfg->queue_cap != 0 ? cfg->queue_cap : CDR_DEFAULT_QUEUE;
    store->queue = sw_calloc(store->queue_cap, sizeof(*store->queue));
    if (cfg->node != NULL) {
        (void)sw_snprintf(store->node, sizeof(store->node), "%s", cfg->node);
    } else if (gethostname(store->node, sizeof(store->node) - 1) != 0) {
        (void)sw_snprintf(store->node, sizeof(store->node), "sipwarden");
    }
    return store->queue != NULL ? 0 : -ENOMEM;
}

int cdr_store_open(const struct cdr_store_config *cfg, struct cdr_store **out)
{
    if (cfg->database == NULL || cfg->database[0] == '\0' || cfg->queue_cap > (1u << 24)) {
        return -SW_EBADARG;
    }
    struct cdr_store *store = sw_calloc(1, sizeof(*store));
    if (store == NULL) {
        return -ENOMEM;
    }
    pthread_mutex_init(&store->lock, NULL);
    pthread_cond_init(&store->wake, NULL);
    pthread_cond_init(&store->done, NULL);
    int rc = store_init(store, cfg);
    if (rc == 0) {
        rc = cdr_csv_open(&store->csv, cfg->csv);
    }
    if (rc == 0) {
        rc = open_database(store, cfg->database);
    }
    if (rc == 0) {
        rc = journal_open(store, cfg->database);
    }
    if (rc == 0) {
        rc = journal_replay(store);
    }
    if (rc == 0) {
        rc = recover_open_rows(store);
    }
    if (rc == 0 && !store->is_writer_held) {
        rc = -pthread_create(&store->thread, NULL, writer_main, store);
        store->is_thread_started = rc == 0;
    }
    if (rc != 0) {
        store_free(store);
        return rc;
    }
    *out = store;
    return 0;
}

void cdr_store_close(struct cdr_store *store)
{
    if (store == NULL) {
        return;
    }
    if (store->is_thread_started) {
        pthread_mutex_lock(&store->lock);
        store->is_stopping = true;
        pthread_cond_signal(&store->wake);
        pthread_mutex_unlock(&store->lock);
        pthread_join(store->thread, NULL);
        if (!store->has_failed_batch) {
            journal_truncate(store); /* the writer wrote the whole queue */
        }
    }
    store_free(store);
}

/* Doubles the queue, keeping its order (the records in flight first); under the lock. The
 * old array stays until the writer's batch, which points into it, is written. False when
 * out of memory. */
static bool queue_grow(struct cdr_store *store)
{
    size_t cap = store->queue_cap * 2;
    struct call_record *bigger = sw_calloc(cap, sizeof(*bigger));
    struct retired_queue *retired = sw_malloc(sizeof(*retired));
    if (bigger == NULL || retired == NULL) {
        sw_free(bigger);
        sw_free(retired);
        return false;
    }
    size_t first = (store->queue_head + store->queue_cap - store->in_flight) % store->queue_cap;
    for (size_t i = 0; i < store->in_flight + store->queue_len; i++) {
        bigger[i] = store->queue[(first + i) % store->queue_cap];
    }
    if (store->in_flight > 0) {
        retired->records = store->queue;
        retired->next = store->retired;
        store->retired = retired;
    } else {
        sw_free(store->queue);
        sw_free(retired);
    }
    store->queue = bigger;
    store->queue_cap = cap;
    store->queue_head = store->in_flight;
    atomic_fetch_add_explicit(&store->grown, 1, memory_order_relaxed);
    log_warn(NULL, "cdr: the writer is behind; record queue grown to %zu", cap);
    return true;
}

void cdr_store_submit(struct cdr_store *store, const struct call_record *rec)
{
    atomic_fetch_add_explicit(&store->submitted, 1, memory_order_relaxed);
    pthread_mutex_lock(&store->lock);
    while (store->in_flight + store->queue_len == store->queue_cap && !queue_grow(store)) {
        /* Out of memory: wait for the writer rather than lose a call record. */
        pthread_cond_wait(&store->done, &store->lock);
    }
    struct call_record *slot =
        &store->queue[(store->queue_head + store->queue_len) % store->queue_cap];
    *slot = *rec;
    (void)sw_snprintf(slot->node, sizeof(slot->node), "%s", store->node);
    journal_append(store, slot);
    store->queue_len++;
    store->queued_seq++;
    /* The writer waits for a first record, then lingers for a full batch: a signal for
     * each record in between would only wake it to sleep again. */
    if (store->queue_len == 1 || store->queue_len == CDR_BATCH) {
        pthread_cond_signal(&store->wake);
    }
    pthread_mutex_unlock(&store->lock);
}

void cdr_store_reopen(struct cdr_store *store)
{
    pthread_mutex_lock(&store->lock);
    store->is_reopen_wanted = true;
    pthread_cond_signal(&store->wake);
    pthread_mutex_unlock(&store->lock);
}

bool cdr_store_flush(struct cdr_store *store, unsigned timeout_ms)
{
    struct timespec until;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000u);
    until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&store->lock);
    uint64_t target = store->queued_seq;
    store->flush_waiters++;
    pthread_cond_signal(&store->wake); /* out of its linger */
    int rc = 0;
    while (store->written_seq < target && rc == 0) {
        rc = pthread_cond_timedwait(&store->done, &store->lock, &until);
    }
    store->flush_waiters--;
    bool is_done = store->written_seq >= target;
    pthread_mutex_unlock(&store->lock);
    return is_done;
}

void cdr_store_stats_get(struct cdr_store *store, struct cdr_store_stats *out)
{
    out->submitted = atomic_load_explicit(&store->submitted, memory_order_relaxed);
    out->written = atomic_load_explicit(&store->written, memory_order_relaxed);
    out->coalesced = atomic_load_explicit(&store->coalesced, memory_order_relaxed);
    out->lines = atomic_load_explicit(&store->csv.lines, memory_order_relaxed);
    out->grown = atomic_load_explicit(&store->grown, memory_order_relaxed);
    out->interrupted = atomic_load_explicit(&store->interrupted, memory_order_relaxed);
    out->replayed = atomic_load_explicit(&store->replayed, memory_order_relaxed);
    out->errors = atomic_load_explicit(&store->errors, memory_order_relaxed) +
                  atomic_load_explicit(&store->csv.errors, memory_order_relaxed);
}
