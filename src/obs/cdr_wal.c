#include "obs/cdr_wal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define WAL_VFS_NAME       "sw-cdr"
#define WAL_HEADER_BYTES   32 /* the WAL's own header, at offset 0 */
#define FRAME_HEADER_BYTES 24 /* each frame's, before its page */
/* The most the default VFS writes in one call (it masks a length with 0x1ffff): whole 4 KiB
 * pages below that. */
#define DEFAULT_WRITE_MAX  ((size_t)31 << 12)

/* A WAL or database file: the default VFS's file (`real`, allocated right after) and what
 * is gathered for it: `len` bytes that belong at `offset`. A WAL's are written through a
 * descriptor of its own, in one call (the WAL holds no lock, so closing that descriptor
 * drops none; the database's locks forbid a second descriptor), a database's through the
 * default VFS, DEFAULT_WRITE_MAX bytes at a time. */
struct wal_file {
    sqlite3_file base;
    sqlite3_file *real;
    int fd; /* the WAL's own descriptor, or -1 */
    bool is_wal;
    unsigned char *gathered; /* CDR_WAL_GATHER_MAX bytes, allocated at the first write */
    size_t len;
    sqlite3_int64 offset;
    bool is_commit_frame; /* the last header gathered ends a transaction: its page is next */
};

static sqlite3_vfs wal_vfs;
static sqlite3_vfs *default_vfs;
static bool is_registered;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;

/* A database's gathered pages, through the default VFS. */
static int gathered_write_real(struct wal_file *f)
{
    int rc = SQLITE_OK;
    for (size_t done = 0; done < f->len && rc == SQLITE_OK; done += DEFAULT_WRITE_MAX) {
        size_t n = f->len - done < DEFAULT_WRITE_MAX ? f->len - done : DEFAULT_WRITE_MAX;
        rc = f->real->pMethods->xWrite(f->real, f->gathered + done, (int)n,
                                       f->offset + (sqlite3_int64)done);
    }
    f->len = 0;
    return rc;
}

static int gathered_write_out(struct wal_file *f)
{
    if (f->fd < 0) {
        return gathered_write_real(f);
    }
    size_t done = 0;
    while (done < f->len) {
        ssize_t n = pwrite(f->fd, f->gathered + done, f->len - done, f->offset + (off_t)done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            f->len = 0;
            return n < 0 && errno != ENOSPC ? SQLITE_IOERR_WRITE : SQLITE_FULL;
        }
        done += (size_t)n;
    }
    f->len = 0;
    return SQLITE_OK;
}

static int wal_close(sqlite3_file *file)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    int closed = f->real->pMethods->xClose(f->real);
    if (f->fd >= 0) {
        (void)close(f->fd);
    }
    sqlite3_free(f->gathered);
    f->gathered = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

static int wal_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amount, offset);
}

/* True when the frame header ends a transaction: its "database size after commit" field
 * (bytes 4 to 7, big-endian) is not zero. */
static bool is_commit_header(const void *data, int amount, sqlite3_int64 offset)
{
    if (amount != FRAME_HEADER_BYTES || offset < WAL_HEADER_BYTES) {
        return false;
    }
    const unsigned char *p = data;
    return (p[4] | p[5] | p[6] | p[7]) != 0;
}

static int wal_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset)
{
    struct wal_file *f = (struct wal_file *)file;
    if (f->gathered == NULL) {
        f->gathered = sqlite3_malloc64(CDR_WAL_GATHER_MAX);
    }
    if (f->gathered == NULL) {
        return f->real->pMethods->xWrite(f->real, data, amount, offset);
    }
    size_t size = (size_t)amount;
    bool is_next = f->len > 0 && offset == f->offset + (sqlite3_int64)f->len;
    if ((!is_next && f->len > 0) || f->len + size > CDR_WAL_GATHER_MAX) {
        int rc = gathered_write_out(f);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    if (size > CDR_WAL_GATHER_MAX) {
        return f->real->pMethods->xWrite(f->real, data, amount, offset);
    }
    if (f->len == 0) {
        f->offset = offset;
    }
    memcpy(f->gathered + f->len, data, size);
    f->len += size;
    /* The commit's page is in: out before SQLite tells readers the transaction is there. */
    if (f->is_commit_frame) {
        f->is_commit_frame = false;
        return gathered_write_out(f);
    }
    f->is_commit_frame = f->is_wal && is_commit_header(data, amount, offset);
    return SQLITE_OK;
}

static int wal_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wal_sync(sqlite3_file *file, int flags)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wal_file_size(sqlite3_file *file, sqlite3_int64 *out)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, out);
}

static int wal_lock(sqlite3_file *file, int level)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xLock(f->real, level);
}

static int wal_unlock(sqlite3_file *file, int level)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock(f->real, level);
}

static int wal_check_reserved_lock(sqlite3_file *file, int *out)
{
    struct wal_file *f = (struct wal_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wal_file_control(sqlite3_file *file, int op, void *arg)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wal_sector_size(sqlite3_file *file)
{
    struct wal_file *f = (struct wal_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int wal_device_characteristics(sqlite3_file *file)
{
    struct wal_file *f = (struct wal_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* A database's shared memory (the wal-index) and mapping: what is gathered goes out first,
 * so that nothing SQLite publishes there can run ahead of the file. A checkpoint syncs
 * the database before it records what it copied, so nothing is pending here then: an
 * error of this late write-out would have nowhere to go. */
static int db_shm_map(sqlite3_file *file, int region, int size, int is_extend, void volatile **out)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xShmMap(f->real, region, size, is_extend, out);
}

static int db_shm_lock(sqlite3_file *file, int offset, int count, int flags)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xShmLock(f->real, offset, count, flags);
}

static void db_shm_barrier(sqlite3_file *file)
{
    struct wal_file *f = (struct wal_file *)file;
    (void)gathered_write_out(f);
    f->real->pMethods->xShmBarrier(f->real);
}

static int db_shm_unmap(sqlite3_file *file, int is_delete)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xShmUnmap(f->real, is_delete);
}

static int db_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
    struct wal_file *f = (struct wal_file *)file;
    int rc = gathered_write_out(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, offset, amount, out);
}

static int db_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
    struct wal_file *f = (struct wal_file *)file;
    return f->real->pMethods->xUnfetch(f->real, offset, page);
}

static const sqlite3_io_methods db_methods = {
    .iVersion = 3,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved_lock,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device_characteristics,
    .xShmMap = db_shm_map,
    .xShmLock = db_shm_lock,
    .xShmBarrier = db_shm_barrier,
    .xShmUnmap = db_shm_unmap,
    .xFetch = db_fetch,
    .xUnfetch = db_unfetch,
};

/* Version 1: SQLite asks a WAL file for none of the shared-memory or mapping methods. */
static const sqlite3_io_methods wal_methods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved_lock,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device_characteristics,
};

/* The WAL and the database are wrapped; any other file (a temporary one, a rollback
 * journal) is the default VFS's own, in place. */
static int wal_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                        int *out_flags)
{
    (void)vfs;
    bool is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    if (!is_wal && (flags & SQLITE_OPEN_MAIN_DB) == 0) {
        return default_vfs->xOpen(default_vfs, name, file, flags, out_flags);
    }
    struct wal_file *f = (struct wal_file *)file;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(void *)(f + 1);
    f->fd = -1;
    f->is_wal = is_wal;
    int rc = default_vfs->xOpen(default_vfs, name, f->real, flags, out_flags);
    /* On failure SQLite calls no method of the file: pMethods must stay NULL. */
    f->base.pMethods = rc != SQLITE_OK ? NULL : is_wal ? &wal_methods : &db_methods;
    if (rc == SQLITE_OK && is_wal && name != NULL) {
        f->fd = open(name, O_WRONLY | O_CLOEXEC); /* -1: writes go straight through */
    }
    return rc;
}

static void register_vfs(void)
{
    default_vfs = sqlite3_vfs_find(NULL);
    if (default_vfs == NULL) {
        return;
    }
    /* The default VFS's own functions for everything but opening a file, with room for
     * the wrapper before its file. */
    wal_vfs = *default_vfs;
    wal_vfs.pNext = NULL;
    wal_vfs.zName = WAL_VFS_NAME;
    wal_vfs.szOsFile = (int)sizeof(struct wal_file) + default_vfs->szOsFile;
    wal_vfs.xOpen = wal_vfs_open;
    is_registered = sqlite3_vfs_register(&wal_vfs, 0) == SQLITE_OK;
}

const char *cdr_wal_vfs(void)
{
    (void)pthread_once(&register_once, register_vfs);
    return is_registered ? WAL_VFS_NAME : NULL;
}
