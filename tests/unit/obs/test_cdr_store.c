#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/time.h"
#include "number/spend.h"
#include "obs/cdr.h"
#include "obs/cdr_journal.h"
#include "obs/cdr_store.h"
#include "obs/cdr_table.h"
#include "support/unit.h"

static char dir[64];
static char db_path[128];
static char csv_path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-cdr-store-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(db_path, sizeof(db_path), "%s/cdr.db", dir);
    (void)snprintf(csv_path, sizeof(csv_path), "%s/Master.csv", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const files[] = { "cdr.db",      "cdr.db-wal", "cdr.db-shm",
                                         "cdr.db.cdrq", "Master.csv", "Master.csv.1" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char file[160];
        (void)snprintf(file, sizeof(file), "%s/%s", dir, files[i]);
        (void)unlink(file);
    }
    return rmdir(dir);
}

static struct cdr_store *open_store(size_t queue_cap)
{
    struct cdr_store_config cfg = {
        .database = db_path, .csv = csv_path, .node = "node-a", .queue_cap = queue_cap
    };
    struct cdr_store *store = NULL;
    assert_int_equal(cdr_store_open(&cfg, &store), 0);
    return store;
}

static struct call_record record_of(unsigned n, uint64_t setup_us, bool is_answered)
{
    struct call_record rec;
    memset(&rec, 0, sizeof(rec));
    (void)snprintf(rec.uniqueid, sizeof(rec.uniqueid), "call-%u", n);
    CALLREC_SET(rec.dialled, "15551230050");
    rec.setup_us = setup_us;
    rec.answer_us = is_answered ? setup_us + 1000000u : 0;
    rec.final_code = is_answered ? 200 : 486;
    rec.state = CALLREC_STATE_OPEN;
    return rec;
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    size_t lines = 0;
    for (int c = fgetc(f); c != EOF; c = fgetc(f)) {
        lines += c == '\n';
    }
    (void)fclose(f);
    return lines;
}

struct collected {
    size_t count;
    char state[8][16];
    int64_t billsec[8];
    int64_t end_ms[8];
    char node[16];
};

static int collect(void *ctx, const struct cdr_row *row)
{
    struct collected *c = ctx;
    if (c->count < 8) {
        (void)snprintf(c->state[c->count], sizeof(c->state[0]), "%s",
                       row->values[cdr_column_find("state")].text);
        c->billsec[c->count] = row->values[cdr_column_find("billsec")].num;
        c->end_ms[c->count] = row->values[cdr_column_find("end_ms")].num;
        (void)snprintf(c->node, sizeof(c->node), "%s", row->values[cdr_column_find("node")].text);
    }
    c->count++;
    return 0;
}

static int read_all(int64_t since_ms, int64_t until_ms, struct collected *c, char *error,
                    size_t cap)
{
    struct cdr_query query = { .database = db_path, .since_ms = since_ms, .until_ms = until_ms };
    return cdr_table_read(&query, collect, c, error, cap);
}

/*
 * A call answered (row open) and one that ended: after a stop without the first ending
 * (a crash), the next open marks it interrupted, ends it no earlier than its answer and
 * writes its CSV line. Files are the owner's only.
 */
static void test_cdr_store_open_rows_interrupted(void **state)
{
    (void)state;
    uint64_t now_us = 1795707001000000ull;
    struct cdr_store *store = open_store(0);
    struct call_record open_call = record_of(1, now_us, true);
    struct call_record done = record_of(2, now_us + 1000u, true);
    cdr_store_submit(store, &done); /* its answer: open */
    done.state = CALLREC_STATE_COMPLETE;
    done.end_us = done.answer_us + 30000000u;
    cdr_store_submit(store, &done);
    cdr_store_submit(store, &open_call);
    assert_true(cdr_store_flush(store, 5000));
    struct cdr_store_stats stats;
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.submitted, 3);
    /* The first call's open record may share a batch with its end, which supersedes it. */
    assert_int_equal(stats.written + stats.coalesced, 3);
    assert_int_equal(stats.lines, 1); /* only the call that ended */
    cdr_store_close(store);
    assert_int_equal(count_lines(csv_path), 1);

    store = open_store(0);
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.interrupted, 1);
    cdr_store_close(store);
    assert_int_equal(count_lines(csv_path), 2);

    struct collected c = { 0 };
    char error[256];
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.state[0], "interrupted");
    assert_true(c.end_ms[0] >= (int64_t)(open_call.answer_us / 1000u));
    assert_string_equal(c.state[1], "complete");
    assert_int_equal(c.billsec[1], 30);
    assert_string_equal(c.node, "node-a");
    struct stat st;
    assert_int_equal(stat(db_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(csv_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

struct spend_sum {
    size_t rows;
    int64_t day;
    int64_t month;
    char trunk[16];
};

static void sum_spend(void *ctx, const char *account, const char *trunk, int64_t day_micro,
                      int64_t month_micro)
{
    struct spend_sum *sum = ctx;
    assert_string_equal(account, "");
    (void)snprintf(sum->trunk, sizeof(sum->trunk), "%s", trunk);
    sum->rows++;
    sum->day += day_micro;
    sum->month += month_micro;
}

struct priced {
    int64_t cost[4];
    int64_t duration_ms[4];
    size_t count;
};

static int collect_cost(void *ctx, const struct cdr_row *row)
{
    struct priced *p = ctx;
    if (p->count < 4) {
        p->cost[p->count] = row->values[cdr_column_find("cost_micro")].num;
        p->duration_ms[p->count] = row->values[cdr_column_find("end_ms")].num -
                                   row->values[cdr_column_find("answer_ms")].num;
    }
    p->count++;
    return 0;
}

/*
 * Spend survives a crash (issue #11): a rated call open at the crash is priced by the
 * recovery up to the last moment the gateway was seen alive, with the same formula as a
 * call that ended, and the spend read back sums both.
 */
static void test_cdr_store_prices_recovered_calls(void **state)
{
    (void)state;
    uint64_t setup_us = sw_wall_us() - 120000000u; /* two minutes ago */
    struct cdr_store *store = open_store(0);
    struct call_record calls[2] = { record_of(1, setup_us, true), record_of(2, setup_us, true) };
    for (size_t i = 0; i < 2; i++) {
        CALLREC_SET(calls[i].policy.trunk, "t1");
        calls[i].policy.rate_micro = 1200000; /* 0.02 a second */
        calls[i].policy.connect_fee_micro = 10000;
        calls[i].policy.first_increment_s = 1;
        calls[i].policy.next_increment_s = 1;
        cdr_store_submit(store, &calls[i]);
    }
    calls[1].state = CALLREC_STATE_COMPLETE;
    calls[1].end_us = calls[1].answer_us + 30000000u;
    calls[1].policy.cost_micro = spend_record_cost(1200000, 10000, 1, 1, 30000);
    cdr_store_submit(store, &calls[1]);
    assert_true(cdr_store_flush(store, 5000));
    cdr_store_close(store); /* call 1 still open: as after kill -9 */

    store = open_store(0);
    cdr_store_close(store);
    struct priced priced = { 0 };
    struct cdr_query query = { .database = db_path, .since_ms = 0, .until_ms = INT64_MAX };
    char error[256];
    assert_int_equal(cdr_table_read(&query, collect_cost, &priced, error, sizeof(error)), 0);
    assert_int_equal(priced.count, 2);
    assert_int_equal(priced.cost[1], 610000);
    assert_true(priced.duration_ms[0] >= 119000);
    assert_int_equal(priced.cost[0],
                     spend_record_cost(1200000, 10000, 1, 1, (uint64_t)priced.duration_ms[0]));
    struct spend_sum sum = { 0 };
    int64_t now_ms = (int64_t)(sw_wall_us() / 1000u);
    struct cdr_spend_query spend = { db_path, now_ms - 3600000, now_ms - (int64_t)7200000 * 2 };
    assert_int_equal(cdr_table_read_spend(&spend, sum_spend, &sum, error, sizeof(error)), 0);
    assert_int_equal(sum.rows, 1);
    assert_string_equal(sum.trunk, "t1");
    assert_int_equal(sum.day, priced.cost[0] + priced.cost[1]);
    assert_int_equal(sum.month, sum.day);
    /* Ended before the day began: in the month only. */
    memset(&sum, 0, sizeof(sum));
    spend.day_start_ms = now_ms + 1000;
    spend.month_start_ms = 0;
    assert_int_equal(cdr_table_read_spend(&spend, sum_spend, &sum, error, sizeof(error)), 0);
    assert_int_equal(sum.day, 0);
    assert_int_equal(sum.month, priced.cost[0] + priced.cost[1]);
}

/* Another process (python3's sqlite3 module: a fork of this one would share its SQLite
 * state) opens the database, counts the records and closes it, as `sqlite3` or
 * `sipwarden cdr export` do. Returns the count. */
static int count_from_another_process(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execlp("python3", "python3", "-c",
               "import sqlite3, sys\n"
               "sys.exit(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM cdr')"
               ".fetchone()[0])",
               db_path, (char *)NULL);
        _exit(100);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/*
 * The ban store holds the same database file: opening the records must not drop its
 * locks (closing any descriptor of a file drops the process's POSIX locks), or a reader
 * in another process believes it is the last, checkpoints and deletes the WAL that the
 * writer keeps appending to, and the records written after are lost.
 */
static void test_cdr_store_keeps_the_wal_of_a_shared_database(void **state)
{
    (void)state;
    sqlite3 *other = NULL; /* the ban store's connection, opened first */
    assert_int_equal(sqlite3_open(db_path, &other), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(other, "PRAGMA journal_mode=WAL; CREATE TABLE t (x);", NULL, NULL, NULL),
        SQLITE_OK);
    struct cdr_store *store = open_store(0);
    struct call_record first = record_of(1, 1795707001000000ull, true);
    cdr_store_submit(store, &first);
    assert_true(cdr_store_flush(store, 5000));
    assert_int_equal(count_from_another_process(), 1);
    struct call_record second = record_of(2, 1795707002000000ull, true);
    cdr_store_submit(store, &second);
    assert_true(cdr_store_flush(store, 5000));
    assert_int_equal(count_from_another_process(), 2);
    cdr_store_close(store);
    sqlite3_close(other);
}

/* A queue of 2 and a burst of 300 records: it grows, and every record is written. */
static void test_cdr_store_never_drops(void **state)
{
    (void)state;
    struct cdr_store *store = open_store(2);
    for (unsigned i = 0; i < 300; i++) {
        struct call_record rec = record_of(i, 1795707001000000ull + i * 1000ull, false);
        rec.state = CALLREC_STATE_COMPLETE;
        rec.end_us = rec.setup_us + 500u;
        cdr_store_submit(store, &rec);
    }
    assert_true(cdr_store_flush(store, 10000));
    struct cdr_store_stats stats;
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.written, 300);
    assert_true(stats.grown > 0);
    assert_int_equal(stats.errors, 0);
    cdr_store_close(store);
    struct collected c = { 0 };
    char error[256];
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 300);
    /* The time window selects by setup time: [since, until). */
    memset(&c, 0, sizeof(c));
    assert_int_equal(read_all(1795707001010, 1795707001020, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 10);
    assert_int_equal(count_lines(csv_path), 300);
}

/* Rotation: rename the file, reopen, and the next record goes to a new file. */
static void test_cdr_store_reopen(void **state)
{
    (void)state;
    struct cdr_store *store = open_store(0);
    struct call_record rec = record_of(1, 1795707001000000ull, false);
    rec.state = CALLREC_STATE_COMPLETE;
    cdr_store_submit(store, &rec);
    assert_true(cdr_store_flush(store, 5000));
    char rotated[160];
    (void)snprintf(rotated, sizeof(rotated), "%s.1", csv_path);
    assert_int_equal(rename(csv_path, rotated), 0);
    cdr_store_reopen(store);
    rec = record_of(2, 1795707002000000ull, false);
    rec.state = CALLREC_STATE_COMPLETE;
    cdr_store_submit(store, &rec);
    assert_true(cdr_store_flush(store, 5000));
    cdr_store_close(store);
    assert_int_equal(count_lines(rotated), 1);
    assert_int_equal(count_lines(csv_path), 1);
}

/*
 * A kill -9 while the writer lags: the records submitted but never written (no writer
 * here) are replayed from the journal at the next open: a call that ended is complete
 * with its CSV line, one still answered is marked interrupted, and the heartbeat of the
 * last run stays the moment the gateway was last seen (the replay does not move it); the
 * journal is emptied (a torn entry: unit.obs.cdr_journal).
 */
static void test_cdr_store_journal_replays_what_the_writer_lagged(void **state)
{
    (void)state;
    uint64_t t0 = sw_wall_us() - 60000000u;
    struct cdr_store_config held = {
        .database = db_path, .csv = csv_path, .node = "node-a", .is_writer_held = true
    };
    struct cdr_store *store = NULL;
    assert_int_equal(cdr_store_open(&held, &store), 0);
    struct call_record ended = record_of(1, t0, true);
    cdr_store_submit(store, &ended);
    ended.end_us = t0 + 3000000u;
    ended.state = CALLREC_STATE_COMPLETE;
    ended.hangup_side = CALLREC_SIDE_CALLER;
    cdr_store_submit(store, &ended);
    struct call_record open = record_of(2, t0 + 1000000u, true);
    cdr_store_submit(store, &open);
    cdr_store_close(store); /* no writer: as if killed before it wrote anything */

    char journal[160];
    (void)snprintf(journal, sizeof(journal), "%s.cdrq", db_path);
    struct stat st;
    assert_int_equal(stat(journal, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    store = open_store(0);
    struct cdr_store_stats stats;
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.replayed, 3);
    assert_int_equal(stats.interrupted, 1);
    cdr_store_close(store);
    store = open_store(0);
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.replayed, 0);
    cdr_store_close(store);

    struct collected c;
    memset(&c, 0, sizeof(c));
    char error[128];
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.state[0], "complete");
    assert_int_equal(c.billsec[0], 2);
    assert_string_equal(c.state[1], "interrupted");
    /* Ended at the newest time the table held (the other call's end), not at this open. */
    assert_int_equal(c.end_ms[1], (int64_t)((t0 + 3000000u) / 1000u));
    assert_int_equal(count_lines(csv_path), 2);

    /* A second open finds nothing to replay. */
    store = open_store(0);
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.replayed, 0);
    cdr_store_close(store);
}

/* The open and the end of a call in one batch: one row, the end's; one CSV line. */
static void test_cdr_store_coalesces_a_call_within_a_batch(void **state)
{
    (void)state;
    struct cdr_store *store = open_store(0);
    struct call_record rec = record_of(1, 1795707001000000ull, true);
    cdr_store_submit(store, &rec);
    rec.state = CALLREC_STATE_COMPLETE;
    rec.end_us = rec.answer_us + 5000000u;
    rec.hangup_side = CALLREC_SIDE_CALLEE;
    cdr_store_submit(store, &rec);
    struct call_record other = record_of(2, 1795707002000000ull, true);
    cdr_store_submit(store, &other); /* still open: written as such */
    assert_true(cdr_store_flush(store, 5000));
    struct cdr_store_stats stats;
    cdr_store_stats_get(store, &stats);
    /* The linger (a second) outlasts the three submissions: one batch. */
    assert_int_equal(stats.coalesced, 1);
    assert_int_equal(stats.written, 2);
    assert_int_equal(stats.lines, 1);
    cdr_store_close(store);
    struct collected c = { 0 };
    char error[256];
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.state[0], "complete");
    assert_int_equal(c.billsec[0], 5);
    assert_string_equal(c.state[1], "open");
    assert_int_equal(count_lines(csv_path), 1);
}

/*
 * The writer lingers (a second) for a fuller batch, but a flush does not wait for it: the
 * record is readable when the flush returns, well within the linger. The end of a call
 * written in a later batch rewrites its row (one row per call).
 */
static void test_cdr_store_flush_cuts_the_linger_short(void **state)
{
    (void)state;
    struct cdr_store *store = open_store(0);
    struct call_record rec = record_of(1, 1795707001000000ull, true);
    cdr_store_submit(store, &rec);
    uint64_t start_us = sw_mono_us();
    assert_true(cdr_store_flush(store, 5000));
    assert_true(sw_mono_us() - start_us < 500000u);
    struct collected c = { 0 };
    char error[256];
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.state[0], "open");
    rec.state = CALLREC_STATE_COMPLETE;
    rec.end_us = rec.answer_us + 7000000u;
    cdr_store_submit(store, &rec);
    assert_true(cdr_store_flush(store, 5000));
    memset(&c, 0, sizeof(c));
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.state[0], "complete");
    assert_int_equal(c.billsec[0], 7);
    struct cdr_store_stats stats;
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.written, 2);
    assert_int_equal(stats.coalesced, 0);
    cdr_store_close(store);
}

/*
 * kill -9 while the writer lingers over a batch (a child process with a running writer):
 * nothing was committed, and the next open replays every record from the journal.
 */
static void test_cdr_store_kill_in_the_linger_loses_nothing(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cdr_store_config cfg = { .database = db_path, .csv = csv_path, .node = "node-a" };
        struct cdr_store *store = NULL;
        if (cdr_store_open(&cfg, &store) != 0) {
            _exit(1);
        }
        for (unsigned i = 0; i < 5; i++) {
            struct call_record rec = record_of(i, 1795707001000000ull + i * 1000ull, true);
            rec.state = i < 3 ? CALLREC_STATE_COMPLETE : CALLREC_STATE_OPEN;
            rec.end_us = i < 3 ? rec.answer_us + 2000000u : 0;
            cdr_store_submit(store, &rec);
        }
        (void)raise(SIGKILL);
        _exit(2);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(count_lines(csv_path), 0); /* nothing committed before the kill */

    struct cdr_store *store = open_store(0);
    struct cdr_store_stats stats;
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.replayed, 5);
    assert_int_equal(stats.interrupted, 2);
    cdr_store_close(store);
    struct collected c = { 0 };
    char error[256];
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 5);
    assert_string_equal(c.state[0], "complete");
    assert_string_equal(c.state[4], "interrupted");
    assert_int_equal(count_lines(csv_path), 5);
}

/*
 * A database made before issue #13 (uniqueid its primary key, an index over every row's
 * state, fewer columns): the missing columns are added, the state index gives way to the
 * open rows' one, and a call's two records still make one row.
 */
static void test_cdr_store_upgrades_an_older_table(void **state)
{
    (void)state;
    sqlite3 *old = NULL;
    assert_int_equal(sqlite3_open(db_path, &old), SQLITE_OK);
    assert_int_equal(sqlite3_exec(old,
                                  "PRAGMA journal_mode=WAL; CREATE TABLE cdr (uniqueid TEXT NOT "
                                  "NULL DEFAULT '' PRIMARY KEY, setup_ms INTEGER NOT NULL "
                                  "DEFAULT 0, state TEXT NOT NULL DEFAULT '');"
                                  " CREATE INDEX cdr_state ON cdr (state);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_close(old), SQLITE_OK);
    struct cdr_store *store = open_store(0);
    struct call_record rec = record_of(1, 1795707001000000ull, true);
    cdr_store_submit(store, &rec);
    assert_true(cdr_store_flush(store, 5000));
    rec.state = CALLREC_STATE_COMPLETE;
    rec.end_us = rec.answer_us + 4000000u;
    cdr_store_submit(store, &rec);
    assert_true(cdr_store_flush(store, 5000));
    cdr_store_close(store);
    struct collected c = { 0 };
    char error[256];
    assert_int_equal(read_all(0, INT64_MAX, &c, error, sizeof(error)), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.state[0], "complete");
    assert_int_equal(c.billsec[0], 4);
    assert_int_equal(sqlite3_open(db_path, &old), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(old,
                                        "SELECT group_concat(name) FROM (SELECT name FROM "
                                        "sqlite_master WHERE type = 'index' ORDER BY name)",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0),
                        "cdr_open,cdr_setup,sqlite_autoindex_cdr_1");
    sqlite3_finalize(stmt);
    assert_int_equal(sqlite3_close(old), SQLITE_OK);
}

/*
 * A steady load (a record a millisecond, more than the journal's first size in all): the
 * queue is never empty after a lingered batch, yet the journal is emptied on the way
 * (the writer catches up once it holds half its size) and never grows.
 */
static void test_cdr_store_journal_stays_small_under_a_steady_load(void **state)
{
    (void)state;
    struct cdr_store *store = open_store(0);
    unsigned count = (unsigned)(CDR_JOURNAL_INITIAL / sizeof(struct call_record)) + 200u;
    for (unsigned i = 0; i < count; i++) {
        struct call_record rec = record_of(i, 1795707001000000ull + i * 1000ull, false);
        rec.state = CALLREC_STATE_COMPLETE;
        cdr_store_submit(store, &rec);
        (void)usleep(1000);
    }
    assert_true(cdr_store_flush(store, 10000));
    char journal[160];
    (void)snprintf(journal, sizeof(journal), "%s.cdrq", db_path);
    struct stat st;
    assert_int_equal(stat(journal, &st), 0);
    assert_int_equal(st.st_size, CDR_JOURNAL_INITIAL);
    struct cdr_store_stats stats;
    cdr_store_stats_get(store, &stats);
    assert_int_equal(stats.written, count);
    cdr_store_close(store);
}

static void test_cdr_store_bad_arguments(void **state)
{
    (void)state;
    struct cdr_store *store = NULL;
    struct cdr_store_config none = { 0 };
    assert_int_not_equal(cdr_store_open(&none, &store), 0);
    struct cdr_store_config bad = { .database = "/nonexistent-dir/x/cdr.db" };
    assert_int_not_equal(cdr_store_open(&bad, &store), 0);
    struct collected c = { 0 };
    char error[256] = "";
    struct cdr_query missing = { .database = "/nonexistent-dir/x/cdr.db", .until_ms = 1 };
    assert_int_not_equal(cdr_table_read(&missing, collect, &c, error, sizeof(error)), 0);
    assert_true(error[0] != '\0');
    cdr_store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cdr_store_open_rows_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_prices_recovered_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_keeps_the_wal_of_a_shared_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_never_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_journal_replays_what_the_writer_lagged,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_coalesces_a_call_within_a_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_flush_cuts_the_linger_short, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_kill_in_the_linger_loses_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_upgrades_an_older_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cdr_store_journal_stays_small_under_a_steady_load,
                                        setup, teardown),
        cmocka_unit_test(test_cdr_store_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
