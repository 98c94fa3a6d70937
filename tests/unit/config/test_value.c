#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "config/keys.h"
#include "config/value.h"
#include "support/guarded.h"
#include "support/unit.h"

struct bool_case {
    const char *text;
    bool is_valid;
    bool value;
};

static void test_value_bool(void **state)
{
    (void)state;
    static const struct bool_case cases[] = {
        { "yes", true, true },    { "YES", true, true },      { "true", true, true },
        { "on", true, true },     { "1", true, true },        { "no", true, false },
        { "False", true, false }, { "off", true, false },     { "0", true, false },
        { "", false, false },     { "y", false, false },      { "2", false, false },
        { "yes ", false, false }, { "enable", false, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool value = !cases[i].value;
        assert_int_equal(cfg_value_bool(guarded_sv(cases[i].text), &value), cases[i].is_valid);
        if (cases[i].is_valid) {
            assert_int_equal(value, cases[i].value);
        }
    }
}

struct number_case {
    const char *text;
    bool is_valid;
    uint32_t value;
};

static void test_value_uint(void **state)
{
    (void)state;
    static const struct number_case cases[] = {
        { "0", false, 0 },   { "1", true, 1 },           { "256", true, 256 }, { "257", false, 0 },
        { "007", true, 7 },  { "", false, 0 },           { "-1", false, 0 },   { "+1", false, 0 },
        { "1.5", false, 0 }, { "4294967296", false, 0 }, { "12a", false, 0 },  { " 1", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t value = 0;
        const char *why = NULL;
        bool is_valid = cfg_value_uint(guarded_sv(cases[i].text), 1, 256, &value, &why);
        assert_int_equal(is_valid, cases[i].is_valid);
        if (is_valid) {
            assert_int_equal(value, cases[i].value);
        } else {
            assert_non_null(why);
        }
    }
}

static void test_value_duration(void **state)
{
    (void)state;
    static const struct number_case cases[] = {
        { "300", true, 300 },
        { "300s", true, 300 },
        { "5m", true, 300 },
        { "2h", true, 7200 },
        { "1d", true, 86400 },
        { "0", true, 0 },
        { "30d", true, 2592000 },
        { "31d", false, 0 },
        { "5M", false, 0 },
        { "m", false, 0 },
        { "", false, 0 },
        { "5 m", false, 0 },
        { "1w", false, 0 },
        { "-5m", false, 0 },
        { "99999999999", false, 0 },
        { "1h30m", false, 0 },
        { "4294967295d", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t value = 12345;
        const char *why = NULL;
        bool is_valid = cfg_value_duration(guarded_sv(cases[i].text), 0, 2592000, &value, &why);
        assert_int_equal(is_valid, cases[i].is_valid);
        if (is_valid) {
            assert_int_equal(value, cases[i].value);
        }
    }
}

static void test_value_enum(void **state)
{
    (void)state;
    unsigned int index = 99;
    assert_true(cfg_value_enum(SV("err"), "err|warn|notice", &index));
    assert_int_equal(index, 0);
    assert_true(cfg_value_enum(SV("NOTICE"), "err|warn|notice", &index));
    assert_int_equal(index, 2);
    assert_false(cfg_value_enum(SV("war"), "err|warn|notice", &index));
    assert_false(cfg_value_enum(SV(""), "err|warn|notice", &index));
    assert_false(cfg_value_enum(SV("err|warn"), "err|warn|notice", &index));
    assert_false(cfg_value_enum(SV("1.1"), "1.2|1.3", &index));
    assert_true(cfg_value_enum(SV("1.3"), "1.2|1.3", &index));
    assert_int_equal(index, 1);
}

struct text_case {
    const char *text;
    bool is_valid;
};

static void test_value_host_user_number_hex(void **state)
{
    (void)state;
    static const struct text_case hosts[] = {
        { "192.0.2.1", true },
        { "2001:db8::1", true },
        { "[2001:db8::1]", true },
        { "sip.example.com", true },
        { "a-b.example", true },
        { "localhost", true },
        { "", false },
        { "-a.example", false },
        { "a..b", false },
        { "a.example.", false },
        { "a_b.example", false },
        { "192.0.2.256", false },
        { "1.2.3", false },
        { "[192.0.2.1", false },
        { "exa mple.com", false },
    };
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        const char *why = NULL;
        assert_int_equal(cfg_value_host(guarded_sv(hosts[i].text), &why), hosts[i].is_valid);
    }
    static const struct text_case users[] = {
        { "1001", true }, { "alice.smith", true }, { "a%20b", true }, { "+15551230000", true },
        { "", false },    { "a b", false },        { "a@b", false },  { "a%2", false },
        { "a:b", false }, { "a\"b", false },       { "<a>", false },
    };
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        const char *why = NULL;
        assert_int_equal(cfg_value_user(guarded_sv(users[i].text), &why), users[i].is_valid);
    }
    static const struct text_case numbers[] = {
        { "1", true },    { "+15551230000", true }, { "123456789012345", true },
        { "", false },    { "+", false },           { "1234567890123456", false },
        { "1-2", false }, { "++1", false },         { "+1 555", false },
    };
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        const char *why = NULL;
        assert_int_equal(cfg_value_number(guarded_sv(numbers[i].text), &why), numbers[i].is_valid);
    }
    const char *why = NULL;
    assert_true(cfg_value_hex(SV("95e27271f31510e991d483eef1cd5955"), 32, &why));
    assert_true(cfg_value_hex(SV("95E27271F31510E991D483EEF1CD5955"), 32, &why));
    assert_false(cfg_value_hex(SV("95e27271f31510e991d483eef1cd595"), 32, &why));
    assert_false(cfg_value_hex(SV("95e27271f31510e991d483eef1cd5955"), 64, &why));
    assert_false(cfg_value_hex(SV("95e27271f31510e991d483eef1cd595g"), 32, &why));
}

struct endpoint_case {
    const char *text;
    const char *host;
    enum sw_transport transport;
    uint16_t port;
    bool is_valid;
    bool is_ip;
};

static void test_value_endpoint(void **state)
{
    (void)state;
    static const struct endpoint_case cases[] = {
        { "udp:192.0.2.1:5070", "192.0.2.1", SW_TRANSPORT_UDP, 5070, true, true },
        { "udp:192.0.2.1", "192.0.2.1", SW_TRANSPORT_UDP, 5060, true, true },
        { "TCP:192.0.2.1", "192.0.2.1", SW_TRANSPORT_TCP, 5060, true, true },
        { "tls:sip.example.com", "sip.example.com", SW_TRANSPORT_TLS, 5061, true, false },
        { "tls:sip.example.com:5081", "sip.example.com", SW_TRANSPORT_TLS, 5081, true, false },
        { "udp:[2001:db8::1]:5062", "2001:db8::1", SW_TRANSPORT_UDP, 5062, true, true },
        { "tls:[2001:db8::1]", "2001:db8::1", SW_TRANSPORT_TLS, 5061, true, true },
        { "udp:2001:db8::1", "", SW_TRANSPORT_UDP, 0, false, false },
        { "192.0.2.1:5060", "", SW_TRANSPORT_UDP, 0, false, false },
        { "sctp:192.0.2.1", "", SW_TRANSPORT_UDP, 0, false, false },
        { "udp:192.0.2.1:0", "", SW_TRANSPORT_UDP, 0, false, false },
        { "udp:192.0.2.1:65536", "", SW_TRANSPORT_UDP, 0, false, false },
        { "udp:192.0.2.1:", "", SW_TRANSPORT_UDP, 0, false, false },
        { "udp:", "", SW_TRANSPORT_UDP, 0, false, false },
        { "udp:[2001:db8::1", "", SW_TRANSPORT_UDP, 0, false, false },
        { "udp:[2001:db8::1]x", "", SW_TRANSPORT_UDP, 0, false, false },
        { "udp:bad_host", "", SW_TRANSPORT_UDP, 0, false, false },
        { "", "", SW_TRANSPORT_UDP, 0, false, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg_endpoint endpoint;
        memset(&endpoint, 0, sizeof(endpoint));
        const char *why = NULL;
        bool is_valid = cfg_value_endpoint(guarded_sv(cases[i].text), &endpoint, &why);
        assert_int_equal(is_valid, cases[i].is_valid);
        if (!is_valid) {
            assert_false(endpoint.is_set);
            continue;
        }
        assert_true(endpoint.is_set);
        assert_int_equal(endpoint.transport, cases[i].transport);
        assert_string_equal(endpoint.host, cases[i].host);
        assert_int_equal(endpoint.port, cases[i].port);
        assert_int_equal(endpoint.is_ip, cases[i].is_ip);
        if (endpoint.is_ip) {
            assert_int_equal(sw_sockaddr_port(&endpoint.addr), cases[i].port);
        }
    }
}

static void test_value_hostport(void **state)
{
    (void)state;
    struct cfg_endpoint endpoint;
    const char *why = NULL;
    assert_true(cfg_value_hostport(SV("127.0.0.1:8080"), 9, &endpoint, &why));
    assert_int_equal(endpoint.port, 8080);
    assert_true(endpoint.is_ip);
    assert_true(cfg_value_hostport(SV("redis.internal"), 6379, &endpoint, &why));
    assert_int_equal(endpoint.port, 6379);
    assert_false(endpoint.is_ip);
    assert_true(cfg_value_hostport(SV("[::1]:6380"), 6379, &endpoint, &why));
    assert_string_equal(endpoint.host, "::1");
    assert_false(cfg_value_hostport(SV("::1:6380"), 6379, &endpoint, &why));
    assert_false(cfg_value_hostport(SV("127.0.0.1:http"), 6379, &endpoint, &why));
}

struct pattern_case {
    const char *text;
    bool is_valid;
    enum cfg_number_kind kind;
};

static void test_value_number_patterns(void **state)
{
    (void)state;
    static const struct pattern_case cases[] = {
        { "+15551230000", true, CFG_NUMBER_EXACT },
        { "+15551230000-+15551230099", true, CFG_NUMBER_RANGE },
        { "+15551230000 - +15551230099", true, CFG_NUMBER_RANGE },
        { "+4930123*", true, CFG_NUMBER_PREFIX },
        { "15551230000", false, CFG_NUMBER_EXACT },
        { "+15551230099-+15551230000", false, CFG_NUMBER_EXACT },
        { "+1555123000-+15551230099", false, CFG_NUMBER_EXACT },
        { "+*", false, CFG_NUMBER_EXACT },
        { "+49301*3", false, CFG_NUMBER_EXACT },
        { "+1234567890123456", false, CFG_NUMBER_EXACT },
        { "", false, CFG_NUMBER_EXACT },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg_number_pattern pattern;
        const char *why = NULL;
        bool is_valid = cfg_value_number_pattern(guarded_sv(cases[i].text), &pattern, &why);
        assert_int_equal(is_valid, cases[i].is_valid);
        if (is_valid) {
            assert_int_equal(pattern.kind, cases[i].kind);
        }
    }
    struct cfg_number_pattern patterns[3];
    const char *why = NULL;
    assert_true(cfg_value_number_pattern(SV("+15551230000-+15551230099"), &patterns[0], &why));
    assert_true(cfg_value_number_pattern(SV("+4930123*"), &patterns[1], &why));
    assert_true(cfg_value_number_pattern(SV("+442071234567"), &patterns[2], &why));
    struct cfg_numbers numbers = { .items = patterns, .count = 3 };
    assert_true(cfg_numbers_contains(&numbers, SV("+15551230000")));
    assert_true(cfg_numbers_contains(&numbers, SV("+15551230042")));
    assert_true(cfg_numbers_contains(&numbers, SV("+15551230099")));
    assert_false(cfg_numbers_contains(&numbers, SV("+15551230100")));
    assert_false(cfg_numbers_contains(&numbers, SV("+1555123004")));
    assert_true(cfg_numbers_contains(&numbers, SV("+49301234567")));
    assert_false(cfg_numbers_contains(&numbers, SV("+4930124567")));
    assert_true(cfg_numbers_contains(&numbers, SV("+442071234567")));
    assert_false(cfg_numbers_contains(&numbers, SV("+4420712345678")));
}

static void test_value_date_and_algorithm(void **state)
{
    (void)state;
    int64_t when = 0;
    const char *why = NULL;
    assert_true(cfg_value_date(SV("2024-02-29"), &when, &why));
    assert_int_equal(when, 1709164800);
    assert_true(cfg_value_date(SV("2000-01-01"), &when, &why));
    assert_int_equal(when, 946684800);
    assert_false(cfg_value_date(SV("2023-02-29"), &when, &why));
    assert_false(cfg_value_date(SV("2100-02-29"), &when, &why));
    assert_false(cfg_value_date(SV("2024-13-01"), &when, &why));
    assert_false(cfg_value_date(SV("2024-04-31"), &when, &why));
    assert_false(cfg_value_date(SV("1999-12-31"), &when, &why));
    assert_false(cfg_value_date(SV("2024-1-01"), &when, &why));
    assert_false(cfg_value_date(SV("24-01-01xx"), &when, &why));
    enum cfg_digest_algorithm algorithm;
    assert_true(cfg_value_algorithm(SV("sha-256"), &algorithm));
    assert_int_equal(algorithm, CFG_DIGEST_SHA256);
    assert_true(cfg_value_algorithm(SV("SHA-512-256"), &algorithm));
    assert_int_equal(algorithm, CFG_DIGEST_SHA512_256);
    assert_false(cfg_value_algorithm(SV("SHA-1"), &algorithm));
}

/* A section struct for cfg_value_set: the trunk has every list type but LISTEN. */
static const struct cfg_key_desc *key(enum cfg_section_kind kind, const char *name)
{
    const struct cfg_key_desc *desc = cfg_keys_find(kind, sv_from_cstr(name));
    assert_non_null(desc);
    return desc;
}

static void test_value_set_lists_append_and_replace(void **state)
{
    (void)state;
    struct cfg_trunk trunk;
    memset(&trunk, 0, sizeof(trunk));
    char msg[256];
    const struct cfg_key_desc *permit = key(CFG_SECTION_TRUNK, "permit");
    assert_int_equal(
        cfg_value_set(permit, &trunk, SV("192.0.2.0/24, 2001:db8::/32"), false, msg, sizeof(msg)),
        0);
    assert_int_equal(trunk.permit.count, 2);
    assert_int_equal(cfg_value_set(permit, &trunk, SV("198.51.100.7"), true, msg, sizeof(msg)), 0);
    assert_int_equal(trunk.permit.count, 3);
    /* A bad item leaves the list as it was. */
    assert_int_equal(
        cfg_value_set(permit, &trunk, SV("203.0.113.0/24, 10.0.0.1/8"), true, msg, sizeof(msg)),
        -SW_ECONFIG);
    assert_int_equal(trunk.permit.count, 3);
    assert_non_null(strstr(msg, "\"10.0.0.1/8\""));
    assert_int_equal(
        cfg_value_set(permit, &trunk, SV("10.0.0.0/8,,10.1.0.0/16"), true, msg, sizeof(msg)),
        -SW_ECONFIG);
    assert_non_null(strstr(msg, "empty item"));
    assert_int_equal(cfg_value_set(permit, &trunk, SV("10.0.0.0/8"), false, msg, sizeof(msg)), 0);
    assert_int_equal(trunk.permit.count, 1);
    assert_int_equal(cfg_value_set(permit, &trunk, SV(""), false, msg, sizeof(msg)), 0);
    assert_int_equal(trunk.permit.count, 0);

    const struct cfg_key_desc *numbers = key(CFG_SECTION_TRUNK, "owned_numbers");
    assert_int_equal(
        cfg_value_set(numbers, &trunk, SV("+15551230000, +4930123*"), false, msg, sizeof(msg)), 0);
    assert_int_equal(trunk.owned_numbers.count, 2);
    struct cfg_pbx pbx;
    memset(&pbx, 0, sizeof(pbx));
    const struct cfg_key_desc *hide = key(CFG_SECTION_PBX, "hide_headers");
    assert_int_equal(cfg_value_set(hide, &pbx, SV(" User-Agent ,X-* "), false, msg, sizeof(msg)),
                     0);
    assert_int_equal(pbx.hide_headers.count, 2);
    assert_string_equal(pbx.hide_headers.items[0], "User-Agent");
    assert_string_equal(pbx.hide_headers.items[1], "X-*");
    assert_int_equal(cfg_value_set(hide, &pbx, SV("Server,,"), true, msg, sizeof(msg)),
                     -SW_ECONFIG);
    assert_int_equal(pbx.hide_headers.count, 2);
    cfg_value_free(hide, &pbx);
    cfg_value_free(permit, &trunk);
    cfg_value_free(numbers, &trunk);
    assert_null(pbx.hide_headers.items);
    assert_int_equal(trunk.permit.count, 0);
}

static void test_value_set_secrets_are_never_quoted(void **state)
{
    (void)state;
    struct cfg_account account;
    memset(&account, 0, sizeof(account));
    char msg[256];
    const struct cfg_key_desc *ha1 = key(CFG_SECTION_ACCOUNT, "ha1");
    assert_int_equal(cfg_value_set(ha1, &account, SV("s3cretvalue"), false, msg, sizeof(msg)),
                     -SW_ECONFIG);
    assert_null(strstr(msg, "s3cret"));
    assert_int_equal(cfg_value_set(ha1, &account, SV("95E27271F31510E991D483EEF1CD5955"), false,
                                   msg, sizeof(msg)),
                     0);
    assert_string_equal(account.ha1, "95e27271f31510e991d483eef1cd5955");
    cfg_value_free(ha1, &account);
    assert_null(account.ha1);

    const struct cfg_key_desc *workers = key(CFG_SECTION_GENERAL, "workers");
    struct cfg_general general;
    memset(&general, 0, sizeof(general));
    assert_int_equal(cfg_value_set(workers, &general, SV("999"), false, msg, sizeof(msg)),
                     -SW_ECONFIG);
    assert_string_equal(msg, "bad value \"999\": out of range (0..256)");
    const struct cfg_key_desc *level = key(CFG_SECTION_GENERAL, "log_level");
    assert_int_equal(cfg_value_set(level, &general, SV("loud"), false, msg, sizeof(msg)),
                     -SW_ECONFIG);
    assert_string_equal(msg, "bad value \"loud\": expected one of err|warn|notice|info|debug");
    assert_int_equal(cfg_value_set(level, &general, SV("Debug"), false, msg, sizeof(msg)), 0);
    assert_int_equal(general.log_level, CFG_LOG_DEBUG);
}

static void test_value_algorithms(void **state)
{
    (void)state;
    struct cfg_auth auth;
    memset(&auth, 0, sizeof(auth));
    char msg[256];
    const struct cfg_key_desc *algorithms = key(CFG_SECTION_AUTH, "algorithms");
    assert_int_equal(
        cfg_value_set(algorithms, &auth, SV("SHA-512-256, sha-256, MD5"), false, msg, sizeof(msg)),
        0);
    assert_int_equal(auth.algorithms.count, 3);
    assert_int_equal(auth.algorithms.items[0], CFG_DIGEST_SHA512_256);
    assert_int_equal(auth.algorithms.items[2], CFG_DIGEST_MD5);
    assert_int_equal(cfg_value_set(algorithms, &auth, SV("MD5, MD5"), false, msg, sizeof(msg)),
                     -SW_ECONFIG);
    assert_int_equal(cfg_value_set(algorithms, &auth, SV(""), false, msg, sizeof(msg)),
                     -SW_ECONFIG);
    assert_int_equal(cfg_value_set(algorithms, &auth, SV("SHA-1"), false, msg, sizeof(msg)),
                     -SW_ECONFIG);
    assert_int_equal(auth.algorithms.count, 3);
}

static void test_edit_distance(void **state)
{
    (void)state;
    assert_int_equal(cfg_edit_distance(SV("permit"), SV("permit"), 2), 0);
    assert_int_equal(cfg_edit_distance(SV("permt"), SV("permit"), 2), 1);
    assert_int_equal(cfg_edit_distance(SV("prmt"), SV("permit"), 2), 2);
    assert_int_equal(cfg_edit_distance(SV("deny"), SV("permit"), 2), 3);
    assert_int_equal(cfg_edit_distance(SV(""), SV("ab"), 2), 2);
    assert_int_equal(cfg_edit_distance(SV("general"), SV("genral"), 2), 1);
    assert_int_equal(cfg_edit_distance(SV("tls"), SV("tsl"), 2), 1);
    assert_int_equal(cfg_edit_distance(SV("maxretry"), SV("mxaretyr"), 2), 2);
    assert_int_equal(cfg_edit_distance(SV("abcdef"), SV("badcfe"), 2), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_bool),
        cmocka_unit_test(test_value_uint),
        cmocka_unit_test(test_value_duration),
        cmocka_unit_test(test_value_enum),
        cmocka_unit_test(test_value_host_user_number_hex),
        cmocka_unit_test(test_value_endpoint),
        cmocka_unit_test(test_value_hostport),
        cmocka_unit_test(test_value_number_patterns),
        cmocka_unit_test(test_value_date_and_algorithm),
        cmocka_unit_test(test_value_set_lists_append_and_replace),
        cmocka_unit_test(test_value_set_secrets_are_never_quoted),
        cmocka_unit_test(test_value_algorithms),
        cmocka_unit_test(test_edit_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
