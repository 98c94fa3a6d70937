/* src/sip/hdr.c and method.c: name lookup, compact forms, list splitting, tokens. */
#include <ctype.h>
#include <string.h>

#include "sip/hdr.h"
#include "sip/method.h"
#include "support/unit.h"

static void test_lookup(void **state)
{
    (void)state;

    static const struct {
        const char *name;
        enum sip_hdr_id id;
    } cases[] = {
        { "Via", SIP_HDR_VIA },
        { "vIA", SIP_HDR_VIA },
        { "v", SIP_HDR_VIA },
        { "V", SIP_HDR_VIA },
        { "i", SIP_HDR_CALL_ID },
        { "m", SIP_HDR_CONTACT },
        { "f", SIP_HDR_FROM },
        { "t", SIP_HDR_TO },
        { "l", SIP_HDR_CONTENT_LENGTH },
        { "c", SIP_HDR_CONTENT_TYPE },
        { "k", SIP_HDR_SUPPORTED },
        { "s", SIP_HDR_SUBJECT },
        { "e", SIP_HDR_CONTENT_ENCODING },
        { "o", SIP_HDR_EVENT },
        { "u", SIP_HDR_ALLOW_EVENTS },
        { "r", SIP_HDR_REFER_TO },
        { "b", SIP_HDR_REFERRED_BY },
        { "x", SIP_HDR_SESSION_EXPIRES },
        { "y", SIP_HDR_IDENTITY },
        { "j", SIP_HDR_REJECT_CONTACT },
        { "d", SIP_HDR_REQUEST_DISPOSITION },
        { "a", SIP_HDR_ACCEPT_CONTACT },
        { "z", SIP_HDR_OTHER },
        { "WWW-Authenticate", SIP_HDR_WWW_AUTHENTICATE },
        { "p-asserted-identity", SIP_HDR_P_ASSERTED_IDENTITY },
        { "Call-Id", SIP_HDR_CALL_ID },
        { "CSEQ", SIP_HDR_CSEQ },
        { "Max-Forwards", SIP_HDR_MAX_FORWARDS },
        { "C%6Fntact", SIP_HDR_OTHER },
        { "Contact_", SIP_HDR_OTHER },
        { "Vias", SIP_HDR_OTHER },
        { "P-Asserted-IdentitY", SIP_HDR_P_ASSERTED_IDENTITY },
        { "P-AssertXY-Identity", SIP_HDR_OTHER },
        { "Proxy-Authorizatio", SIP_HDR_OTHER },
        { "Content-Lengtx", SIP_HDR_OTHER },
        { "Xontent-Length", SIP_HDR_OTHER },
        { "Content-Type ", SIP_HDR_OTHER },
        { "T\x0d", SIP_HDR_OTHER },
        { "", SIP_HDR_OTHER },
        { "1", SIP_HDR_OTHER },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sip_hdr_lookup(sv_from_cstr(cases[i].name)) != cases[i].id) {
            fail_msg("%s", cases[i].name);
        }
    }
    /* Every canonical name maps back to its id. */
    for (int id = 1; id < SIP_HDR_COUNT; id++) {
        assert_int_equal(sip_hdr_lookup(sip_hdr_name((enum sip_hdr_id)id)), id);
    }
    /* And in upper case: the lookup folds every byte of every length. */
    for (int id = 1; id < SIP_HDR_COUNT; id++) {
        struct sv name = sip_hdr_name((enum sip_hdr_id)id);
        char upper[64];
        assert_true(name.len < sizeof(upper));
        for (size_t i = 0; i < name.len; i++) {
            upper[i] = (char)toupper((unsigned char)name.ptr[i]);
        }
        assert_int_equal(sip_hdr_lookup(sv_make(upper, name.len)), id);
    }
    assert_int_equal(sip_hdr_name(SIP_HDR_OTHER).len, 0);
    assert_true(sip_hdr_is_list(SIP_HDR_VIA));
    assert_false(sip_hdr_is_list(SIP_HDR_CALL_ID));
}

static void test_methods(void **state)
{
    (void)state;
    for (int m = 1; m < SIP_METHOD_COUNT; m++) {
        assert_int_equal(sip_method_from_sv(sv_from_cstr(sip_method_name((enum sip_method)m))), m);
    }
    assert_int_equal(sip_method_from_sv(SV("invite")), SIP_METHOD_UNKNOWN);
    assert_int_equal(sip_method_from_sv(SV("INVITEX")), SIP_METHOD_UNKNOWN);
    assert_int_equal(sip_method_from_sv(SV("RE%47IST%45R")), SIP_METHOD_UNKNOWN);
    assert_int_equal(sip_method_from_sv(SV_NULL), SIP_METHOD_UNKNOWN);
    assert_string_equal(sip_method_name(SIP_METHOD_UNKNOWN), "");
}

static void test_list_next(void **state)
{
    (void)state;
    struct sv cur = SV(" a , \"x,\\\"y\" <sip:a,b> ;p=1,, <c> ,");
    struct sv item;
    static const char *const want[] = { "a", "\"x,\\\"y\" <sip:a,b> ;p=1", "", "<c>", "" };
    size_t n = 0;
    while (sip_list_next(&cur, &item)) {
        assert_true(n < 5);
        assert_true(sv_eq(item, sv_from_cstr(want[n])));
        n++;
    }
    assert_int_equal(n, 5);
    cur = SV("  ");
    assert_false(sip_list_next(&cur, &item));
    cur = SV_NULL;
    assert_false(sip_list_next(&cur, &item));
}

static void test_tokens_and_quotes(void **state)
{
    (void)state;
    struct sv cur = SV("abc-1.!%*_+`'~ rest");
    struct sv out;
    assert_true(sip_token_take(&cur, &out));
    assert_true(sv_eq(out, SV("abc-1.!%*_+`'~")));
    assert_false(sip_token_take(&cur, &out));
    cur = SV("\"a\\\"b\" rest");
    assert_true(sip_quoted_take(&cur, &out));
    assert_true(sv_eq(out, SV("a\\\"b")));
    assert_true(sv_eq(cur, SV(" rest")));
    cur = SV("\"open");
    assert_false(sip_quoted_take(&cur, &out));
    cur = SV("\"a\\");
    assert_false(sip_quoted_take(&cur, &out));
    cur = SV("\"a\\\r\n\"");
    assert_false(sip_quoted_take(&cur, &out));
    assert_true(sv_eq(sip_lws_trim(SV(" \r\n\ta b\r\n ")), SV("a b")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_list_next),
        cmocka_unit_test(test_tokens_and_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
