#include "policy/scanner.h"
#include "stage_fixture.h"

static const char conf[] = "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                           "[1001]\ntype = account\nsecret = Str0ng-1001-xQ7v-long\n"
                           "[scanner]\nuser_agents = EvilDialer, 9x-Dial\nmax_distinct_users = 5\n"
                           "window = 60\n";

static char request[2048];

/* A request with the given method, Request-URI user, From (whole value), extra lines. */
static const char *make(const char *method, const char *user, const char *from, const char *extra,
                        const char *cseq)
{
    (void)snprintf(request, sizeof(request),
                   "%s sip:%s@192.0.2.1 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-1\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: %s\r\n"
                   "To: <sip:%s@192.0.2.1>\r\n"
                   "Call-ID: scan-1\r\n"
                   "CSeq: %s\r\n"
                   "%s"
                   "Content-Length: 0\r\n\r\n",
                   method, user, from, user, cseq, extra);
    return request;
}

static const char clean_from[] = "<sip:alice@198.51.100.7>;tag=a1b2c3";

struct scan_case {
    const char *method;
    const char *from;
    const char *extra;
    const char *cseq;
    bool is_scanner;
};

static void test_scanner_signatures(void **state)
{
    (void)state;
    static const struct scan_case cases[] = {
        { "OPTIONS", clean_from, "User-Agent: friendly-scanner\r\n", "1 OPTIONS", true },
        { "OPTIONS", clean_from, "User-Agent: SIPVicious 0.3\r\n", "1 OPTIONS", true },
        { "REGISTER", clean_from, "User-Agent: VaxSIPUserAgent/3.1\r\n", "1 REGISTER", true },
        { "OPTIONS", clean_from, "User-Agent: pplsip\r\n", "1 OPTIONS", true },
        { "OPTIONS", clean_from, "User-Agent: sundayddr\r\n", "1 OPTIONS", true },
        { "OPTIONS", clean_from, "User-Agent: sipcli/v1.8\r\n", "1 OPTIONS", true },
        { "OPTIONS", clean_from, "User-Agent: my evildialer 2\r\n", "1 OPTIONS", true },
        /* Substrings anywhere, in any case, after near misses; first bytes not letters. */
        { "OPTIONS", clean_from, "User-Agent: evil evilDIALER\r\n", "1 OPTIONS", true },
        { "OPTIONS", clean_from, "User-Agent: 9x-dia 99x-DIAL\r\n", "1 OPTIONS", true },
        { "OPTIONS", clean_from, "User-Agent: 9x-dia 9y-dial evildiale\r\n", "1 OPTIONS", false },
        { "OPTIONS", clean_from, "User-Agent: Sipvicious\r\n", "1 OPTIONS", true },
        { "OPTIONS", clean_from, "User-Agent: baresip v1.0.0 (x86_64/linux)\r\n", "1 OPTIONS",
          false },
        { "OPTIONS", clean_from, "", "1 OPTIONS", false },
        /* svmap with -c: no User-Agent, but its From. */
        { "OPTIONS", "\"sipvicious\"<sip:100@1.1.1.1>;tag=6162", "", "1 OPTIONS", true },
        { "OPTIONS", "<sip:100@1.1.1.1>;tag=6162", "", "1 OPTIONS", true },
        /* svcrack's first REGISTER: the fixed tag; and its Contact. */
        { "REGISTER", "\"1001\" <sip:1001@192.0.2.1>;tag=3206210844", "", "1 REGISTER", true },
        { "REGISTER", clean_from, "Contact: sip:123@1.1.1.1\r\n", "1 REGISTER", true },
        /* svwar: From tag = hex("1000\x01" "123456"). */
        { "REGISTER", "\"1000\"<sip:1000@192.0.2.1>;tag=313030300131323334353637", "", "1 REGISTER",
          true },
        { "INVITE", clean_from, "Contact: sip:None@192.0.2.1\r\n", "1 INVITE", true },
        { "ACK", clean_from, "", "1  ACK", true },
        { "ACK", clean_from, "", "1 ACK", false },
        /* A random hex tag is not SIPVicious's. */
        { "OPTIONS", "<sip:a@198.51.100.7>;tag=9f3a01c47be2d580", "", "1 OPTIONS", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fixture f;
        fixture_init(&f, &scanner_stage, conf);
        const struct scan_case *c = &cases[i];
        struct verdict v = fixture_run(&f, "198.51.100.7", 1000,
                                       make(c->method, "100", c->from, c->extra, c->cseq));
        if ((v.action == VERDICT_DROP) != c->is_scanner) {
            print_error("case %zu: %s %s %s\n", i, c->method, c->from, c->extra);
        }
        assert_int_equal(v.action, c->is_scanner ? VERDICT_DROP : VERDICT_CONTINUE);
        assert_int_equal(f.event_count, c->is_scanner ? 1 : 0);
        if (c->is_scanner) {
            assert_int_equal(f.events[0].kind, EV_SCANNER);
            assert_string_equal(f.events[0].module, "scanner");
        }
        /* The same signature from the provider is not judged. */
        v = fixture_run(&f, "203.0.113.10", 1000,
                        make(c->method, "100", c->from, c->extra, c->cseq));
        assert_int_equal(v.action, VERDICT_CONTINUE);
        fixture_fini(&f);
    }
}

static void test_scanner_tag_shapes(void **state)
{
    (void)state;
    /* svmap's: "7f00000161e4" 0x01 "4294967295"; svwar's: "1000" 0x01 "1234567". */
    assert_true(scanner_tag_is_sipvicious(SV("3766303030303031363165340134323934393637323935")));
    assert_true(scanner_tag_is_sipvicious(SV("313030300131323334353637")));
    /* Longer than a 32-bit number in decimal: not createTag's. */
    assert_false(scanner_tag_is_sipvicious(SV("31303030013132333435363738393031")));
    /* A phone's random tags with a 0x01 byte between printable ones, not SIPVicious':
     * the 0x01 last, one digit after it, letters after it. */
    assert_false(scanner_tag_is_sipvicious(SV("6bf94a01")));
    assert_false(scanner_tag_is_sipvicious(SV("6b4a0135")));
    assert_false(scanner_tag_is_sipvicious(SV("6b013541")));
    assert_false(scanner_tag_is_sipvicious(SV("0131323334"))); /* 0x01 first */
    assert_false(scanner_tag_is_sipvicious(SV("3130013101"))); /* two 0x01 */
    assert_false(scanner_tag_is_sipvicious(SV("as-tag-1")));
    assert_false(scanner_tag_is_sipvicious(SV("")));
    assert_true(scanner_user_agent_is_known(SV("FRIENDLY-SCANNER")));
    assert_false(scanner_user_agent_is_known(SV("Asterisk PBX 20.1")));
    assert_true(scanner_user_agent_is_known(SV("x IwAr")));
    assert_false(scanner_user_agent_is_known(SV("iwa sivu sipsca-n")));
    assert_true(scanner_user_agent_is_known(SV("iwa sivu sip-scaN")));
}

static void test_scanner_distinct_users_within_window(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &scanner_stage, conf);
    char user[16];
    /* Five distinct users pass; repeats and the account 1001 do not count. */
    for (unsigned i = 0; i < 5; i++) {
        (void)snprintf(user, sizeof(user), "%u", 2000 + i);
        for (unsigned rep = 0; rep < 3; rep++) {
            assert_int_equal(fixture_run(&f, "198.51.100.7", 1000,
                                         make("REGISTER", user, clean_from, "", "1 REGISTER"))
                                 .action,
                             VERDICT_CONTINUE);
        }
        assert_int_equal(fixture_run(&f, "198.51.100.7", 1000,
                                     make("INVITE", "1001", clean_from, "", "1 INVITE"))
                             .action,
                         VERDICT_CONTINUE);
    }
    assert_int_equal(f.event_count, 0);
    /* A sixth source-wide is a scanner; another source is not affected. */
    assert_int_equal(
        fixture_run(&f, "198.51.100.8", 1000, make("OPTIONS", "2005", clean_from, "", "1 OPTIONS"))
            .action,
        VERDICT_CONTINUE);
    struct verdict v =
        fixture_run(&f, "198.51.100.7", 1000, make("OPTIONS", "2005", clean_from, "", "1 OPTIONS"));
    assert_int_equal(v.action, VERDICT_DROP);
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_SCANNER);
    /* After the window a source starts again. */
    for (unsigned i = 0; i < 5; i++) {
        (void)snprintf(user, sizeof(user), "%u", 3000 + i);
        assert_int_equal(fixture_run(&f, "198.51.100.7", 62000,
                                     make("OPTIONS", user, clean_from, "", "1 OPTIONS"))
                             .action,
                         VERDICT_CONTINUE);
    }
    fixture_fini(&f);
}

/* #9 IPv6: a sweep rotating through the addresses of one /64 is one source. */
static void test_scanner_ipv6_prefix_is_one_source(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &scanner_stage, conf);
    char user[16];
    char src[64];
    struct verdict v = verdict_continue();
    for (unsigned i = 0; i < 6; i++) {
        (void)snprintf(user, sizeof(user), "%u", 6000 + i);
        (void)snprintf(src, sizeof(src), "2001:db8:1:2::%x", 100 + i);
        v = fixture_run(&f, src, 1000, make("OPTIONS", user, clean_from, "", "1 OPTIONS"));
    }
    assert_int_equal(v.action, VERDICT_DROP);
    assert_int_equal(f.event_count, 1);
    /* The next /64 has its own window. */
    v = fixture_run(&f, "2001:db8:1:3::1", 1000,
                    make("OPTIONS", "6100", clean_from, "", "1 OPTIONS"));
    assert_int_equal(v.action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

static void test_scanner_table_survives_a_flood_of_one_shot_sources(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &scanner_stage, conf);
    char user[16];
    char src[32];
    for (unsigned i = 0; i < 4; i++) {
        (void)snprintf(user, sizeof(user), "%u", 4000 + i);
        (void)fixture_run(&f, "198.51.100.7", 1000,
                          make("OPTIONS", user, clean_from, "", "1 OPTIONS"));
    }
    /* 100,000 spoofed sources with one name each, far more than the table holds. */
    for (unsigned i = 0; i < 100000; i++) {
        (void)snprintf(src, sizeof(src), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        (void)fixture_run(&f, src, 1000, make("OPTIONS", "5000", clean_from, "", "1 OPTIONS"));
    }
    assert_int_equal(f.event_count, 0);
    /* The sweeping source kept its 4 names: 2 more make 6 > 5. */
    (void)fixture_run(&f, "198.51.100.7", 1000,
                      make("OPTIONS", "4100", clean_from, "", "1 OPTIONS"));
    struct verdict v =
        fixture_run(&f, "198.51.100.7", 1000, make("OPTIONS", "4101", clean_from, "", "1 OPTIONS"));
    assert_int_equal(v.action, VERDICT_DROP);
    fixture_fini(&f);
}

/* Runs `text` from `src` as a source where an account authenticated recently. */
static struct verdict run_authed(struct fixture *f, const char *src, const char *text)
{
    fixture_prepare(f, src, 1000, text);
    f->ctx.is_source_authed = true;
    return f->stage->check(f->state, &f->ctx);
}

/*
 * Issue #9.11: an authenticated phone dialling its eleventh distinct number within a
 * minute was banned for a day as an extension sweep. Sources where an account
 * authenticated do not sweep; strangers still do.
 */
static void test_scanner_authenticated_source_does_not_sweep(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &scanner_stage, conf);
    char number[16];
    for (int i = 0; i < 11; i++) {
        (void)snprintf(number, sizeof(number), "+4420794600%02d", i);
        struct verdict v =
            run_authed(&f, "198.51.100.8", make("INVITE", number, clean_from, "", "1 INVITE"));
        assert_int_equal(v.action, VERDICT_CONTINUE);
    }
    assert_int_equal(f.event_count, 0);
    struct verdict v = verdict_continue();
    for (int i = 0; i < 6; i++) {
        (void)snprintf(number, sizeof(number), "+4420794600%02d", i);
        v = fixture_run(&f, "198.51.100.9", 1000,
                        make("INVITE", number, clean_from, "", "1 INVITE"));
    }
    assert_int_equal(v.action, VERDICT_DROP);
    assert_int_equal(f.event_count, 1);
    fixture_fini(&f);
}

/* A fingerprint from such a source is still dropped, and the event says it is no ban. */
static void test_scanner_fingerprint_from_authenticated_source(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, &scanner_stage, conf);
    struct verdict v = run_authed(
        &f, "198.51.100.8",
        make("OPTIONS", "100", clean_from, "User-Agent: friendly-scanner\r\n", "1 OPTIONS"));
    assert_int_equal(v.action, VERDICT_DROP);
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_SCANNER);
    assert_non_null(strstr(f.events[0].detail, "scanner User-Agent"));
    assert_non_null(strstr(f.events[0].detail, "not banned"));
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scanner_signatures),
        cmocka_unit_test(test_scanner_tag_shapes),
        cmocka_unit_test(test_scanner_distinct_users_within_window),
        cmocka_unit_test(test_scanner_ipv6_prefix_is_one_source),
        cmocka_unit_test(test_scanner_table_survives_a_flood_of_one_shot_sources),
        cmocka_unit_test(test_scanner_authenticated_source_does_not_sweep),
        cmocka_unit_test(test_scanner_fingerprint_from_authenticated_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
