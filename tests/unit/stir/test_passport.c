#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "stir/b64url.h"
#include "stir/passport.h"
#include "support/testdata.h"
#include "support/unit.h"
#include "testutil.h"

static char *read_data(const char *name, size_t *len)
{
    char *text = testdata_read_file(tu_stir_data(name), len);
    assert_non_null(text);
    return text;
}

static struct stir_tn tn_digits(const char *digits)
{
    struct stir_tn tn;
    memset(&tn, 0, sizeof(tn));
    tn.len = (uint8_t)strlen(digits);
    memcpy(tn.digits, digits, tn.len);
    return tn;
}

static void rfc8588_passport(struct stir_passport *pp)
{
    struct stir_tn orig = tn_digits("12155550121");
    struct stir_tn dest = tn_digits("12155550131");
    struct stir_shaken_spec spec = { .x5u = SV("https://cert.example.org/passport.cer"),
                                     .attest = STIR_ATTEST_A,
                                     .orig = &orig,
                                     .dest = &dest,
                                     .iat = 1443208345,
                                     .origid = SV("123e4567-e89b-12d3-a456-426655440000") };
    assert_int_equal(stir_passport_init_shaken(pp, &spec), 0);
}

/* RFC 8588 §6 (erratum 6656 applied): our canonical JSON is byte-identical to the file. */
static void test_passport_canonical_json_matches_rfc8588(void **state)
{
    (void)state;
    struct stir_passport pp;
    rfc8588_passport(&pp);
    char json[STIR_PASSPORT_JSON_MAX];
    size_t len = 0;
    char *want = read_data("rfc8588-sec6-header.json", &len);
    assert_int_equal(stir_passport_header_json(&pp, json, sizeof(json)), (long)len);
    assert_string_equal(json, want);
    free(want);
    want = read_data("rfc8588-sec6-payload.json", &len);
    assert_int_equal(stir_passport_claims_json(&pp, json, sizeof(json)), (long)len);
    assert_string_equal(json, want);
    free(want);
}

/* The signing input equals the first two parts of the signed example token. */
static void test_passport_signing_input_matches_example(void **state)
{
    (void)state;
    struct stir_passport pp;
    rfc8588_passport(&pp);
    char input[STIR_TOKEN_MAX];
    long n = stir_passport_signing_input(&pp, input, sizeof(input));
    assert_true(n > 0);
    size_t len = 0;
    char *token = read_data("rfc8588-sec6-example-signed.jwt", &len);
    assert_memory_equal(token, input, (size_t)n);
    assert_int_equal(token[n], '.');
    free(token);
}

static void test_passport_decodes_rfc8225_appendix_a(void **state)
{
    (void)state;
    size_t len = 0;
    char *header = read_data("rfc8225-appA-header.json", &len);
    struct stir_passport pp;
    memset(&pp, 0, sizeof(pp));
    assert_int_equal(stir_passport_decode_header(sv_make(header, len), &pp), STIR_OK);
    assert_string_equal(pp.alg, "ES256");
    assert_string_equal(pp.typ, "passport");
    assert_string_equal(pp.ppt, "");
    assert_string_equal(pp.x5u, "https://cert.example.org/passport.cer");
    free(header);
    char *claims = read_data("rfc8225-appA-payload.json", &len);
    assert_int_equal(stir_passport_decode_claims(sv_make(claims, len), &pp), STIR_OK);
    assert_int_equal(pp.iat, 1471375418);
    assert_string_equal(pp.orig.digits, "12155551212");
    assert_int_equal(pp.dest_count, 0);
    assert_int_equal(pp.dest_uri_count, 1);
    assert_int_equal(pp.attest, STIR_ATTEST_NONE);
    free(claims);
}

struct json_case {
    const char *json;
    enum stir_reason want;
};

static void test_passport_header_strictness(void **state)
{
    (void)state;
    static const struct json_case cases[] = {
        { "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\",\"x5u\":\"https://a/b\"}",
          STIR_OK },
        { "{\"alg\":\"ES256\",\"alg\":\"none\",\"typ\":\"passport\",\"x5u\":\"https://a/b\"}",
          STIR_BAD_JSON },
        { "[1,2]", STIR_BAD_JSON },
        { "{\"alg\":\"ES256\"", STIR_BAD_JSON },
        { "{\"typ\":\"passport\",\"x5u\":\"https://a/b\"}", STIR_BAD_ALG },
        { "{\"alg\":256,\"typ\":\"passport\",\"x5u\":\"https://a/b\"}", STIR_BAD_ALG },
        { "{\"alg\":\"ES256\",\"x5u\":\"https://a/b\"}", STIR_BAD_TYP },
        { "{\"alg\":\"ES256\",\"typ\":\"passport\"}", STIR_BAD_X5U },
        { "{\"alg\":\"ES256\",\"ppt\":1,\"typ\":\"passport\",\"x5u\":\"https://a/b\"}",
          STIR_BAD_PPT },
        { "{\"alg\":\"ES256\",\"crit\":[\"x\"],\"typ\":\"passport\",\"x5u\":\"https://a/b\"}",
          STIR_BAD_CRIT },
        /* jansson refuses \u0000 unless JSON_ALLOW_NUL is given. */
        { "{\"alg\":\"ES\\u0000256\",\"typ\":\"passport\",\"x5u\":\"https://a/b\"}",
          STIR_BAD_JSON },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stir_passport pp;
        memset(&pp, 0, sizeof(pp));
        enum stir_reason got = stir_passport_decode_header(sv_from_cstr(cases[i].json), &pp);
        if (got != cases[i].want) {
            fail_msg("header case %zu: got %s, want %s", i, stir_reason_text(got),
                     stir_reason_text(cases[i].want));
        }
    }
}

static void test_passport_claims_strictness(void **state)
{
    (void)state;
    static const struct json_case cases[] = {
        { "{\"attest\":\"A\",\"dest\":{\"tn\":[\"1215\"]},\"iat\":5,\"orig\":{\"tn\":\"1\"},"
          "\"origid\":\"x\"}",
          STIR_OK },
        /* RFC 8225 erratum 5985 / RFC 8224 §4 example: iat as a string. */
        { "{\"dest\":{\"uri\":[\"sip:alice@example.com\"]},\"iat\":\"1443208345\","
          "\"orig\":{\"tn\":\"12155551212\"}}",
          STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\"]},\"iat\":1.5,\"orig\":{\"tn\":\"1\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\"]},\"iat\":-1,\"orig\":{\"tn\":\"1\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\"]},\"orig\":{\"tn\":\"1\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":\"1\"},\"iat\":5,\"orig\":{\"tn\":\"1\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[]},\"iat\":5,\"orig\":{\"tn\":\"1\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{},\"iat\":5,\"orig\":{\"tn\":\"1\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\"]},\"iat\":5,\"orig\":{\"tn\":\"+1\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\"]},\"iat\":5,\"orig\":{\"uri\":\"sip:a@b\"}}", STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\"]},\"iat\":5,\"orig\":{\"tn\":\"1234567890123456\"}}",
          STIR_BAD_CLAIMS },
        { "{\"attest\":\"D\",\"dest\":{\"tn\":[\"1\"]},\"iat\":5,\"orig\":{\"tn\":\"1\"}}",
          STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\"]},\"iat\":5,\"orig\":{\"tn\":\"1\"},\"origid\":7}",
          STIR_BAD_CLAIMS },
        { "{\"dest\":{\"tn\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]},\"iat\":5,"
          "\"orig\":{\"tn\":\"1\"}}",
          STIR_BAD_CLAIMS },
        { "{\"iat\":5,\"iat\":6,\"dest\":{\"tn\":[\"1\"]},\"orig\":{\"tn\":\"1\"}}",
          STIR_BAD_JSON },
        { "\"just a string\"", STIR_BAD_JSON },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stir_passport pp;
        memset(&pp, 0, sizeof(pp));
        enum stir_reason got = stir_passport_decode_claims(sv_from_cstr(cases[i].json), &pp);
        if (got != cases[i].want) {
            fail_msg("claims case %zu: got %s, want %s", i, stir_reason_text(got),
                     stir_reason_text(cases[i].want));
        }
    }
}

static void test_passport_init_refuses_unsafe_values(void **state)
{
    (void)state;
    struct stir_passport pp;
    struct stir_tn tn = tn_digits("12155550121");
    struct stir_tn empty = tn_digits("");
    const struct stir_shaken_spec good = { .x5u = SV("https://a/b"),
                                           .attest = STIR_ATTEST_B,
                                           .orig = &tn,
                                           .dest = &tn,
                                           .iat = 1,
                                           .origid = SV("x") };
    assert_int_equal(stir_passport_init_shaken(&pp, &good), 0);
    struct stir_shaken_spec bad[7];
    for (size_t i = 0; i < 7; i++) {
        bad[i] = good;
    }
    bad[0].x5u = SV("http://cert.example.org/c.pem");
    bad[1].x5u = SV("https://a/b>;info=<https://evil/");
    bad[2].attest = STIR_ATTEST_NONE;
    bad[3].origid = SV("a\"b");
    bad[4].iat = 0;
    bad[5].orig = &empty;
    bad[6].origid = SV_NULL;
    for (size_t i = 0; i < 7; i++) {
        if (stir_passport_init_shaken(&pp, &bad[i]) != -SW_EBADARG) {
            fail_msg("bad spec %zu accepted", i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passport_canonical_json_matches_rfc8588),
        cmocka_unit_test(test_passport_signing_input_matches_example),
        cmocka_unit_test(test_passport_decodes_rfc8225_appendix_a),
        cmocka_unit_test(test_passport_header_strictness),
        cmocka_unit_test(test_passport_claims_strictness),
        cmocka_unit_test(test_passport_init_refuses_unsafe_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
