/*
 * The fraud policy's velocity levels per trunk and account, its concurrent international
 * calls and its after-hours caps (policy/fraud_limits.h, policy/fraud.c).
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "policy/fraud.h"
#include "policy/fraud_limits.h"
#include "stage_fixture.h"
#include "state/callcount.h"

#define SATURDAY_NOON 1796472000 /* 2026-12-05 12:00 UTC */
#define MONDAY_NOON   1796644800 /* 2026-12-07 12:00 UTC */

static const char conf_head[] = "[pbx]\naddress = udp:127.0.0.1:5090\n"
                                "[fraud]\nallowed_countries = DE, FR, GB\n";
static const char conf_trunk[] = "[provider]\ntype = trunk\nprovider = udp:192.0.2.10:5060\n"
                                 "country_code = 49\n";
static const char conf_account[] = "[alice]\ntype = account\nsecret = correct-horse-battery\n";

/* The configuration with `fraud`, `trunk` and `account` appended to their sections. */
static void conf_of(char *conf, size_t cap, const char *fraud, const char *trunk,
                    const char *account)
{
    int n = snprintf(conf, cap, "%s%s%s%s%s%s", conf_head, fraud, conf_trunk, trunk, conf_account,
                     account);
    assert_true(n > 0 && (size_t)n < cap);
}

static void setup(struct fixture *f, const char *fraud, const char *trunk, const char *account)
{
    char conf[4096];
    conf_of(conf, sizeof(conf), fraud, trunk, account);
    fixture_init(f, &fraud_stage, conf);
}

/* An INVITE to `number` from the PBX, or from alice when `is_alice`, at `now_ms`; the call
 * stays up (its places stay in f->ctx.edits) until the caller releases them. */
static struct verdict dial(struct fixture *f, bool is_alice, const char *number, uint64_t now_ms)
{
    char text[768];
    (void)snprintf(
        text, sizeof(text),
        "INVITE sip:%s@gw SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-v\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:+4930111111@pbx>;tag=v1\r\nTo: <sip:%s@gw>\r\n"
        "Call-ID: velocity@pbx\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        number, number);
    fixture_prepare(f, "127.0.0.1", now_ms, text);
    f->event_count = 0;
    if (is_alice) {
        f->ctx.side = SIDE_ACCOUNT;
        f->ctx.is_authenticated = true;
        f->ctx.account = 0;
    }
    return stage_run(f->stage, f->state, &f->ctx);
}

/* Dials `count` national numbers one second apart from `start_ms`; returns how many passed
 * before the first refusal (all of them when none). */
static unsigned passed_in_a_row(struct fixture *f, bool is_alice, unsigned count, uint64_t start_ms)
{
    for (unsigned i = 0; i < count; i++) {
        char number[32];
        (void)snprintf(number, sizeof(number), "0301%07u", 1000000u + i * 7919u);
        struct verdict v = dial(f, is_alice, number, start_ms + i * 1000u);
        stage_places_release(&f->ctx);
        if (v.action != VERDICT_CONTINUE) {
            return i;
        }
    }
    return count;
}

static void test_limits_resolve_most_specific_first(void **state)
{
    (void)state;
    struct fraud_limits account = { .set_mask = 1u << FRAUD_LIMIT_CALLS_MINUTE_BLOCK };
    struct fraud_limits trunk = { .set_mask = (1u << FRAUD_LIMIT_CALLS_MINUTE_BLOCK) |
                                              (1u << FRAUD_LIMIT_INTL_HOUR_BLOCK) };
    struct fraud_limits global = { .set_mask = (1u << FRAUD_LIMIT_COUNT) - 1u };
    account.value[FRAUD_LIMIT_CALLS_MINUTE_BLOCK] = 0; /* set to 0: off for the account */
    trunk.value[FRAUD_LIMIT_CALLS_MINUTE_BLOCK] = 5;
    trunk.value[FRAUD_LIMIT_INTL_HOUR_BLOCK] = 7;
    global.value[FRAUD_LIMIT_INTL_HOUR_BLOCK] = 120;
    global.value[FRAUD_LIMIT_DESTS_HOUR_BLOCK] = 400;
    const struct fraud_limits *levels[3] = { &account, &trunk, &global };
    assert_int_equal(fraud_limits_resolve(levels, 3, FRAUD_LIMIT_CALLS_MINUTE_BLOCK), 0);
    assert_int_equal(fraud_limits_resolve(levels, 3, FRAUD_LIMIT_INTL_HOUR_BLOCK), 7);
    assert_int_equal(fraud_limits_resolve(levels, 3, FRAUD_LIMIT_DESTS_HOUR_BLOCK), 400);
    levels[0] = NULL;
    levels[1] = NULL;
    assert_int_equal(fraud_limits_resolve(levels, 3, FRAUD_LIMIT_INTL_HOUR_BLOCK), 120);
    assert_string_equal(fraud_limit_key(FRAUD_LIMIT_AFTER_HOURS_CALLS), "after_hours_max_calls");
}

/* Item 3 of the brief: each [fraud] velocity level can be set per trunk and per account. */
static void test_limits_velocity_per_trunk_and_account(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "calls_per_minute_block = 20\n", "", "");
    assert_int_equal(passed_in_a_row(&f, false, 25, 1000), 20);
    fixture_fini(&f);
    /* The trunk's level replaces [fraud]'s for the PBX's calls and, unset on the account,
     * for the account's too (each counted on its own key). */
    setup(&f, "calls_per_minute_block = 20\n", "calls_per_minute_block = 3\n", "");
    assert_int_equal(passed_in_a_row(&f, false, 10, 1000), 3);
    assert_int_equal(passed_in_a_row(&f, true, 10, 1000), 3);
    fixture_fini(&f);
    setup(&f, "calls_per_minute_block = 20\n", "calls_per_minute_block = 3\n",
          "calls_per_minute_block = 6\n");
    assert_int_equal(passed_in_a_row(&f, true, 10, 1000), 6);
    assert_true(f.event_count >= 1);
    assert_int_equal(f.events[f.event_count - 1].kind, EV_FRAUD_BLOCK);
    assert_non_null(strstr(f.events[f.event_count - 1].detail, "velocity calls-per-minute"));
    fixture_fini(&f);
    /* 0 on the account turns the level off for it. */
    setup(&f, "calls_per_minute_block = 2\n", "", "calls_per_minute_block = 0\n");
    assert_int_equal(passed_in_a_row(&f, true, 10, 1000), 10);
    assert_int_equal(passed_in_a_row(&f, false, 10, 1000), 2);
    fixture_fini(&f);
}

/* Item 2: international calls in progress, counted from the pass to the call's end. */
static void test_limits_concurrent_international(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "concurrent_international_warn = 1\nconcurrent_international_block = 2\n", "", "");
    struct callcount_slot *held[3] = { NULL };
    struct verdict v = dial(&f, true, "+33123456781", 1000);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.ctx.edits.place_count, 1);
    assert_int_equal(f.event_count, 0);
    held[0] = f.ctx.edits.places[0];
    v = dial(&f, true, "+33612345678", 2000);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    held[1] = f.ctx.edits.places[0];
    assert_ptr_equal(held[0], held[1]);
    assert_int_equal(callcount_value(held[0]), 2);
    assert_int_equal(f.event_count, 1); /* the warn level crossed */
    assert_int_equal(f.events[0].kind, EV_FRAUD_WARN);
    v = dial(&f, true, "+33491234567", 3000);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 403);
    assert_true(sv_starts_with(
        v.extra_headers, SV("Reason: Q.850;cause=21;text=\"velocity concurrent-international")));
    assert_int_equal(f.ctx.edits.place_count, 0);
    /* National calls take no international place; the PBX's trunk has its own count. */
    v = dial(&f, true, "030123456", 4000);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.ctx.edits.place_count, 0);
    v = dial(&f, false, "+33556789012", 5000);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    stage_places_release(&f.ctx);
    /* One call ends: the next international call of alice passes. */
    callcount_release(held[1]);
    v = dial(&f, true, "+33240987654", 6000);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    stage_places_release(&f.ctx);
    callcount_release(held[0]);
    assert_int_equal(callcount_value(held[0]), 0);
    fixture_fini(&f);
}

/* Judges a counted call of the PBX to `number` at `wall_s` with `calls_up` calls up. */
static void judge_at(const struct fraud_policy *p, const struct cfg *cfg, const char *number,
                     int64_t wall_s, uint32_t calls_up, int64_t now_ms, struct fraud_decision *d)
{
    struct fraud_call call = { .dialled = sv_from_cstr(number),
                               .trunk = 0,
                               .account = SIZE_MAX,
                               .now_ms = now_ms,
                               .wall_s = wall_s,
                               .calls_up = calls_up };
    fraud_policy_judge(p, cfg, &call, d);
}

static struct fraud_policy *policy_of(const char *fraud, const char *trunk, struct cfg **cfg)
{
    char conf[4096];
    conf_of(conf, sizeof(conf), fraud, trunk, "");
    struct sw_diag diag;
    sw_diag_init(&diag);
    *cfg = cfg_load_string("test.conf", conf, &diag);
    assert_non_null(*cfg);
    struct fraud_policy *p = fraud_policy_new(*cfg, &diag);
    sw_diag_fini(&diag);
    assert_non_null(p);
    return p;
}

/* Item 4: outside the schedule, schedule_action = cap passes calls under lower caps. */
static void test_limits_after_hours_cap(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct fraud_policy *p = policy_of("schedule = mon-fri 08:00-18:00 UTC\nschedule_action = cap\n"
                                       "after_hours_max_calls = 2\n"
                                       "after_hours_calls_per_minute = 3\n",
                                       "", &cfg);
    struct fraud_decision d;
    judge_at(p, cfg, "+33123456781", SATURDAY_NOON, 1, 1000, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    assert_true(d.is_after_hours);
    judge_at(p, cfg, "+33612345678", SATURDAY_NOON, 3, 2000, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_string_equal(d.rule, "after-hours max-calls");
    judge_at(p, cfg, "+33491234567", SATURDAY_NOON, 2, 3000, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    judge_at(p, cfg, "+33556789012", SATURDAY_NOON, 1, 4000, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_string_equal(d.rule, "after-hours calls-per-minute");
    /* Inside the schedule the normal levels apply; national calls are out of scope. */
    judge_at(p, cfg, "+33240987654", MONDAY_NOON, 9, 120000, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    assert_false(d.is_after_hours);
    fraud_policy_free(p);
    cfg_free(cfg);
    /* The trunk keeps refusing after hours while [fraud] caps. */
    p = policy_of("schedule = mon-fri 08:00-18:00 UTC\nschedule_action = cap\n",
                  "schedule_action = refuse\n", &cfg);
    judge_at(p, cfg, "+33123456781", SATURDAY_NOON, 1, 1000, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_string_equal(d.rule, "schedule");
    fraud_policy_free(p);
    cfg_free(cfg);
}

/* Item 6: the rule and action that applied go to the call's record. */
static void test_limits_record_rule_and_action(void **state)
{
    (void)state;
    struct fixture f;
    setup(&f, "calls_per_minute_warn = 1\n", "", "");
    struct verdict v = dial(&f, false, "030123456", 1000);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_true(sv_eq(f.ctx.edits.policy_action, SV("allow")));
    v = dial(&f, false, "030123457", 2000);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_true(sv_eq(f.ctx.edits.policy_action, SV("warn")));
    assert_true(sv_eq(f.ctx.edits.policy_rule, SV("velocity calls-per-minute")));
    v = dial(&f, false, "112", 3000);
    assert_true(sv_eq(f.ctx.edits.policy_rule, SV("emergency")));
    /* A refused call's record names the rule that blocked it, and the number. */
    v = dial(&f, false, "+88213400001", 4000);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_true(sv_eq(f.ctx.edits.policy_action, SV("block")));
    assert_true(sv_is_present(f.ctx.edits.policy_rule) && f.ctx.edits.policy_rule.len > 0);
    assert_true(sv_eq(f.ctx.edits.dialled_e164, SV("+88213400001")));
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_resolve_most_specific_first),
        cmocka_unit_test(test_limits_velocity_per_trunk_and_account),
        cmocka_unit_test(test_limits_concurrent_international),
        cmocka_unit_test(test_limits_after_hours_cap),
        cmocka_unit_test(test_limits_record_rule_and_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
