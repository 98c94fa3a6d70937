/*
 * The call-record table in SQL (obs/cdr_table.h): its schema and upgrades, the text of the
 * writer's statements, a row's binding and reading, and the readers.
 */
#include "obs/cdr_table.h"

#include <sqlite3.h>
#include <stdint.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "number/spend.h"
#include "obs/cdr.h"
#include "state/sqlutil.h"

/* "col1", "col2", ... (every column name quoted: "end" is an SQL keyword). */
void cdr_table_columns(struct sw_buf *sql, bool with_types)
{
    for (size_t i = 0; i < cdr_column_count(); i++) {
        sw_buf_fmt(sql, "%s\"%s\"", i > 0 ? ", " : "", cdr_column_name(i));
        if (with_types) {
            sw_buf_str(sql, cdr_column_type(i) == CDR_INT ? " INTEGER NOT NULL DEFAULT 0"
                                                          : " TEXT NOT NULL DEFAULT ''");
        }
    }
}

static int create_schema(sqlite3 *conn, int page_size)
{
    char text[CDR_TABLE_SQL_CAP];
    struct sw_buf sql;
    sw_buf_init(&sql, text, sizeof(text) - 1);
    sw_buf_fmt(&sql,
               "PRAGMA page_size=%d; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               " CREATE TABLE IF NOT EXISTS cdr (",
               page_size);
    /* No index on uniqueid (a database made before issue #13 has one, its primary key):
     * uniqueids are random, so each call's entry went to a page of its own, one more page
     * written per call whatever the batch. The writer finds a row by setup_ms, whose index
     * grows at its end, and keeps uniqueid unique itself (write_row). */
    cdr_table_columns(&sql, true);
    /* Only the recovery asks for the open rows, and few rows are open at any time: a
     * partial index holds just those (an index over every row's state was two more page
     * writes for each record, deleting and inserting its entry). Unique: an open record
     * replaces the open row of its call without searching for it first. */
    sw_buf_str(&sql, "); CREATE INDEX IF NOT EXISTS cdr_setup ON cdr (setup_ms);"
                     " DROP INDEX IF EXISTS cdr_state;"
                     " CREATE UNIQUE INDEX IF NOT EXISTS cdr_open ON cdr (uniqueid)"
                     " WHERE state = 'open';"
                     " CREATE TABLE IF NOT EXISTS cdr_heartbeat"
                     " (id INTEGER PRIMARY KEY, wall_ms INTEGER NOT NULL);");
    SW_ASSERT(!sql.is_overflow);
    text[sql.len] = '\0';
    return sqlutil_exec(conn, "cdr", text);
}

/* True when the table `cdr` has the column `name`. */
static bool has_column(sqlite3 *conn, const char *name)
{
    sqlite3_stmt *stmt = NULL;
    bool is_found = false;
    if (sqlite3_prepare_v2(conn, "SELECT 1 FROM pragma_table_info('cdr') WHERE name = ?1", -1,
                           &stmt, NULL) == SQLITE_OK &&
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) == SQLITE_OK) {
        is_found = sqlite3_step(stmt) == SQLITE_ROW;
    }
    sqlite3_finalize(stmt);
    return is_found;
}

/* A database from an earlier version lacks the columns added since (the rate's parts,
 * issue #11): they are added with their default. */
static int add_missing_columns(sqlite3 *conn)
{
    for (size_t i = 0; i < cdr_column_count(); i++) {
        if (has_column(conn, cdr_column_name(i))) {
            continue;
        }
        char sql[160];
        (void)sw_snprintf(sql, sizeof(sql), "ALTER TABLE cdr ADD COLUMN \"%s\" %s",
                          cdr_column_name(i),
                          cdr_column_type(i) == CDR_INT ? "INTEGER NOT NULL DEFAULT 0"
                                                        : "TEXT NOT NULL DEFAULT ''");
        if (sqlutil_exec(conn, "cdr", sql) != 0) {
            return -SW_EIO;
        }
    }
    return 0;
}

/* sw_record_cost(rate, connect_fee, first_s, next_s, duration_ms): spend_record_cost() in
 * SQL, so that a recovered record is priced by the same formula as a completed one. */
static void sql_record_cost(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    SW_ASSERT(argc == 5);
    int64_t duration_ms = sqlite3_value_int64(argv[4]);
    int64_t first = sqlite3_value_int64(argv[2]);
    int64_t next = sqlite3_value_int64(argv[3]);
    if (duration_ms <= 0 || first <= 0 || next <= 0 || first > UINT32_MAX || next > UINT32_MAX) {
        sqlite3_result_int64(ctx, 0);
        return;
    }
    sqlite3_result_int64(ctx, spend_record_cost(sqlite3_value_int64(argv[0]),
                                                sqlite3_value_int64(argv[1]), (uint32_t)first,
                                                (uint32_t)next, (uint64_t)duration_ms));
}

int cdr_table_add_functions(sqlite3 *conn)
{
    return sqlite3_create_function(conn, "sw_record_cost", 5, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   NULL, sql_record_cost, NULL, NULL) == SQLITE_OK
               ? 0
               : -SW_EIO;
}

int cdr_table_create(sqlite3 *conn, int page_size)
{
    int rc = create_schema(conn, page_size);
    if (rc == 0) {
        rc = add_missing_columns(conn);
    }
    return rc == 0 ? cdr_table_add_functions(conn) : -SW_EIO;
}

/*
 * A record's row is found by uniqueid and setup_ms (both fixed for a call: the final
 * record rewrites the open one's row in place, leaving setup_ms's index alone) and
 * rewritten with every other column; a record whose row is not there yet is inserted.
 * Parameter ?N is column N-1 in both statements, so one binding serves either.
 */
void cdr_table_update_sql(struct sw_buf *sql)
{
    sw_buf_str(sql, "UPDATE cdr SET ");
    size_t uniqueid = cdr_column_find("uniqueid");
    size_t setup_ms = cdr_column_find("setup_ms");
    bool is_first = true;
    for (size_t i = 0; i < cdr_column_count(); i++) {
        if (i != uniqueid && i != setup_ms) {
            sw_buf_fmt(sql, "%s\"%s\" = ?%zu", is_first ? "" : ", ", cdr_column_name(i), i + 1);
            is_first = false;
        }
    }
    sw_buf_fmt(sql, " WHERE uniqueid = ?%zu AND setup_ms = ?%zu", uniqueid + 1, setup_ms + 1);
}

void cdr_table_insert_sql(struct sw_buf *sql)
{
    sw_buf_str(sql, "INSERT OR REPLACE INTO cdr (");
    cdr_table_columns(sql, false);
    sw_buf_str(sql, ") VALUES (");
    for (size_t i = 0; i < cdr_column_count(); i++) {
        sw_buf_fmt(sql, "%s?%zu", i > 0 ? ", " : "", i + 1);
    }
    sw_buf_str(sql, ")");
}

/* Binds a row's values to `stmt` (?1 = the first column). */
int cdr_table_bind(sqlite3_stmt *stmt, const struct cdr_row *row)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < cdr_column_count() && rc == SQLITE_OK; i++) {
        int at = (int)i + 1;
        if (cdr_column_type(i) == CDR_INT) {
            rc = sqlite3_bind_int64(stmt, at, row->values[i].num);
        } else {
            rc = sqlite3_bind_text(stmt, at, row->values[i].text, -1, SQLITE_STATIC);
        }
    }
    return rc;
}

/* The values of a result row whose columns are cdr's, in order; borrows `stmt`. */
void cdr_table_row(sqlite3_stmt *stmt, struct cdr_row *row)
{
    memset(row, 0, sizeof(*row));
    for (size_t i = 0; i < cdr_column_count(); i++) {
        if (cdr_column_type(i) == CDR_INT) {
            row->values[i].num = sqlite3_column_int64(stmt, (int)i);
            row->values[i].text = "";
        } else {
            const unsigned char *text = sqlite3_column_text(stmt, (int)i);
            row->values[i].text = text != NULL ? (const char *)text : "";
        }
    }
}

/* A read-only query of one database; `error` (cap bytes) says why it failed. */
struct reading {
    const char *database;
    sqlite3 *conn;
    sqlite3_stmt *stmt;
    char *error;
    size_t cap;
};

/* Opens the database and prepares `sql` with ?1 and ?2 bound. True, or false with the
   reason in r->error (query_close still to call). */
static bool query_open(struct reading *r, const char *sql, int64_t first, int64_t second)
{
    if (sqlite3_open_v2(r->database, &r->conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(r->conn, 5000) != SQLITE_OK ||
        sqlite3_prepare_v2(r->conn, sql, -1, &r->stmt, NULL) != SQLITE_OK ||
        sqlite3_bind_int64(r->stmt, 1, first) != SQLITE_OK ||
        sqlite3_bind_int64(r->stmt, 2, second) != SQLITE_OK) {
        (void)sw_snprintf(r->error, r->cap, "%s: %s", r->database,
                          r->conn != NULL ? sqlite3_errmsg(r->conn) : "cannot open");
        return false;
    }
    return true;
}

/* Ends the query: rc, or -SW_EIO when its rows ended on an error (`step`, not DONE). */
static int query_close(struct reading *r, int step, int rc)
{
    if (rc == 0 && step != SQLITE_DONE) {
        (void)sw_snprintf(r->error, r->cap, "%s: %s", r->database, sqlite3_errmsg(r->conn));
        rc = -SW_EIO;
    }
    sqlite3_finalize(r->stmt);
    (void)sqlite3_close(r->conn);
    return rc;
}

int cdr_table_read(const struct cdr_query *query, cdr_row_fn *fn, void *ctx, char *error,
                   size_t cap)
{
    char text[CDR_TABLE_SQL_CAP];
    struct sw_buf sql;
    sw_buf_init(&sql, text, sizeof(text) - 1);
    sw_buf_str(&sql, "SELECT ");
    cdr_table_columns(&sql, false);
    sw_buf_str(&sql, " FROM cdr WHERE setup_ms >= ?1 AND setup_ms < ?2 ORDER BY setup_ms");
    SW_ASSERT(!sql.is_overflow);
    text[sql.len] = '\0';
    if (cap > 0) {
        error[0] = '\0'; /* no reason yet */
    }
    struct reading r = { .database = query->database, .error = error, .cap = cap };
    int rc = query_open(&r, text, query->since_ms, query->until_ms) ? 0 : -SW_EIO;
    int step = SQLITE_ROW;
    while (rc == 0 && (step = sqlite3_step(r.stmt)) == SQLITE_ROW) {
        struct cdr_row row;
        cdr_table_row(r.stmt, &row);
        rc = fn(ctx, &row);
    }
    return query_close(&r, step, rc);
}

int cdr_table_read_spend(const struct cdr_spend_query *query, cdr_spend_fn *fn, void *ctx,
                         char *error, size_t cap)
{
    static const char sql[] =
        "SELECT account, trunk, SUM(CASE WHEN end_ms >= ?1 THEN cost_micro ELSE 0 END),"
        " SUM(cost_micro) FROM cdr WHERE end_ms >= ?2 AND cost_micro > 0"
        " GROUP BY account, trunk";
    if (cap > 0) {
        error[0] = '\0'; /* no reason yet */
    }
    struct reading r = { .database = query->database, .error = error, .cap = cap };
    int rc = query_open(&r, sql, query->day_start_ms, query->month_start_ms) ? 0 : -SW_EIO;
    int step = SQLITE_ROW;
    while (rc == 0 && (step = sqlite3_step(r.stmt)) == SQLITE_ROW) {
        const unsigned char *account = sqlite3_column_text(r.stmt, 0);
        const unsigned char *trunk = sqlite3_column_text(r.stmt, 1);
        fn(ctx, account != NULL ? (const char *)account : "",
           trunk != NULL ? (const char *)trunk : "", sqlite3_column_int64(r.stmt, 2),
           sqlite3_column_int64(r.stmt, 3));
    }
    return query_close(&r, step, rc);
}
