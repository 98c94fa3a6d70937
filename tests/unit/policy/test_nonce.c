#include <string.h>

#include "policy/nonce.h"
#include "support/unit.h"

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static void test_nonce_round_trip_and_binding(void **state)
{
    (void)state;
    struct nonce_keeper *k = nonce_keeper_new(300, 1024);
    assert_non_null(k);
    struct sw_ip a = ip_of("192.0.2.10");
    struct sw_ip b = ip_of("192.0.2.11");
    char n1[NONCE_HEX_LEN + 1];
    char n2[NONCE_HEX_LEN + 1];
    nonce_make(k, &a, SV("sipwarden"), 1000, n1);
    nonce_make(k, &a, SV("sipwarden"), 1000, n2);
    assert_int_equal(strlen(n1), NONCE_HEX_LEN);
    assert_string_not_equal(n1, n2); /* same second, same source: still distinct */
    struct sv s1 = sv_from_cstr(n1);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 1000), NONCE_OK);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 1300), NONCE_OK);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 1301), NONCE_STALE);
    assert_int_equal(nonce_verify(k, &b, SV("sipwarden"), s1, 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("other"), s1, 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), s1, 998), NONCE_FORGED);
    n1[NONCE_HEX_LEN - 1] = n1[NONCE_HEX_LEN - 1] == '0' ? '1' : '0';
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), sv_from_cstr(n1), 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), SV("zz"), 1000), NONCE_FORGED);
    assert_int_equal(nonce_verify(k, &a, SV("sipwarden"), SV(""), 1000), NONCE_FORGED);
    nonce_keeper_free(k);
}

static void test_nonce_other_keeper_rejects(void **state)
{
    (void)state;
    struct nonce_keeper *k1 = nonce_keeper_new(300, 64);
    struct nonce_keeper *k2 = nonce_keeper_new(300, 64);
    struct sw_ip a = ip_of("2001:db8::1");
    char n[NONCE_HEX_LEN + 1];
    nonce_make(k1, &a, SV("r"), 5000, n);
    /* A restart draws a new master: old nonces are not accepted as valid. */
    assert_int_equal(nonce_verify(k2, &a, SV("r"), sv_from_cstr(n), 5000), NONCE_FORGED);
    nonce_keeper_free(k1);
    nonce_keeper_free(k2);
}

static void test_nonce_count_replay(void **state)
{
    (void)state;
    struct nonce_keeper *k = nonce_keeper_new(300, 1024);
    struct sv nonce = SV("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_true(nonce_accept_nc(k, nonce, SV("00000001")));
    assert_false(nonce_accept_nc(k, nonce, SV("00000001")));
    assert_true(nonce_accept_nc(k, nonce, SV("00000002")));
    assert_true(nonce_accept_nc(k, nonce, SV("0000000A")));
    assert_false(nonce_accept_nc(k, nonce, SV("00000009")));
    assert_false(nonce_accept_nc(k, nonce, SV("00000000")));
    assert_false(nonce_accept_nc(k, nonce, SV("1")));
    assert_false(nonce_accept_nc(k, nonce, SV("0000000g")));
    assert_true(nonce_accept_nc(k, SV("another"), SV("00000001")));
    nonce_keeper_free(k);
    nonce_keeper_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nonce_round_trip_and_binding),
        cmocka_unit_test(test_nonce_other_keeper_rejects),
        cmocka_unit_test(test_nonce_count_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
