/* src/sip/auth.c: credentials and challenges. */
#include "base/err.h"
#include "sip/auth.h"
#include "support/guarded.h"
#include "support/unit.h"

static int teardown(void **state)
{
    (void)state;
    guarded_release_all();
    return 0;
}

static void test_auth_credentials(void **state)
{
    (void)state;
    struct sip_auth auth;
    struct sip_err err = { 0 };
    assert_int_equal(
        sip_auth_parse(
            guarded_sv("Digest username=\"bob\", realm=\"biloxi.com\",\r\n "
                       "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                       "uri=\"sip:bob@biloxi.com\", qop=auth, nc=00000001, "
                       "cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\","
                       "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\",algorithm=MD5,x=\"a\\\"b\""),
            &auth, &err),
        0);
    assert_true(auth.is_digest);
    assert_true(sv_eq(auth.username, SV("bob")));
    assert_true(sv_eq(auth.realm, SV("biloxi.com")));
    assert_true(sv_eq(auth.uri, SV("sip:bob@biloxi.com")));
    assert_true(sv_eq(auth.qop, SV("auth")));
    assert_true(sv_eq(auth.nc, SV("00000001")));
    assert_true(sv_eq(auth.cnonce, SV("0a4f113b")));
    assert_true(sv_eq(auth.algorithm, SV("MD5")));
    assert_true(sv_eq(auth.response, SV("6629fae49393a05397450978507c4ef1")));
    assert_null(auth.stale.ptr);
}

static void test_auth_challenge(void **state)
{
    (void)state;
    struct sip_auth auth;
    struct sip_err err = { 0 };
    assert_int_equal(sip_auth_parse(guarded_sv("digest realm=\"atlanta.com\", "
                                               "qop=\"auth,auth-int\",, stale=FALSE, "
                                               "algorithm=SHA-256, nonce=\"84a4cc6f\""),
                                    &auth, &err),
                     0);
    assert_true(auth.is_digest);
    assert_true(sv_eq(auth.qop, SV("auth,auth-int")));
    assert_true(sv_eq(auth.stale, SV("FALSE")));
    assert_true(sv_eq(auth.algorithm, SV("SHA-256")));

    assert_int_equal(
        sip_auth_parse(guarded_sv("NoOneKnowsThisScheme opaque-data=here"), &auth, &err), 0);
    assert_false(auth.is_digest);
    assert_true(sv_eq(auth.params, SV("opaque-data=here")));
}

static const char *const bad[] = {
    "",
    "Digest realm",
    "Digest realm=",
    "Digest realm=\"x",
    "Digest realm=\"a\" nonce=\"b\"",
    "Digest realm=\"a\", realm=\"b\"",
    "Digest, realm=a",
    "Digest realm=a b",
};

static void test_auth_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sip_auth auth;
        struct sip_err err = { 0 };
        if (sip_auth_parse(guarded_sv(bad[i]), &auth, &err) != -SW_EBADMSG) {
            fail_msg("accepted bad auth '%s'", bad[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_credentials),
        cmocka_unit_test(test_auth_challenge),
        cmocka_unit_test(test_auth_bad),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
