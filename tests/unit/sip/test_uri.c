/* src/sip/uri.c: SIP/SIPS/tel/absolute URIs, parameters, escapes. */
#include <string.h>

#include "base/err.h"
#include "sip/uri.h"
#include "support/guarded.h"
#include "support/unit.h"

static int teardown(void **state)
{
    (void)state;
    guarded_release_all();
    return 0;
}

struct uri_case {
    const char *text;
    enum sip_uri_scheme scheme;
    const char *user;
    const char *password;
    const char *host;
    int port; /* -1: none */
    const char *params;
    const char *headers;
};

static const struct uri_case good[] = {
    { "sip:alice@example.com", SIP_URI_SIP, "alice", NULL, "example.com", -1, NULL, NULL },
    { "SIPS:bob:secret@[2001:db8::1]:5061;transport=tls;lr", SIP_URI_SIPS, "bob", "secret",
      "[2001:db8::1]", 5061, ";transport=tls;lr", NULL },
    { "sip:192.0.2.1:5060", SIP_URI_SIP, NULL, NULL, "192.0.2.1", 5060, NULL, NULL },
    { "sip:user;par=u%40example.net@example.com", SIP_URI_SIP, "user;par=u%40example.net", NULL,
      "example.com", -1, NULL, NULL },
    { "sip:a@h?Route=%3Csip:x%3E&Subject=", SIP_URI_SIP, "a", NULL, "h", -1, NULL,
      "Route=%3Csip:x%3E&Subject=" },
    { "sip:%61lice@h;maddr=[::1]", SIP_URI_SIP, "%61lice", NULL, "h", -1, ";maddr=[::1]", NULL },
    { "sip:+1-212-555-1212:1234@gateway.com;user=phone", SIP_URI_SIP, "+1-212-555-1212", "1234",
      "gateway.com", -1, ";user=phone", NULL },
    { "sip:[2001:db8::10:5070]", SIP_URI_SIP, NULL, NULL, "[2001:db8::10:5070]", -1, NULL, NULL },
    { "sip:h:0", SIP_URI_SIP, NULL, NULL, "h", 0, NULL, NULL },
    { "sip:h:65535", SIP_URI_SIP, NULL, NULL, "h", 65535, NULL, NULL },
    /* The one-pass forms, and their near misses that the general parse takes. */
    { "Sip:+15551234567@trunk.example.net;user=phone", SIP_URI_SIP, "+15551234567", NULL,
      "trunk.example.net", -1, ";user=phone", NULL },
    { "sip:1001@203.0.113.10:05060;transport=udp;lr", SIP_URI_SIP, "1001", NULL, "203.0.113.10",
      5060, ";transport=udp;lr", NULL },
    { "sip:pbx.example.org", SIP_URI_SIP, NULL, NULL, "pbx.example.org", -1, NULL, NULL },
    { "sip:h;x=y@z", SIP_URI_SIP, "h;x=y", NULL, "z", -1, NULL, NULL },
    { "sip:h:1@z", SIP_URI_SIP, "h", "1", "z", -1, NULL, NULL },
    { "sip:a@h;p=%41", SIP_URI_SIP, "a", NULL, "h", -1, ";p=%41", NULL },
    { "sip:a@h:5060?x=y", SIP_URI_SIP, "a", NULL, "h", 5060, NULL, "x=y" },
};

static void test_uri_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct uri_case *c = &good[i];
        struct sip_uri uri;
        struct sip_err err = { 0 };
        if (sip_uri_parse(guarded_sv(c->text), &uri, &err) != 0) {
            fail_msg("%s: %s at %zu", c->text, err.reason, err.pos);
        }
        assert_int_equal(uri.scheme, c->scheme);
        assert_true(sv_eq(uri.user, sv_from_cstr(c->user)));
        assert_true(sv_eq(uri.password, sv_from_cstr(c->password)));
        assert_true(sv_eq(uri.host, sv_from_cstr(c->host)));
        assert_int_equal(uri.has_port, c->port >= 0);
        assert_int_equal(uri.port, c->port >= 0 ? c->port : 0);
        assert_true(sv_eq(uri.params, sv_from_cstr(c->params)));
        assert_true(sv_eq(uri.headers, sv_from_cstr(c->headers)));
    }
}

struct bad_uri {
    const char *text;
    size_t pos;
};

static const struct bad_uri bad[] = {
    { "sip:alice@", 10 },   { "sip:", 4 },       { "<sip:a@b>", 0 }, { "sip:2001:db8::10", 9 },
    { "sip:a@h:65536", 8 }, { "sip:a@h:", 8 },   { "sip:a@h;", 8 },  { "sip:a@h;;lr", 8 },
    { "sip:a%4@h", 5 },     { "sip:a@[::1", 6 }, { "sip:a@h x", 7 }, { "1sip:a@b", 0 },
    { "sip:a b@h", 5 },     { "sip:a@-h", 6 },   { "sip:a@h?x", 9 }, { "nobody:", 7 },
    { "tel:", 4 },          { "sip: a@b", 4 },
};

static void test_uri_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sip_uri uri;
        struct sip_err err = { 0 };
        int rc = sip_uri_parse(guarded_sv(bad[i].text), &uri, &err);
        if (rc != -SW_EBADURI || err.pos != bad[i].pos || err.status != 400) {
            fail_msg("%s: rc %d pos %zu (%s)", bad[i].text, rc, err.pos,
                     err.reason ? err.reason : "-");
        }
    }
}

static void test_uri_other_schemes(void **state)
{
    (void)state;
    struct sip_uri uri;
    struct sip_err err = { 0 };
    assert_int_equal(sip_uri_parse(guarded_sv("tel:+1-201-555-0123;phone-context=x"), &uri, &err),
                     0);
    assert_int_equal(uri.scheme, SIP_URI_TEL);
    assert_true(sv_eq(uri.tel_number, SV("+1-201-555-0123")));
    assert_true(sv_eq(uri.params, SV(";phone-context=x")));
    assert_int_equal(sip_uri_parse(guarded_sv("soap.beep://192.0.2.103:3002"), &uri, &err), 0);
    assert_int_equal(uri.scheme, SIP_URI_OTHER);
    assert_true(sv_eq(uri.scheme_text, SV("soap.beep")));
    assert_true(sv_eq(uri.opaque, SV("//192.0.2.103:3002")));
}

static void test_params_find(void **state)
{
    (void)state;
    struct sv value;
    assert_true(sip_params_find(SV(";transport=TCP;lr"), SV("lr"), &value));
    assert_true(sv_is_present(value));
    assert_int_equal(value.len, 0);
    assert_true(sip_params_find(SV(";transport=TCP;lr"), SV("TRANSPORT"), &value));
    assert_true(sv_eq(value, SV("TCP")));
    assert_true(sip_params_find(SV(" ; tag = 12 ;x=\"a;b\""), SV("x"), &value));
    assert_true(sv_eq(value, SV("\"a;b\"")));
    assert_true(sip_params_find(SV(" ; tag = 12 ;x=\"a;b\""), SV("tag"), &value));
    assert_true(sv_eq(value, SV("12")));
    assert_false(sip_params_find(SV(";lr"), SV("l"), &value));
    assert_false(sip_params_find(SV_NULL, SV("l"), &value));
    assert_false(sip_params_find(SV(";;;"), SV(""), &value));

    struct sv cur = SV(" ;a=1 ; b ;c=[::1];d=\"q\\\"x\"");
    struct sv name;
    int count = 0;
    while (sip_params_next(&cur, &name, &value) == 1) {
        count++;
    }
    assert_int_equal(count, 4);
    cur = SV(";a=1;;b");
    assert_int_equal(sip_params_next(&cur, &name, &value), 1);
    assert_int_equal(sip_params_next(&cur, &name, &value), -1);
    cur = SV(";a=");
    assert_int_equal(sip_params_next(&cur, &name, &value), -1);
    cur = SV("x");
    assert_int_equal(sip_params_next(&cur, &name, &value), -1);
}

static void test_unescape(void **state)
{
    (void)state;
    char out[16];
    size_t len = 0;
    assert_int_equal(sip_uri_unescape(SV("a%00b%41"), out, sizeof(out), &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "a\0bA", 4);
    assert_int_equal(sip_uri_unescape(SV("a%4"), out, sizeof(out), &len), -SW_EBADURI);
    assert_int_equal(sip_uri_unescape(SV("a%zz"), out, sizeof(out), &len), -SW_EBADURI);
    assert_int_equal(sip_uri_unescape(SV("abc"), out, 2, &len), -SW_EFULL);
    assert_true(sip_uri_escaped_eq(SV("%61lice"), SV("alice")));
    assert_false(sip_uri_escaped_eq(SV("%61lice"), SV("Alice")));
    assert_false(sip_uri_escaped_eq(SV("%00"), SV("%00%00")));
    assert_false(sip_uri_escaped_eq(SV("%0"), SV("%0")));
    bool is_ipv6 = false;
    assert_int_equal(sip_host_len(SV("[::1]:5060"), &is_ipv6), 5);
    assert_true(is_ipv6);
    assert_int_equal(sip_host_len(SV("a.b;x"), &is_ipv6), 3);
    assert_false(is_ipv6);
    assert_int_equal(sip_host_len(SV(";x"), &is_ipv6), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri_good),          cmocka_unit_test(test_uri_bad),
        cmocka_unit_test(test_uri_other_schemes), cmocka_unit_test(test_params_find),
        cmocka_unit_test(test_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
