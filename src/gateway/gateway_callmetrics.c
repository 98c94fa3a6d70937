/*
 * Calls, international calls and spend on /metrics (gateway_callmetrics.h). The series
 * are registered at start from the configuration's trunks and accounts, and for the
 * parties a reload adds; counting a call is a lookup of its party in a hash index and one
 * lock-free add.
 *
 * The index is insert-only with one writer (the main thread): a party is written
 * completely, then its position is stored into an empty index cell with release; the
 * readers (the event consumer, the housekeeping thread) load the cells with acquire, so
 * a party they find is complete. Parties are never removed or changed.
 */
#include "gateway/gateway_callmetrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/hash.h"
#include "config/config.h"
#include "gateway/gateway_spend.h"
#include "obs/metrics.h"
#include "state/spendstore.h"

/* Cells of the party index: a power of two, twice the parties at most. */
#define PARTY_INDEX_CAP 512u

enum call_direction { DIR_INBOUND, DIR_OUTBOUND, DIR_COUNT };

enum call_result { RES_ANSWERED, RES_BUSY, RES_NO_ANSWER, RES_FAILED, RES_COUNT };

enum metric_period { PERIOD_TODAY, PERIOD_MONTH, PERIOD_LIVE, PERIOD_COUNT };

static const char *const direction_names[DIR_COUNT] = { "inbound", "outbound" };
static const char *const result_names[RES_COUNT] = { "answered", "busy", "no_answer", "failed" };
static const char *const period_names[PERIOD_COUNT] = { "today", "month", "live" };

/* A trunk, an account, "global" (spend only) or "other" (calls only). */
struct party {
    char key[80];         /* "trunk:NAME", "account:NAME", "global", "other" */
    char country_code[8]; /* a trunk's, for international calls; "" otherwise */
    uint32_t calls[DIR_COUNT][RES_COUNT];
    uint32_t international;
    uint32_t spend[PERIOD_COUNT];
    bool has_calls;
    bool has_spend;
};

struct gw_call_metrics {
    struct metrics *reg;
    struct party parties[GW_CALL_METRICS_PARTIES + 2];
    size_t party_count; /* main thread only */
    size_t named_count; /* trunks and accounts among them */
    size_t other;       /* index of "other" */
    uint32_t calls_family;
    uint32_t intl_family;
    uint32_t spend_family;
    _Atomic uint32_t index[PARTY_INDEX_CAP]; /* party position + 1; 0 = empty */
};

static int add_calls(struct gw_call_metrics *cm, struct party *p, uint32_t family)
{
    for (size_t d = 0; d < DIR_COUNT; d++) {
        for (size_t r = 0; r < RES_COUNT; r++) {
            const char *values[] = { p->key, direction_names[d], result_names[r] };
            int rc = metrics_series_add(cm->reg, family, values, &p->calls[d][r]);
            if (rc != 0) {
                return rc;
            }
        }
    }
    p->has_calls = true;
    return 0;
}

static int add_spend(struct gw_call_metrics *cm, struct party *p, uint32_t family)
{
    for (size_t i = 0; i < PERIOD_COUNT; i++) {
        const char *values[] = { p->key, period_names[i] };
        int rc = metrics_series_add(cm->reg, family, values, &p->spend[i]);
        if (rc != 0) {
            return rc;
        }
    }
    p->has_spend = true;
    return 0;
}

static struct party *party_new(struct gw_call_metrics *cm, const char *kind, const char *name)
{
    struct party *p = &cm->parties[cm->party_count++];
    cm->named_count += name != NULL ? 1 : 0;
    (void)sw_snprintf(p->key, sizeof(p->key), "%s%s%s", kind, name != NULL ? ":" : "",
                      name != NULL ? name : "");
    return p;
}

static void trunk_new(struct gw_call_metrics *cm, const struct cfg_trunk *trunk)
{
    struct party *p = party_new(cm, "trunk", trunk->name);
    (void)sw_snprintf(p->country_code, sizeof(p->country_code), "%s",
                      trunk->country_code != NULL ? trunk->country_code : "");
}

/* The parties of the configuration: its trunks, then its accounts, then "global" and
 * "other"; at most GW_CALL_METRICS_PARTIES trunks and accounts. */
static void list_parties(struct gw_call_metrics *cm, const struct cfg *cfg)
{
    for (size_t i = 0; i < cfg->trunk_count && cm->named_count < GW_CALL_METRICS_PARTIES; i++) {
        trunk_new(cm, &cfg->trunks[i]);
    }
    for (size_t i = 0; i < cfg->account_count && cm->named_count < GW_CALL_METRICS_PARTIES; i++) {
        (void)party_new(cm, "account", cfg->accounts[i].username);
    }
    (void)party_new(cm, "global", NULL);
    cm->other = cm->party_count;
    (void)party_new(cm, "other", NULL);
}

static uint32_t index_hash(const char *key)
{
    return (uint32_t)sw_hash_bytes(key, strlen(key)) & (PARTY_INDEX_CAP - 1);
}

/* Publishes party `i` (complete) in the index. Main thread. */
static void index_put(struct gw_call_metrics *cm, size_t i)
{
    uint32_t at = index_hash(cm->parties[i].key);
    for (uint32_t step = 0; step < PARTY_INDEX_CAP; step++) {
        _Atomic uint32_t *cell = &cm->index[(at + step) & (PARTY_INDEX_CAP - 1)];
        if (atomic_load_explicit(cell, memory_order_relaxed) == 0) {
            atomic_store_explicit(cell, (uint32_t)i + 1, memory_order_release);
            return;
        }
    }
}

/* Registers the series of party `i`, then publishes it in the index. */
static int party_register(struct gw_call_metrics *cm, size_t i)
{
    struct party *p = &cm->parties[i];
    bool is_global = strcmp(p->key, "global") == 0;
    bool is_other = i == cm->other;
    int rc = is_global ? 0 : add_calls(cm, p, cm->calls_family);
    if (rc == 0 && p->country_code[0] != '\0') {
        const char *values[] = { p->key };
        rc = metrics_series_add(cm->reg, cm->intl_family, values, &p->international);
    }
    if (rc == 0 && !is_other) {
        rc = add_spend(cm, p, cm->spend_family);
    }
    if (rc == 0) {
        index_put(cm, i);
    }
    return rc;
}

static int register_series(struct gw_call_metrics *cm)
{
    static const char *const call_labels[] = { "party", "direction", "result" };
    static const char *const intl_labels[] = { "party" };
    static const char *const spend_labels[] = { "budget", "period" };
    const struct metrics_family_def calls_def = {
        .name = "sipwarden_calls_total",
        .help = "Calls ended, by trunk or account, direction (inbound = to the PBX) and result",
        .type = METRIC_COUNTER,
        .label_names = call_labels,
        .label_count = 3,
    };
    const struct metrics_family_def intl_def = {
        .name = "sipwarden_international_calls_total",
        .help = "Outbound calls through a trunk to another country than its own",
        .type = METRIC_COUNTER,
        .label_names = intl_labels,
        .label_count = 1,
    };
    const struct metrics_family_def spend_def = {
        .name = "sipwarden_spend_micro",
        .help = "Spend in millionths of the rate deck's currency: closed today and this "
                "month, and the live cost of the calls in progress",
        .type = METRIC_GAUGE,
        .label_names = spend_labels,
        .label_count = 2,
    };
    int rc = metrics_family_add(cm->reg, &calls_def, &cm->calls_family);
    if (rc == 0) {
        rc = metrics_family_add(cm->reg, &intl_def, &cm->intl_family);
    }
    if (rc == 0) {
        rc = metrics_family_add(cm->reg, &spend_def, &cm->spend_family);
    }
    for (size_t i = 0; i < cm->party_count && rc == 0; i++) {
        rc = party_register(cm, i);
    }
    return rc;
}

int gw_call_metrics_new(struct metrics *reg, const struct cfg *cfg, struct gw_call_metrics **out)
{
    struct gw_call_metrics *cm = sw_calloc(1, sizeof(*cm));
    if (cm == NULL) {
        return -ENOMEM;
    }
    cm->reg = reg;
    list_parties(cm, cfg);
    int rc = register_series(cm);
    if (rc != 0) {
        sw_free(cm);
        return rc;
    }
    *out = cm;
    return 0;
}

void gw_call_metrics_free(struct gw_call_metrics *cm)
{
    sw_free(cm);
}

static const struct party *find(const struct gw_call_metrics *cm, const char *key)
{
    uint32_t at = index_hash(key);
    for (uint32_t step = 0; step < PARTY_INDEX_CAP; step++) {
        uint32_t cell = atomic_load_explicit(&cm->index[(at + step) & (PARTY_INDEX_CAP - 1)],
                                             memory_order_acquire);
        if (cell == 0) {
            return NULL; /* insert-only: the key would sit before the first empty cell */
        }
        if (strcmp(cm->parties[cell - 1].key, key) == 0) {
            return &cm->parties[cell - 1];
        }
    }
    return NULL;
}

static enum call_result result_of(uint16_t code)
{
    switch (code) {
    case 200:
        return RES_ANSWERED;
    case 486:
    case 600:
        return RES_BUSY;
    case 408:
    case 480:
    case 487:
        return RES_NO_ANSWER;
    default:
        return RES_FAILED;
    }
}

/* The account when there is one (a phone's call, or the PBX's call to a phone), else the
 * trunk, else "other". */
static const struct party *party_of(const struct gw_call_metrics *cm, const struct call_record *rec)
{
    char key[80];
    const struct party *p = NULL;
    if (rec->policy.account[0] != '\0') {
        (void)sw_snprintf(key, sizeof(key), "account:%s", rec->policy.account);
        p = find(cm, key);
    } else if (rec->policy.trunk[0] != '\0') {
        (void)sw_snprintf(key, sizeof(key), "trunk:%s", rec->policy.trunk);
        p = find(cm, key);
    }
    return p != NULL ? p : &cm->parties[cm->other];
}

/* A trunk's outbound call to a number outside its own country code. */
static bool is_international(const struct call_record *rec, const struct party *trunk)
{
    const char *e164 = rec->policy.dialled_e164;
    size_t cc_len = strlen(trunk->country_code);
    return e164[0] == '+' && cc_len > 0 && strncmp(e164 + 1, trunk->country_code, cc_len) != 0;
}

void gw_call_metrics_count(struct gw_call_metrics *cm, unsigned slot, const struct call_record *rec)
{
    if (cm == NULL || rec == NULL) {
        return;
    }
    const struct party *p = party_of(cm, rec);
    size_t len = strlen(rec->direction);
    /* "trunk-pbx", "account-pbx": towards the PBX; anything else leaves it. */
    bool is_inbound = len >= 4 && strcmp(rec->direction + len - 4, "-pbx") == 0;
    enum call_direction d = is_inbound ? DIR_INBOUND : DIR_OUTBOUND;
    metrics_add(cm->reg, slot, p->calls[d][result_of(rec->final_code)], 1);
    if (d == DIR_OUTBOUND && rec->policy.trunk[0] != '\0') {
        char key[80];
        (void)sw_snprintf(key, sizeof(key), "trunk:%s", rec->policy.trunk);
        const struct party *trunk = find(cm, key);
        if (trunk != NULL && trunk->country_code[0] != '\0' && is_international(rec, trunk)) {
            metrics_add(cm->reg, slot, trunk->international, 1);
        }
    }
}

void gw_call_metrics_spend(struct gw_call_metrics *cm, unsigned slot, struct gw_spend *spend)
{
    if (cm == NULL || spend == NULL) {
        return;
    }
    struct spend_view *views = NULL;
    size_t count = gw_spend_views(spend, &views);
    for (size_t i = 0; i < count; i++) {
        const struct party *p = find(cm, views[i].key);
        if (p == NULL || !p->has_spend) {
            continue;
        }
        metrics_set(cm->reg, slot, p->spend[PERIOD_TODAY], views[i].day_micro);
        metrics_set(cm->reg, slot, p->spend[PERIOD_MONTH], views[i].month_micro);
        metrics_set(cm->reg, slot, p->spend[PERIOD_LIVE], views[i].live_micro);
    }
    sw_free(views);
}

/* Adds party `kind:name` unless it exists or the parties are full; false when its series
 * could not be registered (the party is then not published). */
static bool reload_party(struct gw_call_metrics *cm, const char *kind, const char *name,
                         const struct cfg_trunk *trunk, size_t *added)
{
    char key[sizeof(cm->parties[0].key)];
    (void)sw_snprintf(key, sizeof(key), "%s:%s", kind, name);
    if (find(cm, key) != NULL || cm->named_count >= GW_CALL_METRICS_PARTIES) {
        return true;
    }
    size_t i = cm->party_count;
    if (trunk != NULL) {
        trunk_new(cm, trunk);
    } else {
        (void)party_new(cm, kind, name);
    }
    if (party_register(cm, i) != 0) {
        return false; /* its series stay registered, unused: it counts as "other" */
    }
    (*added)++;
    return true;
}

size_t gw_call_metrics_reload(struct gw_call_metrics *cm, const struct cfg *cfg)
{
    size_t added = 0;
    bool is_ok = true;
    for (size_t i = 0; cm != NULL && i < cfg->trunk_count && is_ok; i++) {
        is_ok = reload_party(cm, "trunk", cfg->trunks[i].name, &cfg->trunks[i], &added);
    }
    for (size_t i = 0; cm != NULL && i < cfg->account_count && is_ok; i++) {
        is_ok = reload_party(cm, "account", cfg->accounts[i].username, NULL, &added);
    }
    return added;
}
