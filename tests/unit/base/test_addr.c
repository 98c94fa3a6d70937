#include <stdint.h>
#include <string.h>

#include "base/addr.h"
#include "support/unit.h"

struct cidr_case {
    const char *range;
    const char *ip;
    bool contains;
};

static void test_cidr_contains_table(void **state)
{
    (void)state;
    static const struct cidr_case cases[] = {
        { "192.0.2.0/24", "192.0.2.77", true },    { "192.0.2.0/24", "192.0.3.1", false },
        { "192.0.2.9", "192.0.2.9", true },        { "192.0.2.9", "192.0.2.10", false },
        { "0.0.0.0/0", "203.0.113.1", true },      { "0.0.0.0/0", "2001:db8::1", false },
        { "10.0.0.0/8", "::ffff:10.1.2.3", true }, { "2001:db8::/32", "2001:db8:ffff::1", true },
        { "2001:db8::/32", "2001:db9::1", false }, { "::/0", "2001:db8::1", true },
        { "127.0.0.0/8", "127.1.2.3", true },      { "192.0.2.128/25", "192.0.2.127", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sw_cidr range;
        struct sw_ip ip;
        assert_true(sw_cidr_parse(sv_from_cstr(cases[i].range), &range));
        assert_true(sw_ip_parse(sv_from_cstr(cases[i].ip), &ip));
        assert_int_equal(sw_cidr_contains(&range, &ip), cases[i].contains);
    }
}

struct aggregate_case {
    const char *ip;
    unsigned prefix_len;
    const char *key;
};

/* IPv6 sources count per prefix (#9 "IPv6"); IPv4 and mapped IPv4 stay whole. */
static void test_ip_aggregate_table(void **state)
{
    (void)state;
    static const struct aggregate_case cases[] = {
        { "2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::" },
        { "2001:db8:1:2::1", 64, "2001:db8:1:2::" },
        { "2001:db8:1:2:3::1", 56, "2001:db8:1::" },
        { "2001:db8:1:2ff::1", 60, "2001:db8:1:2f0::" },
        { "2001:db8::1", 128, "2001:db8::1" },
        { "2001:db8::1", 0, "2001:db8::1" },
        { "192.0.2.77", 64, "192.0.2.77" },
        { "::ffff:192.0.2.77", 8, "192.0.2.77" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sw_ip ip;
        struct sw_ip want;
        assert_true(sw_ip_parse(sv_from_cstr(cases[i].ip), &ip));
        assert_true(sw_ip_parse(sv_from_cstr(cases[i].key), &want));
        struct sw_ip got = sw_ip_aggregate(&ip, cases[i].prefix_len);
        assert_true(sw_ip_eq(&got, &want));
    }
}

/* Every IPv4 octet width (written by hand, not inet_ntop) and IPv6 round-trip as text. */
static void test_ip_format_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "0.0.0.0",     "255.255.255.255", "10.0.0.1",    "192.0.2.77",
        "100.64.9.99", "1.20.199.200",    "2001:db8::1", "::",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct sw_ip ip;
        assert_true(sw_ip_parse(sv_from_cstr(texts[i]), &ip));
        char out[SW_ADDR_STRLEN];
        memset(out, 'x', sizeof(out));
        sw_ip_format(&ip, out, sizeof(out));
        assert_string_equal(out, texts[i]);
    }
    /* Too small a buffer for any IPv4 text: empty, never truncated. */
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr("192.0.2.77"), &ip));
    char small[8];
    sw_ip_format(&ip, small, sizeof(small));
    assert_string_equal(small, "");
}

static void test_cidr_rejects_bad_input(void **state)
{
    (void)state;
    static const char *const bad[] = { "",    "192.0.2.0/33", "192.0.2/24",  "2001:db8::/129",
                                       "x/1", "192.0.2.0/",   "192.0.2.0/-1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sw_cidr range;
        assert_false(sw_cidr_parse(sv_from_cstr(bad[i]), &range));
    }
    struct sw_cidr range;
    char text[SW_ADDR_STRLEN];
    assert_true(sw_cidr_parse(SV("192.0.2.77/24"), &range));
    sw_cidr_format(&range, text, sizeof(text));
    assert_string_equal(text, "192.0.2.0/24");
}

static void test_sockaddr_parse_and_format(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char text[SW_ADDR_STRLEN];
    assert_true(sw_sockaddr_parse(SV("127.0.0.1:5060"), 0, &ss));
    sw_sockaddr_format(&ss, text, sizeof(text));
    assert_string_equal(text, "127.0.0.1:5060");
    assert_true(sw_sockaddr_parse(SV("[::1]:5061"), 0, &ss));
    sw_sockaddr_format(&ss, text, sizeof(text));
    assert_string_equal(text, "[::1]:5061");
    assert_true(sw_sockaddr_parse(SV("::1"), 5060, &ss));
    assert_int_equal(sw_sockaddr_port(&ss), 5060);
    assert_true(sw_sockaddr_parse(SV("10.0.0.1"), 5090, &ss));
    assert_int_equal(sw_sockaddr_port(&ss), 5090);
    assert_false(sw_sockaddr_parse(SV("10.0.0.1:70000"), 0, &ss));
    assert_false(sw_sockaddr_parse(SV("[::1"), 0, &ss));
    assert_false(sw_sockaddr_parse(SV("host.example:5060"), 0, &ss));
    struct sockaddr_storage other;
    assert_true(sw_sockaddr_parse(SV("10.0.0.1:5090"), 0, &other));
    assert_true(sw_sockaddr_eq(&ss, &other));
}

/* An IP to a socket address and back: IPv4 as AF_INET, IPv6 as AF_INET6, port 0. */
static void test_ip_to_sockaddr_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = { "192.0.2.7", "2001:db8::1", "::ffff:198.51.100.9" };
    static const int families[] = { AF_INET, AF_INET6, AF_INET };
    for (size_t i = 0; i < 3; i++) {
        struct sw_ip ip;
        struct sw_ip back;
        struct sockaddr_storage ss;
        assert_true(sw_ip_parse(sv_from_cstr(texts[i]), &ip));
        sw_ip_to_sockaddr(&ip, &ss);
        assert_int_equal(ss.ss_family, families[i]);
        assert_int_equal(sw_sockaddr_port(&ss), 0);
        assert_true(sw_ip_from_sockaddr(&ss, &back));
        assert_true(sw_ip_eq(&ip, &back));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_contains_table),
        cmocka_unit_test(test_cidr_rejects_bad_input),
        cmocka_unit_test(test_ip_format_round_trip),
        cmocka_unit_test(test_ip_aggregate_table),
        cmocka_unit_test(test_sockaddr_parse_and_format),
        cmocka_unit_test(test_ip_to_sockaddr_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
