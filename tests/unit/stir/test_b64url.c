#include <string.h>

#include "base/err.h"
#include "stir/b64url.h"
#include "support/guarded.h"
#include "support/unit.h"

struct b64_case {
    const char *plain;
    const char *encoded;
};

/* RFC 4648 §10 vectors in the URL alphabet, without padding. */
static const struct b64_case vectors[] = {
    { "", "" },           { "f", "Zg" },          { "fo", "Zm8" },          { "foo", "Zm9v" },
    { "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
};

static void test_b64url_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char out[32];
        long n = stir_b64url_encode(vectors[i].plain, strlen(vectors[i].plain), out, sizeof(out));
        assert_int_equal(n, (long)strlen(vectors[i].encoded));
        assert_string_equal(out, vectors[i].encoded);
        unsigned char back[32];
        n = stir_b64url_decode(guarded_sv(vectors[i].encoded), back, sizeof(back));
        assert_int_equal(n, (long)strlen(vectors[i].plain));
        assert_memory_equal(back, vectors[i].plain, (size_t)n);
    }
    guarded_release_all();
}

static void test_b64url_uses_url_alphabet(void **state)
{
    (void)state;
    const unsigned char bytes[] = { 0xfb, 0xff, 0xbf };
    char out[8];
    assert_int_equal(stir_b64url_encode(bytes, sizeof(bytes), out, sizeof(out)), 4);
    assert_string_equal(out, "-_-_");
    unsigned char back[8];
    assert_int_equal(stir_b64url_decode(guarded_sv("-_-_"), back, sizeof(back)), 3);
    assert_memory_equal(back, bytes, 3);
    guarded_release_all();
}

static void test_b64url_rejects_non_strict_forms(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg==",  /* padding */
        "Zm9v=", /* padding */
        "+/+/",  /* standard alphabet */
        "Zm 9v", /* white space */
        "Z",     /* 4n+1 characters */
        "Zh",    /* non-zero spare bits: "f" is "Zg" only */
        "Zm9",   /* ok length but spare bits: "fo" is "Zm8" */
        "Zm9v\n", "Zm9v.",
    };
    unsigned char out[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(stir_b64url_decode(guarded_sv(bad[i]), out, sizeof(out)), -SW_EBADARG);
    }
    assert_int_equal(stir_b64url_decode(SV_NULL, out, sizeof(out)), -SW_EBADARG);
    guarded_release_all();
}

static void test_b64url_capacity_is_checked(void **state)
{
    (void)state;
    char out[4];
    assert_int_equal(stir_b64url_encode("foo", 3, out, sizeof(out)), -SW_ETOOBIG);
    unsigned char small[2];
    assert_int_equal(stir_b64url_decode(SV("Zm9v"), small, sizeof(small)), -SW_ETOOBIG);
}

static void test_b64url_long_input_crosses_chunks(void **state)
{
    (void)state;
    unsigned char data[2000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (unsigned char)(i * 7U + 3U);
    }
    char enc[STIR_B64URL_ENCODED_LEN(sizeof(data)) + 1];
    long n = stir_b64url_encode(data, sizeof(data), enc, sizeof(enc));
    assert_true(n > 0);
    unsigned char back[sizeof(data) + 3];
    assert_int_equal(stir_b64url_decode(sv_make(enc, (size_t)n), back, sizeof(back)),
                     (long)sizeof(data));
    assert_memory_equal(back, data, sizeof(data));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_rfc4648_vectors),
        cmocka_unit_test(test_b64url_uses_url_alphabet),
        cmocka_unit_test(test_b64url_rejects_non_strict_forms),
        cmocka_unit_test(test_b64url_capacity_is_checked),
        cmocka_unit_test(test_b64url_long_input_crosses_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
