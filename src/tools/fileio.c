#include "tools/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/fdio.h"

/* write(2) calls to write a file: a regular file takes one or a few. */
#define FILEIO_WRITE_MAX 64

int tools_fileio_read(const char *path, size_t max_len, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -errno;
    }
    struct stat st;
    int rc = fstat(fd, &st) == -1 ? -errno : 0;
    if (rc == 0 && !S_ISREG(st.st_mode)) {
        rc = -SW_EBADARG;
    }
    if (rc == 0 && (uint64_t)st.st_size > max_len) {
        rc = -SW_ETOOBIG;
    }
    char *buf = rc == 0 ? sw_malloc((size_t)st.st_size + 1) : NULL;
    if (rc == 0 && buf == NULL) {
        rc = -ENOMEM;
    }
    size_t done = 0;
    while (rc == 0 && done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* a file that shrank while read: what was read is what counts */
        }
        done += (size_t)n;
    }
    (void)close(fd); /* read-only: nothing to lose on close */
    if (rc != 0) {
        sw_free(buf);
        return rc;
    }
    buf[done] = '\0';
    *out = buf;
    *len = done;
    return 0;
}

/* Writes the temporary file: contents, the old file's mode and owner, then fsync. */
static int fill_temporary(int fd, const struct stat *old, const char *data, size_t len)
{
    int rc = sw_write_all(fd, data, len, FILEIO_WRITE_MAX);
    if (rc == 0 && fchmod(fd, old->st_mode & 07777) == -1) {
        rc = -errno;
    }
    /* Only root may give a file away; a user replacing their own file keeps its owner. */
    if (rc == 0 && (old->st_uid != geteuid() || old->st_gid != getegid()) &&
        fchown(fd, old->st_uid, old->st_gid) == -1) {
        rc = -errno;
    }
    if (rc == 0 && fsync(fd) == -1) {
        rc = -errno;
    }
    return rc;
}

int tools_fileio_replace(const char *path, const char *data, size_t len)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL) {
        return -errno;
    }
    struct stat old;
    if (stat(real, &old) == -1) {
        return -errno;
    }
    char temporary[PATH_MAX + 16];
    if (snprintf(temporary, sizeof(temporary), "%s.XXXXXX", real) >= (int)sizeof(temporary)) {
        return -ENAMETOOLONG;
    }
    int fd = mkstemp(temporary);
    if (fd == -1) {
        return -errno;
    }
    int rc = fill_temporary(fd, &old, data, len);
    if (close(fd) == -1 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(temporary, real) == -1) {
        rc = -errno;
    }
    if (rc != 0) {
        (void)unlink(temporary); /* best effort: the old file is still in place */
    }
    return rc;
}
