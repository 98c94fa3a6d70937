/*
 * The call records' CSV file (Asterisk's Master.csv columns first, obs/cdr.h) for the
 * writer of obs/cdr_store.c: the lines of a batch wait until its commit, so that a failed
 * batch leaves none, and then go out with one write. Mode 0600 (the lines name people);
 * appended to, reopened on SIGHUP for log rotation.
 *
 * Threads: the writer's, but for the counters, which any thread may read.
 */
#ifndef SW_OBS_CDR_CSV_H
#define SW_OBS_CDR_CSV_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct cdr_row;

struct cdr_csv {
    int fd;     /* -1 = none */
    char *path; /* NULL = no CSV file */
    char *pending;
    size_t pending_cap;
    size_t pending_len;
    uint64_t pending_lines;
    _Atomic uint64_t lines;  /* written to the file */
    _Atomic uint64_t errors; /* file errors and lines lost (logged) */
};

/* Opens `path` (NULL or "" = none: every call then does nothing). Returns 0, -ENOMEM or
   -errno (logged). cdr_csv_close frees what it holds either way. */
int cdr_csv_open(struct cdr_csv *csv, const char *path);
void cdr_csv_close(struct cdr_csv *csv);

/* Closes and opens the file again (it was renamed for rotation). */
void cdr_csv_reopen(struct cdr_csv *csv);

/* Adds the row's line to the pending ones. */
void cdr_csv_append(struct cdr_csv *csv, const struct cdr_row *row);

/* Writes the pending lines (the batch was committed), or drops them (it failed). */
void cdr_csv_flush(struct cdr_csv *csv);
void cdr_csv_drop(struct cdr_csv *csv);

#endif
