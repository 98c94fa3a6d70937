#include "base/fdio.h"

#include <errno.h>
#include <unistd.h>

int sw_write_all(int fd, const void *data, size_t len, unsigned max_writes)
{
    const char *bytes = data;
    size_t done = 0;
    for (unsigned attempt = 0; attempt < max_writes && done < len; attempt++) {
        ssize_t n = write(fd, bytes + done, len - done);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1) {
            return -errno;
        }
        done += (size_t)n;
    }
    return done == len ? 0 : -EIO;
}
