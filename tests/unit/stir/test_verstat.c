#include <string.h>

#include "base/err.h"
#include "stir/verify.h"
#include "stir/verstat.h"
#include "support/guarded.h"
#include "support/unit.h"

struct verstat_case {
    const char *in;
    enum stir_verstat verstat;
    const char *want; /* NULL = refused */
};

static void test_verstat_apply_cases(void **state)
{
    (void)state;
    static const struct verstat_case cases[] = {
        { "sip:+12155551212@example.com;user=phone", STIR_VERSTAT_PASSED,
          "sip:+12155551212;verstat=TN-Validation-Passed@example.com;user=phone" },
        { "<sip:+12155551212@example.com;user=phone>", STIR_VERSTAT_FAILED,
          "<sip:+12155551212;verstat=TN-Validation-Failed@example.com;user=phone>" },
        /* A verstat from the peer is replaced, wherever it was put. */
        { "sip:+12155551212;verstat=TN-Validation-Passed@example.com;user=phone",
          STIR_VERSTAT_FAILED,
          "sip:+12155551212;verstat=TN-Validation-Failed@example.com;user=phone" },
        { "sip:+12155551212;isub=12;VERSTAT=TN-Validation-Passed-A@example.com;user=phone;"
          "verstat=TN-Validation-Passed",
          STIR_VERSTAT_NONE,
          "sip:+12155551212;isub=12;verstat=No-TN-Validation@example.com;user=phone" },
        { "sips:2155551212@pbx.example.org:5061;transport=tls?X-A=b", STIR_VERSTAT_PASSED,
          "sips:2155551212;verstat=TN-Validation-Passed@pbx.example.org:5061;transport=tls?X-A=b" },
        { "tel:+12155551212", STIR_VERSTAT_PASSED,
          "tel:+12155551212;verstat=TN-Validation-Passed" },
        { "tel:+1-215-555-1212;verstat=TN-Validation-Passed;phone-context=x", STIR_VERSTAT_FAILED,
          "tel:+1-215-555-1212;phone-context=x;verstat=TN-Validation-Failed" },
        { "sip:example.com", STIR_VERSTAT_PASSED, NULL },
        { "sip:@example.com", STIR_VERSTAT_PASSED, NULL },
        { "mailto:a@example.com", STIR_VERSTAT_PASSED, NULL },
        { "tel:", STIR_VERSTAT_PASSED, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[256];
        long n = stir_verstat_apply(guarded_sv(cases[i].in), cases[i].verstat, out, sizeof(out));
        if (cases[i].want == NULL) {
            assert_int_equal(n, -SW_EBADARG);
            continue;
        }
        if (n < 0) {
            fail_msg("case %zu (%s) refused", i, cases[i].in);
        }
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, (long)strlen(cases[i].want));
    }
    char small[16];
    assert_int_equal(
        stir_verstat_apply(SV("tel:+12155551212"), STIR_VERSTAT_PASSED, small, sizeof(small)),
        -SW_ETOOBIG);
    guarded_release_all();
}

static void test_verstat_event(void **state)
{
    (void)state;
    struct stir_result r;
    memset(&r, 0, sizeof(r));
    r.reason = STIR_BAD_SIGNATURE;
    r.has_passport = true;
    r.passport.attest = STIR_ATTEST_A;
    memcpy(r.passport.orig.digits, "12155551212", 12);
    r.passport.orig.len = 11;
    memcpy(r.passport.x5u, "https://c.example/x.pem", 24);
    struct sw_event ev;
    sw_event_init(&ev, EV_IDENTITY_VERIFIED);
    stir_verstat_event(&r, &ev);
    assert_int_equal(ev.kind, EV_IDENTITY_FAILED);
    assert_string_equal(ev.module, "identity");
    assert_string_equal(ev.detail,
                        "BAD_SIGNATURE 438 attest=A orig=12155551212 x5u=https://c.example/x.pem");
    r.reason = STIR_OK;
    r.has_passport = false;
    stir_verstat_event(&r, &ev);
    assert_int_equal(ev.kind, EV_IDENTITY_VERIFIED);
    assert_string_equal(ev.detail, "OK 200");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verstat_apply_cases),
        cmocka_unit_test(test_verstat_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
