/*
 * The sanity stage (policy/sanity.c) in the shared stage fixture: the semantic rules of
 * sip/check.c as a verdict, answered towards trusted sides and silent towards strangers
 * (general.malformed_reply), and a REFER without exactly one Refer-To refused (#9).
 */
#include <stdio.h>
#include <string.h>

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

/* Step 1 of the chain on `raw` from `src`: parse and validate, as the daemon runs it. */
static bool read_from(struct fixture *f, const char *src, const char *raw,
                      struct sanity_read_result *out)
{
    fixture_context(f, src, 1000);
    arena_reset(f->arena);
    f->event_count = 0;
    struct sip_limits limits;
    sip_limits_default(&limits);
    return sanity_read(&f->ctx, fixture_text(f, raw), false, &limits, &f->msg, out);
}

static const char no_from[] = "INVITE sip:100@192.0.2.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK-s2\r\n"
                              "To: <sip:100@192.0.2.1>\r\n"
                              "Call-ID: sanity-2\r\n"
                              "CSeq: 1 INVITE\r\n"
                              "Content-Length: 0\r\n\r\n";

static void test_sanity_read_refuses_an_invalid_request_by_sender(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &sanity_stage, conf);
    struct sanity_read_result out;
    /* A request that parses but lacks From: 400 to the PBX, with the gateway's event. */
    assert_false(read_from(&f, PBX, no_from, &out));
    assert_true(out.is_parsed);
    assert_int_equal(out.verdict.action, VERDICT_REPLY);
    assert_int_equal(out.verdict.status, 400);
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_MALFORMED);
    assert_string_equal(f.events[0].module, "gateway");
    assert_string_equal(f.events[0].session, "sanity-2");
    assert_string_equal(f.events[0].detail, "missing From");
    assert_int_equal(f.events[0].cseq, 0); /* the short form: as the gateway always wrote it */
    /* A stranger learns nothing. */
    assert_false(read_from(&f, STRANGER, no_from, &out));
    assert_int_equal(out.verdict.action, VERDICT_DROP);
    assert_int_equal(f.event_count, 1);
    /* A message that does not even parse: no Call-ID in its event, not answerable. */
    assert_false(read_from(&f, PBX, "INVITE sip:100@192.0.2.1 SIP/2.0\r\nVia", &out));
    assert_false(out.is_parsed);
    assert_string_equal(f.events[0].session, "");
    /* A well-formed request goes on; nothing is emitted. */
    assert_true(read_from(&f, STRANGER, make("OPTIONS", ""), &out));
    assert_int_equal(out.verdict.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);
    /* malformed_reply = reply answers strangers too. */
    char answering[512];
    (void)snprintf(answering, sizeof(answering), "%s[general]\nmalformed_reply = reply\n", conf);
    fixture_init(&f, &sanity_stage, answering);
    assert_false(read_from(&f, STRANGER, no_from, &out));
    assert_int_equal(out.verdict.action, VERDICT_REPLY);
    fixture_fini(&f);
}

static void test_sanity_read_never_answers_an_ack_or_a_response(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &sanity_stage, conf);
    struct sanity_read_result out;
    char ack[sizeof(no_from) + 8];
    (void)snprintf(ack, sizeof(ack), "ACK%s", no_from + strlen("INVITE"));
    char *cseq = strstr(ack, "1 INVITE");
    assert_non_null(cseq);
    memcpy(cseq, "1 ACK\r\n", 7);
    memmove(cseq + 7, cseq + 10, strlen(cseq + 10) + 1);
    assert_false(read_from(&f, PBX, ack, &out));
    assert_true(out.is_parsed);
    assert_int_equal(out.verdict.action, VERDICT_DROP);
    /* A response with a CSeq number beyond 32 bits (RFC 4475 scalarlg): dropped. */
    assert_false(read_from(&f, PBX,
                           "SIP/2.0 200 OK\r\n"
                           "Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bK-s3\r\n"
                           "From: <sip:200@192.0.2.50>;tag=f1\r\n"
                           "To: <sip:100@192.0.2.1>;tag=t1\r\n"
                           "Call-ID: sanity-3\r\n"
                           "CSeq: 36893488147419103232 INVITE\r\n"
                           "Content-Length: 0\r\n\r\n",
                           &out));
    assert_int_equal(out.verdict.action, VERDICT_DROP);
    fixture_fini(&f);
}

/* The chain lint runs: the daemon's two steps, the role deciding Max-Forwards 0. */
static void test_sanity_chain_runs_both_steps_for_a_role(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &sanity_stage, conf);
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sanity_read_result out;
    char zero_hops[sizeof(request)];
    (void)snprintf(zero_hops, sizeof(zero_hops), "%s", make("INVITE", ""));
    char *hops = strstr(zero_hops, "Max-Forwards: 70");
    assert_non_null(hops);
    memcpy(hops, "Max-Forwards: 00", 16);
    fixture_context(&f, PROVIDER, 1000);
    struct verdict v = sanity_chain_run(&f.ctx, fixture_text(&f, zero_hops), false, &limits,
                                        SIP_ROLE_PROXY, &f.msg, &out);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 483);
    assert_ptr_equal(f.ctx.msg, &f.msg);
    assert_int_equal(out.verdict.action, VERDICT_CONTINUE); /* step 1 passed it */
    fixture_context(&f, PROVIDER, 1000);
    v = sanity_chain_run(&f.ctx, fixture_text(&f, zero_hops), false, &limits, SIP_ROLE_UAS, &f.msg,
                         &out);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    /* Step 1's refusal ends the chain: ctx.msg stays unset. */
    fixture_context(&f, PROVIDER, 1000);
    v = sanity_chain_run(&f.ctx, fixture_text(&f, no_from), false, &limits, SIP_ROLE_PROXY, &f.msg,
                         &out);
    assert_int_equal(v.status, 400);
    assert_null(f.ctx.msg);
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanity_refer_needs_exactly_one_refer_to),
        cmocka_unit_test(test_sanity_answers_trusted_and_drops_strangers),
        cmocka_unit_test(test_sanity_read_refuses_an_invalid_request_by_sender),
        cmocka_unit_test(test_sanity_read_never_answers_an_ack_or_a_response),
        cmocka_unit_test(test_sanity_chain_runs_both_steps_for_a_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
