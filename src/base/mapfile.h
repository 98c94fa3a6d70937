/*
 * A file of the daemon's own (mode 0600, never through a symbolic link) mapped
 * MAP_SHARED: what is written to the mapping is in the kernel's page cache at once,
 * without a system call, and survives the process being killed. The journals of call
 * records (obs/cdr_journal.h) and of fraud counters (state/fraud_journal.h) live in one.
 *
 * Threads: one at a time per mapping.
 */
#ifndef SW_BASE_MAPFILE_H
#define SW_BASE_MAPFILE_H

#include <stddef.h>

struct sw_mapfile {
    int fd;             /* -1 = closed */
    unsigned char *map; /* NULL = not mapped */
    size_t bytes;       /* the mapping's size */
};

/*
 * Opens or creates `path` and maps it whole: at least `min_bytes` (a shorter file grows,
 * with zeros), or exactly `min_bytes` when `is_exact` (a longer one is cut). 0, or -errno
 * with *out closed.
 */
int sw_mapfile_open(const char *path, size_t min_bytes, int is_exact, struct sw_mapfile *out);

/* Grows the file and its mapping to `bytes` (the mapping may move). 0, or -errno with the
 * old mapping kept. */
int sw_mapfile_grow(struct sw_mapfile *file, size_t bytes);

/* Unmaps and closes; a closed one is a no-op. */
void sw_mapfile_close(struct sw_mapfile *file);

#endif
