/*
 * The gateway's protection and observability state (gateway_obs.h): the event sink that
 * decides bans inline and queues every event for the consumer thread, the gate's hooks,
 * and the threads that persist, expire and report.
 */
#include "gateway/gateway_obs.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "base/alloc.h"
#include "base/callrec.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/time.h"
#include "config/config.h"
#include "gateway/gateway_alerts.h"
#include "gateway/gateway_api.h"
#include "gateway/gateway_callmetrics.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_spend.h"
#include "obs/banaction.h"
#include "obs/banevents.h"
#include "obs/cdr_store.h"
#include "obs/evq.h"
#include "obs/metrics.h"
#include "obs/minute.h"
#include "obs/recent.h"
#include "obs/seclog.h"
#include "policy/acl.h"
#include "policy/ban_decide.h"
#include "policy/fraud.h"
#include "policy/gate.h"
#include "state/ban.h"
#include "state/ban_redis.h"
#include "state/ban_sqlite.h"
#include "state/cluster.h"
#include "state/failtrack.h"
#include "state/isolation.h"
#include "state/ratelimit.h"
#include "state/redis_link.h"
#include "state/regshare.h"
#include "state/velshare.h"

/* Producer slots any thread may claim (workers, then the control, housekeeping, Redis,
 * SQLite and action threads); a thread beyond them shares one slot under a mutex. */
#define GW_EXTRA_SLOTS      6
#define GW_TELEMETRY_CAP    1024
#define GW_RELIABLE_CAP     16
#define GW_GATE_FACTOR      4 /* the gate's packet budget: 4x the stage's request budgets */
#define GW_METRIC_CONSUMER  0
#define GW_METRIC_HOUSE     1
/* The threads that emit call events count their calls in slot GW_METRIC_PRODUCERS + their
 * producer slot (one past the claimable ones: the shared slot, under its mutex). */
#define GW_METRIC_PRODUCERS 2
#define GW_MAX_GATE_DENY    256

enum gw_gauge {
    GW_GAUGE_BANS,
    GW_GAUGE_BAN_ENTRIES,
    GW_GAUGE_FAIL_SOURCES,
    GW_GAUGE_BUDGET_SOURCES,
    GW_GAUGE_EVENTS_DROPPED,
    GW_GAUGE_COUNT
};

struct gw_obs {
    struct gateway *gw;
    struct gw_call_metrics *call_metrics;
    uint64_t generation; /* tells this object from an earlier one at the same address */
    struct ban_store *bans;
    struct failtrack *fails;
    struct cluster *cluster;   /* NULL = no Redis: failures are counted here only */
    struct velshare *velocity; /* the velocity counts the cluster shares (installed) */
    struct regshare *regs;     /* the registrations the cluster shares (installed) */
    struct ratelimit *budget;
    uint32_t flood_threshold;
    struct seclog *file_log;
    struct seclog *sys_log;
    struct metrics *metrics;
    struct metrics_events metric_events;
    uint32_t gate_series[GATE_RESULT_COUNT];
    struct gw_kdrop_series kdrop_series;
    struct gw_steer_series steer_series;
    uint32_t gauge_series[GW_GAUGE_COUNT];
    struct evq *evq;
    unsigned claimable; /* producer slots 0..claimable-1 go to threads as they emit */
    atomic_uint next_slot;
    unsigned shared_slot;
    pthread_mutex_t shared_lock;
    struct gw_ctl *ctl;
    struct gw_admin *admin;
    struct cdr_store *cdr;  /* NULL = no call records */
    struct gw_spend *spend; /* the spending caps' live enforcement */
    struct gw_alerts *alerts;
    struct recent *recent_events;   /* the last security events, for the admin API */
    struct minute_counts *minute;   /* calls and failures of the last minute, likewise */
    struct gate_counts gate_counts; /* every generation's gate counts here */
    struct ban_decider *decider;    /* the inline ban decision (policy/ban_decide.h) */
    pthread_t house;
    bool has_house;
    struct gw_fraud *fraud;     /* the fraud counters' database (gateway_fraud.c), or NULL */
    pthread_mutex_t house_lock; /* with house_wake: the housekeeping thread's sleep */
    pthread_cond_t house_wake;
    atomic_bool is_stopping;
};

static atomic_uint_fast64_t obs_generation = 1;
static _Thread_local uint64_t tls_generation;
static _Thread_local unsigned tls_slot;

/* ---- the sink ---------------------------------------------------------------------- */

/* This thread's producer slot, claimed on its first event; UINT_MAX = the shared one. */
static unsigned producer_slot(struct gw_obs *obs)
{
    if (tls_generation != obs->generation) {
        unsigned slot = atomic_fetch_add(&obs->next_slot, 1);
        tls_generation = obs->generation;
        tls_slot = slot < obs->claimable ? slot : UINT_MAX;
    }
    return tls_slot;
}

static void push(struct gw_obs *obs, const struct sw_event *ev)
{
    if (producer_slot(obs) != UINT_MAX) {
        evq_push(obs->evq, tls_slot, ev);
        return;
    }
    pthread_mutex_lock(&obs->shared_lock);
    evq_push(obs->evq, obs->shared_slot, ev);
    pthread_mutex_unlock(&obs->shared_lock);
}

/* A call's record goes to the store when the call is answered and when it ends; the store
 * never drops one (the telemetry queue may). */
static void record_call(struct gw_obs *obs, const struct sw_event *ev)
{
    if (obs->cdr != NULL && ev->record != NULL &&
        (ev->kind == EV_CALL_ANSWERED || ev->kind == EV_CALL_ENDED)) {
        cdr_store_submit(obs->cdr, ev->record);
    }
}

/*
 * The fraud policy learns how its calls ended (issue #11): the short-call burst detector
 * counts answered seconds per key, and an inbound international call that the caller gave
 * up within seconds marks its number (Wangiri: a callback to it is refused). Inline on the
 * emitting worker: both update the shared fraud store only.
 */
static void teach_fraud(const struct sw_event *ev)
{
    const struct call_record *rec = ev->record;
    if (ev->kind != EV_CALL_ENDED || rec == NULL) {
        return;
    }
    const struct callrec_policy *policy = &rec->policy;
    int64_t answered_ms = rec->answer_us != 0 && rec->end_us > rec->answer_us
                              ? (int64_t)((rec->end_us - rec->answer_us) / 1000u)
                              : 0;
    if (policy->fraud_key[0] != '\0') {
        fraud_call_ended(sv_from_cstr(policy->fraud_key), sv_from_cstr(policy->dialled_e164),
                         policy->dialled_mono_ms, answered_ms);
    }
    if (policy->wangiri_ring_max_s != 0 && rec->answer_us == 0 &&
        rec->hangup_side == CALLREC_SIDE_CALLER && rec->end_us > rec->setup_us) {
        uint64_t ring_ms = (rec->end_us - rec->setup_us) / 1000u;
        if (fraud_wangiri_observe_values(sv_from_cstr(policy->trunk_country_code),
                                         policy->wangiri_ring_max_s,
                                         sv_from_cstr(rec->cid_received), ring_ms, sw_wall_s())) {
            log_notice(NULL, "fraud: %s rang %llu ms and hung up: marked as a Wangiri number",
                       rec->cid_received, (unsigned long long)ring_ms);
        }
    }
}

/* An ended call on /metrics, in the emitting thread's own slot (gateway_callmetrics.h). */
static void count_call(struct gw_obs *obs, const struct sw_event *ev)
{
    if (ev->kind != EV_CALL_ENDED || ev->record == NULL || obs->call_metrics == NULL) {
        return;
    }
    unsigned slot = producer_slot(obs);
    if (slot != UINT_MAX) {
        gw_call_metrics_count(obs->call_metrics, GW_METRIC_PRODUCERS + slot, ev->record);
        return;
    }
    pthread_mutex_lock(&obs->shared_lock);
    gw_call_metrics_count(obs->call_metrics, GW_METRIC_PRODUCERS + obs->shared_slot, ev->record);
    pthread_mutex_unlock(&obs->shared_lock);
}

void gw_obs_record_call(struct gateway *gw, const struct call_record *rec)
{
    struct gw_obs *obs = gw->obs;
    if (obs != NULL && obs->cdr != NULL) {
        cdr_store_submit(obs->cdr, rec);
    }
}

static void gw_emit(void *ctx, const struct sw_event *ev)
{
    struct gateway *gw = ctx;
    struct gw_obs *obs = gw->obs;
    if (obs != NULL && obs->decider != NULL) {
        ban_decide_event(obs->decider, ev);
    }
    if (obs != NULL) {
        record_call(obs, ev);
    }
    teach_fraud(ev);
    if (obs != NULL) {
        gw_spend_on_event(obs->spend, ev);
        count_call(obs, ev);
    }
    if (obs != NULL && obs->evq != NULL && ev->record != NULL) {
        struct sw_event copy = *ev;
        copy.record = NULL; /* borrowed for this call only: the queue outlives it */
        push(obs, &copy);
        return;
    }
    if (obs != NULL && obs->evq != NULL) {
        push(obs, ev);
        return;
    }
    char remote[SW_ADDR_STRLEN];
    sw_sockaddr_format(&ev->remote, remote, sizeof(remote));
    log_info(NULL, "event %s remote=%s session=%.64s detail=%.128s", sw_event_kind_name(ev->kind),
             remote, ev->session, ev->detail);
}

void gw_events_init(struct gateway *gw)
{
    gw->events.emit = gw_emit;
    gw->events.ctx = gw;
}

/* The security log is for security: call progress goes to the metrics only. */
static void seclog_sink(void *ctx, const struct sw_event *ev)
{
    if (ev->kind == EV_CALL_STARTED || ev->kind == EV_CALL_ANSWERED || ev->kind == EV_CALL_ENDED) {
        return;
    }
    /* Held until the queue's batch is delivered (seclog_flush): one write(2) per batch. */
    seclog_emit_held(ctx, ev);
}

/* The admin API's recent security events: call progress is not one. */
static void recent_sink(void *ctx, const struct sw_event *ev)
{
    if (ev->kind == EV_CALL_STARTED || ev->kind == EV_CALL_ANSWERED || ev->kind == EV_CALL_ENDED) {
        return;
    }
    recent_push(ctx, ev);
}

struct recent *gw_obs_recent_events(struct gateway *gw)
{
    return gw->obs != NULL ? gw->obs->recent_events : NULL;
}

/* The dashboard's per-minute figures: calls started and failures. */
static void minute_sink(void *ctx, const struct sw_event *ev)
{
    if (ev->kind == EV_CALL_STARTED) {
        minute_counts_add(ctx, GW_MINUTE_CALLS, (int64_t)(sw_mono_ms() / 1000u), 1);
    } else if (sw_event_kind_is_failure(ev->kind)) {
        /* An aggregated event (RateExceeded) stands for `count` requests. */
        minute_counts_add(ctx, GW_MINUTE_FAILURES, (int64_t)(sw_mono_ms() / 1000u),
                          ev->count > 0 ? ev->count : 1);
    }
}

struct minute_counts *gw_obs_minute(struct gateway *gw)
{
    return gw->obs != NULL ? gw->obs->minute : NULL;
}

struct alert_log *gw_obs_alert_log(struct gateway *gw)
{
    return gw->obs != NULL ? gw_alerts_log(gw->obs->alerts) : NULL;
}

/* ---- the gate's hooks -------------------------------------------------------------- */

static bool gate_is_banned(void *ctx, const struct sw_ip *ip, uint64_t now_ms)
{
    (void)now_ms; /* bans are in wall-clock seconds: they outlive a restart */
    const struct gw_obs *obs = ctx;
    return ban_store_is_banned(obs->bans, ip, sw_wall_s());
}

static bool gate_is_over_budget(void *ctx, const struct sw_ip *ip, uint64_t now_ms)
{
    struct gw_obs *obs = ctx;
    if (ban_store_is_exempt(obs->bans, ip)) {
        return false; /* the providers and the PBX: volume alone never stops them */
    }
    enum ratelimit_result r = ratelimit_take(obs->budget, ip, RATELIMIT_OTHER, 1, now_ms);
    if (r == RATELIMIT_FLOOD) {
        struct sw_event ev;
        sw_event_init(&ev, EV_RATE_EXCEEDED);
        sw_ip_to_sockaddr(ip, &ev.remote);
        ev.count = obs->flood_threshold;
        SW_EVENT_SET(&ev, module, SV("gate"));
        SW_EVENT_SET(&ev, detail, SV("packet flood over the per-source budget"));
        sw_event_emit(&obs->gw->events, &ev);
    }
    return r != RATELIMIT_OK;
}

struct gate *gw_gate_new(struct gateway *gw, const struct cfg *cfg)
{
    struct sw_cidr deny[GW_MAX_GATE_DENY];
    size_t count = acl_gate_deny_ranges(cfg, deny, GW_MAX_GATE_DENY);
    if (gw->obs == NULL) {
        return gate_new(deny, count, NULL);
    }
    struct gate_hooks hooks = {
        .is_banned = gate_is_banned,
        .ban_ctx = gw->obs,
        .is_over_budget = gate_is_over_budget,
        .budget_ctx = gw->obs,
        .counts = &gw->obs->gate_counts,
    };
    return gate_new(deny, count, &hooks);
}

bool gw_obs_is_recently_authenticated(struct gateway *gw, const struct sw_ip *ip)
{
    struct gw_obs *obs = gw->obs;
    return obs != NULL && obs->decider != NULL && ban_decide_is_authenticated(obs->decider, ip);
}

struct ban_store *gw_obs_bans(struct gateway *gw)
{
    return gw->obs != NULL ? gw->obs->bans : NULL;
}

struct gw_spend *gw_obs_spend(struct gateway *gw)
{
    return gw->obs != NULL ? gw->obs->spend : NULL;
}

/* ---- building ---------------------------------------------------------------------- */

static int open_tables(struct gw_obs *obs, const struct cfg *cfg, struct sw_diag *diag)
{
    struct ban_config bc = {
        .max_entries = cfg->ban.max_entries,
        .bantime_s = cfg->ban.bantime,
        .bantime_factor = (double)cfg->ban.bantime_factor,
        .bantime_max_s = cfg->ban.bantime_max,
        .never_ban = cfg->ban.never_ban.items,
        .never_ban_count = cfg->ban.never_ban.count,
        .v6_prefix_len = cfg->ban.ipv6_prefix,
    };
    uint32_t maxretry = cfg->ban.maxretry;
    if (maxretry > FAILTRACK_MAXRETRY_MAX) {
        sw_diag_add(diag, DIAG_WARNING, cfg->source, 0, "ban.maxretry",
                    "%u is above the tracker's limit; %d failures ban", maxretry,
                    FAILTRACK_MAXRETRY_MAX);
        maxretry = FAILTRACK_MAXRETRY_MAX;
    }
    struct failtrack_config fc = {
        .maxretry = maxretry,
        .findtime_s = cfg->ban.findtime,
        .max_sources = cfg->ban.max_entries,
        .v6_prefix_len = cfg->ban.ipv6_prefix,
    };
    const struct cfg_ratelimit *rl = &cfg->ratelimit;
    uint32_t rate = rl->register_rate + rl->invite_rate + rl->options_rate + rl->other_rate;
    uint32_t burst = rl->register_burst + rl->invite_burst + rl->options_burst + rl->other_burst;
    struct ratelimit_config budget = {
        .per_class[RATELIMIT_OTHER] = { rate * GW_GATE_FACTOR, burst * GW_GATE_FACTOR },
        .global = { rl->global_rate * GW_GATE_FACTOR, rl->global_rate * GW_GATE_FACTOR },
        .flood_threshold = rl->flood_threshold * GW_GATE_FACTOR,
        .max_entries = rl->max_sources,
        .v6_prefix_len = cfg->ban.ipv6_prefix,
    };
    obs->flood_threshold = budget.flood_threshold;
    int rc = ban_store_new(&bc, &obs->bans);
    if (rc == 0) {
        rc = failtrack_new(&fc, &obs->fails);
    }
    if (rc == 0) {
        rc = ban_decide_new(obs->bans, obs->fails, cfg->ban.ipv6_prefix, &obs->decider);
    }
    if (rc == 0) {
        rc = ratelimit_new(&budget, &obs->budget);
    }
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "ban", "cannot create the ban tables: %s",
                    sw_strerror(rc));
    }
    return rc;
}

/* The cluster thread: the shared failure count of `ip` reached maxretry. */
static void cluster_ban(void *ctx, const struct sw_ip *ip, uint32_t failures)
{
    struct gw_obs *obs = ctx;
    if (ban_store_is_exempt(obs->bans, ip)) {
        return;
    }
    char reason[32];
    (void)snprintf(reason, sizeof(reason), "ClusterFailures=%u", failures);
    ban_decide_ban(obs->decider, ip, reason);
}

/* The cluster thread: Redis stopped or started answering. */
static void cluster_state(void *ctx, bool is_up)
{
    struct gw_obs *obs = ctx;
    const char *detail = is_up ? "Redis reachable again: counters and call caps shared"
                               : "Redis unreachable: local failure counts and local shares "
                                 "of the call caps";
    if (is_up) {
        log_notice(NULL, "cluster: %s", detail);
    } else {
        log_warn(NULL, "cluster: %s", detail);
    }
    struct sw_event ev;
    sw_event_init(&ev, is_up ? EV_CLUSTER_RESTORED : EV_CLUSTER_DEGRADED);
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    SW_EVENT_SET(&ev, module, SV("cluster"));
    sw_event_emit(&obs->gw->events, &ev);
}

static int open_cluster(struct gw_obs *obs, const struct cfg *cfg, const char *password,
                        struct sw_diag *diag)
{
    struct cluster_config cc = {
        .host = cfg->state.redis.host,
        .port = cfg->state.redis.port,
        .prefix = cfg->state.redis_prefix,
        .maxretry =
            cfg->ban.maxretry < FAILTRACK_MAXRETRY_MAX ? cfg->ban.maxretry : FAILTRACK_MAXRETRY_MAX,
        .findtime_s = cfg->ban.findtime,
        .node = cfg->cluster.node,
        .calls = obs->gw->calls,
        .local_share_pct = cfg->cluster.local_share,
        .user = cfg->cluster.user,
        .password = password[0] != '\0' ? password : NULL,
    };
    int rc = cluster_new(&cc, cluster_ban, obs, &obs->cluster);
    if (rc == 0) {
        cluster_on_state(obs->cluster, cluster_state);
        ban_decide_set_cluster(obs->decider, obs->cluster);
    } else {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "state.redis", "cluster: %s",
                    sw_strerror(rc));
    }
    return rc;
}

static int attach_redis(struct gw_obs *obs, const struct cfg *cfg, const char *password,
                        struct sw_diag *diag)
{
    struct ban_redis_config rc_cfg = {
        .host = cfg->state.redis.host,
        .port = cfg->state.redis.port,
        .prefix = cfg->state.redis_prefix,
        .node_id = cfg->cluster.node,
        .user = cfg->cluster.user,
        .password = password[0] != '\0' ? password : NULL,
    };
    struct ban_redis *r = NULL;
    int rc = ban_redis_open(&rc_cfg, &r);
    if (rc == 0) {
        rc = ban_store_attach(obs->bans, &ban_redis_ops, r);
        if (rc != 0) {
            ban_redis_ops.close(r);
        }
    }
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "state.redis", "%s", sw_strerror(rc));
    }
    return rc;
}

static int attach_persistence(struct gw_obs *obs, const struct cfg *cfg, struct sw_diag *diag)
{
    if (cfg->state.path != NULL) {
        struct ban_sqlite_config sc = { .path = cfg->state.path };
        struct ban_sqlite *db = NULL;
        int rc = ban_sqlite_open(&sc, &db);
        if (rc == 0) {
            rc = ban_store_attach(obs->bans, &ban_sqlite_ops, db);
            if (rc != 0) {
                ban_sqlite_ops.close(db);
            }
        }
        if (rc != 0) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "state.path", "%s: %s", cfg->state.path,
                        sw_strerror(rc));
            return rc;
        }
        /* The incident state (disabled accounts, isolated trunks) lives next to the bans. */
        rc = isolation_open(cfg->state.path);
        if (rc != 0) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "state.path", "%s: %s", cfg->state.path,
                        sw_strerror(rc));
            return rc;
        }
        size_t held = isolation_list(NULL, 0);
        if (held != 0) {
            log_notice(NULL, "incident: %zu disabled account(s) and isolated trunk(s) restored",
                       held);
        }
    } else {
        log_warn(NULL, "state: no [state] path: bans and the incident state (disabled accounts, "
                       "isolated trunks) are not persisted across restarts");
    }
    if (cfg->state.backend != CFG_STATE_REDIS) {
        return 0;
    }
    char password[REDIS_LINK_SECRET_CAP] = "";
    if (cfg->cluster.password_file != NULL) {
        int rc = redis_link_read_password(cfg->cluster.password_file, password, sizeof(password));
        if (rc != 0) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "cluster.password_file", "%s: %s",
                        cfg->cluster.password_file,
                        rc == -SW_EBADARG ? "no password on its first line" : sw_strerror(rc));
            return rc;
        }
    }
    int rc = attach_redis(obs, cfg, password, diag);
    if (rc == 0) {
        rc = open_cluster(obs, cfg, password, diag);
    }
    explicit_bzero(password, sizeof(password)); /* the links keep their own copies */
    return rc;
}

static const char *cdr_database(const struct cfg *cfg)
{
    return cfg->cdr.database != NULL ? cfg->cdr.database : cfg->state.path;
}

static int open_cdr(struct gw_obs *obs, const struct cfg *cfg, struct sw_diag *diag)
{
    const char *database = cdr_database(cfg);
    if (!cfg->cdr.enabled || database == NULL) {
        if (cfg->cdr.enabled) {
            log_warn(NULL, "cdr: no database ([cdr] database or [state] path): no call records");
        }
        return 0;
    }
    struct cdr_store_config cc = {
        .database = database,
        .csv = cfg->cdr.csv,
        .node = cfg->cdr.node != NULL ? cfg->cdr.node : cfg->cluster.node,
    };
    int rc = cdr_store_open(&cc, &obs->cdr);
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "cdr.database", "%s: %s", database,
                    sw_strerror(rc));
    }
    return rc;
}

static bool copy_word(struct sv *cur, char *out, size_t cap)
{
    struct sv word;
    /* Without another space the word is the rest, and `cur` is left empty. */
    (void)sv_take_until(cur, ' ', &word);
    word = sv_trim(word);
    return word.len > 0 && sv_copy_cstr(word, out, cap);
}

/* [ban] nft_set "family table set": IPv6 bans go to "<set>6" in an inet table, as the
 * rules of `sipwarden firewall` define. */
static int attach_actions(struct gw_obs *obs, const struct cfg *cfg, struct sw_diag *diag)
{
    if (cfg->ban.nft_set == NULL && cfg->ban.command == NULL) {
        return 0;
    }
    char family[16] = "";
    char table[64] = "";
    char set[64] = "";
    char set6[72] = "";
    struct banaction_config ac = { .command = cfg->ban.command };
    if (cfg->ban.nft_set != NULL) {
        struct sv cur = sv_from_cstr(cfg->ban.nft_set);
        if (!copy_word(&cur, family, sizeof(family)) || !copy_word(&cur, table, sizeof(table)) ||
            !copy_word(&cur, set, sizeof(set))) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "ban.nft_set",
                        "expected \"family table set\"");
            return -SW_ECONFIG;
        }
        bool is_inet = strcmp(family, "inet") == 0;
        (void)snprintf(set6, sizeof(set6), "%s%s", set, is_inet ? "6" : "");
        ac.nft_path = "nft";
        ac.nft_family = family;
        ac.nft_table = table;
        ac.nft_set_v4 = strcmp(family, "ip6") != 0 ? set : NULL;
        ac.nft_set_v6 = strcmp(family, "ip") != 0 ? set6 : NULL;
    }
    struct banaction *action = NULL;
    int rc = banaction_new(&ac, &action);
    if (rc == 0) {
        rc = ban_store_attach(obs->bans, &banaction_ops, action);
        if (rc != 0) {
            banaction_free(action);
        }
    }
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "ban", "ban actions: %s", sw_strerror(rc));
    }
    return rc;
}

static int open_logs(struct gw_obs *obs, const struct cfg *cfg, struct sw_diag *diag)
{
    static const int facilities[] = {
        LOG_AUTH,   LOG_AUTHPRIV, LOG_DAEMON, LOG_USER,   LOG_LOCAL0, LOG_LOCAL1,
        LOG_LOCAL2, LOG_LOCAL3,   LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7,
    };
    enum seclog_format format =
        cfg->log.format == CFG_LOG_FORMAT_JSON ? SECLOG_FORMAT_JSON : SECLOG_FORMAT_ASTERISK;
    if (cfg->log.security_log != NULL) {
        struct seclog_config lc = { .format = format, .path = cfg->log.security_log };
        int rc = seclog_open(&lc, &obs->file_log);
        if (rc != 0) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "log.security_log", "%s: %s",
                        cfg->log.security_log, sw_strerror(rc));
            return rc;
        }
    }
    if (cfg->log.syslog) {
        size_t f = (size_t)cfg->log.syslog_facility;
        struct seclog_config lc = {
            .format = format,
            .dest = SECLOG_DEST_SYSLOG,
            .syslog_facility =
                f < sizeof(facilities) / sizeof(facilities[0]) ? facilities[f] : LOG_AUTH,
        };
        int rc = seclog_open(&lc, &obs->sys_log);
        if (rc != 0) {
            sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "log.syslog", "%s", sw_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/*
 * #15: a phone registered through one node can be called through another. Room for the
 * accounts a reload may add.
 */
static int share_registrations(struct gw_obs *obs, const struct cfg *cfg)
{
    obs->regs = regshare_new(4096 + 4 * cfg->account_count);
    if (obs->regs == NULL) {
        return -ENOMEM;
    }
    char address[REGSHARE_ADDR_CAP];
    gw_peer_address(cfg, address, sizeof(address));
    cluster_share_registrations(obs->cluster, obs->regs, address[0] != '\0' ? address : NULL);
    regshare_install(obs->regs);
    return 0;
}

int gw_obs_new(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag)
{
    struct gw_obs *obs = sw_calloc(1, sizeof(*obs));
    if (obs == NULL || pthread_mutex_init(&obs->shared_lock, NULL) != 0) {
        sw_free(obs);
        return -ENOMEM;
    }
    /* Default attributes but the clock: the sleep is in CLOCK_MONOTONIC time. */
    pthread_condattr_t attr;
    (void)pthread_condattr_init(&attr);
    (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    (void)pthread_cond_init(&obs->house_wake, &attr);
    (void)pthread_condattr_destroy(&attr);
    (void)pthread_mutex_init(&obs->house_lock, NULL);
    obs->gw = gw;
    obs->generation = atomic_fetch_add(&obs_generation, 1);
    atomic_init(&obs->next_slot, 0);
    atomic_init(&obs->is_stopping, false);
    gw->obs = obs;
    int rc = open_tables(obs, cfg, diag);
    if (rc == 0) {
        rc = open_logs(obs, cfg, diag);
    }
    if (rc == 0) {
        rc = attach_persistence(obs, cfg, diag);
    }
    if (rc == 0) {
        rc = attach_actions(obs, cfg, diag);
    }
    if (rc == 0) {
        rc = open_cdr(obs, cfg, diag);
    }
    if (rc == 0) {
        /* After the records are open: their recovery priced what a crash left open. */
        obs->spend = gw_spend_new(gw, obs->cdr != NULL ? cdr_database(cfg) : NULL);
        rc = obs->spend == NULL ? -ENOMEM : 0;
    }
    if (rc == 0 && obs->cluster != NULL) {
        /* #15: the caps hold for the cluster; the closed spend read back is reported. */
        cluster_share_spend(obs->cluster, gw_spend_store(obs->spend));
        obs->velocity = velshare_new(cfg->fraud.max_tracked);
        rc = obs->velocity == NULL ? -ENOMEM : 0;
    }
    if (rc == 0 && obs->velocity != NULL) {
        /* #15: calls per minute and international calls per hour count across nodes. */
        cluster_share_velocity(obs->cluster, obs->velocity);
        velshare_install(obs->velocity);
    }
    if (rc == 0 && obs->cluster != NULL) {
        rc = share_registrations(obs, cfg);
    }
    if (rc == 0) {
        log_notice(NULL, "bans: %zu restored, never-ban ranges %zu",
                   ban_store_list(obs->bans, sw_wall_s(), NULL, 0), cfg->ban.never_ban.count);
    }
    return rc;
}

static int add_gauges(struct gw_obs *obs)
{
    static const struct {
        const char *name;
        const char *help;
    } gauges[GW_GAUGE_COUNT] = {
        { "sipwarden_bans_active", "Addresses banned now." },
        { "sipwarden_ban_entries", "Entries of the ban store (active bans and history)." },
        { "sipwarden_failtrack_sources", "Sources with failures being counted." },
        { "sipwarden_gate_budget_sources", "Sources with a packet budget bucket in the gate." },
        { "sipwarden_events_dropped", "Telemetry events lost to full event rings since start." },
    };

    for (size_t i = 0; i < GW_GAUGE_COUNT; i++) {
        struct metrics_family_def def = { .name = gauges[i].name,
                                          .help = gauges[i].help,
                                          .type = METRIC_GAUGE };
        uint32_t family;
        int rc = metrics_family_add(obs->metrics, &def, &family);
        if (rc == 0) {
            rc = metrics_series_add(obs->metrics, family, NULL, &obs->gauge_series[i]);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int add_metrics(struct gw_obs *obs, const struct cfg *cfg, unsigned workers)
{
    struct metrics_config mc = { .slot_count = GW_METRIC_PRODUCERS + workers + GW_EXTRA_SLOTS + 1,
                                 .max_series = 4096 };
    int rc = metrics_new(&mc, &obs->metrics);
    if (rc == 0) {
        rc = metrics_events_init(&obs->metric_events, obs->metrics, GW_METRIC_CONSUMER);
    }
    static const char *const labels[] = { "result" };
    struct metrics_family_def def = {
        .name = "sipwarden_gate_packets_total",
        .help = "Packets judged by the gate before parsing, by result.",
        .type = METRIC_COUNTER,
        .label_names = labels,
        .label_count = 1,
    };
    uint32_t family = 0;
    if (rc == 0) {
        rc = metrics_family_add(obs->metrics, &def, &family);
    }
    for (int i = 0; i < GATE_RESULT_COUNT && rc == 0; i++) {
        const char *value[] = { gate_result_name((enum gate_result)i) };
        rc = metrics_series_add(obs->metrics, family, value, &obs->gate_series[i]);
    }
    if (rc == 0) {
        rc = gw_kdrop_metrics_add(obs->metrics, &obs->kdrop_series);
    }
    if (rc == 0) {
        rc = gw_steer_metrics_add(obs->metrics, &obs->steer_series);
    }
    if (rc == 0) {
        rc = add_gauges(obs);
    }
    if (rc == 0) {
        rc = gw_call_metrics_new(obs->metrics, cfg, &obs->call_metrics);
    }
    return rc == 0 ? gw_alerts_add_metrics(obs->alerts, obs->metrics, GW_METRIC_HOUSE) : rc;
}

static int add_queue(struct gw_obs *obs, unsigned workers)
{
    obs->claimable = workers + GW_EXTRA_SLOTS;
    obs->shared_slot = obs->claimable;
    struct evq_config qc = {
        .producer_count = obs->claimable + 2, /* + the shared slot + ban events */
        .telemetry_cap = GW_TELEMETRY_CAP,
        .reliable_cap = GW_RELIABLE_CAP,
    };
    int rc = evq_new(&qc, &obs->evq);
    obs->recent_events = recent_new(sizeof(struct sw_event), GW_RECENT_EVENTS);
    rc = rc == 0 && obs->recent_events == NULL ? -ENOMEM : rc;
    obs->minute = minute_counts_new(2);
    rc = rc == 0 && obs->minute == NULL ? -ENOMEM : rc;
    const struct event_sink sinks[] = {
        { .emit = seclog_sink, .ctx = obs->file_log, .flush = seclog_flush },
        { .emit = seclog_sink, .ctx = obs->sys_log, .flush = seclog_flush },
        { .emit = metrics_events_emit, .ctx = &obs->metric_events },
        { .emit = recent_sink, .ctx = obs->recent_events },
        { .emit = minute_sink, .ctx = obs->minute },
    };
    for (size_t i = 0; i < sizeof(sinks) / sizeof(sinks[0]) && rc == 0; i++) {
        if (sinks[i].ctx != NULL) {
            rc = evq_add_sink(obs->evq, &sinks[i]);
        }
    }
    if (rc == 0 && obs->alerts != NULL) {
        struct event_sink alerts = gw_alerts_sink(obs->alerts);
        rc = evq_add_sink(obs->evq, &alerts);
    }
    struct banevents *be = NULL;
    if (rc == 0) {
        rc = banevents_new(obs->evq, obs->claimable + 1, &be);
    }
    if (rc == 0) {
        rc = ban_store_attach(obs->bans, &banevents_ops, be);
        if (rc != 0) {
            banevents_ops.close(be);
        }
    }
    return rc;
}

int gw_obs_attach(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag)
{
    struct gw_obs *obs = gw->obs;
    int rc = gw_alerts_new(cfg, &obs->alerts, diag);
    if (rc != 0) {
        return rc;
    }
    gw_alerts_note_config(obs->alerts, gw->config_path);
    rc = add_metrics(obs, cfg, net_group_worker_count(gw->net));
    if (rc == 0) {
        rc = add_queue(obs, net_group_worker_count(gw->net));
    }
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, NULL, "event queue: %s", sw_strerror(rc));
        /* The sink must not push into a queue that was not built completely. */
        evq_free(obs->evq);
        obs->evq = NULL;
        return rc;
    }
    rc = gw_fraud_open(cfg, &obs->fraud);
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "state.path", "%s: fraud counters: %s",
                    cfg->state.path, sw_strerror(rc));
        return rc;
    }
    if (cfg->general.control_socket != NULL) {
        rc = gw_ctl_open(cfg->general.control_socket, obs->bans, gw, &obs->ctl, diag);
    }
    return rc;
}

/* ---- running ----------------------------------------------------------------------- */

static void update_metrics(struct gw_obs *obs)
{
    struct metrics *m = obs->metrics;
    for (int i = 0; i < GATE_RESULT_COUNT; i++) {
        uint64_t count = atomic_load_explicit(&obs->gate_counts.by_result[i], memory_order_relaxed);
        metrics_set(m, GW_METRIC_HOUSE, obs->gate_series[i], (int64_t)count);
    }
    struct evq_stats qs;
    evq_stats_get(obs->evq, &qs);
    const int64_t values[GW_GAUGE_COUNT] = {
        [GW_GAUGE_BANS] = (int64_t)ban_store_active_count(obs->bans),
        [GW_GAUGE_BAN_ENTRIES] = (int64_t)ban_store_count(obs->bans),
        [GW_GAUGE_FAIL_SOURCES] = (int64_t)failtrack_count(obs->fails),
        [GW_GAUGE_BUDGET_SOURCES] = (int64_t)ratelimit_count(obs->budget),
        [GW_GAUGE_EVENTS_DROPPED] = (int64_t)qs.dropped,
    };
    for (size_t i = 0; i < GW_GAUGE_COUNT; i++) {
        metrics_set(m, GW_METRIC_HOUSE, obs->gauge_series[i], values[i]);
    }
    gw_kdrop_metrics_update(obs->gw, m, GW_METRIC_HOUSE, &obs->kdrop_series);
    gw_steer_metrics_update(obs->gw, m, GW_METRIC_HOUSE, &obs->steer_series);
    gw_call_metrics_spend(obs->call_metrics, GW_METRIC_HOUSE, obs->spend);
}

/*
 * Once a second: expires the bans that are due (BanRemoved events, database rows,
 * firewall set, kernel map; the store scans only the shards with something due),
 * refreshes the metrics and saves the fraud counters that changed. Asleep otherwise: one wake-up a
 * second, woken at once to stop.
 */
static void *house_main(void *arg)
{
    struct gw_obs *obs = arg;
    pthread_mutex_lock(&obs->house_lock);
    while (!atomic_load(&obs->is_stopping)) {
        struct timespec until;
        (void)clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        /* A timeout or a spurious wake-up: the loop looks at is_stopping again. */
        (void)pthread_cond_timedwait(&obs->house_wake, &obs->house_lock, &until);
        if (atomic_load(&obs->is_stopping)) {
            break;
        }
        pthread_mutex_unlock(&obs->house_lock);
        (void)ban_store_expire(obs->bans, sw_wall_s());
        update_metrics(obs);
        struct evq_stats qs;
        evq_stats_get(obs->evq, &qs);
        gw_alerts_tick(obs->alerts, qs.dropped);
        gw_fraud_save(obs->fraud);
        pthread_mutex_lock(&obs->house_lock);
    }
    pthread_mutex_unlock(&obs->house_lock);
    return NULL;
}

/* The metrics are not what protects: a port in use is logged, the gateway still runs. */
static void start_admin(struct gw_obs *obs, const struct cfg *cfg)
{
    const struct cfg_endpoint *listen = &cfg->admin.listen;
    if (!listen->is_set || !listen->is_ip) {
        return;
    }
    char where[SW_ADDR_STRLEN];
    sw_sockaddr_format(&listen->addr, where, sizeof(where));
    int rc = gw_admin_start(&cfg->admin, obs->metrics, obs->gw, &obs->admin);
    if (rc != 0) {
        log_err(NULL, "admin: cannot serve on %s: %s; the metrics are not served", where,
                sw_strerror(rc));
        return;
    }
    gw_api_started();
    log_notice(NULL, "admin: serving GET /metrics and /api/v1/ on %s over %s%s", where,
               cfg->admin.certificate != NULL ? "HTTPS" : "HTTP",
               cfg->admin.token == NULL ? " (the API refuses every request: no token)" : "");
}

int gw_obs_start(struct gateway *gw)
{
    struct gw_obs *obs = gw->obs;
    int rc = evq_start(obs->evq);
    if (rc == 0) {
        rc = gw_alerts_start(obs->alerts);
    }
    if (rc != 0) {
        return rc;
    }
    if (obs->cluster != NULL && (rc = cluster_start(obs->cluster)) != 0) {
        return rc;
    }
    /* #15: serve with the cluster's grants and spend, not only the local shares (which
     * hold when Redis does not answer within a second: the thread logs it). */
    if (obs->cluster != NULL) {
        (void)cluster_wait_ready(obs->cluster, 1000);
    }
    rc = pthread_create(&obs->house, NULL, house_main, obs);
    if (rc != 0) {
        return -rc;
    }
    obs->has_house = true;
    rc = gw_spend_start(obs->spend);
    if (rc != 0) {
        return rc;
    }
    start_admin(obs, atomic_load(&gw->gen)->cfg); /* main thread: the generation is stable */
    return obs->ctl != NULL ? gw_ctl_start(obs->ctl) : 0;
}

void gw_obs_reopen(struct gateway *gw)
{
    if (gw->obs != NULL && gw->obs->file_log != NULL) {
        seclog_reopen(gw->obs->file_log);
    }
    if (gw->obs != NULL && gw->obs->cdr != NULL) {
        cdr_store_reopen(gw->obs->cdr);
    }
}

int gw_obs_prepare_reload(struct gateway *gw, const struct cfg *cfg, struct sw_diag *diag)
{
    return gw->obs != NULL ? gw_alerts_prepare(gw->obs->alerts, cfg, diag) : 0;
}

void gw_obs_reloaded(struct gateway *gw, const struct cfg *cfg)
{
    if (gw->obs != NULL) {
        gw_alerts_note_config(gw->obs->alerts, gw->config_path);
        gw_alerts_reloaded(gw->obs->alerts, cfg);
        size_t added = gw_call_metrics_reload(gw->obs->call_metrics, cfg);
        if (added > 0) {
            log_notice(NULL, "reload: %zu new trunk(s) and account(s) on /metrics", added);
        }
    }
}

void gw_obs_stop(struct gateway *gw)
{
    struct gw_obs *obs = gw->obs;
    if (obs == NULL) {
        return;
    }
    gw_ctl_close(obs->ctl);
    obs->ctl = NULL;
    gw_admin_stop(obs->admin);
    obs->admin = NULL;
    pthread_mutex_lock(&obs->house_lock);
    atomic_store(&obs->is_stopping, true);
    pthread_cond_signal(&obs->house_wake);
    pthread_mutex_unlock(&obs->house_lock);
    if (obs->has_house) {
        (void)pthread_join(obs->house, NULL);
        obs->has_house = false;
    }
    gw_spend_stop(obs->spend);
    if (obs->evq != NULL) {
        (void)evq_wait_idle(obs->evq, 2000);
    }
}

void gw_obs_free(struct gateway *gw)
{
    struct gw_obs *obs = gw->obs;
    if (obs == NULL) {
        return;
    }
    gw_obs_stop(gw);
    if (obs->cluster != NULL) {
        struct cluster_stats cs;
        cluster_stats_get(obs->cluster, &cs);
        log_notice(NULL,
                   "cluster: %llu failures, %llu call grants, %llu spend grants and %llu "
                   "velocity counts sent, %llu errors, thread CPU %llu us",
                   (unsigned long long)cs.operations, (unsigned long long)cs.grants,
                   (unsigned long long)cs.spend_grants, (unsigned long long)cs.velocity_sent,
                   (unsigned long long)cs.errors, (unsigned long long)(cs.cpu_ns / 1000u));
    }
    if (obs->decider != NULL) {
        ban_decide_set_cluster(obs->decider, NULL);
    }
    cluster_free(obs->cluster); /* its thread bans through the store and the queue */
    obs->cluster = NULL;
    velshare_install(NULL); /* the workers stopped */
    velshare_free(obs->velocity);
    obs->velocity = NULL;
    regshare_install(NULL);
    regshare_free(obs->regs);
    obs->regs = NULL;
    /* The store's backends push BanRemoved events and write rows while they close: free
     * it before the queue, and stop the queue (which delivers the rest) after. */
    ban_decide_free(obs->decider); /* before the store it borrows; no failure comes now */
    obs->decider = NULL;
    ban_store_free(obs->bans);
    obs->bans = NULL;
    gw_fraud_close(obs->fraud); /* after the workers and the housekeeping thread */
    obs->fraud = NULL;
    cdr_store_close(obs->cdr); /* writes every record queued */
    obs->cdr = NULL;
    gw_spend_free(obs->spend);
    obs->spend = NULL;
    isolation_close(); /* writes the last change; the workers are gone */
    evq_free(obs->evq);
    obs->evq = NULL;
    gw_alerts_free(obs->alerts); /* after the queue: it delivered its last events to them */
    obs->alerts = NULL;
    recent_free(obs->recent_events);
    obs->recent_events = NULL;
    minute_counts_free(obs->minute);
    obs->minute = NULL;
    ban_decide_free(obs->decider); /* when the start failed before gw_obs_stop */
    obs->decider = NULL;
    failtrack_free(obs->fails);
    ratelimit_free(obs->budget);
    seclog_close(obs->file_log);
    seclog_close(obs->sys_log);
    gw_call_metrics_free(obs->call_metrics);
    obs->call_metrics = NULL;
    metrics_free(obs->metrics);
    pthread_mutex_destroy(&obs->shared_lock);
    pthread_mutex_destroy(&obs->house_lock);
    pthread_cond_destroy(&obs->house_wake);
    gw->obs = NULL;
    sw_free(obs);
}
