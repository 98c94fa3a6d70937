/*
 * Small helpers shared by the SQLite writers (state/ban_sqlite.c, obs/cdr_store.c,
 * state/fraud_sqlite.c, state/alert_sqlite.c) and the offline readers of their tables
 * (sipwarden incident report). sqlutil_exec is called by the thread that owns the
 * connection; sqlutil_read opens its own, from any thread.
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

/*
 * Makes the database at `path` and its -wal and -shm files the owner's only, before
 * SQLite opens it: creates it mode 0600 when missing (SQLite would create it 0644 less
 * the umask, and makes its WAL and SHM files with the database's mode), and takes group
 * and other access away from files an older version left. A database file that exists
 * is never opened here: closing any descriptor of a file drops every POSIX lock the
 * process holds on it, among them the lock of a SQLite connection to the same database
 * already open (the bans', the call records'); without it another process's reader that
 * closes believes it is the last one and deletes the WAL under the gateway's writes.
 * Returns 0 or -errno after logging "<who>: <path>: <reason>" at err (a symbolic link
 * is refused with -ELOOP).
 */
int sqlutil_make_private(const char *path, const char *who);

/*
 * Opens `path` (created when missing) read-write for any thread (SQLite's full mutex),
 * waiting up to 5 s for another writer, and runs `schema` (its pragmas and CREATE TABLE IF
 * NOT EXISTS). 0, or -SW_EIO with *out set when SQLite gave a connection (its message
 * tells why; the caller closes it).
 */
int sqlutil_open(const char *path, const char *schema, sqlite3 **out);

#endif
