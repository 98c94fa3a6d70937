/*
 * Alert rules (issue #12): sliding-window counts and levels of what the security events
 * and the gateway's state say, thresholds, one incident per rule and key, a cooldown
 * between messages about one incident, and a resolved message when the condition
 * clears. The engine decides; obs/alert_sink.h delivers.
 *
 * Inputs:
 *  - alert_engine_event(): a security event (as an event-queue sink, alert_event_emit).
 *    Failures of authentication (InvalidAccountID, InvalidPassword,
 *    ChallengeResponseFailed) feed auth_failures; BanAdded feeds bans; PolicyHit (a
 *    cap, a call rate, a hairpin or caller-ID refusal) and FraudBlock (the toll-fraud
 *    policy) feed policy_blocks; SuccessfulAuth feeds new_source, or, with a country
 *    database (obs/geoip.h) and a new_country rule, new_country when the account was
 *    not seen in the address's country within new_source_days (that alert stands for
 *    the new address too; either names the address and its country); CallStarted /
 *    CallEnded move concurrent_calls and, for a call
 *    towards a trunk whose detail says "trunk=NAME to=NUMBER", international_calls
 *    (the dialled number's country code differs from the trunk's, stir/tn.h).
 *  - alert_engine_observe(): what the gateway measures itself: a trunk's registration
 *    (level 1 = lost), events dropped (a count), a restart (a count), days left of a
 *    certificate (a level).
 *  - alert_engine_tick(): once a second, so that windowed counts decay, incidents
 *    resolve and updates go out.
 * A message goes out from the call that crossed the threshold, so an alert leaves for
 * its sinks within the time the event takes through the event queue.
 *
 * One incident = one FIRING message, then at most one UPDATE per cooldown while the
 * count grows, then one RESOLVED when the condition clears. A condition that comes back
 * within the cooldown after it resolved reopens the incident silently (no storm).
 *
 * Memory: per rule a 4-way set-associative table of `max_keys` windows (a key is an
 * account, an address or a trunk, at most ALERT_KEY_CAP bytes); when a set is full the
 * way that is idle and least recently touched gives way, or else the new key is not
 * counted (alert_engine_stats: keys_refused). New-source memory: `max_sources`
 * (account, address) and (account, country) pairs, the least recently seen replaced
 * first.
 *
 * Threads: every function locks the engine, so the event consumer, the housekeeping
 * thread and tests may call them; a worker never does (it only pushes events). The
 * deliver callback runs with the engine locked and must not block (a queue push).
 */
#ifndef SW_OBS_ALERT_H
#define SW_OBS_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "base/event.h"
#include "config/config.h"

#define ALERT_NAME_CAP   48
#define ALERT_TITLE_CAP  96
#define ALERT_KEY_CAP    80
#define ALERT_DETAIL_CAP 272
#define ALERT_SINKS_MAX  32

enum alert_state {
    ALERT_FIRING,
    ALERT_UPDATE,
    ALERT_RESOLVED,
    ALERT_TEST,
};

/* One rule, as built from the configuration (obs/alert_rules.h). */
struct alert_rule {
    char name[ALERT_NAME_CAP];
    char title[ALERT_TITLE_CAP];
    enum cfg_alert_metric metric;
    enum cfg_alert_scope scope;
    uint32_t window_s;
    uint32_t threshold; /* fires above it; certificate_expiry: below it (days) */
    enum cfg_alert_severity severity;
    uint32_t cooldown_s;
    uint64_t sink_mask; /* bit i = sink i of the configuration's order */
    bool is_learned;    /* concurrent_calls: threshold follows alert_engine_set_peak */
};

/* One message about an incident: a value, copied into each sink's queue. */
struct alert {
    char rule[ALERT_NAME_CAP];
    char title[ALERT_TITLE_CAP];
    char key[ALERT_KEY_CAP]; /* the account, address or trunk; "" for scope total */
    char detail[ALERT_DETAIL_CAP];
    enum alert_state state;
    enum cfg_alert_severity severity;
    enum cfg_alert_metric metric;
    int64_t value; /* the count or level that decided */
    uint32_t threshold;
    uint32_t window_s;
    uint64_t incident;  /* numbers incidents since start */
    uint64_t wall_us;   /* when the message was decided */
    uint64_t cause_us;  /* wall time of the event that crossed the threshold; 0 = none */
    uint64_t sink_mask; /* sinks it goes to */
};

typedef void alert_deliver_fn(void *ctx, const struct alert *alert);

/* Told when an (account, address) sighting should be persisted: first seen, or last
 * persisted more than a day ago. Runs with the engine locked: must not block. */
typedef void alert_source_fn(void *ctx, const char *account, const struct sw_ip *ip,
                             int64_t seen_s);

struct alert_engine_config {
    const struct alert_rule *rules; /* copied */
    size_t rule_count;
    size_t max_keys;    /* per rule; 0 = 4096; rounded up to a multiple of 4 */
    size_t max_sources; /* new-source pairs; 0 = 65536 */
    uint32_t new_source_days;
    /* The trunks' names and country codes, for international_calls (copied). */
    const struct cfg_trunk *trunks;
    size_t trunk_count;
    alert_deliver_fn *deliver;
    void *deliver_ctx;
    alert_source_fn *on_source; /* NULL = sightings are not persisted */
    void *source_ctx;
    /* The country database (borrowed); NULL = no countries. */
    const struct geoip *geo;
};

struct alert_engine_stats {
    uint64_t messages;     /* handed to deliver */
    uint64_t keys_refused; /* inputs not counted because a table set was busy */
    uint64_t firing;       /* incidents open now */
};

struct alert_engine;
struct geoip;

/* Names of the metrics, severities and states as the configuration and JSON spell them. */
const char *alert_metric_name(enum cfg_alert_metric metric);
const char *alert_severity_name(enum cfg_alert_severity severity);
const char *alert_state_name(enum alert_state state);

/* Creates the engine. Returns 0, -SW_EBADARG or -ENOMEM. */
int alert_engine_new(const struct alert_engine_config *cfg, struct alert_engine **out);

/* Frees; NULL is a no-op. */
void alert_engine_free(struct alert_engine *engine);

/*
 * A reload: the rules, trunks, new_source_days, country database and deliver callback of
 * `cfg` replace the engine's (max_sources stays). A rule of the same name, metric, scope
 * and window as a rule before carries on: its counts and open incidents stay, under its
 * new threshold, severity, cooldown, title and sinks (the next tick resolves an incident
 * that the new threshold no longer holds). Other rules start empty; the incidents of
 * rules gone or changed end without a message. The sources seen stay. Once it returns,
 * the engine no longer uses the previous database or deliver context, which the caller
 * may free. Returns 0, -SW_EBADARG, or -ENOMEM (then nothing changed).
 */
int alert_engine_reconfigure(struct alert_engine *engine, const struct alert_engine_config *cfg);

/* Counts one security event at monotonic time `now_ms`. */
void alert_engine_event(struct alert_engine *engine, const struct sw_event *event, uint64_t now_ms);

/*
 * A measurement for `metric` and `key` ("" = total): the level now for
 * trunk_registration and certificate_expiry, otherwise a count to add.
 */
void alert_engine_observe(struct alert_engine *engine, enum cfg_alert_metric metric,
                          const char *key, int64_t value, uint64_t now_ms);

/* Decays the windows, sends updates and resolutions due at `now_ms`. */
void alert_engine_tick(struct alert_engine *engine, uint64_t now_ms);

void alert_engine_stats_get(struct alert_engine *engine, struct alert_engine_stats *out);

/* Restores a persisted sighting (at start, before events flow). */
void alert_engine_source_restore(struct alert_engine *engine, const char *account,
                                 const struct sw_ip *ip, int64_t seen_s);

/* The highest number of concurrent calls since the previous call (then restarts from
 * the number now): the level of a 15-minute period for the learned baseline. */
uint32_t alert_engine_calls_peak_take(struct alert_engine *engine);

/* The normal peak of concurrent calls: every is_learned rule fires above 1.5 times it. */
void alert_engine_set_peak(struct alert_engine *engine, uint32_t peak);

/* An event_emit_fn for the event queue: `ctx` is the engine; uses sw_mono_ms(). */
void alert_event_emit(void *ctx, const struct sw_event *event);

#endif
