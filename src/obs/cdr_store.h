/*
 * Where call detail records go: the SQLite table `cdr` (WAL, file mode 0600) and an
 * Asterisk Master.csv-compatible file, both written by one writer thread the store owns.
 *
 * A record reaches the writer through cdr_store_submit(), which copies it into a queue
 * under a short mutex and never drops it: a full queue doubles (DESIGN.md: telemetry may
 * be dropped, call records never). Each record is a row keyed by uniqueid: an answered
 * call is written when it is answered (state open) and rewritten when it ends; the CSV
 * file gets one line per call, when it ends.
 *
 * A crash loses no record that was submitted: cdr_store_submit() first appends it to a
 * journal beside the database (DATABASE.cdrq, 0600, mapped: obs/cdr_journal.h), which
 * the kernel keeps when the process is killed; cdr_store_open() replays what the database
 * lacks and empties the journal (the writer empties it too once it has caught up).
 *
 * A call open at the crash is closed at open: the writer stamps a heartbeat into the
 * database every second, and cdr_store_open() marks every row still open as interrupted,
 * ending it at the later of that heartbeat and the newest time the table holds, and
 * appends those rows to the CSV file.
 *
 * Threads: open, close and stats from the main thread; submit and reopen from any thread.
 */
#ifndef SW_OBS_CDR_STORE_H
#define SW_OBS_CDR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/callrec.h"

struct cdr_store_config {
    const char *database; /* SQLite file; created (0600) when missing */
    const char *csv;      /* CSV file, appended (0600); NULL or "" = none */
    const char *node;     /* written into each record; NULL = the host name */
    size_t queue_cap;     /* records queued before the queue grows; 0 = 4096 */
    bool is_writer_held;  /* tests only: no writer thread, as if it lagged until a kill */
};

struct cdr_store_stats {
    uint64_t submitted;   /* records handed to cdr_store_submit */
    uint64_t written;     /* rows written to the database */
    uint64_t coalesced;   /* open records not written: their call's end was in the batch */
    uint64_t lines;       /* CSV lines written */
    uint64_t grown;       /* times the queue doubled */
    uint64_t interrupted; /* open rows marked interrupted at open */
    uint64_t replayed;    /* records replayed from the journal at open */
    uint64_t errors;      /* SQLite or file errors (logged) */
};

struct cdr_store;

/*
 * Opens the database (schema, recovery of open rows) and the CSV file, and starts the
 * writer. Returns 0, -SW_EIO (logged), -SW_EBADARG, -ENOMEM or -errno.
 */
int cdr_store_open(const struct cdr_store_config *cfg, struct cdr_store **out);

/* Writes what is queued, stops the writer and closes; NULL is a no-op. */
void cdr_store_close(struct cdr_store *store);

/* Queues a copy of `rec` for the writer (with the store's node name). Never drops. */
void cdr_store_submit(struct cdr_store *store, const struct call_record *rec);

/* Closes and reopens the CSV file at the writer's next turn (log rotation, SIGHUP). */
void cdr_store_reopen(struct cdr_store *store);

/* Waits until every record submitted before the call is written, at most `timeout_ms`. */
bool cdr_store_flush(struct cdr_store *store, unsigned timeout_ms);

void cdr_store_stats_get(struct cdr_store *store, struct cdr_store_stats *out);

#endif
