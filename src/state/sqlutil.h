/*
 * Small helpers shared by the SQLite writers (state/ban_sqlite.c, obs/cdr_store.c) and
 * the offline readers of their tables (sipwarden incident report). sqlutil_exec is called
 * by the thread that owns the connection; sqlutil_read opens its own, from any thread.
 */
#ifndef SW_STATE_SQLUTIL_H
#define SW_STATE_SQLUTIL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Runs `sql` (one or more statements, no results) on `conn`. Returns 0, or -SW_EIO after
 * logging "<who>: <sql>: <SQLite's message>" at err.
 */
int sqlutil_exec(sqlite3 *conn, const char *who, const char *sql);

/* A span of a table to read: bound to ?1 (since) and ?2 (until) of the reader's SQL. */
struct sqlutil_query {
    const char *path; /* the database file */
    int64_t since;
    int64_t until;
};

typedef int sqlutil_row_fn(void *ctx, sqlite3_stmt *stmt);

/* The text of result column `column`, "" for NULL; valid until the next step. */
const char *sqlutil_column_text(sqlite3_stmt *stmt, int column);

/*
 * Opens the database of `query` read-only, runs `sql` with the span bound and calls `fn`
 * with each result row; stops at the first non-zero return and passes it on. Returns 0,
 * what `fn` returned, -SW_ENOTFOUND when the database lacks the table (a store that was
 * never opened there), or -SW_EIO (the message in `error`, cap bytes).
 */
int sqlutil_read(const struct sqlutil_query *query, const char *sql, sqlutil_row_fn *fn, void *ctx,
                 char *error, size_t cap);

#endif
