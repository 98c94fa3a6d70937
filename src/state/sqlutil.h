/*
 * Small helpers shared by the SQLite writers (state/ban_sqlite.c, obs/cdr_store.c). Each
 * is called by the thread that owns the connection.
 */
#ifndef SW_STATE_SQLUTIL_H
#define SW_STATE_SQLUTIL_H

#include <sqlite3.h>

/*
 * Runs `sql` (one or more statements, no results) on `conn`. Returns 0, or -SW_EIO after
 * logging "<who>: <sql>: <SQLite's message>" at err.
 */
int sqlutil_exec(sqlite3 *conn, const char *who, const char *sql);

#endif
