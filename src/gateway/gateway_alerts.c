/*
 * The alert rules' wiring (gateway_alerts.h): configuration in, measurements in, no
 * decisions of its own.
 */
#include "gateway/gateway_alerts.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/time.h"
#include "call/b2bua.h"
#include "config/config.h"
#include "obs/alert.h"
#include "obs/alert_baseline.h"
#include "obs/alert_cert.h"
#include "obs/alert_log.h"
#include "obs/alert_rules.h"
#include "obs/alert_sink.h"
#include "obs/filehash.h"
#include "obs/geoip.h"
#include "obs/metrics.h"
#include "state/alert_sqlite.h"

#define GW_ALERT_RULES_MAX  64
#define GW_ALERT_TRUNKS_MAX 64
#define GW_CERT_CHECK_TICKS 86400u /* once a day */
#define GW_DELIVERY_RESULTS 4
#define GW_BASELINE_WEEKS   2 /* weeks of history before the learned peak replaces the set one */

/* What the engine delivers to: the sinks of one configuration (a reload makes another). */
struct gw_outlet {
    struct gw_alerts *alerts;
    struct alert_sinks *sinks;
};

struct gw_alerts {
    struct alert_engine *engine;
    /* `sinks`, `carried` and the trunk watch change on the main thread (a reload) under
     * `lock`, which the housekeeping thread takes to read them. */
    pthread_mutex_t lock;
    struct alert_sinks *sinks;
    struct gw_outlet *outlet;       /* the engine's deliver context: `sinks` */
    struct alert_sinks *next_sinks; /* built and started by gw_alerts_prepare; NULL = keep */
    struct gw_outlet *next_outlet;
    uint64_t next_signature;
    atomic_bool is_peak_due; /* the rules were rebuilt: the learned peak applies again */
    struct alert_log *log;   /* open and recent alerts, for the admin API */
    struct alert_sqlite *db; /* NULL without [state] path */
    struct geoip *geo;       /* [alerts] geoip_db; NULL = none */
    struct geoip *next_geo;  /* opened by gw_alerts_prepare, in force at gw_alerts_reloaded */
    struct alert_baseline baseline;
    int64_t period;     /* the 15-minute period being measured */
    uint64_t signature; /* of the alert configuration in force (gw_alerts_reloaded) */
    char *certs[2];     /* TLS and STIR certificate paths; NULL = none */
    bool trunk_registers[GW_ALERT_TRUNKS_MAX];
    bool trunk_was_registered[GW_ALERT_TRUNKS_MAX];
    char *trunk_names[GW_ALERT_TRUNKS_MAX];
    size_t trunk_count;
    uint64_t events_dropped;
    uint64_t ticks;
    struct metrics *metrics; /* NULL = no figures */
    unsigned slot;
    uint32_t firing_series;
    uint32_t messages_series;
    uint32_t *delivery_series; /* GW_DELIVERY_RESULTS per sink of the start */
    char **series_sinks;       /* the names of the start's sinks, which have series */
    size_t series_sink_count;
    struct alert_sink_stats *carried; /* per series sink: what sinks replaced delivered */
};

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
    return h * 1099511628211u ^ sw_hash_bytes(data, len);
}

static uint64_t mix_text(uint64_t h, const char *text)
{
    return text != NULL ? mix(h, text, strlen(text) + 1) : mix(h, "", 0);
}

static uint64_t mix_u64(uint64_t h, uint64_t value)
{
    return mix(h, &value, sizeof(value));
}

/* What the alert configuration of `cfg` does, as one number: its rules and sinks. */
static uint64_t signature_of(const struct cfg *cfg, const struct alert_rule *rules, size_t count)
{
    uint64_t h = mix_u64(0, cfg->alerts.new_source_days);
    h = mix_u64(h, cfg->alerts.queue_size);
    for (size_t i = 0; i < count; i++) {
        const struct alert_rule *r = &rules[i];
        h = mix_text(mix_text(h, r->name), r->title);
        const uint64_t fields[] = { r->metric,   r->scope,      r->window_s,  r->threshold,
                                    r->severity, r->cooldown_s, r->sink_mask, r->is_learned };
        h = mix(h, fields, sizeof(fields));
    }
    for (size_t i = 0; i < cfg->alert_sink_count; i++) {
        const struct cfg_sink *k = &cfg->alert_sinks[i];
        const char *texts[] = {
            k->name, k->command, k->url, k->ca_file, k->sendmail, k->to, k->from
        };
        for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
            h = mix_text(h, texts[t]);
        }
        const uint64_t fields[] = { k->kind, k->template_name, k->allow_http, k->timeout,
                                    k->retries };
        h = mix(h, fields, sizeof(fields));
    }
    return h;
}

static uint64_t signature_of_cfg(const struct cfg *cfg)
{
    struct alert_rule *rules = sw_calloc(GW_ALERT_RULES_MAX, sizeof(*rules));
    if (rules == NULL) {
        return 0;
    }
    size_t count = alert_rules_from_cfg(cfg, rules, GW_ALERT_RULES_MAX);
    uint64_t h = signature_of(cfg, rules, count);
    sw_free(rules);
    return h;
}

void gw_alerts_note_config(struct gw_alerts *alerts, const char *path)
{
    char sha256[FILEHASH_HEX_CAP];
    if (alerts == NULL || alerts->db == NULL || path == NULL) {
        return;
    }
    if (!filehash_sha256(path, sha256)) {
        log_warn(NULL, "alerts: %s: cannot hash the configuration; its history misses this load",
                 path);
        return;
    }
    alert_sqlite_note_config(alerts->db, (int64_t)(sw_wall_us() / 1000u), path, sha256);
}

/* The trunks whose registration is watched, by their place in `cfg` (the index the
 * registrations are kept under). */
struct trunk_watch {
    bool registers[GW_ALERT_TRUNKS_MAX];
    char *names[GW_ALERT_TRUNKS_MAX];
    size_t count;
};

static void trunk_watch_fini(struct trunk_watch *w)
{
    for (size_t i = 0; i < w->count; i++) {
        sw_free(w->names[i]);
        w->names[i] = NULL;
    }
    w->count = 0;
}

static int trunk_watch_of(const struct cfg *cfg, struct trunk_watch *out)
{
    *out = (struct trunk_watch){ 0 };
    out->count = cfg->trunk_count < GW_ALERT_TRUNKS_MAX ? cfg->trunk_count : GW_ALERT_TRUNKS_MAX;
    for (size_t i = 0; i < out->count; i++) {
        out->registers[i] = cfg->trunks[i].is_register;
        if ((out->names[i] = sw_strdup(cfg->trunks[i].name)) == NULL) {
            trunk_watch_fini(out);
            return -ENOMEM;
        }
    }
    return 0;
}

/* Puts `w` in force (the old names go into `w`). A reload registers every trunk again, so
 * none counts as having registered until it has under the new configuration: a loss
 * then is a loss, not the moment between the two registrations. Lock held. */
static void trunk_watch_swap(struct gw_alerts *a, struct trunk_watch *w)
{
    struct trunk_watch old = { .count = a->trunk_count };
    for (size_t i = 0; i < GW_ALERT_TRUNKS_MAX; i++) {
        old.registers[i] = a->trunk_registers[i];
        old.names[i] = a->trunk_names[i];
        a->trunk_registers[i] = w->registers[i];
        a->trunk_names[i] = w->names[i];
        a->trunk_was_registered[i] = false;
    }
    a->trunk_count = w->count;
    *w = old;
}

static int copy_names(struct gw_alerts *a, const struct cfg *cfg)
{
    const char *certs[2] = { cfg->tls.certificate, cfg->stir.signing_certificate };
    for (size_t i = 0; i < 2; i++) {
        if (certs[i] != NULL && (a->certs[i] = sw_strdup(certs[i])) == NULL) {
            return -ENOMEM;
        }
    }
    struct trunk_watch w;
    int rc = trunk_watch_of(cfg, &w);
    if (rc == 0) {
        trunk_watch_swap(a, &w); /* nothing watched before: nothing to free */
    }
    return rc;
}

static void persist_source(void *ctx, const char *account, const struct sw_ip *ip, int64_t seen_s)
{
    alert_sqlite_note_source(ctx, account, ip, seen_s);
}

static void restore_source(void *ctx, const char *account, const struct sw_ip *ip, int64_t seen_s)
{
    const struct gw_alerts *a = ctx;
    alert_engine_source_restore(a->engine, account, ip, seen_s);
}

static void restore_level(void *ctx, int64_t period, uint32_t calls)
{
    struct gw_alerts *a = ctx;
    alert_baseline_record(&a->baseline, period, calls);
}

/* The history of [state] path: a missing database is logged, alerts still work. */
static void open_history(struct gw_alerts *a, const struct cfg *cfg)
{
    uint32_t keep_days = cfg->alerts.new_source_days > BASELINE_WEEKS * 7
                             ? cfg->alerts.new_source_days
                             : BASELINE_WEEKS * 7 + 1;
    if (cfg->state.path == NULL || alert_sqlite_open(cfg->state.path, keep_days, &a->db) != 0) {
        log_warn(NULL, "alerts: no history database: new sources and the call peak are "
                       "learnt from this start only");
        a->db = NULL;
    }
}

/* Every message goes to the admin API's log and the database's alert history, then to its
 * sinks. */
static void deliver(void *ctx, const struct alert *alert)
{
    const struct gw_outlet *outlet = ctx;
    struct gw_alerts *a = outlet->alerts;
    alert_log_note(a->log, alert);
    struct alert_sqlite_alert kept = {
        .time_ms = (int64_t)(alert->wall_us / 1000u),
        .rule = alert->rule,
        .state = alert_state_name(alert->state),
        .severity = alert_severity_name(alert->severity),
        .key = alert->key,
        .title = alert->title,
        .detail = alert->detail,
        .value = alert->value,
    };
    alert_sqlite_note_alert(a->db, &kept);
    alert_sinks_deliver(outlet->sinks, alert);
}

/* The engine's configuration for `cfg`, with its rules written into `rules`
 * (GW_ALERT_RULES_MAX). */
static struct alert_engine_config engine_config_of(struct gw_alerts *a, const struct cfg *cfg,
                                                   struct alert_rule *rules,
                                                   struct gw_outlet *outlet,
                                                   const struct geoip *geo)
{
    return (struct alert_engine_config){
        .rules = rules,
        .rule_count = alert_rules_from_cfg(cfg, rules, GW_ALERT_RULES_MAX),
        .new_source_days = cfg->alerts.new_source_days,
        .trunks = cfg->trunks,
        .trunk_count = cfg->trunk_count,
        .deliver = deliver,
        .deliver_ctx = outlet,
        .on_source = a->db != NULL ? persist_source : NULL,
        .source_ctx = a->db,
        .geo = geo,
    };
}

static int build_engine(struct gw_alerts *a, const struct cfg *cfg)
{
    struct alert_rule *rules = sw_calloc(GW_ALERT_RULES_MAX, sizeof(*rules));
    if (rules == NULL) {
        return -ENOMEM;
    }
    /* The database before the history loads: its addresses give the countries. */
    struct alert_engine_config ec = engine_config_of(a, cfg, rules, a->outlet, a->geo);
    int rc = alert_engine_new(&ec, &a->engine);
    a->signature = signature_of(cfg, rules, ec.rule_count);
    sw_free(rules);
    if (rc == 0 && a->db != NULL &&
        alert_sqlite_load(a->db, sw_wall_s(), restore_source, restore_level, a) != 0) {
        log_warn(NULL, "alerts: the history could not be read; it is learnt again");
    }
    if (rc == 0) {
        log_notice(NULL, "alerts: %zu rules, %zu sinks", ec.rule_count,
                   alert_sinks_count(a->sinks));
    }
    return rc;
}

/* A reload's rules, trunks and database (and its sinks when they were rebuilt) into the
 * engine. */
static int reconfigure(struct gw_alerts *a, const struct cfg *cfg)
{
    struct alert_rule *rules = sw_calloc(GW_ALERT_RULES_MAX, sizeof(*rules));
    if (rules == NULL) {
        return -ENOMEM;
    }
    struct gw_outlet *outlet = a->next_outlet != NULL ? a->next_outlet : a->outlet;
    struct alert_engine_config ec = engine_config_of(a, cfg, rules, outlet, a->next_geo);
    int rc = alert_engine_reconfigure(a->engine, &ec);
    sw_free(rules);
    return rc;
}

/* The index of the sink named `name` among those with metric series, or -1. */
static long series_sink_of(const struct gw_alerts *a, const char *name)
{
    for (size_t i = 0; i < a->series_sink_count; i++) {
        if (strcmp(a->series_sinks[i], name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* Frees what gw_alerts_prepare built and no reload took. */
static void discard_next(struct gw_alerts *a)
{
    geoip_free(a->next_geo);
    a->next_geo = NULL;
    alert_sinks_free(a->next_sinks);
    a->next_sinks = NULL;
    sw_free(a->next_outlet);
    a->next_outlet = NULL;
}

int gw_alerts_prepare(struct gw_alerts *alerts, const struct cfg *cfg, struct sw_diag *diag)
{
    if (alerts == NULL) {
        return 0;
    }
    discard_next(alerts);
    int rc = geoip_open_configured(cfg, &alerts->next_geo, diag);
    alerts->next_signature = signature_of_cfg(cfg);
    if (rc != 0 || alerts->next_signature == alerts->signature) {
        return rc; /* the same rules and sinks: the running sinks stay */
    }
    alerts->next_outlet = sw_calloc(1, sizeof(*alerts->next_outlet));
    rc = alerts->next_outlet != NULL ? alert_sinks_new(cfg, &alerts->next_sinks) : -ENOMEM;
    if (rc == 0) {
        alerts->next_outlet->alerts = alerts;
        alerts->next_outlet->sinks = alerts->next_sinks;
        rc = alert_sinks_start(alerts->next_sinks);
    }
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "alerts", "cannot build the alert sinks: %s",
                    sw_strerror(rc));
        discard_next(alerts);
    }
    return rc;
}

/* Adds what the sinks of `old` delivered to the figures of their names, then puts the
 * prepared sinks in their place. Main thread. */
static void swap_sinks(struct gw_alerts *a)
{
    struct alert_sinks *old = a->sinks;
    struct gw_outlet *old_outlet = a->outlet;
    alert_sinks_stop(old); /* drained and joined: its figures are final */
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < alert_sinks_count(old) && a->carried != NULL; i++) {
        long r = series_sink_of(a, alert_sinks_name(old, i));
        struct alert_sink_stats st;
        alert_sinks_stats(old, i, &st);
        if (r >= 0) {
            a->carried[r].delivered += st.delivered;
            a->carried[r].failed_attempts += st.failed_attempts;
            a->carried[r].given_up += st.given_up;
            a->carried[r].dropped += st.dropped;
        }
    }
    a->sinks = a->next_sinks;
    a->outlet = a->next_outlet;
    pthread_mutex_unlock(&a->lock);
    a->next_sinks = NULL;
    a->next_outlet = NULL;
    alert_sinks_free(old);
    sw_free(old_outlet);
    for (size_t i = 0; i < alert_sinks_count(a->sinks) && a->metrics != NULL; i++) {
        if (series_sink_of(a, alert_sinks_name(a->sinks, i)) < 0) {
            log_notice(NULL,
                       "reload: alert sink %s is new: its figures reach /metrics after a "
                       "restart",
                       alert_sinks_name(a->sinks, i));
        }
    }
}

void gw_alerts_reloaded(struct gw_alerts *alerts, const struct cfg *cfg)
{
    if (alerts == NULL) {
        return;
    }
    int rc = reconfigure(alerts, cfg);
    if (rc != 0) {
        log_err(NULL, "reload: alerts: %s; the rules and sinks in force stay", sw_strerror(rc));
        discard_next(alerts);
        return;
    }
    /* The engine reads the database under its lock: once it holds the new one, the old
     * one is nobody's. */
    geoip_free(alerts->geo);
    alerts->geo = alerts->next_geo;
    alerts->next_geo = NULL;
    if (alerts->next_sinks != NULL) {
        swap_sinks(alerts);
        alerts->signature = alerts->next_signature;
        log_notice(NULL,
                   "reload: alerts: %zu sinks; rules of the same name and measure keep "
                   "their incidents",
                   alert_sinks_count(alerts->sinks));
    }
    atomic_store(&alerts->is_peak_due, true);
    struct trunk_watch w;
    if (trunk_watch_of(cfg, &w) != 0) {
        log_err(NULL, "reload: alerts: out of memory: the trunk registrations watched stay");
        return;
    }
    pthread_mutex_lock(&alerts->lock);
    trunk_watch_swap(alerts, &w);
    pthread_mutex_unlock(&alerts->lock);
    trunk_watch_fini(&w);
}

int gw_alerts_new(const struct cfg *cfg, struct gw_alerts **out, struct sw_diag *diag)
{
    struct gw_alerts *a = sw_calloc(1, sizeof(*a));
    int rc = a != NULL ? 0 : -ENOMEM;
    if (rc == 0) {
        (void)pthread_mutex_init(&a->lock, NULL); /* defaults: cannot fail */
        alert_baseline_init(&a->baseline);
        a->period = sw_wall_s() / BASELINE_PERIOD_S;
        open_history(a, cfg);
        a->outlet = sw_calloc(1, sizeof(*a->outlet));
        rc = a->outlet != NULL ? alert_sinks_new(cfg, &a->sinks) : -ENOMEM;
    }
    if (rc == 0) {
        a->outlet->alerts = a;
        a->outlet->sinks = a->sinks;
    }
    if (rc == 0 && (rc = geoip_open_configured(cfg, &a->geo, diag)) != 0) {
        gw_alerts_free(a);
        return rc; /* the diag names the key */
    }
    if (rc == 0) {
        a->log = alert_log_new();
        rc = a->log != NULL ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        rc = build_engine(a, cfg);
    }
    if (rc == 0) {
        rc = copy_names(a, cfg);
    }
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, "alerts", "cannot build the alert rules: %s",
                    sw_strerror(rc));
        gw_alerts_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

struct alert_log *gw_alerts_log(struct gw_alerts *alerts)
{
    return alerts != NULL ? alerts->log : NULL;
}

struct event_sink gw_alerts_sink(struct gw_alerts *alerts)
{
    return (struct event_sink){ .emit = alert_event_emit, .ctx = alerts->engine };
}

static void check_certificates(struct gw_alerts *a)
{
    static const char *const keys[2] = { "tls", "stir" };
    for (size_t i = 0; i < 2; i++) {
        int64_t days = 0;
        if (a->certs[i] == NULL) {
            continue;
        }
        int rc = alert_cert_days_left(a->certs[i], sw_wall_s(), &days);
        if (rc != 0) {
            log_warn(NULL, "alerts: cannot read the %s certificate %s: %s", keys[i], a->certs[i],
                     sw_strerror(rc));
            continue;
        }
        alert_engine_observe(a->engine, CFG_METRIC_CERTIFICATE_EXPIRY, keys[i], days, sw_mono_ms());
    }
}

static int add_family(struct metrics *m, const char *name, const char *help, enum metric_type type,
                      uint32_t *series)
{
    struct metrics_family_def def = { .name = name, .help = help, .type = type };
    uint32_t family = 0;
    int rc = metrics_family_add(m, &def, &family);
    return rc == 0 ? metrics_series_add(m, family, NULL, series) : rc;
}

/* Remembers the names of the sinks whose series are registered now: a reload keeps
 * counting in them by name. */
static int keep_series_sinks(struct gw_alerts *a)
{
    size_t count = alert_sinks_count(a->sinks);
    a->series_sinks = sw_calloc(count + 1, sizeof(*a->series_sinks));
    a->carried = sw_calloc(count + 1, sizeof(*a->carried));
    if (a->series_sinks == NULL || a->carried == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        if ((a->series_sinks[i] = sw_strdup(alert_sinks_name(a->sinks, i))) == NULL) {
            return -ENOMEM;
        }
        a->series_sink_count = i + 1;
    }
    return 0;
}

int gw_alerts_add_metrics(struct gw_alerts *alerts, struct metrics *metrics, unsigned slot)
{
    static const char *const labels[] = { "sink", "result" };
    static const char *const results[GW_DELIVERY_RESULTS] = { "delivered", "failed", "given_up",
                                                              "dropped" };
    size_t sinks = alert_sinks_count(alerts->sinks);
    alerts->delivery_series = sw_calloc(sinks * GW_DELIVERY_RESULTS + 1, sizeof(uint32_t));
    if (alerts->delivery_series == NULL || keep_series_sinks(alerts) != 0) {
        return -ENOMEM;
    }
    int rc = add_family(metrics, "sipwarden_alerts_firing", "Alert incidents open now.",
                        METRIC_GAUGE, &alerts->firing_series);
    if (rc == 0) {
        rc = add_family(metrics, "sipwarden_alert_messages_total",
                        "Alert messages sent: alerts, updates and resolutions.", METRIC_COUNTER,
                        &alerts->messages_series);
    }
    struct metrics_family_def def = {
        .name = "sipwarden_alert_deliveries_total",
        .help = "Alert deliveries by sink and result (failed counts attempts).",
        .type = METRIC_COUNTER,
        .label_names = labels,
        .label_count = 2,
    };
    uint32_t family = 0;
    if (rc == 0) {
        rc = metrics_family_add(metrics, &def, &family);
    }
    for (size_t i = 0; i < sinks * GW_DELIVERY_RESULTS && rc == 0; i++) {
        const char *values[] = { alert_sinks_name(alerts->sinks, i / GW_DELIVERY_RESULTS),
                                 results[i % GW_DELIVERY_RESULTS] };
        rc = metrics_series_add(metrics, family, values, &alerts->delivery_series[i]);
    }
    if (rc == 0) {
        alerts->metrics = metrics;
        alerts->slot = slot;
    }
    return rc;
}

static void update_metrics(struct gw_alerts *a)
{
    if (a->metrics == NULL) {
        return;
    }
    struct alert_engine_stats es;
    alert_engine_stats_get(a->engine, &es);
    metrics_set(a->metrics, a->slot, a->firing_series, (int64_t)es.firing);
    metrics_set(a->metrics, a->slot, a->messages_series, (int64_t)es.messages);
    pthread_mutex_lock(&a->lock); /* a reload may be replacing the sinks */
    for (size_t i = 0; i < alert_sinks_count(a->sinks); i++) {
        long r = series_sink_of(a, alert_sinks_name(a->sinks, i));
        if (r < 0) {
            continue; /* added by a reload: no series until a restart */
        }
        struct alert_sink_stats st;
        alert_sinks_stats(a->sinks, i, &st);
        const struct alert_sink_stats *c = &a->carried[r];
        const uint64_t values[GW_DELIVERY_RESULTS] = { c->delivered + st.delivered,
                                                       c->failed_attempts + st.failed_attempts,
                                                       c->given_up + st.given_up,
                                                       c->dropped + st.dropped };
        for (size_t k = 0; k < GW_DELIVERY_RESULTS; k++) {
            metrics_set(a->metrics, a->slot,
                        a->delivery_series[(size_t)r * GW_DELIVERY_RESULTS + k],
                        (int64_t)values[k]);
        }
    }
    pthread_mutex_unlock(&a->lock);
}

/* The learned normal peak of this hour of the week, once there is enough history. */
static void apply_peak(struct gw_alerts *a)
{
    uint32_t peak = 0;
    if (alert_baseline_peak(&a->baseline, sw_wall_s(), GW_BASELINE_WEEKS, &peak)) {
        alert_engine_set_peak(a->engine, peak);
    }
}

/* At each new 15-minute period: record the last one's peak, follow the hour's baseline. */
static void measure_period(struct gw_alerts *a)
{
    int64_t period = sw_wall_s() / BASELINE_PERIOD_S;
    if (period == a->period) {
        return;
    }
    uint32_t calls = alert_engine_calls_peak_take(a->engine);
    alert_baseline_record(&a->baseline, a->period, calls);
    if (a->db != NULL) {
        alert_sqlite_note_level(a->db, a->period, calls);
    }
    a->period = period;
    apply_peak(a);
}

int gw_alerts_start(struct gw_alerts *alerts)
{
    int rc = alert_sinks_start(alerts->sinks);
    if (rc == 0 && alerts->db != NULL) {
        rc = alert_sqlite_start(alerts->db);
    }
    if (rc != 0) {
        return rc;
    }
    apply_peak(alerts);
    alert_engine_observe(alerts->engine, CFG_METRIC_RESTART, "", 1, sw_mono_ms());
    check_certificates(alerts);
    return 0;
}

/* A trunk that registered once and holds no registration now has lost it. */
static void check_trunks(struct gw_alerts *a, uint64_t now_ms)
{
    for (size_t i = 0; i < a->trunk_count; i++) {
        if (!a->trunk_registers[i]) {
            continue;
        }
        bool is_registered = b2bua_trunk_is_registered(i);
        a->trunk_was_registered[i] |= is_registered;
        if (a->trunk_was_registered[i]) {
            alert_engine_observe(a->engine, CFG_METRIC_TRUNK_REGISTRATION, a->trunk_names[i],
                                 is_registered ? 0 : 1, now_ms);
        }
    }
}

void gw_alerts_tick(struct gw_alerts *alerts, uint64_t events_dropped)
{
    uint64_t now_ms = sw_mono_ms();
    if (events_dropped > alerts->events_dropped) {
        alert_engine_observe(alerts->engine, CFG_METRIC_EVENTS_DROPPED, "",
                             (int64_t)(events_dropped - alerts->events_dropped), now_ms);
        alerts->events_dropped = events_dropped;
    }
    pthread_mutex_lock(&alerts->lock); /* a reload may be replacing the trunk watch */
    check_trunks(alerts, now_ms);
    pthread_mutex_unlock(&alerts->lock);
    if (atomic_exchange(&alerts->is_peak_due, false)) {
        apply_peak(alerts); /* the reloaded rules start from the configured peak */
    }
    measure_period(alerts);
    if (++alerts->ticks % GW_CERT_CHECK_TICKS == 0) {
        check_certificates(alerts);
    }
    alert_engine_tick(alerts->engine, now_ms);
    update_metrics(alerts);
}

void gw_alerts_free(struct gw_alerts *alerts)
{
    if (alerts == NULL) {
        return;
    }
    discard_next(alerts);
    alert_sinks_free(alerts->sinks);
    alerts->sinks = NULL;
    sw_free(alerts->outlet);
    alerts->outlet = NULL;
    alert_engine_free(alerts->engine);
    alerts->engine = NULL;
    alert_log_free(alerts->log);
    alerts->log = NULL;
    alert_sqlite_close(alerts->db); /* after the engine, which wrote into it */
    alerts->db = NULL;
    geoip_free(alerts->geo); /* after the engine, which read it */
    alerts->geo = NULL;
    for (size_t i = 0; i < 2; i++) {
        sw_free(alerts->certs[i]);
    }
    for (size_t i = 0; i < alerts->trunk_count; i++) {
        sw_free(alerts->trunk_names[i]);
    }
    for (size_t i = 0; i < alerts->series_sink_count; i++) {
        sw_free(alerts->series_sinks[i]);
    }
    sw_free(alerts->series_sinks);
    sw_free(alerts->carried);
    sw_free(alerts->delivery_series);
    pthread_mutex_destroy(&alerts->lock);
    sw_free(alerts);
}
