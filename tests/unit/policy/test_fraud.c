#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "config/config.h"
#include "policy/fraud.h"
#include "sip/msg.h"
#include "stage_fixture.h"
#include "state/fraudstore.h"
#include "support/unit.h"

/* A German trunk; the PBX on 127.0.0.1; one account. 2026-12-05 was a Saturday. */
#define SATURDAY_NOON 1796472000
#define MONDAY_NOON   1796644800

static const char base_conf[] = "[pbx]\n"
                                "address = udp:127.0.0.1:5090\n"
                                "[provider]\n"
                                "type = trunk\n"
                                "provider = udp:192.0.2.10:5060\n"
                                "country_code = 49\n"
                                "[alice]\n"
                                "type = account\n"
                                "secret = correct-horse-battery\n";

static void fraud_fixture_init(struct fixture *f, const char *extra)
{
    char conf[4096];
    (void)snprintf(conf, sizeof(conf), "%s%s", base_conf, extra);
    fixture_init(f, &fraud_stage, conf);
}

/* An INVITE from the PBX (or as `side`) to `ruri` ("sip:USER@host" or "tel:..."), whose
 * call (if it passes) stays up: its concurrent-call places are kept in f->ctx.edits. */
static struct verdict run_held(struct fixture *f, enum side side, const char *ruri, uint64_t now_ms)
{
    char text[1024];
    int n = snprintf(text, sizeof(text),
                     "INVITE %s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:+4930111111@pbx.example>;tag=a1\r\n"
                     "To: <%s>\r\n"
                     "Call-ID: fraud-test@pbx\r\n"
                     "CSeq: 1 INVITE\r\n"
                     "Content-Length: 0\r\n\r\n",
                     ruri, ruri);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    fixture_prepare(f, "127.0.0.1", now_ms, text);
    f->event_count = 0;
    f->ctx.side = side;
    if (side == SIDE_ACCOUNT) {
        f->ctx.is_authenticated = true;
        f->ctx.account = 0;
    }
    return f->stage->check(f->state, &f->ctx);
}

/* As run_held, for a call that ends at once (its places are given back). */
static struct verdict run_side(struct fixture *f, enum side side, const char *ruri, uint64_t now_ms)
{
    struct verdict v = run_held(f, side, ruri, now_ms);
    stage_places_release(&f->ctx);
    return v;
}

static struct verdict run(struct fixture *f, const char *user)
{
    char ruri[128];
    (void)snprintf(ruri, sizeof(ruri), "sip:%s@gw.example", user);
    return run_side(f, SIDE_PBX, ruri, 1000);
}

static void assert_refused(struct fixture *f, struct verdict v, uint16_t status, const char *rule)
{
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, status);
    char reason[160];
    (void)snprintf(reason, sizeof(reason), "Reason: Q.850;cause=21;text=\"%s", rule);
    assert_true(sv_is_present(v.extra_headers));
    assert_true(sv_starts_with(v.extra_headers, sv_from_cstr(reason)));
    assert_true(f->event_count >= 1);
    assert_int_equal(f->events[f->event_count - 1].kind, EV_FRAUD_BLOCK);
    assert_non_null(strstr(f->events[f->event_count - 1].detail, rule));
}

static void test_fraud_national_call_passes_with_its_facts(void **state)
{
    (void)state;
    struct fixture f;
    fraud_fixture_init(&f, "");
    struct verdict v = run(&f, "030123456");
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    assert_true(sv_eq(f.ctx.edits.dialled_e164, SV("+4930123456")));
    assert_true(sv_eq(f.ctx.edits.dest_country, SV("DE")));
    assert_true(sv_eq(f.ctx.edits.dest_class, SV("fixed")));
    assert_true(sv_eq(f.ctx.edits.fraud_key, SV("trunk:provider")));
    assert_false(f.ctx.edits.is_rated);
    fixture_fini(&f);
}

static void test_fraud_refuses_what_is_no_number(void **state)
{
    (void)state;
    struct fixture f;
    fraud_fixture_init(&f, "");
    assert_refused(&f, run(&f, "service"), 404, "not a number");
    assert_refused(&f, run(&f, "1234567890123456789"), 404, "not a number");
    assert_refused(&f, run_side(&f, SIDE_PBX, "sip:gw.example", 1000), 484, "not a number");
    /* An account's call to a name is an internal destination: the PBX decides. */
    assert_int_equal(run_side(&f, SIDE_ACCOUNT, "sip:bob@gw.example", 1000).action,
                     VERDICT_CONTINUE);
    fixture_fini(&f);
}

/* One case: extra configuration, the dialled number, the expected status and rule. */
struct destination_case {
    const char *conf;
    const char *dialled;
    uint16_t status; /* 0 = passes */
    const char *rule;
};

static const struct destination_case destination_cases[] = {
    /* Default classes, high-risk list and country. */
    { "", "09001234567", 403, "class premium-rate" },
    { "", "+4918012345", 403, "class shared-cost" },
    { "", "+4970012345678", 403, "class personal" },
    { "", "+4918500123456", 403, "class uan" },
    { "", "+4915123456789", 0, "" },
    { "", "+33123456789", 403, "country FR" },
    { "", "+2125123456789", 403, "high-risk +212" },
    { "", "+97912345678", 403, "high-risk +979" },
    { "", "+80012345678", 403, "class non-geographic" },
    /* A list set in [fraud] replaces the default; classes still win over countries. */
    { "[fraud]\nallowed_countries = DE, FR\n", "+33123456789", 0, "" },
    { "[fraud]\nallowed_countries = *\n", "+33891123456", 403, "class premium-rate" },
    { "[fraud]\nallowed_countries = *\nhighrisk = no\n", "+2125123456789", 0, "" },
    { "[fraud]\nblocked_classes = mobile\n", "+4915123456789", 403, "class mobile" },
    { "[fraud]\nblocked_classes = mobile\n", "+499001234567", 0, "" },
    /* Prefix rules: longest wins, then the level, then deny; order never matters. */
    { "[fraud]\ndeny_prefixes = +4930\n", "+4930123456", 403, "deny-prefix +4930" },
    { "[fraud]\nallow_prefixes = +49301\ndeny_prefixes = +4930\n", "+4930123456", 0, "" },
    { "[fraud]\ndeny_prefixes = +4930\nallow_prefixes = +49301\n", "+4930223456", 403,
      "deny-prefix +4930" },
    { "[fraud]\nallow_prefixes = +4930\ndeny_prefixes = +4930\n", "+4930123456", 403,
      "deny-prefix +4930" },
    { "[fraud]\nallow_prefixes = +2125\n", "+2125123456789", 0, "" },
    { "[fraud]\nallow_prefixes = +212\nhighrisk_prefixes = +2125\n", "+2125123456789", 0, "" },
    { "[fraud]\nhighrisk_prefixes = +4930666\n", "+4930666123", 403, "high-risk +4930666" },
    /* Emergency numbers pass whatever else is configured. */
    { "[fraud]\ndeny_prefixes = +49\nblocked_classes = unknown, fixed\n", "112", 0, "" },
    { "[fraud]\nemergency_numbers = DE:110\n", "110", 0, "" },
    { "[fraud]\nemergency_numbers = GB:999\ndeny_prefixes = +49\n", "999", 403, "deny-prefix +49" },
};

static void test_fraud_destination_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(destination_cases) / sizeof(destination_cases[0]); i++) {
        const struct destination_case *c = &destination_cases[i];
        struct fixture f;
        fraud_fixture_init(&f, c->conf);
        struct verdict v = run(&f, c->dialled);
        if (c->status == 0) {
            if (v.action != VERDICT_CONTINUE) {
                print_error("case %zu: %s refused\n", i, c->dialled);
            }
            assert_int_equal(v.action, VERDICT_CONTINUE);
        } else {
            if (v.status != c->status || !sv_is_present(v.extra_headers)) {
                print_error("case %zu: %s gave %u\n", i, c->dialled, v.status);
            }
            assert_refused(&f, v, c->status, c->rule);
        }
        fixture_fini(&f);
    }
}

/* The account's lists beat the trunk's, the trunk's beat [fraud]'s. */
static void test_fraud_most_specific_level_wins(void **state)
{
    (void)state;
    struct fixture f;
    fraud_fixture_init(&f, "allowed_countries = FR\n" /* alice */
                           "deny_prefixes = +4930\n"
                           "allow_prefixes = +49302\n"
                           "[fraud]\nallowed_countries = GB\n"
                           "allow_prefixes = +4930, +4940\n");
    assert_int_equal(run_side(&f, SIDE_ACCOUNT, "sip:+33123456789@gw", 1).action, VERDICT_CONTINUE);
    assert_refused(&f, run_side(&f, SIDE_ACCOUNT, "sip:+441212345678@gw", 2), 403, "country GB");
    /* The PBX is not alice: [fraud]'s list applies. */
    assert_int_equal(run_side(&f, SIDE_PBX, "sip:+441212345678@gw", 3).action, VERDICT_CONTINUE);
    /* Same prefix in the account (deny) and [fraud] (allow): the account decides. */
    assert_refused(&f, run_side(&f, SIDE_ACCOUNT, "sip:+4930123456@gw", 4), 403,
                   "deny-prefix +4930");
    assert_int_equal(run_side(&f, SIDE_ACCOUNT, "sip:+4930223456@gw", 5).action, VERDICT_CONTINUE);
    assert_int_equal(run_side(&f, SIDE_PBX, "sip:+4930123456@gw", 6).action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

static void test_fraud_sequential_sweep_blocked_and_account_disabled(void **state)
{
    (void)state;
    struct fixture f;
    fraud_fixture_init(&f, "");
    static const char *const sweep[] = { "sip:+4930123400@gw", "sip:+4930123401@gw",
                                         "sip:+4930123402@gw", "sip:+4930123403@gw" };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(run_side(&f, SIDE_ACCOUNT, sweep[i], 1000 + i * 1000).action,
                         VERDICT_CONTINUE);
    }
    assert_false(fraud_account_is_disabled(SV("alice")));
    assert_refused(&f, run_side(&f, SIDE_ACCOUNT, sweep[3], 5000), 403, "sequential");
    assert_non_null(strstr(f.events[0].detail, "account disabled"));
    assert_true(fraud_account_is_disabled(SV("alice")));
    assert_refused(&f, run_side(&f, SIDE_ACCOUNT, "sip:+4989123456@gw", 6000), 403,
                   "account disabled");
    assert_int_equal(run_side(&f, SIDE_ACCOUNT, "sip:112@gw", 6001).action, VERDICT_CONTINUE);
    assert_true(fraud_account_set_disabled(SV("alice"), false));
    assert_int_equal(run_side(&f, SIDE_ACCOUNT, "sip:+4989123456@gw", 6002).action,
                     VERDICT_CONTINUE);
    assert_false(fraud_account_is_disabled(SV("alice")));
    /* The PBX's trunk is never disabled, but its sweep is refused too. */
    for (size_t i = 0; i < 3; i++) {
        char ruri[64];
        (void)snprintf(ruri, sizeof(ruri), "sip:+494012345%zu@gw", 6 - i);
        assert_int_equal(run_side(&f, SIDE_PBX, ruri, 10000 + i).action, VERDICT_CONTINUE);
    }
    assert_refused(&f, run_side(&f, SIDE_PBX, "sip:+4940123453@gw", 10010), 403, "sequential");
    fixture_fini(&f);
}

/* Short answered calls into one range (the test calls before IRSF pumping), as the call
 * layer reports their ends through fraud_call_ended. */
static void test_fraud_short_call_burst(void **state)
{
    (void)state;
    struct fixture f;
    fraud_fixture_init(&f, "");
    static const char *const numbers[] = { "+4930120000", "+4930121111", "+4930122222",
                                           "+4930123333" };
    for (size_t i = 0; i < 4; i++) {
        char ruri[64];
        (void)snprintf(ruri, sizeof(ruri), "sip:%s@gw", numbers[i]);
        uint64_t at_ms = 1000 + i * 20000;
        assert_int_equal(run_side(&f, SIDE_PBX, ruri, at_ms).action, VERDICT_CONTINUE);
        assert_true(sv_eq(f.ctx.edits.dialled_e164, sv_from_cstr(numbers[i])));
        fraud_call_ended(f.ctx.edits.fraud_key, f.ctx.edits.dialled_e164, (int64_t)at_ms, 3000);
    }
    assert_refused(&f, run_side(&f, SIDE_PBX, "sip:+4930124444@gw", 100000), 403, "short-burst");
    /* Long calls into a range are ordinary. */
    for (size_t i = 0; i < 5; i++) {
        char ruri[64];
        (void)snprintf(ruri, sizeof(ruri), "sip:+4940%zu00000@gw", i + 1);
        uint64_t at_ms = 200000 + i * 20000;
        assert_int_equal(run_side(&f, SIDE_PBX, ruri, at_ms).action, VERDICT_CONTINUE);
        fraud_call_ended(f.ctx.edits.fraud_key, f.ctx.edits.dialled_e164, (int64_t)at_ms, 120000);
    }
    fixture_fini(&f);
}

static void test_fraud_velocity_warn_then_block(void **state)
{
    (void)state;
    struct fixture f;
    fraud_fixture_init(&f, "[fraud]\nallowed_countries = *\n"
                           "international_per_hour_warn = 2\n"
                           "international_per_hour_block = 4\n");
    static const char *const calls[] = { "sip:+441212345678@gw", "sip:+33123456789@gw",
                                         "sip:+4930123456@gw",   "sip:+12015550123@gw",
                                         "sip:+3225123456@gw",   "sip:+31201234567@gw" };
    size_t warned = 0;
    for (size_t i = 0; i < 5; i++) {
        struct verdict v = run_side(&f, SIDE_PBX, calls[i], 1000 + i * 60000);
        assert_int_equal(v.action, VERDICT_CONTINUE);
        warned += f.event_count == 1 && f.events[0].kind == EV_FRAUD_WARN ? 1u : 0u;
    }
    assert_int_equal(warned, 1); /* once, when the third international call crossed 2 */
    assert_refused(&f, run_side(&f, SIDE_PBX, calls[5], 400000), 403,
                   "velocity international-per-hour");
    /* The international level judges international calls only: a national one passes. */
    assert_int_equal(run_side(&f, SIDE_PBX, "sip:+4989123456@gw", 401000).action, VERDICT_CONTINUE);
    /* An hour later the window is empty again. */
    assert_int_equal(run_side(&f, SIDE_PBX, calls[5], 400000 + 3600000).action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

static void test_fraud_benign_mix_never_blocked(void **state)
{
    (void)state;
    struct fixture f;
    fraud_fixture_init(&f, "[fraud]\nallowed_countries = DE, FR, GB\n");
    static const char *const areas[] = { "30", "40", "89", "221", "69", "711", "351", "511" };
    unsigned seed = 11;
    for (uint64_t i = 0; i < 300; i++) {
        char ruri[64];
        seed = seed * 1103515245u + 12345u;
        unsigned tail = (seed >> 8) % 9000000u + 1000000u;
        if (i % 10 == 3) {
            (void)snprintf(ruri, sizeof(ruri), "sip:+3312%07u@gw", tail);
        } else if (i % 10 == 7) {
            (void)snprintf(ruri, sizeof(ruri), "sip:+447400%06u@gw", tail % 1000000u);
        } else {
            (void)snprintf(ruri, sizeof(ruri), "sip:0%s%07u@gw", areas[i % 8], tail);
        }
        /* A busy office: a call every 12 s for an hour. */
        struct verdict v =
            run_side(&f, i % 2 == 0 ? SIDE_PBX : SIDE_ACCOUNT, ruri, 1000 + i * 12000);
        if (v.action != VERDICT_CONTINUE) {
            print_error("call %u to %s refused\n", (unsigned)i, ruri);
        }
        assert_int_equal(v.action, VERDICT_CONTINUE);
    }
    fixture_fini(&f);
}

/* Judges `dialled` from the PBX at `wall_s` under `p`. */
static void judge(const struct fraud_policy *p, const struct cfg *cfg, const char *dialled,
                  int64_t wall_s, struct fraud_decision *d)
{
    struct fraud_call call = { .dialled = sv_from_cstr(dialled),
                               .trunk = 0,
                               .account = SIZE_MAX,
                               .now_ms = 1000,
                               .wall_s = wall_s,
                               .is_dry_run = true };
    fraud_policy_judge(p, cfg, &call, d);
}

static struct cfg *load(const char *extra, struct sw_diag *diag)
{
    char conf[4096];
    (void)snprintf(conf, sizeof(conf), "%s%s", base_conf, extra);
    return cfg_load_string("test.conf", conf, diag);
}

static void test_fraud_wangiri_window(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = load("[fraud]\nallowed_countries = DE, GB\nwangiri_window = 1h\n", &diag);
    assert_non_null(cfg);
    struct fraud_policy *p = fraud_policy_new(cfg, &diag);
    assert_non_null(p);
    int64_t t = SATURDAY_NOON;
    /* Rang too long, or a national caller: no mark. */
    assert_false(fraud_wangiri_observe(cfg, 0, SV("+441212345678"), 5000, t));
    assert_false(fraud_wangiri_observe(cfg, 0, SV("030123456"), 1000, t));
    assert_true(fraud_wangiri_observe(cfg, 0, SV("+441212345678"), 2000, t));
    struct fraud_decision d;
    judge(p, cfg, "00441212345678", t + 60, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_string_equal(d.rule, "wangiri +441212345678");
    judge(p, cfg, "+441212345679", t + 60, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    judge(p, cfg, "030123456", t + 60, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    judge(p, cfg, "+441212345678", t + 3600, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    fraud_policy_free(p);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_fraud_schedule_for_international_calls(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = load("[fraud]\nallowed_countries = *\n"
                           "schedule = mon-fri 08:00-18:00 UTC\n",
                           &diag);
    assert_non_null(cfg);
    struct fraud_policy *p = fraud_policy_new(cfg, &diag);
    assert_non_null(p);
    struct fraud_decision d;
    judge(p, cfg, "+441212345678", SATURDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_string_equal(d.rule, "schedule");
    judge(p, cfg, "030123456", SATURDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    judge(p, cfg, "+441212345678", MONDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    fraud_policy_free(p);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_fraud_rate_deck_fails_closed(void **state)
{
    (void)state;
    char path[] = "/tmp/sw-fraud-deck-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char deck[] = "currency,EUR\n"
                               "prefix,rate_per_minute,connect_fee,first_increment_s,"
                               "next_increment_s,label\n"
                               "49,0.0100,0,60,60,Germany\n"
                               "44,0.0200,0,60,60,United Kingdom\n"
                               "4474,0.5000,0,60,60,UK mobile\n";
    assert_int_equal(write(fd, deck, sizeof(deck) - 1), (ssize_t)(sizeof(deck) - 1));
    assert_int_equal(close(fd), 0);
    char extra[256];
    (void)snprintf(extra, sizeof(extra),
                   "[fraud]\nallowed_countries = *\nratedeck = %s\nmax_rate_per_minute = 0.10\n",
                   path);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = load(extra, &diag);
    assert_non_null(cfg);
    struct fraud_policy *p = fraud_policy_new(cfg, &diag);
    assert_non_null(p);
    struct fraud_decision d;
    judge(p, cfg, "+441212345678", SATURDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    assert_true(d.is_rated);
    assert_int_equal(d.rate_per_minute_micro, 20000);
    judge(p, cfg, "+447400123456", SATURDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_string_equal(d.rule, "rate above max_rate_per_minute (UK mobile)");
    judge(p, cfg, "+33123456789", SATURDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_string_equal(d.rule, "unrated");
    fraud_policy_free(p);
    cfg_free(cfg);

    /* A daily cap of 0.01: a German minute (0.01) fits, a British one (0.02) does not. */
    (void)snprintf(extra, sizeof(extra),
                   "[fraud]\nallowed_countries = *\nratedeck = %s\ndaily_cap = 0.01\n"
                   "cap_timezone = UTC\n",
                   path);
    cfg = load(extra, &diag);
    assert_non_null(cfg);
    p = fraud_policy_new(cfg, &diag);
    assert_non_null(p);
    judge(p, cfg, "+49301234567", SATURDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_PASS);
    assert_int_equal(d.rate.first_increment_s, 60);
    judge(p, cfg, "+441212345678", SATURDAY_NOON, &d);
    assert_int_equal(d.outcome, FRAUD_REFUSE);
    assert_int_equal(d.status, 403);
    assert_string_equal(d.rule, "daily cap");
    fraud_policy_free(p);
    cfg_free(cfg);
    assert_int_equal(unlink(path), 0);
    sw_diag_fini(&diag);
}

/* One bad value: the configuration text and what the error must say. */
struct bad_case {
    const char *conf;
    const char *message;
};

static const struct bad_case bad_cases[] = {
    { "[fraud]\nblocked_classes = premium\n",
      "test.conf:11: fraud.blocked_classes: error: unknown number class 'premium'" },
    { "[fraud]\nallowed_countries = XX\n",
      "test.conf:11: fraud.allowed_countries: error: unknown country 'XX'" },
    { "[fraud]\ndeny_prefixes = +49a\n",
      "test.conf:11: fraud.deny_prefixes: error: '+49a' is not" },
    { "[fraud]\nschedule = mon-fri 25:00-26:00 UTC\n",
      "test.conf:11: fraud.schedule: error: bad schedule" },
    { "[fraud]\nmax_rate_per_minute = 0.1234567\n",
      "test.conf:11: fraud.max_rate_per_minute: error: bad amount" },
    { "[fraud]\nemergency_numbers = XX:112\n",
      "test.conf:11: fraud.emergency_numbers: error: 'XX:112'" },
    { "[fraud]\nratedeck = /nonexistent/deck.csv\n", "/nonexistent/deck.csv" },
    { "[fraud]\ndaily_cap = 0\n", "test.conf:11: fraud.daily_cap: error: bad amount" },
    { "[fraud]\nmonthly_cap = 1.5.0\n", "test.conf:11: fraud.monthly_cap: error: bad amount" },
    { "[fraud]\ndaily_cap = 10\n", "fraud.ratedeck: error: spending caps" },
    { "daily_cap = -1\n", "test.conf:10: alice.daily_cap: error: bad amount" },
    { "deny_prefixes = 49x\n", "test.conf:10: alice.deny_prefixes: error: " },
};

static void test_fraud_bad_policy_refused_with_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct sw_diag diag;
        sw_diag_init(&diag);
        struct cfg *cfg = load(bad_cases[i].conf, &diag);
        assert_non_null(cfg);
        assert_null(fraud_policy_new(cfg, &diag));
        char text[2048] = "";
        FILE *out = fmemopen(text, sizeof(text) - 1, "w");
        assert_non_null(out);
        sw_diag_print(&diag, out);
        assert_int_equal(fclose(out), 0);
        if (strstr(text, bad_cases[i].message) == NULL) {
            print_error("case %zu: got %s\n", i, text);
        }
        assert_non_null(strstr(text, bad_cases[i].message));
        cfg_free(cfg);
        sw_diag_fini(&diag);
    }
}

/* A reload builds a new policy while the old one still runs: the counters, the disabled
 * accounts and the Wangiri marks carry over. */
static void test_fraud_reload_keeps_counters(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *old_cfg = load("", &diag);
    struct fraud_policy *old = fraud_policy_new(old_cfg, &diag);
    assert_non_null(old);
    assert_true(fraud_account_set_disabled(SV("alice"), true));
    assert_true(fraud_wangiri_observe(old_cfg, 0, SV("+441212345678"), 1000, SATURDAY_NOON));
    struct cfg *new_cfg = load("[fraud]\nallowed_countries = DE, GB\n", &diag);
    struct fraud_policy *new = fraud_policy_new(new_cfg, &diag);
    assert_non_null(new);
    fraud_policy_free(old);
    cfg_free(old_cfg);
    assert_true(fraud_account_is_disabled(SV("alice")));
    struct fraud_decision d;
    judge(new, new_cfg, "+441212345678", SATURDAY_NOON + 10, &d);
    assert_string_equal(d.rule, "wangiri +441212345678");
    fraud_policy_free(new);
    cfg_free(new_cfg);
    /* The disabled accounts are the process's incident state: they outlive every policy
     * until an operator enables them. */
    assert_true(fraud_account_is_disabled(SV("alice")));
    assert_true(fraud_account_set_disabled(SV("alice"), false));
    assert_false(fraud_account_is_disabled(SV("alice")));
    sw_diag_fini(&diag);
}

static void test_fraud_lint_warns_on_open_international(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = load("[fraud]\nallowed_countries = *\n", &diag);
    assert_non_null(cfg);
    size_t before = diag.count;
    fraud_policy_lint(cfg, &diag);
    assert_int_equal(diag.count, before + 2); /* the trunk and alice */
    cfg_free(cfg);
    cfg = load("[fraud]\nallowed_countries = *\nmax_rate_per_minute = 0.05\n", &diag);
    before = diag.count;
    fraud_policy_lint(cfg, &diag);
    assert_int_equal(diag.count, before);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_fraud_store_bounds(void **state)
{
    (void)state;
    struct fraud_store *s = fraud_store_new_memory(16, 8);
    assert_non_null(s);
    struct velocity_cfg vcfg = VELOCITY_CFG_DEFAULT;
    struct fraud_dial dial = { SV("4930123456"), false, 1000 };
    struct fraud_dial_result r;
    size_t untracked = 0;
    for (unsigned i = 0; i < 64; i++) {
        char key[32];
        (void)snprintf(key, sizeof(key), "account:a%u", i);
        fraud_store_dial(s, sv_from_cstr(key), &dial, &vcfg, &r);
        untracked += r.is_untracked ? 1u : 0u;
        assert_int_equal(r.calls_minute, 1);
    }
    assert_true(untracked >= 64 - 16);
    /* Eight marks fit; a ninth overwrites the oldest of its bucket, never grows. */
    for (unsigned i = 0; i < 100; i++) {
        char number[32];
        (void)snprintf(number, sizeof(number), "44121234%04u", i);
        fraud_store_wangiri_mark(s, sv_from_cstr(number), 1000 + i);
    }
    assert_true(fraud_store_wangiri_marked(s, SV("441212340099"), 1100, 3600));
    assert_false(fraud_store_wangiri_marked(s, SV("441212340099"), 1100 + 3600, 3600));
    fraud_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraud_national_call_passes_with_its_facts),
        cmocka_unit_test(test_fraud_refuses_what_is_no_number),
        cmocka_unit_test(test_fraud_destination_rules),
        cmocka_unit_test(test_fraud_most_specific_level_wins),
        cmocka_unit_test(test_fraud_sequential_sweep_blocked_and_account_disabled),
        cmocka_unit_test(test_fraud_short_call_burst),
        cmocka_unit_test(test_fraud_velocity_warn_then_block),
        cmocka_unit_test(test_fraud_benign_mix_never_blocked),
        cmocka_unit_test(test_fraud_wangiri_window),
        cmocka_unit_test(test_fraud_schedule_for_international_calls),
        cmocka_unit_test(test_fraud_rate_deck_fails_closed),
        cmocka_unit_test(test_fraud_bad_policy_refused_with_line),
        cmocka_unit_test(test_fraud_reload_keeps_counters),
        cmocka_unit_test(test_fraud_lint_warns_on_open_international),
        cmocka_unit_test(test_fraud_store_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
