/*
 * The toll-fraud counters across restarts (issue #11): loads the shared fraud store's
 * windows and Wangiri marks from [state] path at start, saves what changed once a second
 * (the housekeeping thread) and at a clean stop (state/fraud_sqlite.h); between saves each
 * dial and mark is in the journal beside the database (PATH.fraudq, state/fraud_journal.h),
 * replayed at start, so that a kill -9 leaves no counter lower than it was.
 */
#include <errno.h>
#include <stdio.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "state/fraud_journal.h"
#include "state/fraud_sqlite.h"
#include "state/fraudstore.h"

struct gw_fraud {
    struct fraud_store *store; /* acquired: the one every pipeline's fraud stage counts in */
    struct fraud_sqlite *db;
    struct fraud_journal *journal;
};

#define KEEP_JOURNAL_MS ((int64_t)2 * 3600 * 1000) /* the longest window is an hour */

static void replay_one(void *ctx, const struct fraud_journal_entry *entry)
{
    struct fraud_store *store = ctx;
    if (entry->kind == FRAUD_JOURNAL_MARK) {
        fraud_store_wangiri_mark(store, entry->digits, entry->wall_ms / 1000);
        return;
    }
    if (entry->kind == FRAUD_JOURNAL_END) {
        fraud_store_dial_end(store, entry->key, entry->digits,
                             entry->wall_ms - sw_wall_minus_mono_ms(), entry->duration_ms);
        return;
    }
    struct fraud_dial dial = { .digits = entry->digits,
                               .is_international = entry->is_international,
                               .now_ms = entry->wall_ms - sw_wall_minus_mono_ms() };
    struct velocity_cfg quiet = { 0 }; /* counted again, not judged again */
    struct fraud_dial_result ignored;
    fraud_store_dial(store, entry->key, &dial, &quiet, &ignored);
}

/* Opens PATH.fraudq, replays what the last save did not hold (into the store, before the
 * journal is attached: the replayed dials are not journaled twice), then attaches it. */
static int open_journal(struct gw_fraud *f, const char *db_path, uint64_t since_seq,
                        size_t *replayed)
{
    char path[4096];
    if (sw_snprintf(path, sizeof(path), "%s.fraudq", db_path) >= (int)sizeof(path)) {
        return -ENAMETOOLONG;
    }
    int rc = fraud_journal_open(path, FRAUD_JOURNAL_SLOTS, &f->journal);
    if (rc != 0) {
        log_err(NULL, "fraud: %s: %s", path, sw_strerror(rc));
        return rc;
    }
    int64_t now_wall_ms = (int64_t)(sw_wall_us() / 1000u);
    *replayed = fraud_journal_replay(f->journal, since_seq, now_wall_ms - KEEP_JOURNAL_MS,
                                     replay_one, f->store);
    fraud_store_set_journal(f->store, f->journal);
    return 0;
}

int gw_fraud_open(const struct cfg *cfg, struct gw_fraud **out)
{
    *out = NULL;
    if (cfg->state.path == NULL) {
        return 0; /* no database: the counters start empty at each start */
    }
    struct gw_fraud *f = sw_calloc(1, sizeof(*f));
    if (f == NULL) {
        return -ENOMEM;
    }
    f->store = fraud_store_acquire(cfg->fraud.max_tracked, cfg->fraud.wangiri_entries);
    int rc = f->store == NULL ? -ENOMEM : fraud_sqlite_open(cfg->state.path, &f->db);
    struct fraud_sqlite_loaded loaded = { 0 };
    if (rc == 0) {
        rc = fraud_sqlite_load(f->db, f->store, sw_wall_minus_mono_ms(),
                               (int64_t)(sw_wall_us() / 1000u), &loaded);
    }
    size_t replayed = 0;
    if (rc == 0) {
        rc = open_journal(f, cfg->state.path, loaded.journal_seq, &replayed);
    }
    if (rc != 0) {
        gw_fraud_close(f);
        return rc;
    }
    if (replayed > 0) {
        log_notice(NULL,
                   "fraud: %zu dials and marks made after the last save replayed from the "
                   "journal",
                   replayed);
    }
    if (loaded.keys + loaded.marks + loaded.refused > 0) {
        log_notice(NULL,
                   "fraud: restored the counters of %zu accounts and trunks and %zu Wangiri "
                   "marks (%zu rows not usable)",
                   loaded.keys, loaded.marks, loaded.refused);
    }
    *out = f;
    return 0;
}

void gw_fraud_save(struct gw_fraud *f)
{
    if (f != NULL) {
        /* The position first: every dial before it was counted before the export began. */
        struct fraud_sqlite_save_at at = {
            .journal_seq = f->journal != NULL ? fraud_journal_next_seq(f->journal) : 0,
            .wall_minus_mono_ms = sw_wall_minus_mono_ms(),
            .now_wall_ms = (int64_t)(sw_wall_us() / 1000u),
        };
        (void)fraud_sqlite_save(f->db, f->store, &at, false); /* logged; retried */
    }
}

void gw_fraud_close(struct gw_fraud *f)
{
    if (f == NULL) {
        return;
    }
    if (f->db != NULL && f->store != NULL) {
        gw_fraud_save(f);
    }
    fraud_sqlite_close(f->db);
    if (f->store != NULL) {
        fraud_store_set_journal(f->store, NULL);
    }
    fraud_journal_close(f->journal);
    fraud_store_release(f->store);
    sw_free(f);
}
