/*
 * The toll-fraud counters across restarts (issue #11): loads the shared fraud store's
 * windows and Wangiri marks from [state] path at start, saves what changed once a second
 * (the housekeeping thread) and at a clean stop (state/fraud_sqlite.h).
 */
#include <errno.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "state/fraud_sqlite.h"
#include "state/fraudstore.h"

struct gw_fraud {
    struct fraud_store *store; /* acquired: the one every pipeline's fraud stage counts in */
    struct fraud_sqlite *db;
};

/* The wall clock minus the monotonic clock, in ms: what turns one into the other. */
static int64_t wall_minus_mono_ms(void)
{
    return (int64_t)(sw_wall_us() / 1000u) - (int64_t)sw_mono_ms();
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
        rc = fraud_sqlite_load(f->db, f->store, wall_minus_mono_ms(),
                               (int64_t)(sw_wall_us() / 1000u), &loaded);
    }
    if (rc != 0) {
        gw_fraud_close(f);
        return rc;
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
        (void)fraud_sqlite_save(f->db, f->store, wall_minus_mono_ms(),
                                (int64_t)(sw_wall_us() / 1000u), false); /* logged; retried */
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
    fraud_store_release(f->store);
    sw_free(f);
}
