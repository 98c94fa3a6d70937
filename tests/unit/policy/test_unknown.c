/*
 * The unknown-source stage (policy/unknown.c) in the shared stage fixture: what no other
 * stage refused still gets silence and a FailedACL event when nobody we know sent it;
 * the ACK of a stateless challenge is dropped without a failure.
 */
#include <stdio.h>

#include "policy/unknown.h"
#include "stage_fixture.h"

static const char conf[] = "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n";

#define PBX      "10.0.0.5"
#define PROVIDER "203.0.113.10"
#define STRANGER "198.51.100.7"

static char request[1024];

static const char *make(const char *method)
{
    (void)snprintf(request, sizeof(request),
                   "%s sip:100@192.0.2.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-u1\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:200@192.0.2.50>;tag=f1\r\n"
                   "To: <sip:100@192.0.2.1>\r\n"
                   "Call-ID: unknown-1\r\n"
                   "CSeq: 7 %s\r\n"
                   "User-Agent: probe\r\n"
                   "Content-Length: 0\r\n\r\n",
                   method, method);
    return request;
}

static void test_unknown_stranger_gets_silence_and_a_failure(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &unknown_stage, conf);
    struct verdict v = fixture_run(&f, STRANGER, 1000, make("OPTIONS"));
    assert_int_equal(v.action, VERDICT_DROP);
    assert_int_equal(f.event_count, 1);
    const struct sw_event *ev = &f.events[0];
    assert_int_equal(ev->kind, EV_FAILED_ACL);
    assert_true(sw_event_kind_is_failure(ev->kind)); /* it counts towards a ban */
    /* The gateway's short form, as the fail2ban filters have always read it. */
    assert_string_equal(ev->module, "gateway");
    assert_string_equal(ev->detail, "unknown source");
    assert_string_equal(ev->session, "unknown-1");
    assert_int_equal(ev->cseq, 0);
    assert_string_equal(ev->user_agent, "");
    /* An account address that has not authenticated this request is no better. */
    fixture_prepare(&f, STRANGER, 1000, make("INVITE"));
    f.ctx.side = SIDE_ACCOUNT;
    assert_int_equal(stage_run(f.stage, f.state, &f.ctx).action, VERDICT_DROP);
    assert_int_equal(f.event_count, 2);
    fixture_fini(&f);
}

static void test_unknown_ack_of_a_challenge_is_no_failure(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &unknown_stage, conf);
    assert_int_equal(fixture_run(&f, STRANGER, 1000, make("ACK")).action, VERDICT_DROP);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);
}

static void test_unknown_known_senders_and_dialogs_pass(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &unknown_stage, conf);
    assert_int_equal(fixture_run(&f, PBX, 1000, make("INVITE")).action, VERDICT_CONTINUE);
    assert_int_equal(fixture_run(&f, PROVIDER, 1000, make("OPTIONS")).action, VERDICT_CONTINUE);
    fixture_prepare(&f, STRANGER, 1000, make("INVITE"));
    f.ctx.is_authenticated = true; /* what the auth stage sets */
    assert_int_equal(stage_run(f.stage, f.state, &f.ctx).action, VERDICT_CONTINUE);
    fixture_prepare(&f, STRANGER, 1000, make("BYE"));
    f.ctx.is_in_dialog = true; /* what the call layer knows */
    assert_int_equal(stage_run(f.stage, f.state, &f.ctx).action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_stranger_gets_silence_and_a_failure),
        cmocka_unit_test(test_unknown_ack_of_a_challenge_is_no_failure),
        cmocka_unit_test(test_unknown_known_senders_and_dialogs_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
