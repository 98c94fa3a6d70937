/*
 * The fraud stage (issue #11): judges every new outbound call before anything leaves,
 * that is every INVITE outside a dialog from the PBX towards a trunk and from an
 * authenticated account. In this order:
 *   1. emergency numbers (per country) always pass;
 *   2. the dialled number is normalized to E.164 with the trunk's country_code; a call from
 *      the PBX whose number is not one (letters, overlong, empty) gets 484 or 404, never a
 *      national reading (a call from an account that is no number goes to the PBX as an
 *      internal destination, unjudged);
 *   3. a number a Wangiri call marked (fraud_wangiri_observe) is refused;
 *   4. destination rules, the most specific first: explicit allow_prefixes / deny_prefixes
 *      of the account, the trunk and [fraud] (the longest matching prefix wins, at equal
 *      length the account's over the trunk's over [fraud]'s, and deny over allow); an
 *      allowing prefix skips the next three rules; then the high-risk list, then the number
 *      class (blocked_classes), then the destination country (allowed_countries). Each list
 *      comes from the account if it sets one, else the trunk, else [fraud];
 *   5. the schedule (account, trunk, [fraud]) for international or all calls;
 *   6. with a rate deck: an unrated international or classified call, or a rate above
 *      max_rate_per_minute, is refused;
 *   7. velocity per account and per trunk (state/fraudstore.h): new calls per minute,
 *      international calls per hour, distinct destinations per hour, each with a warn and
 *      a block level; sequential dialling, range sweeps and short-call bursts
 *      (number/velocity.h). A pattern caught on an account disables it when
 *      disable_account = yes (the auth stage then refuses it) until an operator enables it;
 *   8. with a rate deck, the spending caps (daily_cap, monthly_cap of [fraud], the trunk
 *      and the account; state/spendstore.h): a rated call whose budget cannot carry its
 *      connect fee and first increment is refused ("daily cap", "monthly cap"). The
 *      policy sets the caps of the shared spend store; the gateway ends the calls in
 *      progress when a cap is crossed.
 * A refused call gets 403 (484/404 for no number) with `Reason: Q.850;cause=21;text="RULE"`
 * and an EV_FRAUD_BLOCK event naming the rule; a warning is an EV_FRAUD_WARN event.
 * A call that passes leaves its E.164 number, country, class and rate in ctx->edits.
 *
 * Threads: the policy is built once (init, configuration thread), then read-only; its
 * counters live in the process's shared fraud store (thread-safe, kept across reloads).
 */
#ifndef SW_POLICY_FRAUD_H
#define SW_POLICY_FRAUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "number/e164.h"
#include "number/money.h"
#include "policy/stage.h"

#define FRAUD_RULE_CAP 96

extern const struct stage fraud_stage;

struct cfg_strings;
struct fraud_policy;

/* One call to judge. */
struct fraud_call {
    struct sv dialled; /* the Request-URI user or tel number as received */
    size_t trunk;      /* index into cfg->trunks the call leaves through (SIZE_MAX: none) */
    size_t account;    /* the calling account's index, SIZE_MAX for the PBX */
    int64_t now_ms;    /* monotonic */
    int64_t wall_s;    /* for schedules and Wangiri marks */
    bool is_dry_run;   /* judge without counting (sipwarden number) */
    uint32_t calls_up; /* calls of the account (or, for the PBX, the trunk) in progress,
                        * this one included (the limits stage took its place); 0 = unknown */
};

enum fraud_outcome {
    FRAUD_PASS,
    FRAUD_REFUSE,
    FRAUD_NOT_JUDGED, /* an account's call to no number: an internal destination */
};

/* The verdict and what the call is, for the stage, the call records and the tools. */
struct fraud_decision {
    enum fraud_outcome outcome;
    uint16_t status;           /* FRAUD_REFUSE: 403, 484, 404, or 503 (cluster grant pending) */
    char rule[FRAUD_RULE_CAP]; /* the rule that decided ("class premium-rate"...), "" */
    char warn[FRAUD_RULE_CAP]; /* a warn level crossed by this call, "" */
    bool is_emergency;
    bool is_international;
    bool is_account_disabled; /* this call's pattern disabled the account */
    bool is_after_hours;      /* outside the schedule, passed under the after-hours caps */
    bool has_number;
    struct e164_number number; /* has_number: the E.164 form */
    const char *country;       /* ISO code of the destination, NULL when unknown */
    const char *numclass;      /* numclass_name(), NULL without a number */
    bool is_rated;
    int64_t rate_per_minute_micro; /* is_rated: the deck's rate */
    struct rate rate;              /* is_rated: the deck's row (fee, increments) */
};

/*
 * The policy of `cfg` ([fraud] and the trunk and account keys). Every problem (a bad
 * country, class, prefix, schedule, rate or rate deck) goes into `diag` as
 * file:line: key: reason; then NULL. Acquires the shared fraud store.
 */
struct fraud_policy *fraud_policy_new(const struct cfg *cfg, struct sw_diag *diag);

/* Frees the policy and gives the store back; NULL is a no-op. */
void fraud_policy_free(struct fraud_policy *policy);

/* Judges `call` under `policy` (built from `cfg`) into `out`. Any thread. */
void fraud_policy_judge(const struct fraud_policy *policy, const struct cfg *cfg,
                        const struct fraud_call *call, struct fraud_decision *out);

/*
 * For the call layer (event path; any thread): an inbound call from trunk `trunk` of `cfg`
 * whose caller is `calling` (a user part or tel number as received) ended after ringing
 * `ring_ms`, cancelled by the caller before any answer. When the caller is an
 * international number (outside the trunk's country) and ring_ms < [fraud]
 * wangiri_ring_max, the number is marked in the shared fraud store: outbound calls to it
 * are refused for wangiri_window. Returns true when marked (false also while no fraud
 * policy runs).
 */
bool fraud_wangiri_observe(const struct cfg *cfg, size_t trunk, struct sv calling, uint64_t ring_ms,
                           int64_t wall_s);

/*
 * fraud_wangiri_observe with the configuration's values given directly, for a caller that
 * keeps them with the call (the gateway, at the call's end): the trunk's country calling
 * code and [fraud] wangiri_ring_max in seconds (0 = off).
 */
bool fraud_wangiri_observe_values(struct sv country_code, uint32_t ring_max_s, struct sv calling,
                                  uint64_t ring_ms, int64_t wall_s);

/*
 * For the call layer (any thread): the call that `key` (ctx->edits.fraud_key) dialled to
 * `e164` (ctx->edits.dialled_e164) at `dialled_ms` (the stage's ctx->now_ms) ended after
 * `answered_ms` answered (0: never answered). Feeds the short-call burst detector.
 */
void fraud_call_ended(struct sv key, struct sv e164, int64_t dialled_ms, int64_t answered_ms);

/* True when account `username` is disabled, by the fraud policy or by the operator (the
 * process's incident state, state/isolation.h): the auth stage's question. */
bool fraud_account_is_disabled(struct sv username);

/* Enables (or disables, as "fraud policy") `username` again. False when the table is full. */
bool fraud_account_set_disabled(struct sv username, bool is_disabled);

/*
 * The warnings check-config and audit give: international calling open (allowed_countries
 * with '*' or more than the home country) without max_rate_per_minute and without a
 * rate deck. Each goes into `diag` as a warning.
 */
void fraud_policy_lint(const struct cfg *cfg, struct sw_diag *diag);

/*
 * True when a trunk or account with these allowed_countries and max_rate_per_minute
 * (either may be empty/NULL: [fraud]'s apply) may call abroad with no cap: the policy is
 * on, more than one country or '*' is allowed, and there is neither a rate deck nor a
 * max_rate_per_minute.
 */
bool fraud_is_uncapped_abroad(const struct cfg *cfg, const struct cfg_strings *countries,
                              const char *max_rate);

#endif
