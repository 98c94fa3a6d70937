#include "obs/alert.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/time.h"
#include "obs/geoip.h"
#include "stir/tn.h"

/* Buckets of a sliding window: a count is exact to window / ALERT_BUCKETS. */
#define ALERT_BUCKETS     30
#define ALERT_WAYS        4
#define ALERT_DAY_S       86400
#define CERT_CRITICAL_DAY 7
#define SOURCE_PERSIST_S  ALERT_DAY_S
#define ALERT_NOTE_CAP    96

/* One key of one rule: its window or level and its incident. */
struct alert_slot {
    char key[ALERT_KEY_CAP];
    uint64_t hash;
    bool is_used;
    bool is_firing;
    bool has_open_message; /* a FIRING or UPDATE went out and no RESOLVED yet */
    uint64_t touched_ms;
    uint64_t bucket_ms; /* width of a bucket */
    uint64_t head;      /* index (time / width) of the newest bucket */
    uint32_t counts[ALERT_BUCKETS];
    int64_t level;
    uint64_t incident;
    uint64_t sent_ms;
    int64_t sent_value;
    uint64_t resolved_ms;
};

struct rule_state {
    struct alert_rule rule;
    struct alert_slot *slots; /* set_count * ALERT_WAYS */
    size_t set_count;
    bool is_carried; /* while building: the slots came from the rule set before */
};

struct source_entry {
    uint64_t account_hash;
    /* All zero: the account's own entry ("seen at all"); 100::/64 (RFC 6666, discard
     * only, never a peer): a country's entry (country_key). */
    struct sw_ip ip;
    int64_t seen_s; /* 0 = empty */
};

struct trunk_cc {
    char name[ALERT_KEY_CAP];
    char country_code[8];
};

struct alert_engine {
    pthread_mutex_t lock;
    struct rule_state *rules;
    size_t rule_count;
    struct source_entry *sources;
    size_t source_sets;
    int64_t new_source_s;
    struct trunk_cc *trunks;
    size_t trunk_count;
    int64_t calls;      /* calls in progress, from CallStarted / CallEnded */
    int64_t calls_peak; /* highest `calls` since alert_engine_calls_peak_take */
    alert_source_fn *on_source;
    void *source_ctx;
    const struct geoip *geo;   /* NULL = no countries */
    bool has_country_rule;     /* a new_country rule exists: it reports new countries */
    char note[ALERT_NOTE_CAP]; /* what the event being counted adds to a message; "" = none */
    uint64_t next_incident;
    alert_deliver_fn *deliver;
    void *deliver_ctx;
    struct alert_engine_stats stats;
};

static const char *const metric_names[CFG_METRIC_COUNT] = {
    "auth_failures",
    "concurrent_calls",
    "international_calls",
    "new_source",
    "bans",
    "trunk_registration",
    "events_dropped",
    "restart",
    "certificate_expiry",
    "policy_blocks",
    "new_country",
};

const char *alert_metric_name(enum cfg_alert_metric metric)
{
    return (size_t)metric < CFG_METRIC_COUNT ? metric_names[metric] : "unknown";
}

const char *alert_severity_name(enum cfg_alert_severity severity)
{
    static const char *const names[] = { "info", "medium", "high", "critical" };
    return (size_t)severity < sizeof(names) / sizeof(names[0]) ? names[severity] : "unknown";
}

const char *alert_state_name(enum alert_state state)
{
    static const char *const names[] = { "firing", "update", "resolved", "test" };
    return (size_t)state < sizeof(names) / sizeof(names[0]) ? names[state] : "unknown";
}

/* Level metrics hold a value now; the others count within the window. */
static bool metric_is_level(enum cfg_alert_metric metric)
{
    return metric == CFG_METRIC_CONCURRENT_CALLS || metric == CFG_METRIC_TRUNK_REGISTRATION ||
           metric == CFG_METRIC_CERTIFICATE_EXPIRY;
}

static void copy_text(char *out, size_t cap, const char *text)
{
    (void)sw_snprintf(out, cap, "%s", text != NULL ? text : "");
}

/* ---- building ------------------------------------------------------------------------ */

/* The trunks of `cfg` as the international rule reads them; *out NULL when there are none. */
static int trunks_build(const struct alert_engine_config *cfg, struct trunk_cc **out)
{
    *out = NULL;
    if (cfg->trunk_count == 0) {
        return 0;
    }
    struct trunk_cc *trunks = sw_calloc(cfg->trunk_count, sizeof(*trunks));
    if (trunks == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        copy_text(trunks[i].name, sizeof(trunks[i].name), cfg->trunks[i].name);
        copy_text(trunks[i].country_code, sizeof(trunks[i].country_code),
                  cfg->trunks[i].country_code);
    }
    *out = trunks;
    return 0;
}

/* Whether `old` carries on as `rule`: the same name counting the same thing over the same
 * window, so that its windows and incidents stay true (threshold, severity, cooldown,
 * title and sinks may change). */
static bool rule_continues(const struct rule_state *old, const struct alert_rule *rule,
                           size_t set_count)
{
    return strcmp(old->rule.name, rule->name) == 0 && old->rule.metric == rule->metric &&
           old->rule.scope == rule->scope && old->rule.window_s == rule->window_s &&
           old->set_count == set_count;
}

/* Frees the slots `rules` allocated themselves (not those carried from an old set). */
static void rules_discard(struct rule_state *rules, size_t count)
{
    for (size_t i = 0; i < count && rules != NULL; i++) {
        if (!rules[i].is_carried) {
            sw_free(rules[i].slots);
        }
        rules[i].slots = NULL;
    }
    sw_free(rules);
}

/*
 * Builds the rule states of `cfg` into *out. A rule that carries on one of the `old_count`
 * rules of `old` takes its slots (and sets taken[j]); the others get empty tables. On
 * failure nothing of `old` changed. Returns 0 or -ENOMEM.
 */
static int rules_build(const struct alert_engine_config *cfg, const struct rule_state *old,
                       size_t old_count, bool *taken, struct rule_state **out)
{
    size_t max_keys = cfg->max_keys != 0 ? cfg->max_keys : 4096;
    size_t sets = (max_keys + ALERT_WAYS - 1) / ALERT_WAYS;
    struct rule_state *rules =
        sw_calloc(cfg->rule_count != 0 ? cfg->rule_count : 1, sizeof(*rules));
    if (rules == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->rule_count; i++) {
        struct rule_state *rs = &rules[i];
        rs->rule = cfg->rules[i];
        /* Keys of a total or level rule are few: a single set is enough. */
        rs->set_count = rs->rule.scope == CFG_SCOPE_TOTAL ? 1 : sets;
        for (size_t j = 0; j < old_count && !rs->is_carried; j++) {
            if (!taken[j] && rule_continues(&old[j], &rs->rule, rs->set_count)) {
                taken[j] = true;
                rs->slots = old[j].slots;
                rs->is_carried = true;
            }
        }
        if (!rs->is_carried) {
            rs->slots = sw_calloc(rs->set_count * ALERT_WAYS, sizeof(*rs->slots));
        }
        if (rs->slots == NULL) {
            rules_discard(rules, i);
            return -ENOMEM;
        }
    }
    *out = rules;
    return 0;
}

static bool rules_have(const struct rule_state *rules, size_t count, enum cfg_alert_metric metric)
{
    for (size_t i = 0; i < count; i++) {
        if (rules[i].rule.metric == metric) {
            return true;
        }
    }
    return false;
}

/* Takes what `cfg` says beside the rules and trunks (the engine locked or not yet shared). */
static void settings_take(struct alert_engine *e, const struct alert_engine_config *cfg)
{
    e->deliver = cfg->deliver;
    e->deliver_ctx = cfg->deliver_ctx;
    e->on_source = cfg->on_source;
    e->source_ctx = cfg->source_ctx;
    e->geo = cfg->geo;
    e->new_source_s =
        (int64_t)(cfg->new_source_days != 0 ? cfg->new_source_days : 30) * ALERT_DAY_S;
    e->has_country_rule = rules_have(e->rules, e->rule_count, CFG_METRIC_NEW_COUNTRY);
}

int alert_engine_new(const struct alert_engine_config *cfg, struct alert_engine **out)
{
    if (cfg == NULL || out == NULL || (cfg->rule_count > 0 && cfg->rules == NULL)) {
        return -SW_EBADARG;
    }
    struct alert_engine *e = sw_calloc(1, sizeof(*e));
    if (e == NULL) {
        return -ENOMEM;
    }
    if (pthread_mutex_init(&e->lock, NULL) != 0) {
        sw_free(e);
        return -ENOMEM;
    }
    size_t max_sources = cfg->max_sources != 0 ? cfg->max_sources : 65536;
    e->source_sets = (max_sources + ALERT_WAYS - 1) / ALERT_WAYS;
    e->sources = sw_calloc(e->source_sets * ALERT_WAYS, sizeof(*e->sources));
    int rc = e->sources != NULL ? rules_build(cfg, NULL, 0, NULL, &e->rules) : -ENOMEM;
    if (rc == 0) {
        e->rule_count = cfg->rule_count;
        rc = trunks_build(cfg, &e->trunks);
        e->trunk_count = e->trunks != NULL ? cfg->trunk_count : 0;
    }
    if (rc != 0) {
        alert_engine_free(e);
        return rc;
    }
    settings_take(e, cfg);
    *out = e;
    return 0;
}

/* Incidents open in `rs`. */
static uint64_t rule_firing(const struct rule_state *rs)
{
    uint64_t firing = 0;
    for (size_t s = 0; s < rs->set_count * ALERT_WAYS; s++) {
        firing += rs->slots[s].is_used && rs->slots[s].is_firing ? 1 : 0;
    }
    return firing;
}

int alert_engine_reconfigure(struct alert_engine *engine, const struct alert_engine_config *cfg)
{
    if (cfg->rule_count > 0 && cfg->rules == NULL) {
        return -SW_EBADARG;
    }
    pthread_mutex_lock(&engine->lock);
    bool *taken = sw_calloc(engine->rule_count + 1, sizeof(*taken));
    struct rule_state *rules = NULL;
    struct trunk_cc *trunks = NULL;
    int rc = taken != NULL ? rules_build(cfg, engine->rules, engine->rule_count, taken, &rules)
                           : -ENOMEM;
    if (rc == 0 && (rc = trunks_build(cfg, &trunks)) != 0) {
        rules_discard(rules, cfg->rule_count);
    }
    if (rc == 0) {
        /* Rules that do not carry on end with their incidents, silently: the operator
         * changed them. */
        for (size_t j = 0; j < engine->rule_count; j++) {
            if (!taken[j]) {
                engine->stats.firing -= rule_firing(&engine->rules[j]);
                sw_free(engine->rules[j].slots);
            }
        }
        sw_free(engine->rules);
        engine->rules = rules;
        engine->rule_count = cfg->rule_count;
        sw_free(engine->trunks);
        engine->trunks = trunks;
        engine->trunk_count = trunks != NULL ? cfg->trunk_count : 0;
        settings_take(engine, cfg);
    }
    pthread_mutex_unlock(&engine->lock);
    sw_free(taken);
    return rc;
}

void alert_engine_free(struct alert_engine *engine)
{
    if (engine == NULL) {
        return;
    }
    for (size_t i = 0; i < engine->rule_count; i++) {
        sw_free(engine->rules[i].slots);
        engine->rules[i].slots = NULL;
    }
    sw_free(engine->rules);
    engine->rules = NULL;
    sw_free(engine->sources);
    engine->sources = NULL;
    sw_free(engine->trunks);
    engine->trunks = NULL;
    pthread_mutex_destroy(&engine->lock);
    sw_free(engine);
}

/* ---- windows ------------------------------------------------------------------------- */

/* Moves the window to `now_ms`: buckets that left it are emptied. */
static void window_advance(struct alert_slot *slot, uint64_t now_ms)
{
    uint64_t index = now_ms / slot->bucket_ms;
    if (index <= slot->head) {
        return;
    }
    uint64_t steps = index - slot->head;
    if (steps >= ALERT_BUCKETS) {
        memset(slot->counts, 0, sizeof(slot->counts));
    } else {
        for (uint64_t i = 1; i <= steps; i++) {
            slot->counts[(slot->head + i) % ALERT_BUCKETS] = 0;
        }
    }
    slot->head = index;
}

static int64_t window_sum(const struct alert_slot *slot)
{
    int64_t sum = 0;
    for (size_t i = 0; i < ALERT_BUCKETS; i++) {
        sum += slot->counts[i];
    }
    return sum;
}

static int64_t slot_value(const struct rule_state *rs, struct alert_slot *slot, uint64_t now_ms)
{
    if (metric_is_level(rs->rule.metric)) {
        return slot->level;
    }
    window_advance(slot, now_ms);
    return window_sum(slot);
}

static bool slot_is_over(const struct rule_state *rs, int64_t value)
{
    if (rs->rule.metric == CFG_METRIC_CERTIFICATE_EXPIRY) {
        return value < (int64_t)rs->rule.threshold;
    }
    return value > (int64_t)rs->rule.threshold;
}

/* The slot of `key` (created when absent); NULL when its set has no idle way. */
static struct alert_slot *slot_find(struct alert_engine *e, struct rule_state *rs, const char *key,
                                    uint64_t now_ms)
{
    uint64_t hash = sw_hash_bytes(key, strlen(key));
    struct alert_slot *ways = &rs->slots[(hash % rs->set_count) * ALERT_WAYS];
    struct alert_slot *victim = NULL;
    for (size_t w = 0; w < ALERT_WAYS; w++) {
        struct alert_slot *s = &ways[w];
        if (s->is_used && s->hash == hash && strcmp(s->key, key) == 0) {
            return s;
        }
        bool is_idle = !s->is_used || (!s->is_firing && !s->has_open_message &&
                                       slot_value(rs, s, now_ms) == 0 && s->level == 0);
        if (is_idle && (victim == NULL || !s->is_used || s->touched_ms < victim->touched_ms)) {
            victim = s;
        }
    }
    if (victim == NULL) {
        e->stats.keys_refused++;
        return NULL;
    }
    memset(victim, 0, sizeof(*victim));
    victim->is_used = true;
    victim->hash = hash;
    copy_text(victim->key, sizeof(victim->key), key);
    uint64_t window_ms = (uint64_t)rs->rule.window_s * 1000u;
    victim->bucket_ms = window_ms / ALERT_BUCKETS != 0 ? window_ms / ALERT_BUCKETS : 1;
    victim->head = now_ms / victim->bucket_ms;
    return victim;
}

/* ---- incidents ----------------------------------------------------------------------- */

static void incident_send(struct alert_engine *e, const struct rule_state *rs,
                          struct alert_slot *slot, enum alert_state state, int64_t value,
                          uint64_t cause_us)
{
    struct alert a = {
        .state = state,
        .severity = rs->rule.severity,
        .metric = rs->rule.metric,
        .value = value,
        .threshold = rs->rule.threshold,
        .window_s = rs->rule.window_s,
        .incident = slot->incident,
        .wall_us = sw_wall_us(),
        .cause_us = cause_us,
        .sink_mask = rs->rule.sink_mask,
    };
    if (rs->rule.metric == CFG_METRIC_CERTIFICATE_EXPIRY && value < CERT_CRITICAL_DAY) {
        a.severity = CFG_SEVERITY_CRITICAL;
    }
    copy_text(a.rule, sizeof(a.rule), rs->rule.name);
    copy_text(a.title, sizeof(a.title), rs->rule.title);
    copy_text(a.key, sizeof(a.key), slot->key);
    bool has_note = e->note[0] != '\0' && state != ALERT_RESOLVED;
    (void)sw_snprintf(a.detail, sizeof(a.detail), "%s%s%s: %lld (threshold %u, window %u s)%s%s",
                      alert_metric_name(rs->rule.metric), slot->key[0] != '\0' ? " of " : "",
                      slot->key, (long long)value, rs->rule.threshold, rs->rule.window_s,
                      has_note ? ": " : "", has_note ? e->note : "");
    e->stats.messages++;
    if (e->deliver != NULL) {
        e->deliver(e->deliver_ctx, &a);
    }
}

/* Restarts report once: they have no condition that clears. */
static bool metric_resolves(enum cfg_alert_metric metric)
{
    return metric != CFG_METRIC_RESTART;
}

static void evaluate(struct alert_engine *e, const struct rule_state *rs, struct alert_slot *slot,
                     int64_t value, uint64_t now_ms, uint64_t cause_us)
{
    uint64_t cooldown_ms = (uint64_t)rs->rule.cooldown_s * 1000u;
    bool is_over = slot_is_over(rs, value);
    if (is_over && !slot->is_firing) {
        slot->is_firing = true;
        e->stats.firing++;
        bool is_reopened = slot->resolved_ms != 0 && now_ms - slot->resolved_ms < cooldown_ms;
        if (!is_reopened) {
            slot->incident = ++e->next_incident;
            slot->sent_ms = now_ms;
            slot->sent_value = value;
            slot->has_open_message = true;
            incident_send(e, rs, slot, ALERT_FIRING, value, cause_us);
        }
        return;
    }
    if (is_over && now_ms - slot->sent_ms >= cooldown_ms && value > slot->sent_value) {
        slot->sent_ms = now_ms;
        slot->sent_value = value;
        slot->has_open_message = true;
        incident_send(e, rs, slot, ALERT_UPDATE, value, cause_us);
        return;
    }
    if (!is_over && slot->is_firing) {
        slot->is_firing = false;
        e->stats.firing--;
        slot->resolved_ms = now_ms;
        if (slot->has_open_message && metric_resolves(rs->rule.metric)) {
            incident_send(e, rs, slot, ALERT_RESOLVED, value, 0);
        }
        slot->has_open_message = false;
    }
}

/* Adds `delta` (counts) or sets `level` for `key` of rule `rs`, then evaluates. */
static void rule_input(struct alert_engine *e, struct rule_state *rs, const char *key,
                       int64_t amount, uint64_t now_ms, uint64_t cause_us)
{
    struct alert_slot *slot = slot_find(e, rs, key, now_ms);
    if (slot == NULL) {
        return;
    }
    slot->touched_ms = now_ms;
    if (metric_is_level(rs->rule.metric)) {
        slot->level = amount;
    } else {
        window_advance(slot, now_ms);
        uint32_t *bucket = &slot->counts[slot->head % ALERT_BUCKETS];
        uint64_t sum = (uint64_t)*bucket + (uint64_t)(amount > 0 ? amount : 0);
        *bucket = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
    }
    evaluate(e, rs, slot, slot_value(rs, slot, now_ms), now_ms, cause_us);
}

/* ---- events -------------------------------------------------------------------------- */

/* The value of "name=" in a detail of space-separated name=value words. */
static struct sv detail_word(const char *detail, struct sv name)
{
    struct sv cur = sv_from_cstr(detail);
    struct sv word;
    while (cur.len > 0) {
        (void)sv_take_until(&cur, ' ', &word); /* the last word ends the view: same */
        if (word.len > name.len && sv_starts_with(word, name) && word.ptr[name.len] == '=') {
            return sv_slice(word, name.len + 1, word.len - name.len - 1);
        }
    }
    return SV_NULL;
}

/* The trunk a call event names ("trunk=NAME", call/b2bua.c), or NULL. */
static const struct trunk_cc *trunk_of(const struct alert_engine *e, const struct sw_event *ev)
{
    struct sv name = detail_word(ev->detail, SV("trunk"));
    for (size_t i = 0; i < e->trunk_count && name.len > 0; i++) {
        if (sv_eq(sv_from_cstr(e->trunks[i].name), name)) {
            return &e->trunks[i];
        }
    }
    return NULL;
}

/* The key of an event for `scope`; false when the event has none (not counted). */
static bool event_key(const struct alert_engine *e, const struct sw_event *ev,
                      enum cfg_alert_scope scope, char *out, size_t cap)
{
    const struct trunk_cc *trunk = NULL;
    struct sw_ip ip;
    switch (scope) {
    case CFG_SCOPE_TOTAL:
        out[0] = '\0';
        return true;
    case CFG_SCOPE_ACCOUNT:
        copy_text(out, cap, ev->account);
        return out[0] != '\0';
    case CFG_SCOPE_SOURCE:
        if (!sw_ip_from_sockaddr(&ev->remote, &ip)) {
            return false;
        }
        sw_ip_format(&ip, out, cap);
        return true;
    case CFG_SCOPE_TRUNK:
        trunk = trunk_of(e, ev);
        if (trunk == NULL) {
            return false;
        }
        copy_text(out, cap, trunk->name);
        return true;
    }
    return false;
}

/* A call towards a trunk to a number outside the trunk's country. */
static bool call_is_international(const struct alert_engine *e, const struct sw_event *ev)
{
    const struct trunk_cc *trunk = trunk_of(e, ev);
    struct sv to = detail_word(ev->detail, SV("to"));
    struct stir_tn tn;
    if (trunk == NULL || to.len == 0) {
        return false;
    }
    struct sv cc = sv_from_cstr(trunk->country_code);
    if (stir_tn_normalize(to, cc, &tn) != 0) {
        return false;
    }
    size_t cc_len = 0;
    struct sv digits = stir_tn_sv(&tn);
    if (!stir_tn_has_country_code(digits, &cc_len)) {
        return false;
    }
    return !sv_eq(sv_slice(digits, 0, cc_len), cc);
}

static uint64_t source_hash_of(const char *account)
{
    return sw_hash_bytes(account, strlen(account)) | 1u; /* 0 marks nothing */
}

/* Looks up (account, ip) and records it seen at `now_s`; returns the previous sighting
 * (0 = never, or evicted). */
static int64_t source_touch(struct alert_engine *e, uint64_t account_hash, const struct sw_ip *ip,
                            int64_t now_s)
{
    uint64_t h = account_hash ^ sw_hash_bytes(ip->bytes, sizeof(ip->bytes));
    struct source_entry *ways = &e->sources[(h % e->source_sets) * ALERT_WAYS];
    struct source_entry *victim = &ways[0];
    for (size_t w = 0; w < ALERT_WAYS; w++) {
        struct source_entry *s = &ways[w];
        if (s->seen_s != 0 && s->account_hash == account_hash && sw_ip_eq(&s->ip, ip)) {
            int64_t before = s->seen_s;
            s->seen_s = now_s;
            return before;
        }
        if (s->seen_s < victim->seen_s) {
            victim = s;
        }
    }
    *victim = (struct source_entry){ .account_hash = account_hash, .ip = *ip, .seen_s = now_s };
    return 0;
}

/* The pseudo-address under which an account's sightings of `country` are kept. */
static struct sw_ip country_key(const char *country)
{
    struct sw_ip key;
    memset(&key, 0, sizeof(key));
    key.bytes[0] = 0x01; /* 100::/64 */
    memcpy(&key.bytes[8], country, strnlen(country, GEOIP_COUNTRY_CAP - 1));
    return key;
}

/* Records that `account_hash` was seen in the country of `ip` at `now_s`; returns the
 * previous sighting of that country (0 = never, or evicted) and writes the country. */
static int64_t country_touch(struct alert_engine *e, uint64_t account_hash, const struct sw_ip *ip,
                             int64_t now_s, char country[GEOIP_COUNTRY_CAP])
{
    geoip_country(e->geo, ip, country);
    struct sw_ip key = country_key(country);
    return source_touch(e, account_hash, &key, now_s);
}

/* What a sighting of an account at an address tells. */
struct source_news {
    bool is_new_address; /* not seen at it within new_source_days */
    bool is_new_country; /* nor in its country (with a database) */
    char country[GEOIP_COUNTRY_CAP];
    char address[SW_ADDR_STRLEN];
};

/* An authenticated account from an address (or a country) it was not seen at within
 * new_source_days; an account's very first address and country are learnt, not
 * reported. */
static void source_check(struct alert_engine *e, const struct sw_event *ev,
                         struct source_news *news)
{
    struct sw_ip ip;
    if (ev->account[0] == '\0' || !sw_ip_from_sockaddr(&ev->remote, &ip)) {
        return;
    }
    int64_t now_s = (int64_t)(ev->wall_us / 1000000u);
    uint64_t account_hash = source_hash_of(ev->account);
    struct sw_ip none;
    memset(&none, 0, sizeof(none));
    int64_t account_seen = source_touch(e, account_hash, &none, now_s);
    int64_t pair_seen = source_touch(e, account_hash, &ip, now_s);
    if (e->on_source != NULL && (pair_seen == 0 || now_s - pair_seen >= SOURCE_PERSIST_S)) {
        e->on_source(e->source_ctx, ev->account, &ip, now_s);
    } else if (pair_seen != 0 && now_s - pair_seen < SOURCE_PERSIST_S) {
        /* Keep the older sighting: the next persisted one comes a day after it. */
        (void)source_touch(e, account_hash, &ip, pair_seen);
    }
    bool is_known_account = account_seen != 0 && now_s - account_seen < e->new_source_s;
    news->is_new_address =
        is_known_account && (pair_seen == 0 || now_s - pair_seen >= e->new_source_s);
    sw_ip_format(&ip, news->address, sizeof(news->address));
    if (e->geo != NULL) {
        int64_t country_seen = country_touch(e, account_hash, &ip, now_s, news->country);
        news->is_new_country =
            is_known_account && (country_seen == 0 || now_s - country_seen >= e->new_source_s);
    }
}

/* The metric an event feeds and by how much (0 = none). */
static int64_t event_amount(struct alert_engine *e, const struct sw_event *ev,
                            enum cfg_alert_metric *metric)
{
    switch (ev->kind) {
    case EV_INVALID_ACCOUNT_ID:
    case EV_INVALID_PASSWORD:
    case EV_CHALLENGE_RESPONSE_FAILED:
        *metric = CFG_METRIC_AUTH_FAILURES;
        return ev->count != 0 ? ev->count : 1;
    case EV_BAN_ADDED:
        *metric = CFG_METRIC_BANS;
        return 1;
    case EV_POLICY_HIT:
    case EV_FRAUD_BLOCK:
        *metric = CFG_METRIC_POLICY_BLOCKS;
        return 1;
    case EV_CALL_STARTED:
    case EV_CALL_ENDED:
        e->calls += ev->kind == EV_CALL_STARTED ? 1 : -1;
        e->calls = e->calls < 0 ? 0 : e->calls;
        e->calls_peak = e->calls > e->calls_peak ? e->calls : e->calls_peak;
        *metric = CFG_METRIC_CONCURRENT_CALLS;
        return e->calls;
    default:
        return 0;
    }
}

static void feed(struct alert_engine *e, const struct sw_event *ev, enum cfg_alert_metric metric,
                 int64_t amount, uint64_t now_ms)
{
    for (size_t i = 0; i < e->rule_count; i++) {
        struct rule_state *rs = &e->rules[i];
        char key[ALERT_KEY_CAP] = ""; /* concurrent_calls: a level of the whole gateway */
        bool is_keyed = metric == CFG_METRIC_CONCURRENT_CALLS ||
                        event_key(e, ev, rs->rule.scope, key, sizeof(key));
        if (rs->rule.metric != metric || !is_keyed) {
            continue;
        }
        rule_input(e, rs, key, amount, now_ms, ev->wall_us);
    }
}

/* A successful authentication: a new country feeds new_country (which then stands for the
 * new address too), a new address new_source; the message names both. */
static void source_feed(struct alert_engine *e, const struct sw_event *ev, uint64_t now_ms)
{
    struct source_news news = { .is_new_address = false };
    source_check(e, ev, &news);
    bool has_country = news.country[0] != '\0';
    if (news.is_new_country && e->has_country_rule) {
        (void)sw_snprintf(e->note, sizeof(e->note), "new country %s, from %s", news.country,
                          news.address);
        feed(e, ev, CFG_METRIC_NEW_COUNTRY, 1, now_ms);
    } else if (news.is_new_address) {
        (void)sw_snprintf(e->note, sizeof(e->note), "from %s%s%s%s", news.address,
                          has_country ? " (" : "", has_country ? news.country : "",
                          has_country ? ")" : "");
        feed(e, ev, CFG_METRIC_NEW_SOURCE, 1, now_ms);
    }
    e->note[0] = '\0';
}

void alert_engine_event(struct alert_engine *engine, const struct sw_event *event, uint64_t now_ms)
{
    SW_ASSERT(engine != NULL && event != NULL);
    pthread_mutex_lock(&engine->lock);
    enum cfg_alert_metric metric = CFG_METRIC_COUNT;
    int64_t amount = event_amount(engine, event, &metric);
    if (event->kind == EV_SUCCESSFUL_AUTH) {
        source_feed(engine, event, now_ms);
    } else if (amount != 0 || metric == CFG_METRIC_CONCURRENT_CALLS) {
        feed(engine, event, metric, amount, now_ms);
    }
    if (event->kind == EV_CALL_STARTED && call_is_international(engine, event)) {
        feed(engine, event, CFG_METRIC_INTERNATIONAL_CALLS, 1, now_ms);
    }
    pthread_mutex_unlock(&engine->lock);
}

void alert_engine_observe(struct alert_engine *engine, enum cfg_alert_metric metric,
                          const char *key, int64_t value, uint64_t now_ms)
{
    SW_ASSERT(engine != NULL && key != NULL);
    pthread_mutex_lock(&engine->lock);
    for (size_t i = 0; i < engine->rule_count; i++) {
        struct rule_state *rs = &engine->rules[i];
        if (rs->rule.metric == metric) {
            rule_input(engine, rs, key, value, now_ms, sw_wall_us());
        }
    }
    pthread_mutex_unlock(&engine->lock);
}

void alert_engine_tick(struct alert_engine *engine, uint64_t now_ms)
{
    SW_ASSERT(engine != NULL);
    pthread_mutex_lock(&engine->lock);
    for (size_t i = 0; i < engine->rule_count; i++) {
        struct rule_state *rs = &engine->rules[i];
        for (size_t s = 0; s < rs->set_count * ALERT_WAYS; s++) {
            struct alert_slot *slot = &rs->slots[s];
            if (slot->is_used && slot->is_firing) {
                evaluate(engine, rs, slot, slot_value(rs, slot, now_ms), now_ms, 0);
            }
        }
    }
    pthread_mutex_unlock(&engine->lock);
}

void alert_engine_stats_get(struct alert_engine *engine, struct alert_engine_stats *out)
{
    pthread_mutex_lock(&engine->lock);
    *out = engine->stats;
    pthread_mutex_unlock(&engine->lock);
}

void alert_event_emit(void *ctx, const struct sw_event *event)
{
    alert_engine_event(ctx, event, sw_mono_ms());
}

void alert_engine_source_restore(struct alert_engine *engine, const char *account,
                                 const struct sw_ip *ip, int64_t seen_s)
{
    pthread_mutex_lock(&engine->lock);
    uint64_t account_hash = source_hash_of(account);
    struct sw_ip none;
    memset(&none, 0, sizeof(none));
    int64_t account_seen = source_touch(engine, account_hash, &none, seen_s);
    if (account_seen > seen_s) {
        (void)source_touch(engine, account_hash, &none, account_seen); /* keep the latest */
    }
    (void)source_touch(engine, account_hash, ip, seen_s);
    if (engine->geo != NULL) {
        /* The countries are not stored: each sighting's address gives its country back. */
        char country[GEOIP_COUNTRY_CAP];
        int64_t country_seen = country_touch(engine, account_hash, ip, seen_s, country);
        if (country_seen > seen_s) {
            struct sw_ip key = country_key(country);
            (void)source_touch(engine, account_hash, &key, country_seen); /* keep the latest */
        }
    }
    pthread_mutex_unlock(&engine->lock);
}

uint32_t alert_engine_calls_peak_take(struct alert_engine *engine)
{
    pthread_mutex_lock(&engine->lock);
    int64_t peak = engine->calls_peak;
    engine->calls_peak = engine->calls;
    pthread_mutex_unlock(&engine->lock);
    return peak > UINT32_MAX ? UINT32_MAX : (uint32_t)peak;
}

void alert_engine_set_peak(struct alert_engine *engine, uint32_t peak)
{
    pthread_mutex_lock(&engine->lock);
    for (size_t i = 0; i < engine->rule_count; i++) {
        struct alert_rule *rule = &engine->rules[i].rule;
        if (rule->is_learned) {
            /* A peak of 0 (a quiet hour) still allows one call: two are unusual. */
            uint64_t floor = peak != 0 ? peak : 1;
            uint64_t threshold = floor + floor / 2;
            rule->threshold = threshold > UINT32_MAX ? UINT32_MAX : (uint32_t)threshold;
        }
    }
    pthread_mutex_unlock(&engine->lock);
}
