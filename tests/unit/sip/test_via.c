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

static const char *const bad[] = {
    "",
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
        cmocka_unit_test(test_via_bad),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
