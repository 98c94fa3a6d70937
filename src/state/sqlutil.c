#include "state/sqlutil.h"

#include "base/err.h"
#include "base/log.h"

int sqlutil_exec(sqlite3 *conn, const char *who, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &message) != SQLITE_OK) {
        log_err(NULL, "%s: %.80s: %s", who, sql, message != NULL ? message : "?");
        sqlite3_free(message);
        return -SW_EIO;
    }
    return 0;
}
