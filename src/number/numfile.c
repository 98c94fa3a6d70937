#include "number/numfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"

int numfile_read(const char *path, size_t max_bytes, char **buf, size_t *len)
{
    *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        return -errno;
    }
    struct stat st;
    int bad = 0;
    if (fstat(fd, &st) == -1) {
        bad = -errno;
    } else if (!S_ISREG(st.st_mode)) {
        bad = -EINVAL;
    } else if (st.st_size > (off_t)max_bytes) {
        bad = -EFBIG;
    }
    if (bad != 0) {
        (void)close(fd); /* read-only descriptor: nothing to flush */
        return bad;
    }
    *buf = sw_malloc((size_t)st.st_size + 1);
    size_t got = 0;
    int err = *buf == NULL ? -ENOMEM : 0;
    while (err == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            err = n == 0 ? -EIO : -errno;
            break;
        }
        got += (size_t)n;
    }
    (void)close(fd); /* read-only descriptor: nothing to flush */
    if (err != 0) {
        sw_free(*buf);
        *buf = NULL;
        return err;
    }
    (*buf)[got] = '\0';
    *len = got;
    return 0;
}
