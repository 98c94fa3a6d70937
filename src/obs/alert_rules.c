#include "obs/alert_rules.h"

#include <stdio.h>
#include <string.h>

#define RULES_DAY_S 86400

static void copy_text(char *out, size_t cap, const char *text)
{
    (void)snprintf(out, cap, "%s", text != NULL ? text : "");
}

static uint64_t sink_mask_of(const struct cfg *cfg, const struct cfg_strings *names)
{
    uint64_t all =
        cfg->alert_sink_count >= 64 ? UINT64_MAX : (((uint64_t)1 << cfg->alert_sink_count) - 1);
    if (names->count == 0) {
        return all;
    }
    uint64_t mask = 0;
    for (size_t i = 0; i < names->count; i++) {
        for (size_t s = 0; s < cfg->alert_sink_count && s < 64; s++) {
            if (strcmp(cfg->alert_sinks[s].name, names->items[i]) == 0) {
                mask |= (uint64_t)1 << s;
            }
        }
    }
    return mask;
}

struct builtin {
    const char *name;
    const char *title;
    enum cfg_alert_metric metric;
    enum cfg_alert_scope scope;
    uint32_t window_s;
    uint32_t threshold;
    enum cfg_alert_severity severity;
};

static size_t builtins_of(const struct cfg_alerts *a, struct builtin *out)
{
    const struct builtin all[] = {
        { "brute_force", "brute force attempt", CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_TOTAL,
          a->brute_force_window, a->brute_force_threshold, CFG_SEVERITY_HIGH },
        { "brute_force_account", "brute force attempt", CFG_METRIC_AUTH_FAILURES, CFG_SCOPE_ACCOUNT,
          a->brute_force_window, a->brute_force_threshold, CFG_SEVERITY_HIGH },
        /* Without a configured peak the rule waits for a learned one (set_peak). */
        { "call_volume", "unusual call volume", CFG_METRIC_CONCURRENT_CALLS, CFG_SCOPE_TOTAL, 60,
          a->call_volume_peak != 0 ? a->call_volume_peak + a->call_volume_peak / 2 : UINT32_MAX,
          CFG_SEVERITY_MEDIUM },
        { "international", "excessive international", CFG_METRIC_INTERNATIONAL_CALLS,
          CFG_SCOPE_TOTAL, 3600, a->international_threshold, CFG_SEVERITY_HIGH },
        { "new_source", "new source address", CFG_METRIC_NEW_SOURCE, CFG_SCOPE_ACCOUNT, 3600, 0,
          CFG_SEVERITY_MEDIUM },
        { "new_country", "new country", CFG_METRIC_NEW_COUNTRY, CFG_SCOPE_ACCOUNT, 3600, 0,
          CFG_SEVERITY_MEDIUM },
        { "banned", "address banned", CFG_METRIC_BANS, CFG_SCOPE_TOTAL, 300, 0,
          CFG_SEVERITY_MEDIUM },
        { "trunk_registration", "trunk registration lost", CFG_METRIC_TRUNK_REGISTRATION,
          CFG_SCOPE_TRUNK, 60, 0, CFG_SEVERITY_HIGH },
        { "events_dropped", "security events dropped", CFG_METRIC_EVENTS_DROPPED, CFG_SCOPE_TOTAL,
          300, 0, CFG_SEVERITY_MEDIUM },
        { "restart", "gateway restarted", CFG_METRIC_RESTART, CFG_SCOPE_TOTAL, 60, 0,
          CFG_SEVERITY_INFO },
        { "certificate_expiry", "certificate expiring", CFG_METRIC_CERTIFICATE_EXPIRY,
          CFG_SCOPE_TOTAL, RULES_DAY_S, 30, CFG_SEVERITY_MEDIUM },
        { "policy_block", "calls refused by policy", CFG_METRIC_POLICY_BLOCKS, CFG_SCOPE_TOTAL, 300,
          0, CFG_SEVERITY_MEDIUM },
    };
    size_t count = 0;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        bool is_off =
            (all[i].metric == CFG_METRIC_INTERNATIONAL_CALLS && a->international_threshold == 0) ||
            (all[i].metric == CFG_METRIC_NEW_COUNTRY && a->geoip_db == NULL);
        if (!is_off) {
            out[count++] = all[i];
        }
    }
    return count;
}

static bool rule_section_exists(const struct cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->alert_rule_count; i++) {
        if (strcmp(cfg->alert_rules[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

size_t alert_rules_from_cfg(const struct cfg *cfg, struct alert_rule *out, size_t cap)
{
    size_t count = 0;
    struct builtin builtins[16];
    size_t builtin_count = cfg->alerts.builtin ? builtins_of(&cfg->alerts, builtins) : 0;
    for (size_t i = 0; i < builtin_count && count < cap; i++) {
        const struct builtin *b = &builtins[i];
        if (rule_section_exists(cfg, b->name)) {
            continue;
        }
        struct alert_rule *r = &out[count++];
        *r = (struct alert_rule){ .metric = b->metric,
                                  .scope = b->scope,
                                  .window_s = b->window_s,
                                  .threshold = b->threshold,
                                  .severity = b->severity,
                                  .cooldown_s = cfg->alerts.cooldown,
                                  .sink_mask = sink_mask_of(cfg, &cfg->alerts.sinks) };
        copy_text(r->name, sizeof(r->name), b->name);
        copy_text(r->title, sizeof(r->title), b->title);
        r->is_learned = b->metric == CFG_METRIC_CONCURRENT_CALLS;
    }
    for (size_t i = 0; i < cfg->alert_rule_count && count < cap; i++) {
        const struct cfg_alert *c = &cfg->alert_rules[i];
        if (!c->enabled) {
            continue;
        }
        struct alert_rule *r = &out[count++];
        *r = (struct alert_rule){ .metric = c->metric,
                                  .scope = c->scope,
                                  .window_s = c->window,
                                  .threshold = c->threshold,
                                  .severity = c->severity,
                                  .cooldown_s =
                                      c->cooldown != 0 ? c->cooldown : cfg->alerts.cooldown,
                                  .sink_mask = sink_mask_of(cfg, &c->sinks) };
        copy_text(r->name, sizeof(r->name), c->name);
        copy_text(r->title, sizeof(r->title), c->title != NULL ? c->title : c->name);
    }
    return count;
}
