#include "state/sqlutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

const char *sqlutil_column_text(sqlite3_stmt *stmt, int column)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    return text != NULL ? (const char *)text : "";
}

static int read_prepare(const struct sqlutil_query *query, const char *sql, sqlite3 **conn,
                        sqlite3_stmt **stmt)
{
    if (sqlite3_open_v2(query->path, conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(*conn, 5000) != SQLITE_OK) {
        return -SW_EIO;
    }
    if (sqlite3_prepare_v2(*conn, sql, -1, stmt, NULL) != SQLITE_OK) {
        return strstr(sqlite3_errmsg(*conn), "no such table") != NULL ? -SW_ENOTFOUND : -SW_EIO;
    }
    bool is_bound = sqlite3_bind_int64(*stmt, 1, query->since) == SQLITE_OK &&
                    sqlite3_bind_int64(*stmt, 2, query->until) == SQLITE_OK;
    return is_bound ? 0 : -SW_EIO;
}

int sqlutil_read(const struct sqlutil_query *query, const char *sql, sqlutil_row_fn *fn, void *ctx,
                 char *error, size_t cap)
{
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    int rc = read_prepare(query, sql, &conn, &stmt);
    int step = SQLITE_ROW;
    while (rc == 0 && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        rc = fn(ctx, stmt);
    }
    if (rc == -SW_EIO || (rc == 0 && step != SQLITE_DONE)) {
        (void)snprintf(error, cap, "%s: %s", query->path,
                       conn != NULL ? sqlite3_errmsg(conn) : "cannot open");
        rc = -SW_EIO;
    }
    sqlite3_finalize(stmt);
    (void)sqlite3_close(conn);
    return rc;
}

static int restrict_mode(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == -1) {
        if (errno != ENOENT) {
            return -errno;
        }
        /* Missing: created here, so that no connection can have it open yet. */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd != -1) {
            (void)close(fd); /* a new empty file: nothing to flush */
            return 0;
        }
        if (errno != EEXIST || lstat(path, &st) == -1) {
            return -errno;
        }
    }
    if (S_ISLNK(st.st_mode)) {
        return -ELOOP;
    }
    return (st.st_mode & 0077) != 0 && chmod(path, st.st_mode & 0700) == -1 ? -errno : 0;
}

int sqlutil_make_private(const char *path, const char *who)
{
    int err = restrict_mode(path);
    if (err != 0) {
        log_err(NULL, "%s: %s: %s", who, path, sw_strerror(err));
        return err;
    }
    static const char *const suffixes[] = { "-wal", "-shm" };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char side[4096];
        int n = snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
        /* Missing is fine: SQLite creates them with the database's mode. */
        if (n > 0 && (size_t)n < sizeof(side) && chmod(side, 0600) == -1 && errno != ENOENT) {
            log_warn(NULL, "%s: %s: %s", who, side, sw_strerror(-errno));
        }
    }
    return 0;
}

int sqlutil_open(const char *path, const char *schema, sqlite3 **out)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(path, out, flags, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(*out, 5000) != SQLITE_OK ||
        sqlite3_exec(*out, schema, NULL, NULL, NULL) != SQLITE_OK) {
        return -SW_EIO;
    }
    return 0;
}
