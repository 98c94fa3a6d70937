/*
 * The call-record table `cdr` in SQL: what the writer (obs/cdr_store.h) and the readers
 * (sipwarden cdr export, the API, the incident report, the spending caps at start) share.
 * The schema is created and upgraded here, the writer's statements are built from the
 * column list here, and a row is bound and read here, so that the table is described in
 * one place (obs/cdr.h holds the columns).
 */
#ifndef SW_OBS_CDR_TABLE_H
#define SW_OBS_CDR_TABLE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CDR_TABLE_SQL_CAP 8192 /* room for any statement built here */

struct cdr_row;

/* "col1", "col2", ... (every column name quoted: "end" is an SQL keyword), with their
   types for CREATE TABLE. */
void cdr_table_columns(struct sw_buf *sql, bool with_types);

/*
 * Creates what `conn`'s database lacks (the table, its indexes, the heartbeat table; a
 * new database with pages of `page_size` bytes), adds the columns an older one lacks, and
 * registers sw_record_cost(). Returns 0 or -SW_EIO (logged).
 */
int cdr_table_create(sqlite3 *conn, int page_size);

/* sw_record_cost(rate, connect_fee, first_s, next_s, duration_ms): spend_record_cost() in
   SQL (number/spend.h). Returns 0 or -SW_EIO. */
int cdr_table_add_functions(sqlite3 *conn);

/* The writer's two statements; parameter ?N is column N-1 in both, so one binding
   (cdr_table_bind) serves either. */
void cdr_table_update_sql(struct sw_buf *sql);
void cdr_table_insert_sql(struct sw_buf *sql);

/* Binds a row's values to `stmt` (?1 = the first column); an SQLite result code. */
int cdr_table_bind(sqlite3_stmt *stmt, const struct cdr_row *row);

/* The values of a result row whose columns are cdr's, in order; borrows `stmt`. */
void cdr_table_row(sqlite3_stmt *stmt, struct cdr_row *row);

struct cdr_row;
typedef int cdr_row_fn(void *ctx, const struct cdr_row *row);

/* Which rows to read: setup time in [since_ms, until_ms) (wall clock, ms). */
struct cdr_query {
    const char *database;
    int64_t since_ms;
    int64_t until_ms;
};

/*
 * Calls `fn` for each row the query selects, in setup order; stops at the first non-zero
 * return and passes it on. Opens the database read-only. Returns 0, what `fn` returned,
 * or -SW_EIO (the message in `error`, cap bytes).
 */
int cdr_table_read(const struct cdr_query *query, cdr_row_fn *fn, void *ctx, char *error,
                   size_t cap);

/*
 * The spend the records hold (issue #11: spending caps survive a restart): for each
 * (account, trunk) pair of the rows ended at or after `month_start_ms` with a cost, `fn`
 * gets the cost of those ended at or after `day_start_ms` and of all of them (micro-
 * units). Run after cdr_store_open (obs/cdr_store.h), which priced the rows a crash left open up to
 * the last heartbeat. Opens the database read-only. Returns 0 or -SW_EIO (the message in `error`,
 * cap bytes).
 */
typedef void cdr_spend_fn(void *ctx, const char *account, const char *trunk, int64_t day_micro,
                          int64_t month_micro);

struct cdr_spend_query {
    const char *database;
    int64_t day_start_ms;
    int64_t month_start_ms;
};

int cdr_table_read_spend(const struct cdr_spend_query *query, cdr_spend_fn *fn, void *ctx,
                         char *error, size_t cap);

#endif
