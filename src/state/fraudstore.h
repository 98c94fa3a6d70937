/*
 * The toll-fraud counters (issue #11): per key (an account or a trunk, written
 * "account:NAME" / "trunk:NAME" by the fraud stage), the new calls of the last minute, the
 * international calls of the last hour, the distinct destinations of the last hour and the
 * recent dials that the velocity detectors (number/velocity.h) read; the set of accounts the
 * fraud policy disabled; and the Wangiri set of calling numbers whose short ringing marked
 * them.
 *
 * The store is an interface (`struct fraud_store_ops`) so that a Redis backend can share
 * the counters between nodes later; fraud_store_new_memory() is the in-process backend.
 *
 * Bounds: at most `max_keys` keys (a full table judges an unknown key with empty counters,
 * and says so through fraud_dial_result.is_untracked); per key a fixed 15 KiB (60 one-second
 * buckets, 60 one-minute buckets, FRAUD_DISTINCT_MAX remembered destinations, the velocity
 * history: 10.8 KiB; the index of the destinations and the windows' sums, which make a dial
 * cost about the same however full the windows are: 4.1 KiB), allocated the first time a
 * key dials; FRAUD_DISABLED_MAX disabled accounts;
 * `wangiri_slots` marked numbers, the oldest of a 4-entry bucket overwritten.
 *
 * Time: dial windows use the caller's monotonic milliseconds; Wangiri marks use wall-clock
 * seconds (they outlive a reload and span days).
 *
 * Threads: every operation is thread-safe (workers call them concurrently); new and free
 * run while no other thread uses the store.
 */
#ifndef SW_STATE_FRAUDSTORE_H
#define SW_STATE_FRAUDSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "number/velocity.h"
#include "state/fraud_distinct.h" /* FRAUD_DISTINCT_MAX */

#define FRAUD_KEY_CAP      96 /* bytes of a key, NUL included */
#define FRAUD_DISABLED_MAX 1024u

/* One new call to judge and count. */
struct fraud_dial {
    struct sv digits;      /* E.164, no '+' */
    bool is_international; /* outside the caller's own country */
    int64_t now_ms;        /* monotonic */
};

/* The counters of a key after a dial was counted (the dial included). */
struct fraud_dial_result {
    uint32_t calls_minute;
    uint32_t international_hour;
    uint32_t distinct_hour;          /* at most FRAUD_DISTINCT_MAX */
    struct velocity_finding finding; /* what the history showed before this dial */
    bool is_untracked;               /* the table is full: counters start empty each time */
};

struct fraud_store;

/*
 * Persistence (state/fraud_sqlite.h): a key's counters as an opaque image of
 * FRAUD_STORE_IMAGE_VERSION whose times are wall-clock milliseconds (monotonic time + the
 * `wall_minus_mono_ms` of the export), so that they mean the same after a restart or a
 * reboot; Wangiri marks as their number's hash and wall-clock second.
 */
#define FRAUD_STORE_IMAGE_VERSION 1
typedef void fraud_store_image_fn(void *ctx, struct sv key, const void *image, size_t len);
typedef void fraud_store_mark_fn(void *ctx, uint64_t hash, int64_t at_s);

/* What a backend implements; every function is called from any worker thread. The
 * persistence functions may be NULL (a backend that keeps its own state). */
struct fraud_store_ops {
    void (*dial)(void *impl, struct sv key, const struct fraud_dial *dial,
                 const struct velocity_cfg *cfg, struct fraud_dial_result *out);
    void (*dial_end)(void *impl, struct sv key, struct sv digits, int64_t at_ms,
                     int64_t duration_ms);
    bool (*set_disabled)(void *impl, struct sv key, bool is_disabled);
    bool (*is_disabled)(void *impl, struct sv key);
    void (*wangiri_mark)(void *impl, struct sv digits, int64_t now_s);
    bool (*wangiri_marked)(void *impl, struct sv digits, int64_t now_s, int64_t window_s);
    size_t (*export_keys)(void *impl, int64_t wall_minus_mono_ms, bool is_all,
                          fraud_store_image_fn *fn, void *ctx);
    bool (*import_key)(void *impl, struct sv key, const void *image, size_t len,
                       int64_t wall_minus_mono_ms);
    uint64_t (*export_marks)(void *impl, uint64_t since_version, fraud_store_mark_fn *fn,
                             void *ctx);
    void (*import_mark)(void *impl, uint64_t hash, int64_t at_s);
    void (*destroy)(void *impl);
};

/* The in-process store; NULL when out of memory or when a bound is 0. */
struct fraud_store *fraud_store_new_memory(size_t max_keys, size_t wangiri_slots);

/* Frees the store; NULL is a no-op. */
void fraud_store_free(struct fraud_store *store);

/*
 * Judges the new dial of `key` against its history (velocity_check with `cfg`), then counts
 * it: `out` gets the counters with the dial included and the finding of the history before
 * it.
 */
void fraud_store_dial(struct fraud_store *store, struct sv key, const struct fraud_dial *dial,
                      const struct velocity_cfg *cfg, struct fraud_dial_result *out);

/* Records that the dial of `digits` at `at_ms` by `key` ended after `duration_ms` answered
 * (0: never answered), for the short-call detector. Unknown dials are ignored. */
void fraud_store_dial_end(struct fraud_store *store, struct sv key, struct sv digits, int64_t at_ms,
                          int64_t duration_ms);

/* Marks `key` disabled (or enabled again). False when the set is full (not disabled). */
bool fraud_store_set_disabled(struct fraud_store *store, struct sv key, bool is_disabled);

/* True when `key` was disabled and not enabled since. */
bool fraud_store_is_disabled(struct fraud_store *store, struct sv key);

/* Marks the calling number `digits` (E.164) as a Wangiri source at `now_s`. */
void fraud_store_wangiri_mark(struct fraud_store *store, struct sv digits, int64_t now_s);

/* True when `digits` was marked within the last `window_s` seconds. */
bool fraud_store_wangiri_marked(struct fraud_store *store, struct sv digits, int64_t now_s,
                                int64_t window_s);

/*
 * Hands `fn` the image of every key that counted or ended a dial since its last export
 * (every key when `is_all`), outside the store's locks; returns how many. Any thread.
 */
size_t fraud_store_export_keys(struct fraud_store *store, int64_t wall_minus_mono_ms, bool is_all,
                               fraud_store_image_fn *fn, void *ctx);

/* Puts a key's image back (at start, before the workers run): false for an image of
 * another size or a full table. */
bool fraud_store_import_key(struct fraud_store *store, struct sv key, const void *image, size_t len,
                            int64_t wall_minus_mono_ms);

/*
 * Hands `fn` every Wangiri mark when marks were made since `since_version` (the value a
 * previous call returned; 0 at first), and returns the current version.
 */
uint64_t fraud_store_export_marks(struct fraud_store *store, uint64_t since_version,
                                  fraud_store_mark_fn *fn, void *ctx);

/* Puts a mark back (at start). */
void fraud_store_import_mark(struct fraud_store *store, uint64_t hash, int64_t at_s);

struct fraud_journal;

/* From now on every dial counted and mark made is also appended to `journal`
 * (state/fraud_journal.h); NULL stops that. Any thread; the journal must outlive its use. */
void fraud_store_set_journal(struct fraud_store *store, struct fraud_journal *journal);

/*
 * The process's shared store, which outlives configuration reloads (the fraud stage of a
 * new pipeline and the auth stage find the same counters and disabled accounts): created at
 * the first acquire with the given bounds (later acquires keep the first bounds), freed at
 * the last release. NULL when out of memory. Any thread.
 */
struct fraud_store *fraud_store_acquire(size_t max_keys, size_t wangiri_slots);

/* Gives back one acquire; NULL is a no-op. */
void fraud_store_release(struct fraud_store *store);

/* fraud_store_is_disabled on the shared store; false while none is acquired. */
bool fraud_store_shared_is_disabled(struct sv key);

/* fraud_store_set_disabled on the shared store; false while none is acquired. */
bool fraud_store_shared_set_disabled(struct sv key, bool is_disabled);

/* fraud_store_wangiri_mark on the shared store; false (nothing marked) while none is. */
bool fraud_store_shared_wangiri_mark(struct sv digits, int64_t now_s);

/* fraud_store_dial_end on the shared store; a no-op while none is acquired. */
void fraud_store_shared_dial_end(struct sv key, struct sv digits, int64_t at_ms,
                                 int64_t duration_ms);

#endif
