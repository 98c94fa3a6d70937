/*
 * The limits stage (policy/limits.c): a trunk's and an account's max_calls, a side's share
 * of the worker's call pool, a trunk's max_call_rate, places taken all or none.
 */
#include <stdio.h>
#include <string.h>

#include "policy/limits.h"
#include "stage_fixture.h"
#include "state/callcount.h"

static const char conf[] =
    "[general]\nworkers = 2\nmax_calls_per_worker = 10\n"
    "[pbx]\naddress = udp:127.0.0.1:5090\n"
    "[provider]\ntype = trunk\nprovider = udp:192.0.2.10:5060\n"
    "max_calls = 2\nmax_call_rate = 3\n"
    "[alice]\ntype = account\nsecret = correct-horse-battery\nmax_calls = 1\n"
    "[bob]\ntype = account\nsecret = correct-horse-battery\nmax_calls = 0\n";

/* A new INVITE from `src_ip` at `now_ms` on worker `worker`. */
static struct verdict invite(struct fixture *f, const char *src_ip, uint64_t now_ms,
                             unsigned worker)
{
    static const char text[] = "INVITE sip:+4930123456@gw SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-l\r\n"
                               "Max-Forwards: 70\r\nFrom: <sip:+4940111@p>;tag=l1\r\n"
                               "To: <sip:+4930123456@gw>\r\nCall-ID: limits@p\r\n"
                               "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    fixture_prepare(f, src_ip, now_ms, text);
    f->event_count = 0;
    f->ctx.worker = worker;
    return stage_run(f->stage, f->state, &f->ctx);
}

static void assert_busy(const struct fixture *f, struct verdict v, const char *retry_after)
{
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 503);
    assert_true(sv_eq(v.extra_headers, sv_from_cstr(retry_after)));
    assert_int_equal(f->ctx.edits.place_count, 0);
    assert_int_equal(f->event_count, 1);
    assert_int_equal(f->events[0].kind, EV_POLICY_HIT);
}

static void test_limits_trunk_max_calls_and_rate(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &limits_stage, conf);
    struct stage_ctx held[2];
    for (size_t i = 0; i < 2; i++) {
        struct verdict v = invite(&f, "192.0.2.10", 1000, 0);
        assert_int_equal(v.action, VERDICT_CONTINUE);
        assert_int_equal(f.ctx.edits.place_count, 2); /* the trunk's and the side's */
        held[i] = f.ctx;
    }
    struct callcount_slot *trunk = held[0].edits.places[0];
    assert_int_equal(callcount_value(trunk), 2);
    assert_busy(&f, invite(&f, "192.0.2.10", 1000, 0), "Retry-After: 30\r\n");
    /* The fourth call within the same second is over max_call_rate = 3 first. */
    assert_busy(&f, invite(&f, "192.0.2.10", 1000, 0), "Retry-After: 5\r\n");
    /* A call ends (the call layer gives its places back): the next one passes. */
    stage_places_release(&held[0]);
    assert_int_equal(invite(&f, "192.0.2.10", 5000, 0).action, VERDICT_CONTINUE);
    stage_places_release(&f.ctx);
    stage_places_release(&held[1]);
    assert_int_equal(callcount_value(trunk), 0);
    fixture_fini(&f);
}

/* An INVITE of account `index`, authenticated. */
static struct verdict account_invite(struct fixture *f, size_t index)
{
    (void)invite(f, "198.51.100.7", 1000, 1); /* unknown and unauthenticated: nothing taken */
    assert_int_equal(f->ctx.edits.place_count, 0);
    f->ctx.side = SIDE_ACCOUNT;
    f->ctx.is_authenticated = true;
    f->ctx.account = index;
    return stage_run(f->stage, f->state, &f->ctx);
}

static void test_limits_accounts_and_side_share(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &limits_stage, conf);
    /* alice (max_calls = 1) calls; a second call of hers is refused. */
    assert_int_equal(account_invite(&f, 0).action, VERDICT_CONTINUE);
    struct stage_ctx first = f.ctx;
    assert_busy(&f, account_invite(&f, 0), "Retry-After: 30\r\n");
    stage_places_release(&first);
    /* bob has max_calls = 0: never a call. */
    assert_busy(&f, account_invite(&f, 1), "Retry-After: 30\r\n");
    fixture_fini(&f);
    /* The PBX's calls to an unlimited trunk: 60 % of the worker's pool of 10. */
    fixture_init(&f, &limits_stage,
                 "[general]\nworkers = 2\nmax_calls_per_worker = 10\n"
                 "[pbx]\naddress = udp:127.0.0.1:5090\n"
                 "[provider]\ntype = trunk\nprovider = udp:192.0.2.10:5060\nmax_calls = 0\n");
    struct stage_ctx taken[6];
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(invite(&f, "127.0.0.1", 1000, 1).action, VERDICT_CONTINUE);
        taken[i] = f.ctx;
    }
    assert_busy(&f, invite(&f, "127.0.0.1", 1000, 1), "Retry-After: 30\r\n");
    /* Another worker has its own share. */
    assert_int_equal(invite(&f, "127.0.0.1", 1000, 0).action, VERDICT_CONTINUE);
    stage_places_release(&f.ctx);
    for (size_t i = 0; i < 6; i++) {
        stage_places_release(&taken[i]);
    }
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_trunk_max_calls_and_rate),
        cmocka_unit_test(test_limits_accounts_and_side_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
