/*
 * The sanity stage (policy/sanity.c) in the shared stage fixture: the semantic rules of
 * sip/check.c as a verdict, answered towards trusted sides and silent towards strangers
 * (general.malformed_reply), and a REFER without exactly one Refer-To refused (#9).
 */
#include <stdio.h>

#include "policy/sanity.h"
#include "stage_fixture.h"

static const char conf[] = "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n";

#define PBX      "10.0.0.5"
#define PROVIDER "203.0.113.10"
#define STRANGER "198.51.100.7"

static char request[2048];

static const char *make(const char *method, const char *extra)
{
    (void)snprintf(request, sizeof(request),
                   "%s sip:100@192.0.2.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK-s1\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:200@192.0.2.50>;tag=f1\r\n"
                   "To: <sip:100@192.0.2.1>;tag=t1\r\n"
                   "Call-ID: sanity-1\r\n"
                   "CSeq: 2 %s\r\n"
                   "%s"
                   "Content-Length: 0\r\n\r\n",
                   method, method, extra);
    return request;
}

static void test_sanity_refer_needs_exactly_one_refer_to(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &sanity_stage, conf);
    static const char *const sources[] = { PBX, PROVIDER };
    for (size_t i = 0; i < 2; i++) {
        struct verdict v = fixture_run(&f, sources[i], 1000, make("REFER", ""));
        assert_int_equal(v.action, VERDICT_REPLY);
        assert_int_equal(v.status, 400);
        assert_int_equal(f.events[f.event_count - 1].kind, EV_MALFORMED);
        v = fixture_run(&f, sources[i], 1000,
                        make("REFER", "Refer-To: <sip:300@192.0.2.1>\r\n"
                                      "r: <sip:301@192.0.2.1>\r\n"));
        assert_int_equal(v.status, 400); /* two, one of them in the compact form */
        v = fixture_run(&f, sources[i], 1000, make("REFER", "r: <sip:300@192.0.2.1>\r\n"));
        assert_int_equal(v.action, VERDICT_CONTINUE);
    }
    /* Towards a stranger the refusal is silent (malformed_reply = drop, the default). */
    assert_int_equal(fixture_run(&f, STRANGER, 1000, make("REFER", "")).action, VERDICT_DROP);
    /* Refer-To matters for REFER only. */
    assert_int_equal(fixture_run(&f, PBX, 1000, make("INFO", "")).action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

static void test_sanity_answers_trusted_and_drops_strangers(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &sanity_stage, conf);
    struct verdict v = fixture_run(&f, PROVIDER, 1000, make("INVITE", "Proxy-Require: foo\r\n"));
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 420);
    assert_true(sv_eq(v.extra_headers, SV("Unsupported: foo\r\n")));
    v = fixture_run(&f, STRANGER, 1000, make("INVITE", "Proxy-Require: foo\r\n"));
    assert_int_equal(v.action, VERDICT_DROP);
    v = fixture_run(&f, PBX, 1000, make("OPTIONS", ""));
    assert_int_equal(v.action, VERDICT_CONTINUE);
    fixture_fini(&f);
    /* malformed_reply = reply answers strangers too. */
    char answering[512];
    (void)snprintf(answering, sizeof(answering), "%s[general]\nmalformed_reply = reply\n", conf);
    fixture_init(&f, &sanity_stage, answering);
    v = fixture_run(&f, STRANGER, 1000, make("REFER", ""));
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 400);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanity_refer_needs_exactly_one_refer_to),
        cmocka_unit_test(test_sanity_answers_trusted_and_drops_strangers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
