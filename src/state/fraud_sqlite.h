/*
 * The toll-fraud counters across restarts (issue #11: "spend and velocity counters after a
 * restart are never lower than before the crash"): the fraud store's per-key windows
 * (calls per minute, international calls per hour, distinct destinations, the velocity
 * history) and its Wangiri marks, in the gateway's SQLite database (the file of [state]
 * path, in WAL mode beside the bans and the alert history):
 *   - fraud_counters: one row per account or trunk key, its image (state/fraudstore.h) with
 *     wall-clock times, written when the key counted a dial since the last save;
 *   - fraud_marks: the Wangiri marks, written when a mark was made since the last save.
 * The gateway saves once a second and at a clean stop, and loads at start; what was
 * counted after the last save is in the journal (state/fraud_journal.h), whose position the
 * save records in fraud_meta. Rows of keys idle for two hours and marks
 * older than 30 days (the longest wangiri_window) are deleted at load.
 *
 * Threads: one thread at a time (the gateway's main thread at start, then its
 * housekeeping thread, then the main thread at stop).
 */
#ifndef SW_STATE_FRAUD_SQLITE_H
#define SW_STATE_FRAUD_SQLITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fraud_store;
struct fraud_sqlite;

/* What a load put back. */
struct fraud_sqlite_loaded {
    size_t keys;
    size_t marks;
    size_t refused;       /* rows of another image version or size, or beyond the table */
    uint64_t journal_seq; /* the journal position of the last save (0: none recorded) */
};

/* A save's clocks and journal position. */
struct fraud_sqlite_save_at {
    int64_t wall_minus_mono_ms; /* the wall clock minus the monotonic clock now */
    int64_t now_wall_ms;
    uint64_t journal_seq; /* fraud_journal_next_seq, read before the export; 0 without one */
};

/* Opens (or creates, mode 0600) the database at `path` and its tables. 0, -SW_EIO, -errno. */
int fraud_sqlite_open(const char *path, struct fraud_sqlite **out);

/*
 * Deletes the stale rows, then puts every key and mark back into `store`, times moved by
 * `wall_minus_mono_ms` (the wall clock minus the monotonic clock now) and `now_wall_ms`
 * the wall clock. Returns 0 or -SW_EIO.
 */
int fraud_sqlite_load(struct fraud_sqlite *db, struct fraud_store *store,
                      int64_t wall_minus_mono_ms, int64_t now_wall_ms,
                      struct fraud_sqlite_loaded *out);

/*
 * Writes the keys that changed since the last save (all of them when `is_all`), the marks
 * when any was made and the journal position, in one transaction. Returns the keys written,
 * or -SW_EIO.
 */
long fraud_sqlite_save(struct fraud_sqlite *db, struct fraud_store *store,
                       const struct fraud_sqlite_save_at *at, bool is_all);

/* Closes; NULL is a no-op. */
void fraud_sqlite_close(struct fraud_sqlite *db);

#endif
