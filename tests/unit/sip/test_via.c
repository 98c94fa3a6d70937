/* src/sip/via.c: via-parm with sent-protocol, sent-by and parameters. */
#include "base/err.h"
#include "sip/via.h"
#include "support/guarded.h"
#include "support/unit.h"

static int teardown(void **state)
{
    (void)state;
    guarded_release_all();
    return 0;
}

static void test_via_fields(void **state)
{
    (void)state;
    struct sip_via via;
    struct sip_err err = { 0 };
    assert_int_equal(
        sip_via_parse(guarded_sv("SIP / 2.0 / TLS [2001:db8::9]:5061 ;branch=z9hG4bKa"
                                 ";received=[2001:db8::9:255];rport=5062;maddr=224.0.0.1"
                                 ";ttl=1;x"),
                      &via, &err),
        0);
    assert_true(sv_eq(via.protocol, SV("SIP / 2.0")));
    assert_true(sv_eq(via.transport, SV("TLS")));
    assert_true(sv_eq(via.host, SV("[2001:db8::9]")));
    assert_int_equal(via.port, 5061);
    assert_true(sv_eq(via.branch, SV("z9hG4bKa")));
    assert_true(sv_eq(via.received, SV("[2001:db8::9:255]")));
    assert_true(via.has_rport);
    assert_true(sv_eq(via.rport, SV("5062")));
    assert_true(sv_eq(via.maddr, SV("224.0.0.1")));
    assert_true(sv_eq(via.ttl, SV("1")));
    assert_true(sip_via_has_rfc3261_branch(&via));

    assert_int_equal(sip_via_parse(guarded_sv("SIP/2.0/UDP h.example.com"), &via, &err), 0);
    assert_false(via.has_port);
    assert_null(via.branch.ptr);
    assert_false(sip_via_has_rfc3261_branch(&via));
    assert_int_equal(
        sip_via_parse(guarded_sv("SIP/2.0/UDP h : 5060 ; branch = z9hG4bK"), &via, &err), 0);
    assert_int_equal(via.port, 5060);
    assert_false(sip_via_has_rfc3261_branch(&via));
}

/* The one-pass path of the common form fills what the general path fills. */
static void test_via_common(void **state)
{
    (void)state;
    struct sip_via fast;
    struct sip_via slow;
    struct sip_err err = { 0 };
    assert_int_equal(sip_via_parse(guarded_sv("sip/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx"
                                              ";rport;received=192.0.2.9;x=y"),
                                   &fast, &err),
                     0);
    assert_int_equal(sip_via_parse(guarded_sv("sip/2.0/UDP 192.0.2.1 : 5060 ;branch=z9hG4bKx"
                                              " ;rport;received=192.0.2.9;x=y"),
                                   &slow, &err),
                     0);
    const struct sip_via *vias[] = { &fast, &slow };
    for (size_t i = 0; i < 2; i++) {
        const struct sip_via *v = vias[i];
        assert_true(sv_eq(v->protocol, SV("sip/2.0")));
        assert_true(sv_eq(v->transport, SV("UDP")));
        assert_true(sv_eq(v->host, SV("192.0.2.1")));
        assert_true(v->has_port);
        assert_int_equal(v->port, 5060);
        assert_true(sv_eq(v->branch, SV("z9hG4bKx")));
        assert_true(v->has_rport);
        assert_int_equal(v->rport.len, 0);
        assert_non_null(v->rport.ptr);
        assert_true(sv_eq(v->received, SV("192.0.2.9")));
        assert_null(v->maddr.ptr);
        assert_null(v->ttl.ptr);
    }
    assert_true(sv_eq(fast.params, SV(";branch=z9hG4bKx;rport;received=192.0.2.9;x=y")));
    assert_int_equal(sip_via_parse(guarded_sv("SIP/2.0/TCP h.example.com"), &fast, &err), 0);
    assert_true(sv_eq(fast.host, SV("h.example.com")));
    assert_false(fast.has_port);
    assert_null(fast.params.ptr);
}

static const char *const bad[] = {
    "",
    "SIP/2.0/UDP -h",
    "SIP/2.0/UDP h:5060x",
    "SIP/2.0/UDP h:5060;=x",
    "SIP/2.0/UDP h:5060;branch=\"a",
    "SIP/2.0/UDP h:065536",
    "SIP/2.0/ h",
    "SIP/2.0/UDP",
    "SIP/2.0 UDP h",
    "SIP/2.0/UDPh",
    "SIP/2.0/UDP h;;",
    "SIP/2.0/UDP h;branch=",
    "SIP/2.0/UDP h:99999",
    "SIP/2.0/UDP h:",
    "SIP/2.0/UDP [::1",
    "SIP/2.0/UDP h x",
    "SIP/2.0/UDP 192.0.2.15;;,;,,",
};

static void test_via_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sip_via via;
        struct sip_err err = { 0 };
        if (sip_via_parse(guarded_sv(bad[i]), &via, &err) != -SW_EBADMSG || err.status != 400) {
            fail_msg("accepted bad Via '%s'", bad[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_via_fields),
        cmocka_unit_test(test_via_common),
        cmocka_unit_test(test_via_bad),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
