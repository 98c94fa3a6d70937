/*
 * The checks of a routed call (policy/admit.c) in the shared stage fixture: a hairpin
 * through the PBX refused unless the trunk it came from allows transit, and no new call
 * on an isolated trunk or a disabled account; each refusal a 403 with a PolicyHit event
 * in the gateway's short form; a CANCEL answered only when it matches a call or comes
 * from someone we know.
 */
#include <stdio.h>

#include "call/b2bua.h"
#include "policy/admit.h"
#include "policy/unknown.h"
#include "stage_fixture.h"
#include "state/isolation.h"

static const char conf[] =
    "[general]\ndefault_trunk = carrier\n"
    "[pbx]\naddress = udp:10.0.0.5:5060\n"
    "[carrier]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
    "owned_numbers = +15551230000-+15551230099\ndefault_number = +15551230000\n"
    "[transit]\ntype = trunk\nprovider = udp:203.0.113.20:5060\n"
    "owned_numbers = +15551240000-+15551240099\ndefault_number = +15551240000\n"
    "allow_transit = yes\n";

#define PBX "10.0.0.5"

static char request[1024];

/* An INVITE from the PBX carrying `origin` (a complete header line, or ""). */
static const char *invite(const char *origin)
{
    (void)snprintf(request, sizeof(request),
                   "INVITE sip:+15550001111@192.0.2.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-a1\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:100@10.0.0.5>;tag=f1\r\n"
                   "To: <sip:+15550001111@192.0.2.1>\r\n"
                   "Call-ID: admit-1\r\n"
                   "CSeq: 3 INVITE\r\n"
                   "%s"
                   "Content-Length: 0\r\n\r\n",
                   origin);
    return request;
}

static struct b2bua_route towards(enum call_party to, const char *trunk, const char *account)
{
    struct b2bua_route route = { .from_party = CALL_PARTY_PBX, .to_party = to };
    CALLREC_SET(route.policy.trunk, trunk);
    CALLREC_SET(route.policy.account, account);
    return route;
}

static void assert_refused(struct fixture *f, struct verdict v, const char *detail)
{
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 403);
    assert_true(f->event_count > 0);
    const struct sw_event *ev = &f->events[f->event_count - 1];
    assert_int_equal(ev->kind, EV_POLICY_HIT);
    assert_string_equal(ev->module, "gateway");
    assert_string_equal(ev->session, "admit-1");
    assert_string_equal(ev->detail, detail);
    assert_int_equal(ev->cseq, 0);
}

static void test_admit_refuses_a_hairpin_unless_transit_is_allowed(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &unknown_stage, conf); /* any stage: admit_call needs only the context */
    struct b2bua_route out = towards(CALL_PARTY_TRUNK, "carrier", "");
    fixture_prepare(&f, PBX, 1000, invite("X-Sipwarden-Origin: trunk=carrier\r\n"));
    assert_refused(&f, admit_call(&f.ctx, &out),
                   "hairpin: a call from trunk carrier would leave through a trunk: refused");
    /* A trunk we no longer know allows nothing. */
    fixture_prepare(&f, PBX, 1000, invite("X-Sipwarden-Origin: trunk=gone\r\n"));
    assert_refused(&f, admit_call(&f.ctx, &out),
                   "hairpin: a call from trunk gone would leave through a trunk: refused");
    size_t events = f.event_count;
    /* allow_transit = yes lets it through; so does a call that goes to a phone. */
    fixture_prepare(&f, PBX, 1000, invite("X-Sipwarden-Origin: trunk=transit\r\n"));
    assert_int_equal(admit_call(&f.ctx, &out).action, VERDICT_CONTINUE);
    fixture_prepare(&f, PBX, 1000, invite("X-Sipwarden-Origin: trunk=carrier\r\n"));
    struct b2bua_route to_phone = towards(CALL_PARTY_ACCOUNT, "", "1001");
    assert_int_equal(admit_call(&f.ctx, &to_phone).action, VERDICT_CONTINUE);
    /* An account's origin or none at all is no hairpin. */
    fixture_prepare(&f, PBX, 1000, invite("X-Sipwarden-Origin: account=1001\r\n"));
    assert_int_equal(admit_call(&f.ctx, &out).action, VERDICT_CONTINUE);
    fixture_prepare(&f, PBX, 1000, invite(""));
    assert_int_equal(admit_call(&f.ctx, &out).action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, events);
    fixture_fini(&f);
}

static void test_admit_refuses_isolated_trunks_and_disabled_accounts(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &unknown_stage, conf);
    struct b2bua_route out = towards(CALL_PARTY_TRUNK, "carrier", "");
    struct b2bua_route to_phone = towards(CALL_PARTY_ACCOUNT, "", "1001");
    fixture_prepare(&f, PBX, 1000, invite(""));
    assert_int_equal(admit_call(&f.ctx, &out).action, VERDICT_CONTINUE);
    assert_int_equal(isolation_set(ISOLATION_TRUNK, SV("carrier"), "test", "fraud", 0),
                     ISOLATION_ADDED);
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, SV("1001"), "test", "", 0), ISOLATION_ADDED);
    assert_refused(&f, admit_call(&f.ctx, &out), "trunk isolated: carrier: new call refused");
    assert_refused(&f, admit_call(&f.ctx, &to_phone), "account disabled: 1001: new call refused");
    /* The trunk is named before the account when both are held. */
    struct b2bua_route both = towards(CALL_PARTY_PBX, "carrier", "1001");
    assert_refused(&f, admit_call(&f.ctx, &both), "trunk isolated: carrier: new call refused");
    assert_true(isolation_clear(ISOLATION_TRUNK, SV("carrier")));
    assert_true(isolation_clear(ISOLATION_ACCOUNT, SV("1001")));
    assert_int_equal(admit_call(&f.ctx, &both).action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

static void test_admit_cancel_answered_only_for_someone_we_know(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &unknown_stage, conf);
    static const char cancel[] = "CANCEL sip:+15550001111@192.0.2.1 SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-c1\r\n"
                                 "Max-Forwards: 70\r\n"
                                 "From: <sip:100@192.0.2.50>;tag=f1\r\n"
                                 "To: <sip:+15550001111@192.0.2.1>\r\n"
                                 "Call-ID: admit-2\r\n"
                                 "CSeq: 1 CANCEL\r\n"
                                 "Content-Length: 0\r\n\r\n";
    /* A stranger's CANCEL of a call it placed is the caller hanging up. */
    fixture_prepare(&f, "198.51.100.7", 1000, cancel);
    assert_int_equal(admit_cancel(&f.ctx, true).action, VERDICT_CONTINUE);
    /* One that matches nothing gets silence, and is no failure. */
    assert_int_equal(admit_cancel(&f.ctx, false).action, VERDICT_DROP);
    f.ctx.is_source_authed = true; /* an account authenticated from this address */
    assert_int_equal(admit_cancel(&f.ctx, false).action, VERDICT_CONTINUE);
    /* The PBX is answered (481 from the call layer) whatever it cancels. */
    fixture_prepare(&f, PBX, 1000, cancel);
    assert_int_equal(admit_cancel(&f.ctx, false).action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admit_refuses_a_hairpin_unless_transit_is_allowed),
        cmocka_unit_test(test_admit_refuses_isolated_trunks_and_disabled_accounts),
        cmocka_unit_test(test_admit_cancel_answered_only_for_someone_we_know),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
