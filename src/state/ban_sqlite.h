/*
 * SQLite persistence for the ban store, so that a restart forgets no ban.
 *
 * One writer thread owns the connection (WAL mode, synchronous=NORMAL). Changes reach
 * it through a bounded queue: ban_store callbacks (any thread) only copy the change in
 * under a short mutex. When the queue is full the change is dropped and counted, and
 * the writer later rewrites the active bans from a ban_store_list() snapshot, so the
 * database catches up without ever blocking a worker. (The resync takes a snapshot
 * buffer of store capacity x 272 bytes for its duration: 17 MiB at 65,536 entries.)
 *
 * Rows: one per address (ip text, start, end, offence, source, reason). A row stays
 * `history_s` after its ban ended so that a restart keeps repeat-offender counts, then
 * the writer deletes it (once a minute, and at start).
 *
 * Use: ban_sqlite_open(), then ban_store_attach(store, &ban_sqlite_ops, db): the attach
 * restores the stored bans into the store (in the calling thread) and starts the writer.
 * ban_store_free() closes it: queued changes are written before the thread ends.
 */
#ifndef SW_STATE_BAN_SQLITE_H
#define SW_STATE_BAN_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include "state/ban.h"

struct ban_sqlite_config {
    const char *path;   /* database file; created when missing */
    size_t queue_cap;   /* changes waiting for the writer; 0 = 4096 */
    uint32_t history_s; /* keep ended bans this long; 0 = 30 days (match ban_config) */
};

struct ban_sqlite_stats {
    uint64_t written;  /* changes written */
    uint64_t dropped;  /* changes dropped on a full queue (each triggers a resync) */
    uint64_t resyncs;  /* full rewrites of the active bans */
    uint64_t restored; /* bans restored at start */
    uint64_t errors;   /* SQLite errors (logged) */
};

struct ban_sqlite;

/* The backend operations to attach. */
extern const struct ban_store_ops ban_sqlite_ops;

/*
 * Opens (or creates) the database and its schema. Returns 0, -SW_EIO (with a logged
 * SQLite message), -SW_EBADARG or -ENOMEM. Close with ban_sqlite_ops.close when it is
 * not attached.
 */
int ban_sqlite_open(const struct ban_sqlite_config *cfg, struct ban_sqlite **out);

/* Counters (any thread). */
void ban_sqlite_stats_get(struct ban_sqlite *db, struct ban_sqlite_stats *out);

/* ---- reading (sipwarden incident report) ---- */

/* One stored ban as read back; texts are NUL-terminated and valid during the callback. */
struct ban_sqlite_row {
    const char *ip;
    int64_t start_s;
    int64_t end_s;
    int64_t offence;
    const char *source;
    const char *reason;
};

typedef int ban_sqlite_row_fn(void *ctx, const struct ban_sqlite_row *row);

struct sqlutil_query;

/*
 * Calls `fn` for each ban of the database at query->path in force at some time of
 * [query->since, query->until) (seconds), in start order; stops at the first non-zero
 * return and passes it on. Returns as sqlutil_read() (state/sqlutil.h). Any thread.
 */
int ban_sqlite_read(const struct sqlutil_query *query, ban_sqlite_row_fn *fn, void *ctx,
                    char *error, size_t cap);

#endif
