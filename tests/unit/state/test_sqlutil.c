/*
 * state/sqlutil.c: making a database private keeps the locks of a connection the process
 * already has open on it (another process sees them), creates a missing file 0600 and
 * takes group and other access away from an old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/sqlutil.h"
#include "support/unit.h"

/* SQLite's lock bytes on Unix: its SHARED lock is a read lock in this range. */
#define SHARED_FIRST 1073741826L
#define SHARED_SIZE  510L

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-sqlutil-XXXXXX");
    assert_non_null(mkdtemp(dir));
    (void)snprintf(path, sizeof(path), "%s/state.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char name[160];
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < 4; i++) {
        (void)snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
        (void)unlink(name);
    }
    (void)rmdir(dir);
    return 0;
}

/* From a child process: whether another process holds a lock on SQLite's SHARED bytes. */
static bool is_shared_locked_elsewhere(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct flock probe = {
            .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = SHARED_FIRST, .l_len = SHARED_SIZE
        };
        _exit(fd == -1 || fcntl(fd, F_GETLK, &probe) == -1 ? 2 : probe.l_type != F_UNLCK);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 2);
    return WEXITSTATUS(status) == 1;
}

static void test_sqlutil_make_private_keeps_an_open_connections_lock(void **state)
{
    (void)state;
    assert_int_equal(sqlutil_make_private(path, "test"), 0);
    sqlite3 *conn = NULL;
    assert_int_equal(sqlite3_open(path, &conn), SQLITE_OK);
    assert_int_equal(sqlutil_exec(conn, "test",
                                  "PRAGMA journal_mode=WAL;"
                                  "CREATE TABLE t (x INTEGER);"
                                  "INSERT INTO t VALUES (1);"),
                     0);
    assert_true(is_shared_locked_elsewhere()); /* a WAL connection keeps its SHARED lock */
    assert_int_equal(sqlutil_make_private(path, "test"), 0); /* a second writer opening */
    assert_true(is_shared_locked_elsewhere());
    assert_int_equal(sqlite3_close(conn), SQLITE_OK);
    assert_false(is_shared_locked_elsewhere());
}

static unsigned file_mode(const char *name)
{
    struct stat st;
    assert_int_equal(lstat(name, &st), 0);
    return (unsigned)(st.st_mode & 0777);
}

static void test_sqlutil_make_private_creates_and_restricts(void **state)
{
    (void)state;
    mode_t old_mask = umask(022);
    assert_int_equal(sqlutil_make_private(path, "test"), 0);
    assert_int_equal(file_mode(path), 0600);
    char wal[160];
    (void)snprintf(wal, sizeof(wal), "%s-wal", path);
    int fd = open(wal, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    (void)close(fd);
    assert_int_equal(chmod(path, 0664), 0);
    assert_int_equal(sqlutil_make_private(path, "test"), 0);
    assert_int_equal(file_mode(path), 0600);
    assert_int_equal(file_mode(wal), 0600);
    (void)umask(old_mask);
    assert_int_equal(unlink(wal), 0);
    /* A symbolic link in the database's place is refused, not followed. */
    assert_int_equal(symlink("/etc/passwd", wal), 0);
    assert_int_equal(sqlutil_make_private(wal, "test"), -ELOOP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sqlutil_make_private_keeps_an_open_connections_lock,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_sqlutil_make_private_creates_and_restricts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
