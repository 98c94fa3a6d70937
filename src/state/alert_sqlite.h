/*
 * What the alert rules must remember across restarts (issue #12), in the gateway's SQLite
 * database (the file of [state] path, next to the bans; WAL mode lets the two
 * connections share it):
 *  - alert_sources: the addresses each account registered or called from, with the last
 *    sighting, so that "new source address" means new within N days, not since start;
 *  - alert_levels: the highest number of concurrent calls of each 15-minute period, the
 *    history behind the learned normal peak of the call-volume rule;
 *  - alert_history: every alert message the engine delivered (firing, update, resolved),
 *    the evidence `sipwarden incident report` bundles;
 *  - config_history: the SHA-256 of the configuration file at each start and reload, so
 *    that a report can tell when the configuration changed.
 * Rows older than `keep_days` are deleted at start and once an hour, but for the newest
 * configuration load (the one in force, however old).
 *
 * Writes go through a bounded queue to this module's own thread, so the callers (the
 * alert engine under its lock, the housekeeping thread) never wait for the disk; a full
 * queue drops the write and counts it (the next sighting writes it again).
 *
 * Threads: open, load, start and close from the main thread; note_* from any thread;
 * stats from any thread; alert_sqlite_read_alerts opens its own connection, any thread.
 */
#ifndef SW_STATE_ALERT_SQLITE_H
#define SW_STATE_ALERT_SQLITE_H

#include <stdint.h>

#include "base/addr.h"

struct alert_sqlite_stats {
    uint64_t written;
    uint64_t dropped;
    uint64_t errors;
};

typedef void alert_sqlite_source_fn(void *ctx, const char *account, const struct sw_ip *ip,
                                    int64_t seen_s);
typedef void alert_sqlite_level_fn(void *ctx, int64_t slot, uint32_t calls);

/* One alert message of the history. Texts are NUL-terminated, never NULL; written they
 * are copied (truncated), read back they are valid during the callback. */
struct alert_sqlite_alert {
    int64_t time_ms; /* wall clock, when the message was decided */
    const char *rule;
    const char *state; /* firing, update, resolved, test */
    const char *severity;
    const char *key; /* the account, address or trunk; "" for a total */
    const char *title;
    const char *detail;
    int64_t value; /* the count or level that decided */
};

typedef int alert_sqlite_alert_fn(void *ctx, const struct alert_sqlite_alert *alert);
typedef int alert_sqlite_config_fn(void *ctx, int64_t time_ms, const char *path,
                                   const char *sha256);

struct sqlutil_query;

struct alert_sqlite;

/* Opens (or creates) the tables in the database at `path`. 0, -SW_EIO or -ENOMEM. */
int alert_sqlite_open(const char *path, uint32_t keep_days, struct alert_sqlite **out);

/* Deletes rows older than keep_days, then hands every remaining row to the callbacks
 * (either may be NULL). Before alert_sqlite_start. Returns 0 or -SW_EIO. */
int alert_sqlite_load(struct alert_sqlite *db, int64_t now_s, alert_sqlite_source_fn *on_source,
                      alert_sqlite_level_fn *on_level, void *ctx);

/* Starts the writer thread. Returns 0 or -errno. */
int alert_sqlite_start(struct alert_sqlite *db);

/* Queues "account was seen from ip at seen_s". Never blocks. */
void alert_sqlite_note_source(struct alert_sqlite *db, const char *account, const struct sw_ip *ip,
                              int64_t seen_s);

/* Queues "the 15-minute period `slot` (wall seconds / 900) peaked at `calls`". */
void alert_sqlite_note_level(struct alert_sqlite *db, int64_t slot, uint32_t calls);

/* Queues one alert message for the history. Never blocks; when 64 messages wait
 * already it is dropped and counted. NULL `db` is a no-op. */
void alert_sqlite_note_alert(struct alert_sqlite *db, const struct alert_sqlite_alert *alert);

/* Queues "the configuration at `path` with this SHA-256 (hex) was loaded at time_ms", in
 * the same queue as the alert messages. NULL `db` is a no-op. */
void alert_sqlite_note_config(struct alert_sqlite *db, int64_t time_ms, const char *path,
                              const char *sha256);

void alert_sqlite_stats_get(struct alert_sqlite *db, struct alert_sqlite_stats *out);

/*
 * Calls `fn` for each message of the alert history of the database at query->path whose
 * time is in [query->since, query->until) (ms), oldest first; stops at the first
 * non-zero return and passes it on. Returns as sqlutil_read() (state/sqlutil.h).
 */
int alert_sqlite_read_alerts(const struct sqlutil_query *query, alert_sqlite_alert_fn *fn,
                             void *ctx, char *error, size_t cap);

/*
 * The same for the configuration loads of config_history: first the last load before the
 * span (time_ms < since: the configuration in force when it began), then the span's.
 */
int alert_sqlite_read_configs(const struct sqlutil_query *query, alert_sqlite_config_fn *fn,
                              void *ctx, char *error, size_t cap);

/* Writes what is queued, stops the thread and closes; NULL is a no-op. */
void alert_sqlite_close(struct alert_sqlite *db);

#endif
