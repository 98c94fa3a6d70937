#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "config/config.h"
#include "support/unit.h"
#include "tools/firewall.h"

static struct cfg *load(const char *text)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("test.conf", text, &diag);
    if (cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    assert_non_null(cfg);
    return cfg;
}

static char *render(const struct firewall_plan *plan, enum firewall_format format)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(firewall_plan_write(plan, format, out), 0);
    assert_int_equal(fclose(out), 0);
    return text;
}

static const char restricted[] =
    "[general]\n"
    "listen = udp:0.0.0.0:5060, tcp:192.0.2.1:5070\n"
    "[acl]\n"
    "deny = 203.0.113.0/24\n"
    "[provider]\n"
    "type = trunk\n"
    "provider = udp:198.51.100.10:5060\n"
    "permit = 198.51.100.0/24, 198.51.100.0/24\n"
    "owned_numbers = +15551230000\n"
    "default_number = +15551230000\n"
    "[1001]\n"
    "type = account\n"
    "ha1_sha256 = 0b9bbff3b58cd3153d42aeecab885567c7e4f1197297900542d8abe508f4e4e7\n"
    "permit = 2001:db8::/32\n"
    "[1002]\n"
    "type = account\n"
    "enabled = no\n"
    "ha1_sha256 = 0b9bbff3b58cd3153d42aeecab885567c7e4f1197297900542d8abe508f4e4e7\n";

static void test_firewall_plan_ranges(void **state)
{
    (void)state;
    struct cfg *cfg = load(restricted);
    struct firewall_plan plan;
    assert_int_equal(firewall_plan_build(cfg, 16384, 32767, &plan), 0);
    assert_false(plan.is_open_to_all); /* 1002 has no permit but is disabled */
    assert_int_equal(plan.listener_count, 2);
    assert_true(plan.listeners[0].is_udp);
    assert_string_equal(plan.listeners[0].daddr, "");
    assert_false(plan.listeners[1].is_udp);
    assert_string_equal(plan.listeners[1].daddr, "192.0.2.1");
    /* PBX default 127.0.0.1/32, the trunk's range once, the account's IPv6 range last. */
    assert_int_equal(plan.allowed.count, 3);
    assert_string_equal(plan.allowed.items[0].text, "127.0.0.1/32");
    assert_string_equal(plan.allowed.items[1].text, "198.51.100.0/24");
    assert_string_equal(plan.allowed.items[2].text, "2001:db8::/32");
    assert_true(plan.allowed.items[2].is_v6);
    assert_int_equal(plan.denied.count, 1);
    assert_string_equal(plan.ban_family, "inet");
    assert_string_equal(plan.ban_set, "banned");

    char *nft = render(&plan, FIREWALL_NFT);
    assert_non_null(strstr(nft, "udp dport 5060 ip saddr @sip_allowed4 accept\n"));
    assert_non_null(
        strstr(nft, "tcp dport 5070 ip daddr 192.0.2.1 ip saddr @sip_allowed4 accept\n"));
    assert_null(strstr(nft, "tcp dport 5070 ip daddr 192.0.2.1 ip6"));
    assert_non_null(strstr(nft, "log prefix \"SIP-BLOCKED: \""));
    assert_non_null(strstr(nft, "udp dport 16384-32767 accept\n"));
    free(nft);
    char *ipt = render(&plan, FIREWALL_IPTABLES);
    assert_non_null(
        strstr(ipt, "-A SIPWARDEN -p udp -m udp --dport 5060 -s 203.0.113.0/24 -j DROP\n"));
    assert_null(strstr(ipt, "2001:db8"));
    free(ipt);
    firewall_plan_fini(&plan);
    cfg_free(cfg);
}

static void test_firewall_open_account(void **state)
{
    (void)state;
    static const char open[] =
        "[general]\n"
        "listen = udp:0.0.0.0:5060\n"
        "[ban]\n"
        "nft_set = ip6 filter bans\n"
        "[1001]\n"
        "type = account\n"
        "ha1_sha256 = 0b9bbff3b58cd3153d42aeecab885567c7e4f1197297900542d8abe508f4e4e7\n";
    struct cfg *cfg = load(open);
    struct firewall_plan plan;
    assert_int_equal(firewall_plan_build(cfg, 10000, 20000, &plan), 0);
    assert_true(plan.is_open_to_all);
    assert_string_equal(plan.ban_family, "ip6");
    char *nft = render(&plan, FIREWALL_NFT);
    assert_non_null(strstr(nft, "        udp dport 5060 accept\n"));
    assert_non_null(strstr(nft, "table ip6 filter {\n    set bans {\n        type ipv6_addr"));
    assert_null(strstr(nft, "ipv4_addr\n        flags timeout"));
    free(nft);
    firewall_plan_fini(&plan);
    cfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firewall_plan_ranges),
        cmocka_unit_test(test_firewall_open_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
