/*
 * call/privacy.c: what of the PBX's text may leave towards the provider side (#9 item
 * 8). Tables of header values in, the lines written out; each rule off copies as is.
 */
#include <string.h>

#include "call/privacy.h"
#include "support/unit.h"

static const struct privacy_rules all_on = {
    .is_phrase_standard = true,
    .is_error_body_dropped = true,
    .is_reason_sanitized = true,
    .is_retry_after_sanitized = true,
    .is_subject_dropped = true,
};

static const struct privacy_rules all_off = { 0 };

struct header_case {
    enum sip_hdr_id id;
    const char *value;
    const char *written; /* what leaves; "" = nothing */
};

static void test_privacy_headers_leave_cleaned(void **state)
{
    (void)state;
    static const struct header_case cases[] = {
        { SIP_HDR_REASON, "Q.850;cause=17;text=\"User busy at pbx01.corp.lan 10.9.8.7\"",
          "Reason: Q.850;cause=17\r\n" },
        { SIP_HDR_REASON, "SIP ; cause = 200 ; text=\"Call completed elsewhere\"",
          "Reason: SIP;cause=200\r\n" },
        /* Two values, one with a comma inside its text, one without a cause. */
        { SIP_HDR_REASON,
          "Q.850;text=\"a, b\";cause=16, SIP;text=\"Asterisk 18.1.0\", Q.850;cause=x1",
          "Reason: Q.850;cause=16\r\n" },
        { SIP_HDR_REASON, "\"quoted\";cause=1", "" },
        { SIP_HDR_RETRY_AFTER, "120 (back at 10.9.8.7 after the meeting);duration=3600",
          "Retry-After: 120\r\n" },
        { SIP_HDR_RETRY_AFTER, " 30", "Retry-After: 30\r\n" },
        { SIP_HDR_RETRY_AFTER, "soon (ask pbx01)", "" },
        { SIP_HDR_RETRY_AFTER, "12345678901", "" }, /* more than 32 bits of seconds */
        { SIP_HDR_SUBJECT, "call from pbx01.corp.lan", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char storage[512];
        struct sw_buf out;
        sw_buf_init(&out, storage, sizeof(storage));
        assert_true(privacy_header_write(&all_on, &out, cases[i].id, sv_from_cstr(cases[i].value)));
        if (!sv_eq(sw_buf_view(&out), sv_from_cstr(cases[i].written))) {
            fail_msg("case %zu: wrote '%.*s', want '%s'", i, (int)out.len, storage,
                     cases[i].written);
        }
        /* Each rule off: the caller copies the header unchanged. */
        sw_buf_init(&out, storage, sizeof(storage));
        assert_false(
            privacy_header_write(&all_off, &out, cases[i].id, sv_from_cstr(cases[i].value)));
        assert_int_equal(out.len, 0);
    }
    /* Headers the rules do not know are the caller's. */
    char storage[64];
    struct sw_buf out;
    sw_buf_init(&out, storage, sizeof(storage));
    assert_false(privacy_header_write(&all_on, &out, SIP_HDR_ALLOW, SV("INVITE, ACK")));
    assert_int_equal(out.len, 0);
}

static void test_privacy_reason_phrases_are_standard(void **state)
{
    (void)state;
    assert_string_equal(privacy_reason_phrase(486), "Busy Here");
    assert_string_equal(privacy_reason_phrase(180), "Ringing");
    assert_string_equal(privacy_reason_phrase(200), "OK");
    /* Codes RFC 3261 §21 does not list: the name of their class. */
    assert_string_equal(privacy_reason_phrase(199), "Provisional");
    assert_string_equal(privacy_reason_phrase(299), "Successful");
    assert_string_equal(privacy_reason_phrase(380), "Redirection");
    assert_string_equal(privacy_reason_phrase(499), "Request Failure");
    assert_string_equal(privacy_reason_phrase(580), "Server Failure");
    assert_string_equal(privacy_reason_phrase(699), "Global Failure");
    assert_string_equal(privacy_reason_phrase(999), "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_privacy_headers_leave_cleaned),
        cmocka_unit_test(test_privacy_reason_phrases_are_standard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
