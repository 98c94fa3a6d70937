/* src/sip/nameaddr.c: name-addr / addr-spec with display names and parameters. */
#include "base/err.h"
#include "sip/nameaddr.h"
#include "support/guarded.h"
#include "support/unit.h"

static int teardown(void **state)
{
    (void)state;
    guarded_release_all();
    return 0;
}

struct na_case {
    const char *text;
    const char *display;
    const char *uri;
    const char *params;
    const char *tag;
};

static const struct na_case good[] = {
    { "\"A. G. Bell\" <sip:agb@bell-telephone.com> ;tag=a48s", "A. G. Bell",
      "sip:agb@bell-telephone.com", ";tag=a48s", "a48s" },
    { "caller<sip:caller@example.com>;tag=323", "caller", "sip:caller@example.com", ";tag=323",
      "323" },
    { "Bob  Smith <sip:b@h>", "Bob  Smith", "sip:b@h", NULL, NULL },
    { "sip:+12125551212@server.phone2net.com;tag=887s", NULL,
      "sip:+12125551212@server.phone2net.com", ";tag=887s", "887s" },
    { "<sip:a@h;lr>", NULL, "sip:a@h;lr", NULL, NULL },
    { "\"\\\"quoted\\\"\" <sip:a@h>", "\\\"quoted\\\"", "sip:a@h", NULL, NULL },
    { "<http://www.example.com>;tag=3234233", NULL, "http://www.example.com", ";tag=3234233",
      "3234233" },
    { "  sip:a@h  ;  tag = x ", NULL, "sip:a@h", ";  tag = x", "x" },
};

static void test_nameaddr_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct na_case *c = &good[i];
        struct sip_nameaddr na;
        struct sip_err err = { 0 };
        if (sip_nameaddr_parse(guarded_sv(c->text), &na, &err) != 0) {
            fail_msg("%s: %s at %zu", c->text, err.reason, err.pos);
        }
        assert_true(sv_eq(na.display, sv_from_cstr(c->display)));
        assert_true(sv_eq(na.uri_text, sv_from_cstr(c->uri)));
        assert_true(sv_eq(na.params, sv_from_cstr(c->params)));
        assert_true(sv_eq(na.tag, sv_from_cstr(c->tag)));
    }
}

static const char *const bad[] = {
    "",
    "\"Mr. J. User <sip:j.user@example.com>",
    "Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43",
    "< sip:t.watson@example.org >",
    "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
    "<sip:a@h",
    "<sip:a@h>;tag=1;tag=2",
    "<sip:a@h>;tag",
    "<sip:a@h> x",
    "\"x\" sip:a@h",
    "<sip:a@h>;;",
};

static void test_nameaddr_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sip_nameaddr na;
        struct sip_err err = { 0 };
        int rc = sip_nameaddr_parse(guarded_sv(bad[i]), &na, &err);
        if (rc == 0 || err.status != 400) {
            fail_msg("accepted bad name-addr '%s'", bad[i]);
        }
    }
}

static void test_contact(void **state)
{
    (void)state;
    struct sip_contact contact;
    struct sip_err err = { 0 };
    bool is_star = false;
    assert_int_equal(sip_contact_parse(guarded_sv(" * "), &contact, &is_star, &err), 0);
    assert_true(is_star);
    assert_int_equal(
        sip_contact_parse(guarded_sv("<sip:a@h>;q=0.7;expires=3600"), &contact, &is_star, &err), 0);
    assert_false(is_star);
    assert_true(sv_eq(contact.q, SV("0.7")));
    assert_true(sv_eq(contact.expires, SV("3600")));
    assert_int_not_equal(sip_contact_parse(guarded_sv("<sip:a@h>;;;;"), &contact, &is_star, &err),
                         0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nameaddr_good),
        cmocka_unit_test(test_nameaddr_bad),
        cmocka_unit_test(test_contact),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
