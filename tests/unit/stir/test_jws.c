#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "stir/b64url.h"
#include "stir/certgen.h"
#include "stir/jws.h"
#include "support/testdata.h"
#include "support/unit.h"
#include "testutil.h"

/* Splits a compact JWS file into signing input and the 64-byte signature. */
static void load_token(const char *name, char **text, struct sv *input,
                       unsigned char sig[STIR_ES256_SIG_LEN])
{
    size_t len = 0;
    *text = testdata_read_file(tu_stir_data(name), &len);
    assert_non_null(*text);
    struct sv all = sv_trim(sv_make(*text, len));
    const char *last_dot = NULL;
    for (size_t i = 0; i < all.len; i++) {
        last_dot = all.ptr[i] == '.' ? all.ptr + i : last_dot;
    }
    assert_non_null(last_dot);
    *input = sv_make(all.ptr, (size_t)(last_dot - all.ptr));
    struct sv sig_b64 = sv_make(last_dot + 1, all.len - input->len - 1);
    unsigned char buf[STIR_B64URL_DECODED_MAX(128)];
    assert_int_equal(stir_b64url_decode(sig_b64, buf, sizeof(buf)), STIR_ES256_SIG_LEN);
    memcpy(sig, buf, STIR_ES256_SIG_LEN);
}

static int verify_file(EVP_PKEY *key, const char *name)
{
    char *text = NULL;
    struct sv input;
    unsigned char sig[STIR_ES256_SIG_LEN];
    load_token(name, &text, &input, sig);
    int rc = stir_jws_verify(key, input, sig);
    free(text);
    return rc;
}

static void test_jws_rfc_values(void **state)
{
    (void)state;
    EVP_PKEY *key = tu_load_key(tu_stir_data("rfc8225-appA-private-key.pem"));
    assert_true(stir_jws_key_is_p256(key));
    assert_int_equal(verify_file(key, "rfc8225-appA-resigned.jwt"), 0);
    assert_int_equal(verify_file(key, "rfc8588-sec6-example-signed.jwt"), 0);
    assert_int_equal(verify_file(key, "rfc8588-sec6-example-badsig.jwt"), -SW_EIDENTITY);
    /* NOTES.md: the signature printed in RFC 8225 App. A does not verify with its key. */
    assert_int_equal(verify_file(key, "rfc8225-appA-token.jwt"), -SW_EIDENTITY);
    EVP_PKEY_free(key);
}

static void test_jws_sign_verify_roundtrip(void **state)
{
    (void)state;
    EVP_PKEY *key = stir_certgen_key();
    assert_non_null(key);
    unsigned char sig[STIR_ES256_SIG_LEN];
    struct sv input = SV("eyJhIjoxfQ.eyJiIjoyfQ");
    assert_int_equal(stir_jws_sign(key, input, sig), 0);
    assert_int_equal(stir_jws_verify(key, input, sig), 0);
    assert_int_equal(stir_jws_verify(key, SV("eyJhIjoxfQ.eyJiIjozfQ"), sig), -SW_EIDENTITY);
    sig[10] ^= 1;
    assert_int_equal(stir_jws_verify(key, input, sig), -SW_EIDENTITY);
    /* R = 0 or S = 0 is malformed: a failed verification, not a crash or an error. */
    memset(sig, 0, sizeof(sig));
    assert_int_equal(stir_jws_verify(key, input, sig), -SW_EIDENTITY);
    memset(sig, 0xff, sizeof(sig));
    assert_int_equal(stir_jws_verify(key, input, sig), -SW_EIDENTITY);
    EVP_PKEY_free(key);
}

static void test_jws_der_raw_conversion(void **state)
{
    (void)state;
    unsigned char raw[STIR_ES256_SIG_LEN];
    for (size_t i = 0; i < sizeof(raw); i++) {
        raw[i] = (unsigned char)(i + 1);
    }
    raw[0] = 0x80;  /* high bit: DER needs a leading zero for R */
    raw[32] = 0x00; /* leading zero byte in S: DER drops it */
    raw[33] = 0x00;
    unsigned char der[STIR_ES256_DER_MAX];
    size_t der_len = 0;
    assert_int_equal(stir_jws_raw_to_der(raw, der, &der_len), 0);
    assert_int_equal(der[0], 0x30);
    unsigned char back[STIR_ES256_SIG_LEN];
    assert_int_equal(stir_jws_der_to_raw(der, der_len, back), 0);
    assert_memory_equal(back, raw, sizeof(raw));
    /* Trailing garbage, truncation and an oversized integer are refused. */
    unsigned char longer[STIR_ES256_DER_MAX + 1];
    memcpy(longer, der, der_len);
    longer[der_len] = 0;
    assert_int_equal(stir_jws_der_to_raw(longer, der_len + 1, back), -SW_EBADARG);
    assert_int_equal(stir_jws_der_to_raw(der, der_len - 1, back), -SW_EBADARG);
    static const unsigned char big[] = { 0x30, 0x26, 0x02, 0x21, 0x01, 1,  2,  3,    4,    5,
                                         6,    7,    8,    9,    10,   11, 12, 13,   14,   15,
                                         16,   17,   18,   19,   20,   21, 22, 23,   24,   25,
                                         26,   27,   28,   29,   30,   31, 32, 0x02, 0x01, 0x01 };
    assert_int_equal(stir_jws_der_to_raw(big, sizeof(big), back), -SW_EBADARG);
}

static void test_jws_refuses_other_keys(void **state)
{
    (void)state;
    EVP_PKEY *p384 = EVP_EC_gen("P-384");
    assert_non_null(p384);
    assert_false(stir_jws_key_is_p256(p384));
    unsigned char sig[STIR_ES256_SIG_LEN] = { 1 };
    assert_int_equal(stir_jws_sign(p384, SV("a.b"), sig), -SW_ECRYPTO);
    assert_int_equal(stir_jws_verify(p384, SV("a.b"), sig), -SW_ECRYPTO);
    EVP_PKEY_free(p384);
    assert_false(stir_jws_key_is_p256(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jws_rfc_values),
        cmocka_unit_test(test_jws_sign_verify_roundtrip),
        cmocka_unit_test(test_jws_der_raw_conversion),
        cmocka_unit_test(test_jws_refuses_other_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
