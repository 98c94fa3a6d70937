#include "base/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int map_whole(struct sw_mapfile *file, size_t bytes)
{
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, file->fd, 0);
    if (map == MAP_FAILED) {
        return -errno;
    }
    if (file->map != NULL) {
        (void)munmap(file->map, file->bytes);
    }
    file->map = map;
    file->bytes = bytes;
    return 0;
}

int sw_mapfile_open(const char *path, size_t min_bytes, int is_exact, struct sw_mapfile *out)
{
    *out = (struct sw_mapfile){ .fd = -1 };
    /* What the journals hold names people, accounts and numbers: the daemon's alone. */
    out->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    if (out->fd < 0 || fchmod(out->fd, 0600) != 0 || fstat(out->fd, &st) != 0) {
        int err = -errno;
        sw_mapfile_close(out);
        return err;
    }
    size_t bytes = !is_exact && (size_t)st.st_size > min_bytes ? (size_t)st.st_size : min_bytes;
    int rc = (size_t)st.st_size != bytes && ftruncate(out->fd, (off_t)bytes) != 0 ? -errno : 0;
    if (rc == 0) {
        rc = map_whole(out, bytes);
    }
    if (rc != 0) {
        sw_mapfile_close(out);
    }
    return rc;
}

int sw_mapfile_grow(struct sw_mapfile *file, size_t bytes)
{
    if (ftruncate(file->fd, (off_t)bytes) != 0) {
        return -errno;
    }
    return map_whole(file, bytes);
}

void sw_mapfile_close(struct sw_mapfile *file)
{
    if (file->map != NULL) {
        (void)munmap(file->map, file->bytes);
        file->map = NULL;
    }
    if (file->fd >= 0) {
        (void)close(file->fd);
        file->fd = -1;
    }
}
