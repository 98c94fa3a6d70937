/*
 * The TN Authorization List (RFC 8226 §9): the DER reader on good and hostile input, the
 * coverage rule (SPC-only lists cover every number, number entries restrict), and the
 * verifier refusing a certificate that may not sign for orig.tn or has no list at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "stir/certgen.h"
#include "stir/sign.h"
#include "stir/tnauth.h"
#include "stir/verify.h"
#include "support/unit.h"
#include "testutil.h"

#define NOW   1800000000
#define DAY_S 86400
#define X5U   "https://cert.example.net/tnauth.pem"

/* SEQUENCE { [0] IA5String "709J" }: an SPC-only list as SHAKEN certificates carry. */
static const unsigned char spc_only[] = { 0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, '7', '0', '9', 'J' };
/* SEQUENCE { [2] "12155550121", [1] SEQUENCE { "12155550200", INTEGER 100 } }. */
static const unsigned char numbers[] = { 0x30, 0x23, 0xa2, 0x0d, 0x16, 0x0b, '1', '2',  '1',  '5',
                                         '5',  '5',  '5',  '0',  '1',  '2',  '1', 0xa1, 0x12, 0x30,
                                         0x10, 0x16, 0x0b, '1',  '2',  '1',  '5', '5',  '5',  '5',
                                         '0',  '2',  '0',  '0',  0x02, 0x01, 0x64 };

static struct stir_tn tn_of(const char *digits)
{
    struct stir_tn tn;
    memset(&tn, 0, sizeof(tn));
    tn.len = (uint8_t)strlen(digits);
    memcpy(tn.digits, digits, tn.len);
    return tn;
}

static void test_tnauth_parses_spc_numbers_and_ranges(void **state)
{
    (void)state;
    struct stir_tnauth list;
    assert_int_equal(stir_tnauth_parse(spc_only, sizeof(spc_only), &list), 0);
    assert_true(list.is_present);
    assert_int_equal(list.count, 1);
    assert_int_equal(list.entries[0].kind, STIR_TNAUTH_SPC);
    struct stir_tn any = tn_of("4930123456");
    assert_true(stir_tnauth_covers(&list, &any)); /* SPC only: every number */

    assert_int_equal(stir_tnauth_parse(numbers, sizeof(numbers), &list), 0);
    assert_int_equal(list.count, 2);
    assert_int_equal(list.entries[0].kind, STIR_TNAUTH_ONE);
    assert_string_equal(list.entries[0].digits, "12155550121");
    assert_int_equal(list.entries[1].kind, STIR_TNAUTH_RANGE);
    assert_int_equal(list.entries[1].count, 100);
    static const char *const covered[] = { "12155550121", "12155550200", "12155550299" };
    static const char *const not_covered[] = { "12155550122", "12155550199", "12155550300",
                                               "121555502000", "4930123456" };
    for (size_t i = 0; i < sizeof(covered) / sizeof(covered[0]); i++) {
        struct stir_tn tn = tn_of(covered[i]);
        assert_true(stir_tnauth_covers(&list, &tn));
    }
    for (size_t i = 0; i < sizeof(not_covered) / sizeof(not_covered[0]); i++) {
        struct stir_tn tn = tn_of(not_covered[i]);
        assert_false(stir_tnauth_covers(&list, &tn));
    }
}

static void test_tnauth_refuses_malformed_lists(void **state)
{
    (void)state;
    struct stir_tnauth list;
    static const unsigned char empty[] = { 0x30, 0x00 };
    static const unsigned char truncated[] = { 0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, '7' };
    static const unsigned char not_a_sequence[] = { 0x31, 0x02, 0x05, 0x00 };
    static const unsigned char unknown_choice[] = { 0x30, 0x05, 0xa3, 0x03, 0x16, 0x01, '1' };
    static const unsigned char letters[] = { 0x30, 0x05, 0xa2, 0x03, 0x16, 0x01, 'x' };
    static const unsigned char range_of_one[] = { 0x30, 0x0a, 0xa1, 0x08, 0x30, 0x06,
                                                  0x16, 0x01, '1',  0x02, 0x01, 0x01 };
    static const unsigned char negative_count[] = { 0x30, 0x0a, 0xa1, 0x08, 0x30, 0x06,
                                                    0x16, 0x01, '1',  0x02, 0x01, 0x80 };
    static const unsigned char trailing[] = { 0x30, 0x05, 0xa2, 0x03, 0x16, 0x01, '1', 0x00 };
    static const unsigned char huge_length[] = { 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0xa2 };

    const struct {
        const unsigned char *der;
        size_t len;
    } cases[] = {
        { empty, sizeof(empty) },
        { truncated, sizeof(truncated) },
        { not_a_sequence, sizeof(not_a_sequence) },
        { unknown_choice, sizeof(unknown_choice) },
        { letters, sizeof(letters) },
        { range_of_one, sizeof(range_of_one) },
        { negative_count, sizeof(negative_count) },
        { trailing, sizeof(trailing) },
        { huge_length, sizeof(huge_length) },
        { spc_only, 1 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(stir_tnauth_parse(cases[i].der, cases[i].len, &list), -SW_EBADARG);
        assert_false(list.is_present);
    }
    /* More entries than kept: refused, not cut. */
    unsigned char many[2 + 17 * 5] = { 0x30, 17 * 5 };
    for (size_t i = 0; i < 17; i++) {
        memcpy(&many[2 + i * 5], (const unsigned char[]){ 0xa2, 0x03, 0x16, 0x01, '1' }, 5);
    }
    assert_int_equal(stir_tnauth_parse(many, sizeof(many), &list), -SW_EBADARG);
}

/* A chain whose leaf carries `der` (NULL = none), served at X5U. */
static char *chain_with_list(struct tu_pki *pki, const unsigned char *der, size_t len,
                             size_t *pem_len)
{
    struct stir_certgen spec = { .key = pki->leaf_key,
                                 .issuer_key = pki->inter_key,
                                 .issuer = pki->inter,
                                 .common_name = "SHAKEN 709J test",
                                 .not_before_s = NOW - DAY_S,
                                 .not_after_s = NOW + DAY_S,
                                 .serial = 9,
                                 .tnauth_der = der,
                                 .tnauth_der_len = len };
    X509 *leaf = stir_certgen_issue(&spec);
    assert_non_null(leaf);
    struct stir_tnauth read;
    assert_int_equal(stir_tnauth_from_cert(leaf, &read), 0);
    assert_int_equal(read.is_present, der != NULL);
    X509 *chain[2] = { leaf, pki->inter };
    char *pem = stir_certgen_pem(chain, 2, pem_len);
    X509_free(leaf);
    return pem;
}

static enum stir_reason verify_with(struct tu_pki *pki, const unsigned char *der, size_t len,
                                    const char *orig_digits, bool is_required)
{
    struct stir_verifier_cfg cfg = { .ca_file = pki->root_path,
                                     .is_fetch_disabled = true,
                                     .require_tnauthlist = is_required };
    struct stir_verifier *v = NULL;
    assert_int_equal(stir_verifier_new(&cfg, &v, NULL), 0);
    size_t pem_len = 0;
    char *pem = chain_with_list(pki, der, len, &pem_len);
    (void)stir_verifier_preload(v, SV(X5U), pem, pem_len, NOW);
    sw_free(pem);
    struct stir_signer *signer = NULL;
    assert_int_equal(stir_signer_new_from_key(pki->leaf_key, SV(X5U), &signer), 0);
    struct stir_tn orig = tn_of(orig_digits);
    struct stir_tn dest = tn_of("12155550131");
    struct stir_sign_req req = {
        .attest = STIR_ATTEST_A, .orig = &orig, .dest = &dest, .iat = NOW
    };
    char value[2048];
    assert_true(stir_signer_sign(signer, &req, value, sizeof(value)) > 0);
    struct stir_call call = {
        .identity = sv_from_cstr(value), .orig = &orig, .dest = &dest, .now_s = NOW
    };
    struct stir_result result;
    assert_int_equal(stir_verify_start(v, &call, &result, NULL, NULL), STIR_VERIFY_DONE);
    stir_signer_free(signer);
    stir_verifier_free(v);
    return result.reason;
}

static void test_tnauth_verifier_checks_the_signer_authority(void **state)
{
    (void)state;
    struct tu_pki pki;
    tu_pki_init(&pki, NOW - 30 * DAY_S, NOW + 30 * DAY_S);
    assert_int_equal(verify_with(&pki, spc_only, sizeof(spc_only), "4930123456", true), STIR_OK);
    assert_int_equal(verify_with(&pki, numbers, sizeof(numbers), "12155550250", true), STIR_OK);
    assert_int_equal(verify_with(&pki, numbers, sizeof(numbers), "12155550199", true),
                     STIR_TN_UNAUTHORIZED);
    assert_int_equal(stir_reason_sip_code(STIR_TN_UNAUTHORIZED), 438);
    assert_int_equal(verify_with(&pki, NULL, 0, "12155550121", true), STIR_CERT_NO_TNAUTH);
    assert_int_equal(stir_reason_sip_code(STIR_CERT_NO_TNAUTH), 437);
    assert_int_equal(verify_with(&pki, NULL, 0, "12155550121", false), STIR_OK);
    tu_pki_fini(&pki);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tnauth_parses_spc_numbers_and_ranges),
        cmocka_unit_test(test_tnauth_refuses_malformed_lists),
        cmocka_unit_test(test_tnauth_verifier_checks_the_signer_authority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
