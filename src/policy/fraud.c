#include "policy/fraud.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/time.h"
#include "config/config.h"
#include "number/highrisk.h"
#include "number/money.h"
#include "number/numplan.h"
#include "number/ratedeck.h"
#include "number/schedule.h"
#include "number/tzif.h"
#include "policy/fraud_limits.h"
#include "sip/msg.h"
#include "sip/uri.h"
#include "state/callcount.h"
#include "state/fraudstore.h"
#include "state/isolation.h"
#include "state/spendstore.h"
#include "state/velshare.h"

/* The levels a rule comes from; a higher level is more specific. */
enum level {
    LEVEL_GLOBAL,
    LEVEL_TRUNK,
    LEVEL_ACCOUNT,
};

#define NONGEO_BIT      (1u << NUMCLASS_COUNT) /* "non-geographic" in a class mask */
#define EMERGENCY_CAP   16
#define KEY_CAP         FRAUD_KEY_CAP
/* Q.850 cause 21, "call rejected", is what a policy refusal maps to (RFC 3326). */
#define REASON_Q850_FMT "Reason: Q.850;cause=21;text=\"%s\"\r\n"

struct prefix_rule {
    char digits[E164_MAX_DIGITS + 1];
    uint8_t len;
    uint8_t level;
    bool is_allow;
};

struct emergency {
    char iso[4]; /* "" = every country */
    char number[EMERGENCY_CAP];
};

/* The rules one section (global, trunk or account) sets. */
struct level_rules {
    bool has_countries;
    bool is_any_country;
    char (*countries)[4];
    size_t country_count;
    bool has_classes;
    uint32_t class_mask;
    bool has_schedule;
    struct schedule schedule;
    bool has_max_rate;
    int64_t max_rate_micro;
    struct spend_caps caps; /* daily_cap, monthly_cap; SPEND_NO_CAP = none */
    struct prefix_rule *prefixes;
    size_t prefix_count;
    struct fraud_limits limits; /* the velocity levels the section sets */
    /* Worked out once rather than at each call: */
    char key[KEY_CAP]; /* trunk, account: the fraud store's key */
    size_t key_len;
    const struct numplan_territory *home; /* trunk: its country_code's, NULL when none */
};

struct fraud_policy {
    bool is_enabled;
    struct level_rules global;
    struct level_rules *trunks;
    size_t trunk_count;
    struct level_rules *accounts;
    size_t account_count;
    struct emergency *emergencies;
    size_t emergency_count;
    struct highrisk *highrisk; /* NULL: the high-risk list is off */
    struct ratedeck *deck;
    struct fraud_store *store;
    struct spend_store *spend; /* the shared spend counters; caps set by this policy */
    bool has_caps;
    struct velocity_cfg velocity;
    const struct cfg_fraud *limits; /* thresholds, borrowed from the cfg it was built from */
    struct fraud_slots slots;       /* calls in progress per trunk and account */
    enum cfg_schedule_scope schedule_scope;
};

/* Where a key is written, for diagnostics. */
struct key_place {
    const struct cfg *cfg;
    const char *section; /* "fraud" or the trunk's / account's section name */
    struct sw_diag *diag;
};

__attribute__((format(printf, 3, 4))) static void place_error(const struct key_place *at,
                                                              const char *key, const char *fmt, ...)
{
    unsigned line = cfg_key_line(at->cfg, at->section, key);
    if (line == 0) {
        line = cfg_section_line(at->cfg, at->section);
    }
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    char name[160];
    (void)sw_snprintf(name, sizeof(name), "%s.%s", at->section, key);
    sw_diag_add(at->diag, DIAG_ERROR, at->cfg->source, line, name, "%s", message);
}

/* "+4930" or "4930" as digits; false when not 1 to 15 digits. */
static bool prefix_digits(const char *text, char *out)
{
    struct sv s = sv_trim(sv_from_cstr(text));
    if (s.len > 0 && s.ptr[0] == '+') {
        s = sv_slice(s, 1, s.len - 1);
    }
    if (s.len == 0 || s.len > E164_MAX_DIGITS) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
    }
    memcpy(out, s.ptr, s.len);
    out[s.len] = '\0';
    return true;
}

static int add_prefixes(struct level_rules *r, const struct cfg_strings *list, bool is_allow,
                        enum level level, const struct key_place *at)
{
    int rc = 0;
    for (size_t i = 0; i < list->count; i++) {
        struct prefix_rule *p = &r->prefixes[r->prefix_count];
        if (!prefix_digits(list->items[i], p->digits)) {
            place_error(at, is_allow ? "allow_prefixes" : "deny_prefixes",
                        "'%s' is not a +E.164 prefix (1 to 15 digits)", list->items[i]);
            rc = -SW_ECONFIG;
            continue;
        }
        p->len = (uint8_t)strlen(p->digits);
        p->level = (uint8_t)level;
        p->is_allow = is_allow;
        r->prefix_count++;
    }
    return rc;
}

static int parse_classes(struct level_rules *r, const struct cfg_strings *list,
                         const struct key_place *at)
{
    int rc = 0;
    r->has_classes = true;
    for (size_t i = 0; i < list->count; i++) {
        struct sv name = sv_trim(sv_from_cstr(list->items[i]));
        if (sv_eq(name, SV("non-geographic"))) {
            r->class_mask |= NONGEO_BIT;
            continue;
        }
        size_t k = 0;
        while (k < NUMCLASS_COUNT && !sv_eq(name, sv_from_cstr(numclass_name((enum numclass)k)))) {
            k++;
        }
        if (k == NUMCLASS_COUNT) {
            place_error(at, "blocked_classes", "unknown number class '%s'", list->items[i]);
            rc = -SW_ECONFIG;
            continue;
        }
        r->class_mask |= 1u << k;
    }
    return rc;
}

static int parse_countries(struct level_rules *r, const struct cfg_strings *list,
                           const struct key_place *at)
{
    int rc = 0;
    r->has_countries = list->count > 0;
    r->countries = sw_calloc(list->count + 1, sizeof(*r->countries));
    if (r->countries == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i < list->count; i++) {
        struct sv iso = sv_trim(sv_from_cstr(list->items[i]));
        if (sv_eq(iso, SV("*"))) {
            r->is_any_country = true;
            continue;
        }
        const struct numplan_territory *t = numplan_territory_by_iso(iso);
        if (t == NULL) {
            place_error(at, "allowed_countries", "unknown country '%s' (ISO 3166 code)",
                        list->items[i]);
            rc = -SW_ECONFIG;
            continue;
        }
        (void)sw_snprintf(r->countries[r->country_count++], 4, "%s", t->iso);
    }
    return rc;
}

static int parse_schedule_rate(struct level_rules *r, const char *schedule, const char *max_rate,
                               const struct key_place *at)
{
    int rc = 0;
    if (schedule != NULL) {
        const char *reason = NULL;
        int err = schedule_parse(sv_from_cstr(schedule), NULL, &r->schedule, &reason);
        if (err != 0) {
            place_error(at, "schedule", "bad schedule: %s",
                        reason != NULL ? reason : sw_strerror(err));
            rc = -SW_ECONFIG;
        }
        r->has_schedule = err == 0;
    }
    if (max_rate != NULL) {
        enum money_status st = money_parse(sv_trim(sv_from_cstr(max_rate)), &r->max_rate_micro);
        if (st != MONEY_OK) {
            place_error(at, "max_rate_per_minute", "bad amount: %s", money_status_text(st));
            rc = -SW_ECONFIG;
        }
        r->has_max_rate = st == MONEY_OK;
    }
    return rc;
}

/* A spending cap: a positive amount (0 would refuse every rated call: unset it instead). */
static int parse_cap(int64_t *out, const char *text, const char *key, const struct key_place *at)
{
    *out = SPEND_NO_CAP;
    if (text == NULL) {
        return 0;
    }
    enum money_status st = money_parse(sv_trim(sv_from_cstr(text)), out);
    if (st != MONEY_OK || *out == 0) {
        place_error(at, key, "bad amount: %s",
                    st != MONEY_OK ? money_status_text(st) : "a cap must be above 0");
        *out = SPEND_NO_CAP;
        return -SW_ECONFIG;
    }
    return 0;
}

/* The lists one section sets (the trunk and account keys share their names). */
struct level_source {
    const struct cfg_strings *countries;
    const struct cfg_strings *classes;
    const struct cfg_strings *allow;
    const struct cfg_strings *deny;
    const char *schedule;
    const char *max_rate;
    const char *daily_cap;
    const char *monthly_cap;
};

static int level_init(struct level_rules *r, const struct level_source *src, enum level level,
                      const struct key_place *at)
{
    r->prefixes = sw_calloc(src->allow->count + src->deny->count + 1, sizeof(*r->prefixes));
    if (r->prefixes == NULL) {
        return -ENOMEM;
    }
    int rc = parse_countries(r, src->countries, at);
    if (rc == -ENOMEM) {
        return rc;
    }
    if (src->classes->count > 0 || level == LEVEL_GLOBAL) {
        rc |= parse_classes(r, src->classes, at);
    }
    rc |= add_prefixes(r, src->allow, true, level, at);
    rc |= add_prefixes(r, src->deny, false, level, at);
    rc |= parse_schedule_rate(r, src->schedule, src->max_rate, at);
    rc |= parse_cap(&r->caps.daily_micro, src->daily_cap, "daily_cap", at);
    rc |= parse_cap(&r->caps.monthly_micro, src->monthly_cap, "monthly_cap", at);
    return rc != 0 ? -SW_ECONFIG : 0;
}

static void level_fini(struct level_rules *r)
{
    sw_free(r->countries);
    r->countries = NULL;
    sw_free(r->prefixes);
    r->prefixes = NULL;
    if (r->has_schedule) {
        schedule_fini(&r->schedule);
    }
}

static int emergency_init(struct fraud_policy *p, const struct cfg_strings *list,
                          const struct key_place *at)
{
    p->emergencies = sw_calloc(list->count + 1, sizeof(*p->emergencies));
    if (p->emergencies == NULL) {
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < list->count; i++) {
        struct sv entry = sv_trim(sv_from_cstr(list->items[i]));
        struct emergency *e = &p->emergencies[p->emergency_count];
        long colon = sv_find_char(entry, ':');
        struct sv number = entry;
        if (colon >= 0) {
            const struct numplan_territory *t =
                numplan_territory_by_iso(sv_slice(entry, 0, (size_t)colon));
            if (t != NULL) {
                (void)sw_snprintf(e->iso, sizeof(e->iso), "%s", t->iso);
            }
            number = sv_slice(entry, (size_t)colon + 1, entry.len - (size_t)colon - 1);
            if (t == NULL) {
                number = SV_NULL;
            }
        }
        char text[EMERGENCY_CAP];
        if (number.len > 0 && number.len < EMERGENCY_CAP && number.ptr[0] != '+' &&
            sv_copy_cstr(number, text, sizeof(text)) && prefix_digits(text, e->number)) {
            p->emergency_count++;
            continue;
        }
        place_error(at, "emergency_numbers", "'%s' is not NUMBER or ISO:NUMBER", list->items[i]);
        rc = -SW_ECONFIG;
    }
    return rc;
}

static int highrisk_init(struct fraud_policy *p, const struct cfg_fraud *f,
                         const struct key_place *at)
{
    if (!f->highrisk) {
        return 0;
    }
    p->highrisk = highrisk_new(true);
    if (p->highrisk == NULL) {
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < f->highrisk_prefixes.count; i++) {
        if (highrisk_add(p->highrisk, sv_trim(sv_from_cstr(f->highrisk_prefixes.items[i])),
                         SV("operator")) != 0) {
            place_error(at, "highrisk_prefixes", "'%s' is not a +E.164 prefix",
                        f->highrisk_prefixes.items[i]);
            rc = -SW_ECONFIG;
        }
    }
    return rc;
}

static int global_init(struct fraud_policy *p, const struct cfg *cfg, struct sw_diag *diag)
{
    const struct cfg_fraud *f = &cfg->fraud;
    struct key_place at = { cfg, "fraud", diag };
    struct level_source src = {
        &f->allowed_countries, &f->blocked_classes,    &f->allow_prefixes, &f->deny_prefixes,
        f->schedule,           f->max_rate_per_minute, f->daily_cap,       f->monthly_cap,
    };
    int rc = level_init(&p->global, &src, LEVEL_GLOBAL, &at);
    fraud_limits_of_global(cfg, &p->global.limits);
    rc |= emergency_init(p, &f->emergency_numbers, &at);
    rc |= highrisk_init(p, f, &at);
    if (f->ratedeck != NULL && ratedeck_load(f->ratedeck, &p->deck, diag) != 0) {
        rc |= -SW_ECONFIG;
    }
    return rc != 0 ? -SW_ECONFIG : 0;
}

static void key_of(char *buf, const char *kind, const char *name)
{
    (void)sw_snprintf(buf, KEY_CAP, "%s:%s", kind, name);
}

/* The fraud store's key of a trunk or account ("trunk:NAME", "account:USERNAME"). */
static void level_set_key(struct level_rules *r, const char *kind, const char *name)
{
    key_of(r->key, kind, name);
    r->key_len = strlen(r->key);
}

static int objects_init(struct fraud_policy *p, const struct cfg *cfg, struct sw_diag *diag)
{
    p->trunks = sw_calloc(cfg->trunk_count + 1, sizeof(*p->trunks));
    p->accounts = sw_calloc(cfg->account_count + 1, sizeof(*p->accounts));
    if (p->trunks == NULL || p->accounts == NULL) {
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        const struct cfg_trunk *t = &cfg->trunks[i];
        struct key_place at = { cfg, t->name, diag };
        struct level_source src = { &t->allowed_countries, &t->blocked_classes,
                                    &t->allow_prefixes,    &t->deny_prefixes,
                                    t->schedule,           t->max_rate_per_minute,
                                    t->daily_cap,          t->monthly_cap };
        p->trunk_count = i + 1;
        rc |= level_init(&p->trunks[i], &src, LEVEL_TRUNK, &at);
        fraud_limits_of_trunk(cfg, i, &p->trunks[i].limits);
        level_set_key(&p->trunks[i], "trunk", t->name);
        p->trunks[i].home = t->country_code != NULL
                                ? numplan_territory_by_code(sv_from_cstr(t->country_code))
                                : NULL;
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        const struct cfg_account *a = &cfg->accounts[i];
        struct key_place at = { cfg, a->name, diag };
        struct level_source src = { &a->allowed_countries, &a->blocked_classes,
                                    &a->allow_prefixes,    &a->deny_prefixes,
                                    a->schedule,           a->max_rate_per_minute,
                                    a->daily_cap,          a->monthly_cap };
        p->account_count = i + 1;
        rc |= level_init(&p->accounts[i], &src, LEVEL_ACCOUNT, &at);
        fraud_limits_of_account(cfg, i, &p->accounts[i].limits);
        level_set_key(&p->accounts[i], "account", a->username);
    }
    return rc != 0 ? -SW_ECONFIG : 0;
}

void fraud_policy_free(struct fraud_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    level_fini(&policy->global);
    for (size_t i = 0; i < policy->trunk_count; i++) {
        level_fini(&policy->trunks[i]);
    }
    for (size_t i = 0; i < policy->account_count; i++) {
        level_fini(&policy->accounts[i]);
    }
    sw_free(policy->trunks);
    sw_free(policy->accounts);
    sw_free(policy->emergencies);
    highrisk_free(policy->highrisk);
    ratedeck_free(policy->deck);
    fraud_store_release(policy->store);
    spend_store_release(policy->spend);
    fraud_slots_fini(&policy->slots);
    sw_free(policy);
}

static bool level_has_caps(const struct level_rules *r)
{
    return r->caps.daily_micro != SPEND_NO_CAP || r->caps.monthly_micro != SPEND_NO_CAP;
}

/* The spending caps' zone; caps without a rate deck cannot price a call: an error. */
static int spend_check(struct fraud_policy *p, const struct cfg *cfg, struct tz_zone **zone,
                       struct sw_diag *diag)
{
    struct key_place at = { cfg, "fraud", diag };
    p->has_caps = level_has_caps(&p->global);
    for (size_t i = 0; i < p->trunk_count; i++) {
        p->has_caps |= level_has_caps(&p->trunks[i]);
    }
    for (size_t i = 0; i < p->account_count; i++) {
        p->has_caps |= level_has_caps(&p->accounts[i]);
    }
    if (p->has_caps && p->deck == NULL) {
        place_error(&at, "ratedeck", "spending caps (daily_cap, monthly_cap) need a rate deck");
        return -SW_ECONFIG;
    }
    const char *name = cfg->fraud.cap_timezone != NULL ? cfg->fraud.cap_timezone : "UTC";
    if (strcmp(name, "UTC") == 0) {
        *zone = NULL; /* the store's default: no zone file needed */
        return 0;
    }
    const char *reason = NULL;
    int rc = tz_zone_load(NULL, sv_from_cstr(name), zone, &reason);
    if (rc != 0) {
        place_error(&at, "cap_timezone", "'%s': %s", name,
                    reason != NULL ? reason : sw_strerror(rc));
        return -SW_ECONFIG;
    }
    return 0;
}

/* Sets the caps of the shared spend store (state/spendstore.h); takes over `zone`. */
static int spend_configure(struct fraud_policy *p, const struct cfg *cfg, struct tz_zone *zone)
{
    size_t cap = 1 + p->trunk_count + p->account_count;
    char(*keys)[SPEND_KEY_CAP] = sw_calloc(cap, sizeof(*keys));
    const char **names = sw_calloc(cap, sizeof(*names));
    struct spend_caps *caps = sw_calloc(cap, sizeof(*caps));
    if (keys == NULL || names == NULL || caps == NULL) {
        sw_free(keys);
        sw_free(names);
        sw_free(caps);
        tz_zone_free(zone);
        return -ENOMEM;
    }
    size_t count = 0;
    if (level_has_caps(&p->global)) {
        (void)sw_snprintf(keys[count], SPEND_KEY_CAP, "%s", SPEND_GLOBAL_KEY);
        caps[count++] = p->global.caps;
    }
    for (size_t i = 0; i < p->trunk_count; i++) {
        if (level_has_caps(&p->trunks[i])) {
            (void)sw_snprintf(keys[count], SPEND_KEY_CAP, "trunk:%s", cfg->trunks[i].name);
            caps[count++] = p->trunks[i].caps;
        }
    }
    for (size_t i = 0; i < p->account_count; i++) {
        if (level_has_caps(&p->accounts[i])) {
            (void)sw_snprintf(keys[count], SPEND_KEY_CAP, "account:%s", cfg->accounts[i].username);
            caps[count++] = p->accounts[i].caps;
        }
    }
    for (size_t i = 0; i < count; i++) {
        names[i] = keys[i];
    }
    struct spend_config sc = {
        .zone = zone,
        .reset_hour = cfg->fraud.cap_reset_hour,
        .is_cancel_ringing = cfg->fraud.cap_ringing == CFG_CAP_RINGING_CANCEL,
        .keys = names,
        .caps = caps,
        .count = count,
    };
    spend_store_configure(p->spend, &sc);
    sw_free(keys);
    sw_free(names);
    sw_free(caps);
    return 0;
}

struct fraud_policy *fraud_policy_new(const struct cfg *cfg, struct sw_diag *diag)
{
    struct fraud_policy *p = sw_calloc(1, sizeof(*p));
    if (p == NULL) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "fraud: out of memory");
        return NULL;
    }
    p->is_enabled = cfg->fraud.enabled;
    p->limits = &cfg->fraud;
    p->schedule_scope = cfg->fraud.schedule_scope;
    p->velocity = VELOCITY_CFG_DEFAULT;
    size_t errors_before = diag->error_count;
    int rc = global_init(p, cfg, diag);
    int objects_rc = objects_init(p, cfg, diag);
    p->store = fraud_store_acquire(cfg->fraud.max_tracked, cfg->fraud.wangiri_entries);
    p->spend = spend_store_acquire();
    struct tz_zone *zone = NULL;
    int spend_rc = rc == 0 && objects_rc == 0 ? spend_check(p, cfg, &zone, diag) : 0;
    int slots_rc = fraud_slots_init(&p->slots, cfg);
    if (slots_rc == -ENOSPC) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, 0, NULL,
                    "fraud: no room for the call counters (too many trunks and accounts)");
    }
    if (rc != 0 || objects_rc != 0 || spend_rc != 0 || slots_rc != 0 || p->store == NULL ||
        p->spend == NULL) {
        /* A problem of the file has its message; anything else is a lack of memory. */
        if (diag->error_count == errors_before) {
            sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "fraud: out of memory");
        }
        tz_zone_free(zone);
        fraud_policy_free(p);
        return NULL;
    }
    if (spend_configure(p, cfg, zone) != 0) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "fraud: out of memory");
        fraud_policy_free(p);
        return NULL;
    }
    return p;
}

/* ---- judging ---- */

/* The rules that apply to a call, most specific first (NULL where a level is absent). */
struct applicable {
    const struct level_rules *levels[3]; /* account, trunk, global */
    const struct numplan_territory *home;
};

static void applicable_of(const struct fraud_policy *p, const struct fraud_call *call,
                          struct applicable *out)
{
    memset(out, 0, sizeof(*out));
    out->levels[0] = call->account < p->account_count ? &p->accounts[call->account] : NULL;
    out->levels[1] = call->trunk < p->trunk_count ? &p->trunks[call->trunk] : NULL;
    out->levels[2] = &p->global;
    out->home = call->trunk < p->trunk_count ? p->trunks[call->trunk].home : NULL;
}

__attribute__((format(printf, 3, 4))) static void refuse(struct fraud_decision *d, uint16_t status,
                                                         const char *fmt, ...)
{
    d->outcome = FRAUD_REFUSE;
    d->status = status;
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(d->rule, sizeof(d->rule), fmt, ap);
    va_end(ap);
}

static bool is_emergency(const struct fraud_policy *p, const struct applicable *a,
                         struct sv dialled)
{
    for (size_t i = 0; i < p->emergency_count; i++) {
        const struct emergency *e = &p->emergencies[i];
        bool is_country =
            e->iso[0] == '\0' || (a->home != NULL && strcmp(a->home->iso, e->iso) == 0);
        if (is_country && sv_eq(dialled, sv_from_cstr(e->number))) {
            return true;
        }
    }
    return false;
}

/* The explicit prefix rule that decides (longest, then most specific level, then deny). */
static const struct prefix_rule *prefix_winner(const struct applicable *a, struct sv digits)
{
    const struct prefix_rule *best = NULL;
    for (size_t l = 0; l < 3; l++) {
        const struct level_rules *r = a->levels[l];
        for (size_t i = 0; r != NULL && i < r->prefix_count; i++) {
            const struct prefix_rule *p = &r->prefixes[i];
            if (!sv_starts_with(digits, sv_make(p->digits, p->len))) {
                continue;
            }
            if (best == NULL || p->len > best->len ||
                (p->len == best->len &&
                 (p->level > best->level || (p->level == best->level && !p->is_allow)))) {
                best = p;
            }
        }
    }
    return best;
}

static bool country_allowed(const struct applicable *a, const char *iso)
{
    for (size_t l = 0; l < 3; l++) {
        const struct level_rules *r = a->levels[l];
        if (r == NULL || !r->has_countries) {
            continue;
        }
        if (r->is_any_country) {
            return true;
        }
        for (size_t i = 0; i < r->country_count; i++) {
            if (iso != NULL && strcmp(r->countries[i], iso) == 0) {
                return true;
            }
        }
        return false;
    }
    /* Nobody set a list: the trunk's own country only. */
    return a->home != NULL && iso != NULL && strcmp(a->home->iso, iso) == 0;
}

static uint32_t class_mask_of(const struct applicable *a)
{
    for (size_t l = 0; l < 3; l++) {
        if (a->levels[l] != NULL && a->levels[l]->has_classes) {
            return a->levels[l]->class_mask;
        }
    }
    return 0;
}

/* Steps 4: the destination rules. True when the call may go on. */
static bool judge_destination(const struct fraud_policy *p, const struct applicable *a,
                              const struct numplan_class *cls, struct fraud_decision *d)
{
    struct sv digits = e164_digits(&d->number);
    const struct prefix_rule *rule = prefix_winner(a, digits);
    if (rule != NULL) {
        if (rule->is_allow) {
            return true;
        }
        refuse(d, 403, "deny-prefix +%s", rule->digits);
        return false;
    }
    const struct highrisk_entry *hr =
        p->highrisk != NULL ? highrisk_match(p->highrisk, digits) : NULL;
    if (hr != NULL) {
        refuse(d, 403, "high-risk +%s", hr->prefix);
        return false;
    }
    uint32_t mask = class_mask_of(a);
    bool is_nongeo = cls->territory != NULL && strcmp(cls->territory->iso, "001") == 0;
    if ((mask & (1u << cls->numclass)) != 0) {
        refuse(d, 403, "class %s", numclass_name(cls->numclass));
        return false;
    }
    if (is_nongeo && (mask & NONGEO_BIT) != 0) {
        refuse(d, 403, "class %s", "non-geographic");
        return false;
    }
    if (!country_allowed(a, d->country)) {
        refuse(d, 403, "country %s", d->country != NULL ? d->country : "unknown");
        return false;
    }
    return true;
}

/* The velocity level `id` for a call under `a`: the account's, the trunk's or [fraud]'s. */
static uint32_t limit_of(const struct applicable *a, enum fraud_limit id)
{
    const struct fraud_limits *levels[3];
    for (size_t l = 0; l < 3; l++) {
        levels[l] = a->levels[l] != NULL ? &a->levels[l]->limits : NULL;
    }
    return fraud_limits_resolve(levels, 3, id);
}

/* Outside the schedule: with schedule_action = cap the call goes on, marked after hours
 * (judge_after_hours then applies the lower caps). */
static bool may_pass_after_hours(const struct applicable *a, struct fraud_decision *d)
{
    d->is_after_hours = limit_of(a, FRAUD_LIMIT_SCHEDULE_ACTION) == CFG_SCHEDULE_CAP;
    return d->is_after_hours;
}

/* Steps 5 and 6: the schedule and the rate. True when the call may go on. */
static bool judge_schedule_rate(const struct fraud_policy *p, const struct applicable *a,
                                const struct fraud_call *call, enum numclass numclass,
                                struct fraud_decision *d)
{
    bool is_scoped = p->schedule_scope == CFG_SCHEDULE_ALL || d->is_international;
    for (size_t l = 0; is_scoped && l < 3; l++) {
        const struct level_rules *r = a->levels[l];
        if (r != NULL && r->has_schedule) {
            if (!schedule_contains(&r->schedule, call->wall_s) && !may_pass_after_hours(a, d)) {
                refuse(d, 403, "%s", "schedule");
                return false;
            }
            break;
        }
    }
    if (p->deck == NULL) {
        return true;
    }
    const struct ratedeck_row *row = ratedeck_lookup(p->deck, e164_digits(&d->number));
    bool is_ordinary = numclass == NUMCLASS_FIXED || numclass == NUMCLASS_MOBILE ||
                       numclass == NUMCLASS_FIXED_OR_MOBILE || numclass == NUMCLASS_TOLL_FREE;
    if (row == NULL) {
        if (d->is_international || !is_ordinary) {
            refuse(d, 403, "%s", "unrated");
            return false;
        }
        return true;
    }
    d->is_rated = true;
    d->rate_per_minute_micro = row->rate.per_minute_micro;
    d->rate = row->rate;
    for (size_t l = 0; l < 3; l++) {
        const struct level_rules *r = a->levels[l];
        if (r != NULL && r->has_max_rate) {
            if (row->rate.per_minute_micro > r->max_rate_micro) {
                refuse(d, 403, "rate above max_rate_per_minute (%s)", row->label);
                return false;
            }
            break;
        }
    }
    return true;
}

/* A counter against its warn and block levels (0 = off): refuses, or notes a warning when
 * this call is the first over the warn level. */
static bool judge_level(uint32_t value, uint32_t warn, uint32_t block, const char *name,
                        struct fraud_decision *d)
{
    if (block != 0 && value > block) {
        refuse(d, 403, "velocity %s", name);
        return false;
    }
    if (warn != 0 && value == warn + 1) {
        (void)sw_snprintf(d->warn, sizeof(d->warn), "velocity %s", name);
    }
    return true;
}

/* A counter against the warn and block levels `first` and `first + 1` for a call under `a`. */
static bool judge_limit(const struct applicable *a, uint32_t value, enum fraud_limit first,
                        const char *name, struct fraud_decision *d)
{
    return judge_level(value, limit_of(a, first), limit_of(a, (enum fraud_limit)(first + 1)), name,
                       d);
}

/* The lower caps of a call made after hours (schedule_action = cap); true when it may go on. */
static bool judge_after_hours(const struct applicable *a, const struct fraud_call *call,
                              const struct fraud_dial_result *r, struct fraud_decision *d)
{
    if (!d->is_after_hours) {
        return true;
    }
    uint32_t max_calls = limit_of(a, FRAUD_LIMIT_AFTER_HOURS_CALLS);
    uint32_t max_minute = limit_of(a, FRAUD_LIMIT_AFTER_HOURS_CALLS_MINUTE);
    if (max_minute != 0 && r->calls_minute > max_minute) {
        refuse(d, 403, "%s", "after-hours calls-per-minute");
        return false;
    }
    if (max_calls != 0 && call->calls_up > max_calls) {
        refuse(d, 403, "%s", "after-hours max-calls");
        return false;
    }
    return true;
}

/* Step 7 for one key. True when the call may go on. */
static bool judge_velocity_key(const struct fraud_policy *p, const struct applicable *a,
                               struct sv key, bool is_account, const struct fraud_call *call,
                               struct fraud_decision *d)
{
    const struct cfg_fraud *f = p->limits;
    struct fraud_dial dial = { e164_digits(&d->number), d->is_international, call->now_ms };
    struct fraud_dial_result r;
    fraud_store_dial(p->store, key, &dial, &p->velocity, &r);
    /* #15: in a cluster, the other nodes' counts as last known count too. */
    struct velshare_counts counts = { r.calls_minute, r.international_hour };
    velshare_shared_dial(key, &counts);
    r.calls_minute = counts.calls_minute;
    r.international_hour = counts.international_hour;
    /* The international level judges international calls: a national call over it passes. */
    bool is_intl_ok =
        !d->is_international || judge_limit(a, r.international_hour, FRAUD_LIMIT_INTL_HOUR_WARN,
                                            "international-per-hour", d);
    if (!judge_limit(a, r.calls_minute, FRAUD_LIMIT_CALLS_MINUTE_WARN, "calls-per-minute", d) ||
        !is_intl_ok ||
        !judge_limit(a, r.distinct_hour, FRAUD_LIMIT_DESTS_HOUR_WARN, "destinations-per-hour", d) ||
        !judge_after_hours(a, call, &r, d)) {
        return false;
    }
    if (r.finding.pattern == VELOCITY_NONE || f->patterns == CFG_PATTERNS_OFF) {
        return true;
    }
    char rule[FRAUD_RULE_CAP];
    (void)sw_snprintf(rule, sizeof(rule), "%s +%s", velocity_pattern_name(r.finding.pattern),
                      r.finding.range);
    if (f->patterns == CFG_PATTERNS_WARN) {
        (void)sw_snprintf(d->warn, sizeof(d->warn), "%s", rule);
        return true;
    }
    refuse(d, 403, "%s", rule);
    if (is_account && f->disable_account) {
        /* The operator's table (state/isolation.h): `sipwarden account enable` restores it,
         * and it survives a restart like the operator's own disable. */
        struct sv name = sv_slice(key, sizeof("account:") - 1, key.len);
        d->is_account_disabled = isolation_set(ISOLATION_ACCOUNT, name, "fraud policy", rule,
                                               call->wall_s) != ISOLATION_FULL;
    }
    return false;
}

static void judge_velocity(const struct fraud_policy *p, const struct applicable *a,
                           const struct fraud_call *call, struct fraud_decision *d)
{
    /* An account's call goes to the PBX, which may route it out through the trunk: that
     * INVITE is judged (and counted on the trunk) again then, so count the account only. */
    if (call->account < p->account_count) {
        const struct level_rules *r = &p->accounts[call->account];
        (void)judge_velocity_key(p, a, sv_make(r->key, r->key_len), true, call, d); /* d says */
    } else if (call->trunk < p->trunk_count) {
        const struct level_rules *r = &p->trunks[call->trunk];
        (void)judge_velocity_key(p, a, sv_make(r->key, r->key_len), false, call, d);
    }
}

/* Step 8: the spending caps. True when the call may go on. */
static bool judge_spend(const struct fraud_policy *p, const struct cfg *cfg,
                        const struct fraud_call *call, struct fraud_decision *d)
{
    if (!p->has_caps || !d->is_rated) {
        return true;
    }
    struct spend_call sc = { .rate = d->rate };
    sc.key_count = spend_keys_of(
        call->account < cfg->account_count ? cfg->accounts[call->account].username : "",
        call->trunk < cfg->trunk_count ? cfg->trunks[call->trunk].name : "", sc.keys);
    char key[SPEND_KEY_CAP] = "";
    enum spend_verdict v =
        spend_store_check(p->spend, &sc, call->now_ms, call->wall_s, key, sizeof(key));
    if (v == SPEND_OK) {
        return true;
    }
    /* #15: a burst that outran this node's grant while the cluster has money: retry. */
    refuse(d, v == SPEND_GRANT ? 503 : 403, "%s", spend_verdict_text(v));
    return false;
}

/* Steps 2 and 3: the number and the Wangiri mark. True when judging goes on. */
static bool judge_number(const struct fraud_policy *p, const struct applicable *a,
                         const struct fraud_call *call, struct numplan_class *cls,
                         struct fraud_decision *d)
{
    enum e164_status st = e164_normalize(call->dialled, a->home, &d->number);
    if (st != E164_OK) {
        if (call->account != SIZE_MAX) {
            d->outcome = FRAUD_NOT_JUDGED;
            return false;
        }
        refuse(d, (uint16_t)e164_status_sip(st), "not a number: %s", e164_status_text(st));
        return false;
    }
    d->has_number = true;
    numplan_classify(e164_digits(&d->number), cls);
    d->country = cls->territory != NULL ? cls->territory->iso : NULL;
    d->numclass = numclass_name(cls->numclass);
    d->is_international =
        a->home == NULL || d->country == NULL || strcmp(a->home->iso, d->country) != 0;
    if (fraud_store_wangiri_marked(p->store, e164_digits(&d->number), call->wall_s,
                                   p->limits->wangiri_window)) {
        refuse(d, 403, "wangiri +%s", d->number.digits);
        return false;
    }
    return true;
}

void fraud_policy_judge(const struct fraud_policy *p, const struct cfg *cfg,
                        const struct fraud_call *call, struct fraud_decision *out)
{
    memset(out, 0, sizeof(*out));
    out->outcome = FRAUD_PASS;
    if (!p->is_enabled) {
        return;
    }
    struct applicable a;
    applicable_of(p, call, &a);
    if (is_emergency(p, &a, call->dialled)) {
        out->is_emergency = true;
        (void)sw_snprintf(out->rule, sizeof(out->rule), "emergency");
        return;
    }
    if (call->account < cfg->account_count) {
        if (isolation_is_held(ISOLATION_ACCOUNT,
                              sv_from_cstr(cfg->accounts[call->account].username))) {
            /* A phone already registered keeps sending; the auth stage stops new logins. */
            refuse(out, 403, "%s", "account disabled");
            return;
        }
    }
    struct numplan_class cls;
    if (!judge_number(p, &a, call, &cls, out) || !judge_destination(p, &a, &cls, out) ||
        !judge_schedule_rate(p, &a, call, cls.numclass, out) || !judge_spend(p, cfg, call, out) ||
        call->is_dry_run) {
        return;
    }
    judge_velocity(p, &a, call, out);
}

/* ---- the stage ---- */

static int fraud_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    struct fraud_policy *p = fraud_policy_new(cfg, diag);
    if (p == NULL) {
        return -SW_ECONFIG;
    }
    *state = p;
    return 0;
}

static void fraud_fini(void *state)
{
    fraud_policy_free(state);
}

static void emit(struct stage_ctx *ctx, enum sw_event_kind kind, const struct fraud_call *call,
                 const char *text)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, kind, "fraud");
    if (call->account < ctx->cfg->account_count) {
        SW_EVENT_SET(&ev, account, sv_from_cstr(ctx->cfg->accounts[call->account].username));
    }
    char detail[256];
    (void)sw_snprintf(detail, sizeof(detail), "dialled '%.*s': %s",
                      (int)(call->dialled.len > 40 ? 40 : call->dialled.len),
                      call->dialled.ptr != NULL ? call->dialled.ptr : "", text);
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    sw_event_emit(ctx->events, &ev);
}

/* What the call is, for the call layer (stage.h). */
static void put_edits(const struct fraud_policy *p, struct stage_ctx *ctx,
                      const struct fraud_call *call, const struct fraud_decision *d)
{
    char buf[E164_MAX_DIGITS + 2];
    struct sv digits = e164_digits(&d->number);
    buf[0] = '+';
    memcpy(buf + 1, digits.ptr, digits.len); /* at most E164_MAX_DIGITS */
    ctx->edits.dialled_e164 = arena_sv_dup(ctx->arena, sv_make(buf, digits.len + 1));
    ctx->edits.dest_country =
        d->country != NULL ? arena_sv_dup(ctx->arena, sv_from_cstr(d->country)) : SV_NULL;
    ctx->edits.dest_class = sv_from_cstr(d->numclass); /* static text */
    ctx->edits.is_rated = d->is_rated;
    ctx->edits.rate_per_minute_micro = d->rate_per_minute_micro;
    ctx->edits.rate = d->rate;
    const struct level_rules *r = call->account < p->account_count ? &p->accounts[call->account]
                                  : call->trunk < p->trunk_count   ? &p->trunks[call->trunk]
                                                                   : NULL;
    ctx->edits.fraud_key = r != NULL ? arena_sv_dup(ctx->arena, sv_make(r->key, r->key_len))
                                     : arena_sv_dup(ctx->arena, SV("trunk:"));
}

static struct verdict refused(struct stage_ctx *ctx, const struct fraud_call *call,
                              const struct fraud_decision *d)
{
    char text[FRAUD_RULE_CAP + 32];
    (void)sw_snprintf(text, sizeof(text), "refused (%s)%s", d->rule,
                      d->is_account_disabled ? ", account disabled" : "");
    emit(ctx, EV_FRAUD_BLOCK, call, text);
    /* For the refused call's record (gateway_msg.c). */
    ctx->edits.policy_rule = arena_sv_dup(ctx->arena, sv_from_cstr(d->rule));
    ctx->edits.policy_action = SV("block");
    struct verdict v = verdict_reply(d->status, d->status == 403 ? "Forbidden" : NULL);
    /* A 503 (a cluster grant pending) says when to try again (RFC 3261 §21.5.4). */
    const char *retry = d->status == 503 ? "Retry-After: 1\r\n" : "";
    size_t cap = sizeof(REASON_Q850_FMT) + sizeof(d->rule) + strlen(retry);
    char *line = arena_alloc(ctx->arena, cap);
    if (line != NULL) {
        int n = sw_snprintf(line, cap, "%s" REASON_Q850_FMT, retry, d->rule);
        v.extra_headers = sv_make(line, n > 0 ? (size_t)n : 0);
    }
    return v;
}

/* The counter slots of the key a call is judged under (its account's, else its trunk's). */
static void slots_of_call(const struct fraud_policy *p, const struct fraud_call *call,
                          struct callcount_slot **calls, struct callcount_slot **intl)
{
    const struct fraud_slots *s = &p->slots;
    *calls = NULL;
    *intl = NULL;
    if (call->account < s->account_count) {
        *calls = s->account_calls[call->account];
        *intl = s->account_intl[call->account];
    } else if (call->account == SIZE_MAX && call->trunk < s->trunk_count) {
        *calls = s->trunk_calls[call->trunk];
        *intl = s->trunk_intl[call->trunk];
    }
}

/*
 * Concurrent international calls (issue #11 "Velocity"): a passed international call takes
 * a place on its key's international counter until it ends, refused beyond the block
 * level. True when the call may go on.
 */
static bool take_international(const struct fraud_policy *p, struct stage_ctx *ctx,
                               const struct fraud_call *call, struct fraud_decision *d)
{
    if (!d->is_international || d->is_emergency) {
        return true;
    }
    struct callcount_slot *calls = NULL;
    struct callcount_slot *intl = NULL;
    slots_of_call(p, call, &calls, &intl);
    struct applicable a;
    applicable_of(p, call, &a);
    uint32_t warn = limit_of(&a, FRAUD_LIMIT_CONCURRENT_INTL_WARN);
    uint32_t block = limit_of(&a, FRAUD_LIMIT_CONCURRENT_INTL_BLOCK);
    if (intl == NULL || ctx->edits.place_count >= STAGE_PLACES_MAX) {
        return true; /* nothing counted for this caller */
    }
    if (!stage_place_take(ctx, intl, block)) {
        refuse(d, 403, "%s", "velocity concurrent-international");
        return false;
    }
    if (warn != 0 && callcount_value(intl) == warn + 1 && d->warn[0] == '\0') {
        (void)sw_snprintf(d->warn, sizeof(d->warn), "%s", "velocity concurrent-international");
    }
    return true;
}

/* For the call's record: the rule that applied and what it did. */
static void put_record_rule(struct stage_ctx *ctx, const struct fraud_decision *d)
{
    const char *rule = d->warn[0] != '\0' ? d->warn : d->is_after_hours ? "after-hours" : d->rule;
    const char *action = d->warn[0] != '\0' ? "warn" : d->is_after_hours ? "cap" : "allow";
    ctx->edits.policy_rule =
        rule[0] != '\0' ? arena_sv_dup(ctx->arena, sv_from_cstr(rule)) : SV_NULL;
    ctx->edits.policy_action = sv_from_cstr(action); /* static text */
}

static struct verdict fraud_check(void *state, struct stage_ctx *ctx)
{
    const struct fraud_policy *p = state;
    struct sip_msg *msg = ctx->msg;
    if (!p->is_enabled || !msg->is_request || msg->method != SIP_METHOD_INVITE ||
        ctx->is_in_dialog) {
        return verdict_continue();
    }
    bool is_pbx_out = ctx->side == SIDE_PBX && !ctx->is_towards_account;
    /* An account's call, authenticated here or known by its registration's address. */
    bool is_account = ctx->side == SIDE_ACCOUNT && ctx->account < ctx->cfg->account_count;
    if (!is_pbx_out && !is_account) {
        return verdict_continue();
    }
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
    struct fraud_call call = {
        .dialled = ruri == NULL                  ? SV("")
                   : ruri->scheme == SIP_URI_TEL ? ruri->tel_number
                                                 : ruri->user,
        .trunk = ctx->cfg->default_trunk_index,
        .account = is_account ? ctx->account : SIZE_MAX,
        .now_ms = (int64_t)ctx->now_ms,
        .wall_s = sw_wall_s(),
    };
    if (!sv_is_present(call.dialled)) {
        call.dialled = SV("");
    }
    struct callcount_slot *calls = NULL;
    struct callcount_slot *intl = NULL;
    slots_of_call(p, &call, &calls, &intl);
    call.calls_up = callcount_value(calls); /* the limits stage counted this call */
    struct fraud_decision d;
    fraud_policy_judge(p, ctx->cfg, &call, &d);
    if (d.outcome == FRAUD_PASS) {
        (void)take_international(p, ctx, &call, &d); /* d says */
    }
    if (d.warn[0] != '\0') {
        emit(ctx, EV_FRAUD_WARN, &call, d.warn);
    }
    if (d.has_number) {
        put_edits(p, ctx, &call, &d);
    }
    if (d.outcome == FRAUD_REFUSE) {
        return refused(ctx, &call, &d);
    }
    if (d.outcome == FRAUD_PASS) {
        put_record_rule(ctx, &d);
    }
    return verdict_continue();
}

const struct stage fraud_stage = {
    .name = "fraud",
    .init = fraud_init,
    .check = fraud_check,
    .fini = fraud_fini,
};

/* ---- the call layer's and the operator's entry points ---- */

bool fraud_wangiri_observe(const struct cfg *cfg, size_t trunk, struct sv calling, uint64_t ring_ms,
                           int64_t wall_s)
{
    if (!cfg->fraud.enabled || trunk >= cfg->trunk_count ||
        cfg->trunks[trunk].country_code == NULL) {
        return false;
    }
    return fraud_wangiri_observe_values(sv_from_cstr(cfg->trunks[trunk].country_code),
                                        cfg->fraud.wangiri_ring_max, calling, ring_ms, wall_s);
}

bool fraud_wangiri_observe_values(struct sv country_code, uint32_t ring_max_s, struct sv calling,
                                  uint64_t ring_ms, int64_t wall_s)
{
    if (ring_max_s == 0 || ring_ms >= (uint64_t)ring_max_s * 1000u) {
        return false;
    }
    const struct numplan_territory *home = numplan_territory_by_code(country_code);
    struct e164_number number;
    if (e164_normalize(calling, home, &number) != E164_OK) {
        return false;
    }
    struct numplan_class cls;
    numplan_classify(e164_digits(&number), &cls);
    if (home != NULL && cls.territory != NULL && strcmp(home->iso, cls.territory->iso) == 0) {
        return false; /* a national caller: not the international callback scam */
    }
    return fraud_store_shared_wangiri_mark(e164_digits(&number), wall_s);
}

void fraud_call_ended(struct sv key, struct sv e164, int64_t dialled_ms, int64_t answered_ms)
{
    if (e164.len > 0 && e164.ptr[0] == '+') {
        e164 = sv_slice(e164, 1, e164.len - 1);
    }
    fraud_store_shared_dial_end(key, e164, dialled_ms, answered_ms);
}

bool fraud_account_is_disabled(struct sv username)
{
    return isolation_is_held(ISOLATION_ACCOUNT, username);
}

bool fraud_account_set_disabled(struct sv username, bool is_disabled)
{
    if (!is_disabled) {
        (void)isolation_clear(ISOLATION_ACCOUNT, username); /* false: it was not disabled */
        return true;
    }
    return isolation_set(ISOLATION_ACCOUNT, username, "fraud policy", "", sw_wall_s()) !=
           ISOLATION_FULL;
}

static bool is_open_abroad(const struct cfg_strings *countries)
{
    if (countries->count > 1) {
        return true;
    }
    for (size_t i = 0; i < countries->count; i++) {
        if (strcmp(countries->items[i], "*") == 0) {
            return true;
        }
    }
    return false;
}

bool fraud_is_uncapped_abroad(const struct cfg *cfg, const struct cfg_strings *countries,
                              const char *max_rate)
{
    bool is_open = is_open_abroad(countries) ||
                   (countries->count == 0 && is_open_abroad(&cfg->fraud.allowed_countries));
    bool has_cap = max_rate != NULL || cfg->fraud.max_rate_per_minute != NULL;
    return cfg->fraud.enabled && is_open && !has_cap && cfg->fraud.ratedeck == NULL;
}

static void lint_object(const struct cfg *cfg, const char *what, const char *name,
                        const struct cfg_strings *countries, const char *max_rate,
                        struct sw_diag *diag)
{
    if (fraud_is_uncapped_abroad(cfg, countries, max_rate)) {
        sw_diag_add(diag, DIAG_WARNING, cfg->source, cfg_section_line(cfg, name), NULL,
                    "fraud: %s %s may call abroad without a cap: set a ratedeck and "
                    "max_rate_per_minute",
                    what, name);
    }
}

void fraud_policy_lint(const struct cfg *cfg, struct sw_diag *diag)
{
    if (!cfg->fraud.enabled) {
        sw_diag_add(diag, DIAG_WARNING, cfg->source, cfg_section_line(cfg, "fraud"), "enabled",
                    "fraud: the toll-fraud policy is off: every number may be dialled");
        return;
    }
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        lint_object(cfg, "trunk", cfg->trunks[i].name, &cfg->trunks[i].allowed_countries,
                    cfg->trunks[i].max_rate_per_minute, diag);
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        lint_object(cfg, "account", cfg->accounts[i].name, &cfg->accounts[i].allowed_countries,
                    cfg->accounts[i].max_rate_per_minute, diag);
    }
}
