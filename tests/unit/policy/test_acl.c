#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "policy/acl.h"
#include "stage_fixture.h"

static const char options_req[] = "OPTIONS sip:100@192.0.2.1 SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-1\r\n"
                                  "Max-Forwards: 70\r\n"
                                  "From: <sip:a@198.51.100.7>;tag=1\r\n"
                                  "To: <sip:100@192.0.2.1>\r\n"
                                  "Call-ID: acl-1\r\n"
                                  "CSeq: 1 OPTIONS\r\n"
                                  "Content-Length: 0\r\n\r\n";

static const char ack_req[] = "ACK sip:100@192.0.2.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-2\r\n"
                              "Max-Forwards: 70\r\n"
                              "From: <sip:a@198.51.100.7>;tag=1\r\n"
                              "To: <sip:100@192.0.2.1>;tag=2\r\n"
                              "Call-ID: acl-2\r\n"
                              "CSeq: 1 ACK\r\n"
                              "Content-Length: 0\r\n\r\n";

static const char base[] = "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                           "permit = 203.0.113.0/24\ndeny = 203.0.113.66/32\n"
                           "[1001]\ntype = account\nsecret = Str0ng-1001-xQ7v-long\n"
                           "permit = 10.20.0.0/16\ndeny = 10.20.30.0/24\n";

struct acl_case {
    const char *extra; /* appended [acl] section */
    const char *src;
    bool is_allowed;
};

static void test_acl_most_specific_range_decides(void **state)
{
    (void)state;
    static const struct acl_case cases[] = {
        /* No [acl] permit: anyone may try, except deny ranges. */
        { "", "198.51.100.7", true },
        { "[acl]\ndeny = 198.51.100.0/24\n", "198.51.100.7", false },
        { "[acl]\ndeny = 198.51.100.0/24\n", "198.51.101.7", true },
        /* A more specific permit inside a deny wins; a more specific deny inside a permit too. */
        { "[acl]\ndeny = 10.0.0.0/8\n", "10.0.0.5", true }, /* the PBX's /32 */
        { "[acl]\ndeny = 10.0.0.0/8\n", "10.0.0.6", false },
        { "[acl]\ndeny = 10.0.0.0/8\n", "10.20.1.1", true }, /* account 1001's /16 */
        { "[acl]\npermit = 198.51.100.0/24\ndeny = 198.51.100.128/25\n", "198.51.100.7", true },
        { "[acl]\npermit = 198.51.100.0/24\ndeny = 198.51.100.128/25\n", "198.51.100.200", false },
        /* A list with permits denies everything else, but never the known sides. */
        { "[acl]\npermit = 198.51.100.0/24\n", "192.0.2.99", false },
        { "[acl]\npermit = 198.51.100.0/24\n", "203.0.113.10", true },
        { "[acl]\npermit = 198.51.100.0/24\n", "10.0.0.5", true },
        /* Same length: deny wins. */
        { "[acl]\npermit = 192.0.2.0/24\ndeny = 192.0.2.0/24\n", "192.0.2.1", false },
        /* A trunk's deny range is denied altogether. */
        { "", "203.0.113.66", false },
        { "", "203.0.113.67", true },
        /* IPv6 and IPv4-mapped forms. */
        { "[acl]\ndeny = 2001:db8::/32\n", "2001:db8::1", false },
        { "[acl]\ndeny = 2001:db8::/32\npermit = 2001:db8:1::/48\n", "2001:db8:1::1", true },
        { "[acl]\ndeny = 198.51.100.0/24\n", "::ffff:198.51.100.7", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char conf[1024];
        (void)snprintf(conf, sizeof(conf), "%s%s", base, cases[i].extra);
        struct fixture f;
        fixture_init(&f, &acl_stage, conf);
        struct verdict v = fixture_run(&f, cases[i].src, 0, options_req);
        if ((v.action == VERDICT_CONTINUE) != cases[i].is_allowed) {
            print_error("case %zu: %s from %s\n", i, cases[i].extra, cases[i].src);
        }
        assert_int_equal(v.action, cases[i].is_allowed ? VERDICT_CONTINUE : VERDICT_DROP);
        assert_int_equal(f.event_count, cases[i].is_allowed ? 0 : 1);
        if (!cases[i].is_allowed) {
            assert_int_equal(f.events[0].kind, EV_FAILED_ACL);
            assert_string_equal(f.events[0].module, "acl");
            assert_string_equal(f.events[0].session, "acl-1");
            assert_int_equal(f.events[0].cseq, 1);
        }
        fixture_fini(&f);
    }
}

static void test_acl_deny_reply_403_but_never_to_ack(void **state)
{
    (void)state;
    char conf[1024];
    (void)snprintf(conf, sizeof(conf), "%s[acl]\ndeny = 198.51.100.0/24\ndeny_reply = 403\n", base);
    struct fixture f;
    fixture_init(&f, &acl_stage, conf);
    struct verdict v = fixture_run(&f, "198.51.100.7", 0, options_req);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 403);
    v = fixture_run(&f, "198.51.100.7", 0, ack_req);
    assert_int_equal(v.action, VERDICT_DROP);
    fixture_fini(&f);
}

static void test_acl_account_lists_apply_once_proven(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &acl_stage, base);
    const struct cfg_account *a = &f.cfg->accounts[0];
    struct sw_ip ip;
    assert_true(sw_ip_parse(SV("10.20.1.1"), &ip));
    assert_true(acl_account_permits(a, &ip));
    assert_true(sw_ip_parse(SV("10.20.30.1"), &ip)); /* the deny /24 inside the permit /16 */
    assert_false(acl_account_permits(a, &ip));
    assert_true(sw_ip_parse(SV("192.0.2.1"), &ip)); /* a list with permits */
    assert_false(acl_account_permits(a, &ip));

    /* Claimed but not proven: the account's list is not applied (no enumeration). */
    struct verdict v = fixture_run(&f, "192.0.2.1", 0, options_req);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    /* Proven (authenticated) from an address the account does not permit: denied. */
    assert_int_equal(fixture_run(&f, "192.0.2.1", 0, options_req).action, VERDICT_CONTINUE);
    f.ctx.is_authenticated = true;
    f.ctx.account = 0;
    f.event_count = 0;
    v = acl_stage.check(f.state, &f.ctx);
    assert_int_equal(v.action, VERDICT_DROP);
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_FAILED_ACL);
    fixture_fini(&f);
}

static void test_acl_gate_gets_only_absolute_denies(void **state)
{
    (void)state;
    char conf[1024];
    (void)snprintf(conf, sizeof(conf), "%s[acl]\ndeny = 10.0.0.0/8, 198.51.100.0/24\n", base);
    struct fixture f;
    fixture_init(&f, &acl_stage, conf);
    struct sw_cidr out[4];
    /* 10/8 holds the PBX's /32 and the account's /16: only the stage may judge it. */
    assert_int_equal(acl_gate_deny_ranges(f.cfg, out, 4), 1);
    char text[64];
    sw_cidr_format(&out[0], text, sizeof(text));
    assert_string_equal(text, "198.51.100.0/24");
    assert_int_equal(acl_gate_deny_ranges(f.cfg, out, 0), 0);
    fixture_fini(&f);
}

/*
 * The stage walks the ranges of every list flattened into two arrays (#13): it decides as
 * acl_source_is_allowed() does over the configuration's own lists, rule included, with
 * ranges spread over [acl], the PBX, trunks and many accounts.
 */
static void test_acl_stage_agrees_with_the_lists(void **state)
{
    (void)state;
    static char text[8192];
    struct sw_buf b;
    sw_buf_init(&b, text, sizeof(text));
    sw_buf_str(&b, base);
    sw_buf_str(&b, "[acl]\npermit = 198.51.100.0/24\ndeny = 198.51.100.128/25, 10.0.0.0/8\n");
    for (unsigned i = 0; i < 30; i++) {
        sw_buf_fmt(&b, "[%u]\ntype = account\nsecret = Str0ng-%u-xQ7v-long\n", 3000 + i, 3000 + i);
        if (i % 3 == 0) {
            sw_buf_fmt(&b, "permit = 10.%u.0.0/16\n", 100 + i);
        }
    }
    assert_false(b.is_overflow);
    struct fixture f;
    fixture_init(&f, &acl_stage, text);
    static const char *const sources[] = {
        "198.51.100.7", "198.51.100.200", "10.0.0.5",    "10.0.0.6",   "10.20.1.1",
        "10.20.30.1",   "10.103.4.5",     "10.104.4.5",  "10.127.0.1", "203.0.113.10",
        "203.0.113.66", "192.0.2.99",     "2001:db8::1",
    };
    for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
        struct sw_ip ip;
        assert_true(sw_ip_parse(sv_from_cstr(sources[i]), &ip));
        struct sw_cidr rule;
        bool is_allowed = acl_source_is_allowed(f.cfg, &ip, &rule);
        f.event_count = 0;
        struct verdict v = fixture_run(&f, sources[i], 0, options_req);
        assert_int_equal(v.action, is_allowed ? VERDICT_CONTINUE : VERDICT_DROP);
        if (!is_allowed && rule.prefix_len != 255) {
            char range[64];
            sw_cidr_format(&rule, range, sizeof(range));
            assert_non_null(strstr(f.events[0].detail, range));
        }
    }
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acl_most_specific_range_decides),
        cmocka_unit_test(test_acl_deny_reply_403_but_never_to_ack),
        cmocka_unit_test(test_acl_account_lists_apply_once_proven),
        cmocka_unit_test(test_acl_gate_gets_only_absolute_denies),
        cmocka_unit_test(test_acl_stage_agrees_with_the_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
