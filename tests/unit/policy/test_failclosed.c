/*
 * Fail closed (#10): an allocation that fails while a message is checked never lets the
 * message pass. Each allocation of the message arena is failed in turn (arena_fail_at),
 * over every stage alone (the shared stage fixture) and over the message path (parse,
 * then the whole pipeline); the heap's SW_ALLOC_FAIL_AT is run over the pipeline's
 * construction. A failure may turn a verdict into a refusal, never into a pass, and a
 * message that still passes carries the same edits as without the failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "policy/acl.h"
#include "policy/auth.h"
#include "policy/callerid.h"
#include "policy/identity.h"
#include "policy/pipeline.h"
#include "policy/ratelimit.h"
#include "policy/sanity.h"
#include "policy/scanner.h"
#include "stage_fixture.h"

static const char conf[] = "[pbx]\n"
                           "address = udp:10.0.0.5:5060\n"
                           "[provider]\n"
                           "type = trunk\n"
                           "provider = udp:203.0.113.10:5060\n"
                           "domain = provider.example\n"
                           "owned_numbers = +15551230000-+15551230099\n"
                           "default_number = +15551230000\n"
                           "[1001]\n"
                           "type = account\n"
                           "secret = Str0ng-1001-xQ7v-long\n";

#define PBX      "10.0.0.5"
#define PROVIDER "203.0.113.10"
#define STRANGER "198.51.100.7"

struct path_case {
    const char *src;
    const char *method;
    const char *from_user;
    const char *extra; /* complete header lines */
};

/* Each case makes at least one stage allocate from the arena on its normal path. */
static const struct path_case cases[] = {
    /* auth: the challenge lines. */
    { STRANGER, "REGISTER", "1001", "" },
    { STRANGER, "INVITE", "1001", "" },
    /* callerid: the replaced number and its P-Asserted-Identity. */
    { PBX, "INVITE", "+15559990000", "" },
    /* sanity: the Unsupported list of a 420. */
    { PROVIDER, "INVITE", "+15550001111", "Proxy-Require: foo, bar\r\n" },
    /* no allocation in the stages: still the parser's. */
    { PROVIDER, "OPTIONS", "+15550001111", "" },
    { STRANGER, "OPTIONS", "100", "User-Agent: friendly-scanner\r\n" },
};

#define CASE_COUNT (sizeof(cases) / sizeof(cases[0]))

static const struct stage *const stages[] = {
    &acl_stage,  &ratelimit_stage, &scanner_stage,  &sanity_stage,
    &auth_stage, &callerid_stage,  &identity_stage,
};

#define STAGES (sizeof(stages) / sizeof(stages[0]))

/* The most arena allocations one case is expected to make; the loops prove the bound. */
#define MAX_ALLOCS 32

static const char *case_text(const struct path_case *c, char *buf, size_t cap)
{
    int n = snprintf(buf, cap,
                     "%s sip:+15550001111@192.0.2.1 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-fc1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:%s@192.0.2.1>;tag=f1\r\n"
                     "To: <sip:+15550001111@192.0.2.1>\r\n"
                     "Call-ID: failclosed-1\r\n"
                     "CSeq: 1 %s\r\n"
                     "%s"
                     "Content-Length: 0\r\n\r\n",
                     c->method, c->src, c->from_user, c->method, c->extra);
    assert_true(n > 0 && (size_t)n < cap);
    return buf;
}

static bool is_refusal(struct verdict v)
{
    return v.action == VERDICT_REPLY || v.action == VERDICT_DROP;
}

/* Either the same verdict as without a failure, or a refusal; never a new pass. */
static void assert_no_new_pass(struct verdict reference, struct verdict v, bool has_failed)
{
    if (has_failed) {
        assert_true(is_refusal(v));
        return;
    }
    assert_int_equal(v.action, reference.action);
    assert_int_equal(v.status, reference.status);
}

/* One stage, one case, the n-th arena allocation failed (0 = none). */
static struct verdict stage_once(const struct stage *stage, const struct path_case *c, size_t nth,
                                 bool *has_failed, struct stage_edits *edits)
{
    struct fixture f;
    char text[1024];
    fixture_init(&f, stage, conf);
    fixture_prepare(&f, c->src, 1000, case_text(c, text, sizeof(text)));
    arena_fail_at(f.arena, nth);
    struct verdict v = stage_run(stage, f.state, &f.ctx);
    *has_failed = arena_failures(f.arena) != 0;
    *edits = f.ctx.edits;
    /* Views into the arena die with the fixture: keep only presence. */
    fixture_fini(&f);
    return v;
}

/* Fails each arena allocation of one stage on one case in turn; returns how many failed. */
static size_t torture_stage(const struct stage *stage, const struct path_case *c)
{
    bool has_failed = false;
    struct stage_edits ref_edits;
    struct verdict ref = stage_once(stage, c, 0, &has_failed, &ref_edits);
    assert_false(has_failed);
    for (size_t nth = 1; nth <= MAX_ALLOCS; nth++) {
        struct stage_edits edits;
        struct verdict v = stage_once(stage, c, nth, &has_failed, &edits);
        assert_no_new_pass(ref, v, has_failed);
        if (!has_failed) {
            /* Past the stage's last allocation: the same decision, the same edits. */
            assert_int_equal(sv_is_present(edits.caller_user),
                             sv_is_present(ref_edits.caller_user));
            assert_int_equal(sv_is_present(edits.asserted_identity),
                             sv_is_present(ref_edits.asserted_identity));
            return nth - 1;
        }
    }
    fail_msg("stage %s makes more than %d arena allocations", stage->name, MAX_ALLOCS);
    return 0;
}

static void test_failclosed_every_stage_refuses_after_an_arena_failure(void **state)
{
    (void)state;
    size_t injected = 0;
    for (size_t s = 0; s < STAGES; s++) {
        for (size_t i = 0; i < CASE_COUNT; i++) {
            injected += torture_stage(stages[s], &cases[i]);
        }
    }
    /* auth (2 cases), callerid (1, two allocations) and sanity (1) allocate. */
    assert_true(injected >= 5);
}

static void test_failclosed_refusal_is_500_for_trusted_and_silence_for_others(void **state)
{
    (void)state;
    bool has_failed = false;
    struct stage_edits edits;
    /* The PBX's call whose caller ID could not be replaced: 500, the number never leaves. */
    struct verdict v = stage_once(&callerid_stage, &cases[2], 1, &has_failed, &edits);
    assert_true(has_failed);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 500);
    assert_false(sv_is_present(edits.caller_user));
    /* A stranger whose challenge could not be written: nothing at all. */
    v = stage_once(&auth_stage, &cases[0], 1, &has_failed, &edits);
    assert_true(has_failed);
    assert_int_equal(v.action, VERDICT_DROP);
    /* The provider's 420 whose Unsupported list did not fit is still refused. */
    v = stage_once(&sanity_stage, &cases[3], 1, &has_failed, &edits);
    assert_true(has_failed);
    assert_true(is_refusal(v));
}

/* A stage that treats a failed allocation as optional and continues: the bug stage_run()
 * exists to catch in stages yet to be written. */
static struct verdict careless_check(void *state, struct stage_ctx *ctx)
{
    (void)state;
    ctx->edits.caller_user = arena_sv_dup(ctx->arena, SV("+15551230000"));
    return verdict_continue();
}

static int careless_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    (void)cfg;
    (void)diag;
    *state = NULL;
    return 0;
}

static void careless_fini(void *state)
{
    (void)state;
}

static const struct stage careless_stage = {
    .name = "careless", .init = careless_init, .check = careless_check, .fini = careless_fini
};

static void test_failclosed_runner_refuses_a_careless_stage(void **state)
{
    (void)state;
    bool has_failed = false;
    struct stage_edits edits;
    struct verdict v = stage_once(&careless_stage, &cases[2], 0, &has_failed, &edits);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    v = stage_once(&careless_stage, &cases[2], 1, &has_failed, &edits);
    assert_true(has_failed);
    assert_int_equal(v.action, VERDICT_REPLY); /* from the PBX: trusted */
    assert_int_equal(v.status, 500);
    v = stage_once(&careless_stage, &cases[0], 1, &has_failed, &edits);
    assert_int_equal(v.action, VERDICT_DROP); /* from a stranger */
    /* An ACK is never answered, not even by a trusted side's 500. */
    static const struct path_case ack = { PBX, "ACK", "+15559990000", "" };
    v = stage_once(&careless_stage, &ack, 1, &has_failed, &edits);
    assert_int_equal(v.action, VERDICT_DROP);
}

/* What the message path runs on. */
struct path {
    struct pipeline *pipeline;
    const struct cfg *cfg;
    struct arena *arena;
};

/* The message path: parse and validate into the arena, then the whole pipeline. */
static struct verdict path_once(const struct path *path, const struct path_case *c, size_t nth,
                                bool *has_failed, struct stage_edits *edits)
{
    struct arena *arena = path->arena;
    const struct cfg *cfg = path->cfg;
    char text[1024];
    const char *raw = case_text(c, text, sizeof(text));
    arena_reset(arena);
    arena_fail_at(arena, nth);
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_msg msg;
    struct stage_ctx ctx = { .arena = arena, .now_ms = 1000, .cfg = cfg };
    assert_true(sw_sockaddr_parse(sv_from_cstr(c->src), 5060, &ctx.src));
    assert_true(sw_ip_from_sockaddr(&ctx.src, &ctx.src_ip));
    ctx.side = classify_source(cfg, &ctx.src_ip, sw_sockaddr_port(&ctx.src), &ctx.trunk);
    ctx.is_trusted = ctx.side == SIDE_PBX || ctx.side == SIDE_PROVIDER;
    /* The daemon's way in: the sanity chain's first step, then the whole pipeline. */
    struct sanity_read_result read;
    struct verdict v;
    if (sanity_read(&ctx, sv_from_cstr(raw), false, &limits, &msg, &read)) {
        ctx.msg = &msg;
        v = pipeline_run(path->pipeline, &ctx);
        *edits = ctx.edits;
    } else {
        v = read.verdict;
    }
    *has_failed = arena_failures(arena) != 0;
    return v;
}

/* Fails each arena allocation of the path on one case in turn; returns how many failed. */
static size_t torture_path(const struct cfg *cfg, const struct path_case *c)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    /* A fresh pipeline per case: the rate buckets must not remember other runs. */
    struct path path = { .pipeline = pipeline_new(cfg, &diag), .cfg = cfg };
    path.arena = arena_new(65536);
    assert_non_null(path.pipeline);
    assert_non_null(path.arena);
    bool has_failed = false;
    struct stage_edits ref_edits = { 0 };
    struct verdict ref = path_once(&path, c, 0, &has_failed, &ref_edits);
    assert_false(has_failed);
    size_t nth = 1;
    for (; nth <= MAX_ALLOCS; nth++) {
        struct stage_edits edits = { 0 };
        struct verdict v = path_once(&path, c, nth, &has_failed, &edits);
        assert_no_new_pass(ref, v, has_failed);
        if (!has_failed) {
            assert_int_equal(sv_is_present(edits.caller_user),
                             sv_is_present(ref_edits.caller_user));
            break;
        }
    }
    assert_true(nth <= MAX_ALLOCS);
    arena_free(path.arena);
    pipeline_free(path.pipeline);
    sw_diag_fini(&diag);
    return nth - 1;
}

static void test_failclosed_message_path_never_passes_after_an_arena_failure(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("test.conf", conf, &diag);
    assert_non_null(cfg);
    size_t injected = 0;
    for (size_t i = 0; i < CASE_COUNT; i++) {
        injected += torture_path(cfg, &cases[i]);
    }
    assert_true(injected >= CASE_COUNT); /* the parser allocates for every case */
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

static void test_failclosed_pipeline_refuses_a_message_read_short(void **state)
{
    (void)state;
    struct fixture f;
    char text[1024];
    fixture_init(&f, &acl_stage, conf);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct pipeline *p = pipeline_new(f.cfg, &diag);
    assert_non_null(p);
    /* The OPTIONS from the provider passes every stage... */
    fixture_prepare(&f, PROVIDER, 1000, case_text(&cases[4], text, sizeof(text)));
    assert_int_equal(pipeline_run(p, &f.ctx).action, VERDICT_CONTINUE);
    /* ...unless the arena refused something before the stages ran: 500, not a pass. */
    fixture_prepare(&f, PROVIDER, 1000, case_text(&cases[4], text, sizeof(text)));
    assert_null(arena_alloc(f.arena, (size_t)1 << 20));
    struct verdict v = pipeline_run(p, &f.ctx);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 500);
    pipeline_free(p);
    sw_diag_fini(&diag);
    fixture_fini(&f);
}

static void set_fail_at(unsigned long long nth)
{
    if (nth == 0) {
        assert_int_equal(unsetenv("SW_ALLOC_FAIL_AT"), 0); /* NOLINT(concurrency-mt-unsafe) */
    } else {
        char value[24];
        (void)snprintf(value, sizeof(value), "%llu", nth);
        assert_int_equal(setenv("SW_ALLOC_FAIL_AT", value, 1), 0); /* NOLINT */
    }
    sw_alloc_reset_failure();
}

static void test_failclosed_pipeline_survives_heap_failures(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("test.conf", conf, &diag);
    assert_non_null(cfg);
    set_fail_at(~0ULL); /* counts without failing: the reference run */
    struct pipeline *p = pipeline_new(cfg, &diag);
    assert_non_null(p);
    unsigned long long total = sw_alloc_count();
    pipeline_free(p);
    assert_true(total > 0);
    /* Each heap allocation of the construction fails in turn: no pipeline (the daemon
     * refuses to start) and nothing leaked, or a pipeline that judges as the reference. */
    struct path path = { .cfg = cfg, .arena = arena_new(65536) };
    assert_non_null(path.arena);
    for (unsigned long long nth = 1; nth <= total; nth++) {
        set_fail_at(nth);
        struct sw_diag fail_diag;
        sw_diag_init(&fail_diag);
        p = pipeline_new(cfg, &fail_diag);
        set_fail_at(0);
        if (p != NULL) {
            bool has_failed = false;
            struct stage_edits edits;
            path.pipeline = p;
            struct verdict v = path_once(&path, &cases[0], 0, &has_failed, &edits);
            assert_int_equal(v.action, VERDICT_REPLY);
            assert_int_equal(v.status, 401);
        } else {
            assert_true(fail_diag.error_count > 0);
        }
        pipeline_free(p);
        sw_diag_fini(&fail_diag);
    }
    set_fail_at(0);
    arena_free(path.arena);
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failclosed_every_stage_refuses_after_an_arena_failure),
        cmocka_unit_test(test_failclosed_refusal_is_500_for_trusted_and_silence_for_others),
        cmocka_unit_test(test_failclosed_runner_refuses_a_careless_stage),
        cmocka_unit_test(test_failclosed_message_path_never_passes_after_an_arena_failure),
        cmocka_unit_test(test_failclosed_pipeline_refuses_a_message_read_short),
        cmocka_unit_test(test_failclosed_pipeline_survives_heap_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
