#include <stdlib.h>
#include <string.h>

#include "stir/identity.h"
#include "support/guarded.h"
#include "support/testdata.h"
#include "support/unit.h"
#include "testutil.h"

static void test_identity_parses_rfc8588_example_line(void **state)
{
    (void)state;
    size_t len = 0;
    char *line = testdata_read_file(tu_stir_data("rfc8588-sec6-identity-header-signed.txt"), &len);
    assert_non_null(line);
    struct sv value = stir_identity_strip_name(guarded_copy(line, len));
    struct stir_identity id;
    assert_int_equal(stir_identity_parse(value, &id), STIR_OK);
    assert_false(id.is_compact);
    assert_true(sv_eq(id.info, SV("https://cert.example.org/passport.cer")));
    assert_true(sv_eq(id.alg, SV("ES256")));
    assert_true(sv_eq(id.ppt, SV("shaken")));
    assert_int_equal(id.signature.len, 86);
    assert_true(sv_starts_with(id.token, SV("eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIs")));
    free(line);
    guarded_release_all();
}

static void test_identity_parses_rfc8224_example_line(void **state)
{
    (void)state;
    size_t len = 0;
    char *line = testdata_read_file(tu_stir_data("rfc8224-sec4-identity-header.txt"), &len);
    assert_non_null(line);
    struct stir_identity id;
    assert_int_equal(stir_identity_parse(stir_identity_strip_name(guarded_copy(line, len)), &id),
                     STIR_OK);
    assert_true(sv_eq(id.info, SV("https://biloxi.example.org/biloxi.cert")));
    assert_null(id.alg.ptr);
    assert_null(id.ppt.ptr);
    free(line);
    guarded_release_all();
}

struct id_case {
    const char *value;
    enum stir_reason want;
};

static void test_identity_syntax_cases(void **state)
{
    (void)state;
    static const struct id_case cases[] = {
        { "a.b.c;info=<https://x/y>", STIR_OK },
        { "..c;info=<https://x/y>;ppt=shaken", STIR_OK },
        { "a.b.c ; info = <https://x/y> ; alg = ES256 ; foo ; bar=baz", STIR_OK },
        { "a.b.c;\r\n info=<https://x/y>", STIR_OK },
        { "a.b.c;INFO=<https://x/y>", STIR_OK },
        { "a.b.c", STIR_BAD_SYNTAX },                  /* info is required */
        { "a.b.c;info=https://x/y", STIR_BAD_SYNTAX }, /* info needs <> */
        { "a.b.c;info=<https://x/y>;info=<https://z/>", STIR_BAD_SYNTAX },
        { "a.b.c;info=<https://x/y>;alg=ES256;alg=ES256", STIR_BAD_SYNTAX },
        { "a.b;info=<https://x/y>", STIR_BAD_SYNTAX },
        { "a.b.c.d;info=<https://x/y>", STIR_BAD_SYNTAX },
        { "a..c;info=<https://x/y>", STIR_BAD_SYNTAX },
        { ".b.c;info=<https://x/y>", STIR_BAD_SYNTAX },
        { "a.b.;info=<https://x/y>", STIR_BAD_SYNTAX },
        { "a.b.c=;info=<https://x/y>", STIR_BAD_SYNTAX },
        { "a.b.c;info=<>", STIR_BAD_SYNTAX },
        { "a.b.c;info=<https://x/y", STIR_BAD_SYNTAX },
        { "a.b.c;info=<https://x/ y>", STIR_BAD_SYNTAX },
        { "a.b.c;;info=<https://x/y>", STIR_BAD_SYNTAX },
        { "a.b.c;info=<https://x/y>;", STIR_BAD_SYNTAX },
        { "a.b.c;info=<https://x/y>;alg=<x>", STIR_BAD_SYNTAX },
        { "a+b.c.d;info=<https://x/y>", STIR_BAD_SYNTAX },
        { "", STIR_BAD_SYNTAX },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stir_identity id;
        enum stir_reason got = stir_identity_parse(guarded_sv(cases[i].value), &id);
        if (got != cases[i].want) {
            fail_msg("case %zu (%s): got %s", i, cases[i].value, stir_reason_text(got));
        }
    }
    struct stir_identity id;
    assert_int_equal(stir_identity_parse(SV_NULL, &id), STIR_NO_IDENTITY);
    guarded_release_all();
}

static void test_identity_token_length_is_capped(void **state)
{
    (void)state;
    size_t len = 5000;
    char *value = malloc(len + 32);
    assert_non_null(value);
    memset(value, 'A', len);
    value[10] = '.';
    value[20] = '.';
    memcpy(value + len, ";info=<https://x/y>", sizeof(";info=<https://x/y>"));
    struct stir_identity id;
    assert_int_equal(stir_identity_parse(guarded_sv(value), &id), STIR_BAD_SYNTAX);
    free(value);
    guarded_release_all();
}

static void test_identity_names_and_format(void **state)
{
    (void)state;
    assert_true(stir_identity_name_matches(SV("Identity")));
    assert_true(stir_identity_name_matches(SV("IDENTITY")));
    assert_true(stir_identity_name_matches(SV("y")));
    assert_true(stir_identity_name_matches(SV("Y")));
    assert_false(stir_identity_name_matches(SV("Identity-Info")));
    assert_true(sv_eq(stir_identity_strip_name(SV("y: a.b.c;info=<https://x>\r\n")),
                      SV("a.b.c;info=<https://x>")));
    assert_true(sv_eq(stir_identity_strip_name(SV("a.b.c;info=<https://x:443/p>")),
                      SV("a.b.c;info=<https://x:443/p>")));
    char out[128];
    assert_int_equal(stir_identity_format(SV("a.b.c"), SV("https://x/y"), out, sizeof(out)), 45);
    assert_string_equal(out, "a.b.c;info=<https://x/y>;alg=ES256;ppt=shaken");
    assert_true(stir_identity_format(SV("a.b.c"), SV("https://x/y"), out, 20) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_parses_rfc8588_example_line),
        cmocka_unit_test(test_identity_parses_rfc8224_example_line),
        cmocka_unit_test(test_identity_syntax_cases),
        cmocka_unit_test(test_identity_token_length_is_capped),
        cmocka_unit_test(test_identity_names_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
