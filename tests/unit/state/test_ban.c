#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "state/ban.h"
#include "support/unit.h"

#define NOW 1800000000

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

/* Distinct IPv4 addresses 10.x.y.z for n < 2^24, IPv6 2001:db8::n beyond. */
static struct sw_ip ip_n(uint32_t n)
{
    char text[64];
    if (n < (1u << 24)) {
        (void)snprintf(text, sizeof(text), "10.%u.%u.%u", (n >> 16) & 255u, (n >> 8) & 255u,
                       n & 255u);
    } else {
        (void)snprintf(text, sizeof(text), "2001:db8::%x:%x", n >> 16, n & 0xffffu);
    }
    return ip_of(text);
}

static struct ban_store *store_new(const struct ban_config *cfg)
{
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(cfg, &store), 0);
    return store;
}

static enum ban_outcome ban(struct ban_store *store, const char *ip, enum ban_source source,
                            uint32_t duration_s, int64_t now_s, struct ban_entry *out)
{
    struct ban_request req = {
        .ip = ip_of(ip), .source = source, .duration_s = duration_s, .reason = "InvalidPassword=3"
    };
    return ban_store_add(store, &req, now_s, out);
}

static void test_ban_add_check_del(void **state)
{
    (void)state;
    struct ban_config cfg = { .bantime_s = 600 };
    struct ban_store *store = store_new(&cfg);
    struct sw_ip ip = ip_of("192.0.2.10");
    struct ban_entry entry;

    assert_false(ban_store_is_banned(store, &ip, NOW));
    assert_int_equal(ban(store, "192.0.2.10", BAN_SOURCE_AUTO, 0, NOW, &entry), BAN_OUTCOME_ADDED);
    assert_int_equal(entry.start_s, NOW);
    assert_int_equal(entry.end_s, NOW + 600);
    assert_int_equal(entry.offence, 1);
    assert_string_equal(entry.reason, "InvalidPassword=3");
    assert_true(ban_store_is_banned(store, &ip, NOW));
    assert_true(ban_store_is_banned(store, &ip, NOW + 599));
    assert_false(ban_store_is_banned(store, &ip, NOW + 600));
    struct sw_ip other = ip_of("192.0.2.11");
    assert_false(ban_store_is_banned(store, &other, NOW));
    /* The IPv4-mapped IPv6 form is the same address. */
    struct sw_ip mapped = ip_of("::ffff:192.0.2.10");
    assert_true(ban_store_is_banned(store, &mapped, NOW));

    assert_int_equal(ban(store, "192.0.2.10", BAN_SOURCE_AUTO, 0, NOW + 1, &entry),
                     BAN_OUTCOME_EXISTS);
    assert_int_equal(entry.start_s, NOW);
    assert_int_equal(ban_store_del(store, &ip, NOW + 2), 0);
    assert_false(ban_store_is_banned(store, &ip, NOW + 2));
    assert_int_equal(ban_store_del(store, &ip, NOW + 2), -SW_ENOTFOUND);
    assert_int_equal(ban_store_count(store), 0);
    ban_store_free(store);
}

static void test_ban_never_ban_list(void **state)
{
    (void)state;
    struct sw_cidr ranges[2];
    assert_true(sw_cidr_parse(SV("203.0.113.0/24"), &ranges[0]));
    assert_true(sw_cidr_parse(SV("2001:db8:5::/48"), &ranges[1]));
    struct ban_config cfg = { .never_ban = ranges, .never_ban_count = 2 };
    struct ban_store *store = store_new(&cfg);

    static const struct {
        const char *ip;
        enum ban_outcome outcome;
    } cases[] = {
        { "203.0.113.1", BAN_OUTCOME_EXEMPT },  { "203.0.113.255", BAN_OUTCOME_EXEMPT },
        { "203.0.114.1", BAN_OUTCOME_ADDED },   { "2001:db8:5::9", BAN_OUTCOME_EXEMPT },
        { "2001:db8:6::9", BAN_OUTCOME_ADDED }, { "::ffff:203.0.113.7", BAN_OUTCOME_EXEMPT },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ban(store, cases[i].ip, BAN_SOURCE_MANUAL, 0, NOW, NULL),
                         cases[i].outcome);
        struct sw_ip ip = ip_of(cases[i].ip);
        assert_int_equal(ban_store_is_banned(store, &ip, NOW),
                         cases[i].outcome == BAN_OUTCOME_ADDED);
    }
    ban_store_free(store);
}

/* #9 IPv6: a ban covers the source's /64; a /64 holding an exempt address is not banned
   as a whole. */
static void test_ban_ipv6_prefix(void **state)
{
    (void)state;
    struct sw_cidr exempt;
    assert_true(sw_cidr_parse(SV("2001:db8:9:9::10/128"), &exempt));
    struct ban_config cfg = { .never_ban = &exempt, .never_ban_count = 1, .v6_prefix_len = 64 };
    struct ban_store *store = store_new(&cfg);
    struct ban_entry entry;
    assert_int_equal(ban(store, "2001:db8:1:2::a", BAN_SOURCE_AUTO, 0, NOW, &entry),
                     BAN_OUTCOME_ADDED);
    struct sw_ip prefix = ip_of("2001:db8:1:2::");
    assert_true(sw_ip_eq(&entry.ip, &prefix));
    static const char *const same[] = { "2001:db8:1:2::a", "2001:db8:1:2::b",
                                        "2001:db8:1:2:ffff:ffff:ffff:ffff" };
    for (size_t i = 0; i < 3; i++) {
        struct sw_ip ip = ip_of(same[i]);
        assert_true(ban_store_is_banned(store, &ip, NOW));
    }
    struct sw_ip next = ip_of("2001:db8:1:3::a");
    assert_false(ban_store_is_banned(store, &next, NOW));
    /* Another address of the prefix is the same ban, and lifting it by any address works. */
    assert_int_equal(ban(store, "2001:db8:1:2::c", BAN_SOURCE_AUTO, 0, NOW, NULL),
                     BAN_OUTCOME_EXISTS);
    struct sw_ip other = ip_of("2001:db8:1:2::c");
    assert_true(ban_store_get(store, &other, &entry));
    assert_int_equal(ban_store_del(store, &other, NOW), 0);
    assert_false(ban_store_is_banned(store, &prefix, NOW));

    /* The exempt provider's /64: the attacker alone is banned, the provider never. */
    assert_int_equal(ban(store, "2001:db8:9:9::66", BAN_SOURCE_AUTO, 0, NOW, &entry),
                     BAN_OUTCOME_ADDED);
    struct sw_ip attacker = ip_of("2001:db8:9:9::66");
    struct sw_ip provider = ip_of("2001:db8:9:9::10");
    struct sw_ip neighbour = ip_of("2001:db8:9:9::67");
    assert_true(sw_ip_eq(&entry.ip, &attacker));
    assert_true(ban_store_is_banned(store, &attacker, NOW));
    assert_false(ban_store_is_banned(store, &provider, NOW));
    assert_false(ban_store_is_banned(store, &neighbour, NOW));
    assert_int_equal(ban_store_del(store, &attacker, NOW), 0);

    /* IPv4 is never aggregated. */
    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 0, NOW, NULL), BAN_OUTCOME_ADDED);
    struct sw_ip v4_next = ip_of("192.0.2.2");
    assert_false(ban_store_is_banned(store, &v4_next, NOW));

    /* A manual ban is of the address given; of the first address, of the prefix. */
    assert_int_equal(ban(store, "2001:db8:3:3::51", BAN_SOURCE_MANUAL, 0, NOW, &entry),
                     BAN_OUTCOME_ADDED);
    struct sw_ip manual = ip_of("2001:db8:3:3::51");
    struct sw_ip manual_sibling = ip_of("2001:db8:3:3::52");
    assert_true(sw_ip_eq(&entry.ip, &manual));
    assert_true(ban_store_is_banned(store, &manual, NOW));
    assert_false(ban_store_is_banned(store, &manual_sibling, NOW));
    assert_int_equal(ban(store, "2001:db8:4:4::", BAN_SOURCE_MANUAL, 0, NOW, NULL),
                     BAN_OUTCOME_ADDED);
    struct sw_ip in_manual_prefix = ip_of("2001:db8:4:4::99");
    assert_true(ban_store_is_banned(store, &in_manual_prefix, NOW));

    /* A row restored from a backend under a full address comes back as its prefix. */
    struct ban_entry row = { .ip = ip_of("2001:db8:7:7::5"), .start_s = NOW, .end_s = NOW + 60 };
    assert_int_equal(ban_store_apply(store, BAN_CHANGE_ADD, &row, NOW, NULL), 0);
    struct sw_ip sibling = ip_of("2001:db8:7:7::6");
    assert_true(ban_store_is_banned(store, &sibling, NOW));
    ban_store_free(store);
}

static void test_ban_repeat_offender_duration(void **state)
{
    (void)state;

    static const struct {
        double factor;
        uint32_t offence;
        uint32_t duration_s;
    } cases[] = {
        { 2.0, 1, 100 },   { 2.0, 2, 200 }, { 2.0, 3, 400 }, { 2.0, 4, 800 }, { 2.0, 5, 1000 },
        { 2.0, 90, 1000 }, { 1.5, 2, 150 }, { 1.5, 3, 225 }, { 0.0, 7, 100 }, { 1.0, 7, 100 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ban_config cfg = { .max_entries = 64,
                                  .bantime_s = 100,
                                  .bantime_factor = cases[i].factor,
                                  .bantime_max_s = 1000 };
        struct ban_store *store = store_new(&cfg);
        assert_int_equal(ban_store_duration(store, cases[i].offence), cases[i].duration_s);
        ban_store_free(store);
    }
}

static void test_ban_repeat_offence_counted_within_history(void **state)
{
    (void)state;
    struct ban_config cfg = {
        .bantime_s = 100, .bantime_factor = 2.0, .bantime_max_s = 1000, .history_s = 5000
    };
    struct ban_store *store = store_new(&cfg);
    struct sw_ip ip = ip_of("198.51.100.7");
    struct ban_entry entry;
    int64_t now = NOW;
    static const uint32_t expected[] = { 100, 200, 400, 800, 1000, 1000 };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        assert_int_equal(ban(store, "198.51.100.7", BAN_SOURCE_AUTO, 0, now, &entry),
                         BAN_OUTCOME_ADDED);
        assert_int_equal(entry.offence, i + 1);
        assert_int_equal(entry.end_s - entry.start_s, expected[i]);
        now = entry.end_s;
        assert_false(ban_store_is_banned(store, &ip, now));
        assert_int_equal(ban_store_expire(store, now), 1);
        /* Reported once only. */
        assert_int_equal(ban_store_expire(store, now), 0);
        now += 10;
    }
    /* After history_s without a ban the address is forgotten: the next ban is offence 1. */
    now += 5000;
    assert_int_equal(ban_store_expire(store, now), 0);
    assert_int_equal(ban_store_count(store), 0);
    assert_int_equal(ban(store, "198.51.100.7", BAN_SOURCE_AUTO, 0, now, &entry),
                     BAN_OUTCOME_ADDED);
    assert_int_equal(entry.offence, 1);
    ban_store_free(store);
}

static void test_ban_manual_replaces_auto(void **state)
{
    (void)state;
    struct ban_config cfg = { .bantime_s = 100 };
    struct ban_store *store = store_new(&cfg);
    struct ban_entry entry;
    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 0, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(
        ban(store, "192.0.2.1", BAN_SOURCE_MANUAL, BAN_DURATION_FOREVER, NOW + 5, &entry),
        BAN_OUTCOME_UPDATED);
    assert_int_equal(entry.source, BAN_SOURCE_MANUAL);
    assert_int_equal(entry.end_s, BAN_FOREVER);
    assert_int_equal(entry.offence, 1);
    /* An automatic ban never shortens a manual one. */
    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 0, NOW + 6, &entry),
                     BAN_OUTCOME_EXISTS);
    assert_int_equal(entry.end_s, BAN_FOREVER);
    /* A manual ban with an explicit time replaces a manual one. */
    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_MANUAL, 30, NOW + 7, &entry),
                     BAN_OUTCOME_UPDATED);
    assert_int_equal(entry.end_s, NOW + 37);
    ban_store_free(store);
}

static void test_ban_list_snapshot(void **state)
{
    (void)state;
    struct ban_config cfg = { .bantime_s = 100 };
    struct ban_store *store = store_new(&cfg);
    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 10, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban(store, "192.0.2.2", BAN_SOURCE_MANUAL, 0, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban(store, "2001:db8::2", BAN_SOURCE_AUTO, 0, NOW, NULL), BAN_OUTCOME_ADDED);
    struct ban_entry list[4];
    assert_int_equal(ban_store_list(store, NOW, list, 4), 3);
    assert_int_equal(ban_store_list(store, NOW, list, 1), 3);
    /* The first ban is over at NOW + 10 and no longer listed, though remembered. */
    assert_int_equal(ban_store_list(store, NOW + 10, list, 4), 2);
    bool seen_manual = false;
    for (size_t i = 0; i < 2; i++) {
        char text[SW_ADDR_STRLEN];
        sw_ip_format(&list[i].ip, text, sizeof(text));
        assert_true(strcmp(text, "192.0.2.2") == 0 || strcmp(text, "2001:db8::2") == 0);
        seen_manual = seen_manual || list[i].source == BAN_SOURCE_MANUAL;
    }
    assert_true(seen_manual);
    assert_int_equal(ban_store_count(store), 3);
    ban_store_free(store);
}

/*
 * Eviction order: with 4 entries per shard and every new ban ending later than the
 * previous ones, a full shard drops the ban that ends soonest, so each shard keeps the
 * last 4 automatic bans that fell into it, plus its manual bans, which are never dropped.
 */
static void test_ban_eviction_order(void **state)
{
    (void)state;
    struct ban_config cfg = { .max_entries = (size_t)4 * BAN_SHARDS };
    struct ban_store *store = store_new(&cfg);

    enum { COUNT = 3000 };

    static size_t shard_of_n[COUNT];
    /* Two manual bans first: they must survive everything. */
    struct ban_request manual = { .ip = ip_n(COUNT), .source = BAN_SOURCE_MANUAL };
    assert_int_equal(ban_store_add(store, &manual, NOW, NULL), BAN_OUTCOME_ADDED);
    size_t manual_shard = ban_store_shard_index(store, &manual.ip);
    for (uint32_t n = 0; n < COUNT; n++) {
        struct ban_request req = { .ip = ip_n(n),
                                   .source = BAN_SOURCE_AUTO,
                                   .duration_s = 100 + n };
        shard_of_n[n] = ban_store_shard_index(store, &req.ip);
        assert_int_equal(ban_store_add(store, &req, NOW, NULL), BAN_OUTCOME_ADDED);
        assert_true(ban_store_count(store) <= ban_store_capacity(store));
    }
    size_t later_in_shard[BAN_SHARDS] = { 0 };
    for (uint32_t k = COUNT; k > 0; k--) {
        uint32_t n = k - 1;
        size_t shard = shard_of_n[n];
        size_t keep = shard == manual_shard ? 3 : 4;
        struct sw_ip ip = ip_n(n);
        assert_int_equal(ban_store_is_banned(store, &ip, NOW), later_in_shard[shard] < keep);
        later_in_shard[shard]++;
    }
    assert_true(ban_store_is_banned(store, &manual.ip, NOW));
    assert_int_equal(ban_store_count(store), ban_store_capacity(store));
    ban_store_free(store);
}

static void test_ban_full_of_manual_refuses(void **state)
{
    (void)state;
    struct ban_config cfg = { .max_entries = BAN_SHARDS };
    struct ban_store *store = store_new(&cfg);
    size_t refused = 0;
    size_t added = 0;
    for (uint32_t n = 0; n < 2000; n++) {
        struct ban_request req = { .ip = ip_n(n), .source = BAN_SOURCE_MANUAL };
        enum ban_outcome outcome = ban_store_add(store, &req, NOW, NULL);
        assert_true(outcome == BAN_OUTCOME_ADDED || outcome == BAN_OUTCOME_FULL);
        refused += outcome == BAN_OUTCOME_FULL;
        added += outcome == BAN_OUTCOME_ADDED;
    }
    assert_int_equal(added, BAN_SHARDS);
    assert_int_equal(refused, 2000 - BAN_SHARDS);
    /* An active manual ban is never dropped, however short the new ban. */
    struct ban_request req = { .ip = ip_n(5000), .source = BAN_SOURCE_MANUAL, .duration_s = 5 };
    assert_int_equal(ban_store_add(store, &req, NOW, NULL), BAN_OUTCOME_FULL);
    ban_store_free(store);
}

/* A million distinct sources: the table never holds more than its capacity. */
static void test_ban_million_addresses_bounded(void **state)
{
    (void)state;
    struct ban_config cfg = { .max_entries = 8192 };
    struct ban_store *store = store_new(&cfg);
    size_t bytes = ban_store_memory_bytes(store);
    for (uint32_t n = 0; n < 1000000; n++) {
        struct ban_request req = { .ip = ip_n(n), .source = BAN_SOURCE_AUTO, .duration_s = 1000 };
        assert_int_equal(ban_store_add(store, &req, NOW + n / 1000, NULL), BAN_OUTCOME_ADDED);
        if (n % 4096 == 0) {
            assert_true(ban_store_count(store) <= 8192);
        }
    }
    assert_int_equal(ban_store_count(store), 8192);
    assert_int_equal(ban_store_memory_bytes(store), bytes);
    /* The newest survive: the last address is banned, the first long gone. */
    struct sw_ip last = ip_n(999999);
    struct sw_ip first = ip_n(0);
    assert_true(ban_store_is_banned(store, &last, NOW + 1000));
    assert_false(ban_store_is_banned(store, &first, NOW + 1000));
    ban_store_free(store);
}

struct recorded {
    int adds;
    int dels;
    int expires;
    struct ban_entry last;
};

static void record_publish(void *backend, enum ban_change change, const struct ban_entry *entry)
{
    struct recorded *rec = backend;
    rec->adds += change == BAN_CHANGE_ADD;
    rec->dels += change == BAN_CHANGE_DEL;
    rec->expires += change == BAN_CHANGE_EXPIRE;
    rec->last = *entry;
}

static int record_load(void *backend, struct ban_store *store, int64_t now_s)
{
    (void)now_s;
    struct ban_entry entry = { .ip = ip_of("192.0.2.77"),
                               .start_s = NOW,
                               .end_s = NOW + 50,
                               .offence = 2,
                               .source = BAN_SOURCE_AUTO };
    (void)snprintf(entry.reason, sizeof(entry.reason), "restored");
    return ban_store_apply(store, BAN_CHANGE_ADD, &entry, NOW, backend);
}

static const struct ban_store_ops record_ops = { .name = "record",
                                                 .load = record_load,
                                                 .publish = record_publish };

static void test_ban_backends_told_except_origin(void **state)
{
    (void)state;
    struct ban_config cfg = { .bantime_s = 100 };
    struct ban_store *store = store_new(&cfg);
    struct recorded first = { 0 };
    struct recorded second = { 0 };
    assert_int_equal(ban_store_attach(store, &record_ops, &first), 0);
    /* The loader is its own origin: not told about what it restored. */
    assert_int_equal(first.adds, 0);
    assert_int_equal(ban_store_attach(store, &record_ops, &second), 0);
    assert_int_equal(first.adds, 1); /* second's load was published to first */
    assert_int_equal(second.adds, 0);
    struct sw_ip restored = ip_of("192.0.2.77");
    assert_true(ban_store_is_banned(store, &restored, NOW));

    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 0, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(first.adds, 2);
    assert_int_equal(second.adds, 1);
    assert_int_equal(ban_store_del(store, &restored, NOW), 0);
    assert_int_equal(first.dels, 1);
    assert_int_equal(second.dels, 1);
    assert_int_equal(ban_store_expire(store, NOW + 100), 1);
    assert_int_equal(first.expires, 1);
    assert_int_equal(second.expires, 1);
    char text[SW_ADDR_STRLEN];
    sw_ip_format(&second.last.ip, text, sizeof(text));
    assert_string_equal(text, "192.0.2.1");
    ban_store_free(store);
}

/* Another node's automatic ban never shortens an operator's manual ban here. */
static void test_ban_apply_keeps_manual(void **state)
{
    (void)state;
    struct ban_store *store = store_new(&(struct ban_config){ .bantime_s = 100 });
    assert_int_equal(ban(store, "192.0.2.8", BAN_SOURCE_MANUAL, BAN_DURATION_FOREVER, NOW, NULL),
                     BAN_OUTCOME_ADDED);
    struct ban_entry remote = {
        .ip = ip_of("192.0.2.8"), .start_s = NOW, .end_s = NOW + 10, .offence = 1
    };
    assert_int_equal(ban_store_apply(store, BAN_CHANGE_ADD, &remote, NOW, NULL), 0);
    struct ban_entry entry;
    assert_true(ban_store_get(store, &remote.ip, &entry));
    assert_int_equal(entry.source, BAN_SOURCE_MANUAL);
    assert_int_equal(entry.end_s, BAN_FOREVER);
    /* A remote manual ban does replace it, and a remote lift removes it. */
    remote.source = BAN_SOURCE_MANUAL;
    assert_int_equal(ban_store_apply(store, BAN_CHANGE_ADD, &remote, NOW, NULL), 0);
    assert_true(ban_store_get(store, &remote.ip, &entry));
    assert_int_equal(entry.end_s, NOW + 10);
    assert_int_equal(ban_store_apply(store, BAN_CHANGE_DEL, &remote, NOW, NULL), 0);
    assert_false(ban_store_is_banned(store, &remote.ip, NOW));
    ban_store_free(store);
}

static void test_ban_active_count_and_due_shards(void **state)
{
    (void)state;
    struct ban_config cfg = { .bantime_s = 600, .history_s = 100 };
    struct ban_store *store = store_new(&cfg);
    assert_int_equal(ban_store_active_count(store), 0);
    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 10, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban(store, "192.0.2.2", BAN_SOURCE_AUTO, 20, NOW, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban(store, "2001:db8::3", BAN_SOURCE_MANUAL, BAN_DURATION_FOREVER, NOW, NULL),
                     BAN_OUTCOME_ADDED);
    assert_int_equal(ban_store_active_count(store), 3);

    /* Nothing due yet: nothing reported, whatever the number of calls. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ban_store_expire(store, NOW + 5), 0);
    }
    assert_int_equal(ban_store_active_count(store), 3);
    assert_int_equal(ban_store_expire(store, NOW + 10), 1);
    assert_int_equal(ban_store_active_count(store), 2);
    assert_int_equal(ban_store_active_count(store), ban_store_list(store, NOW + 10, NULL, 0));

    /* A lifted ban leaves its shard's due time early: the next pass finds nothing. */
    struct sw_ip two = ip_of("192.0.2.2");
    assert_int_equal(ban_store_del(store, &two, NOW + 11), 0);
    assert_int_equal(ban_store_active_count(store), 1);
    assert_int_equal(ban_store_expire(store, NOW + 25), 0);

    /* A history entry is forgotten when its history is over, not before. */
    assert_int_equal(ban_store_count(store), 2);
    assert_int_equal(ban_store_expire(store, NOW + 10 + 99), 0);
    assert_int_equal(ban_store_count(store), 2);
    assert_int_equal(ban_store_expire(store, NOW + 10 + 100), 0);
    assert_int_equal(ban_store_count(store), 1);

    /* A ban again after its end is active again, and due again. */
    assert_int_equal(ban(store, "192.0.2.1", BAN_SOURCE_AUTO, 5, NOW + 200, NULL),
                     BAN_OUTCOME_ADDED);
    assert_int_equal(ban_store_active_count(store), 2);
    assert_int_equal(ban_store_expire(store, NOW + 205), 1);
    assert_int_equal(ban_store_active_count(store), 1);
    ban_store_free(store);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ban_add_check_del),
        cmocka_unit_test(test_ban_never_ban_list),
        cmocka_unit_test(test_ban_ipv6_prefix),
        cmocka_unit_test(test_ban_repeat_offender_duration),
        cmocka_unit_test(test_ban_repeat_offence_counted_within_history),
        cmocka_unit_test(test_ban_manual_replaces_auto),
        cmocka_unit_test(test_ban_list_snapshot),
        cmocka_unit_test(test_ban_eviction_order),
        cmocka_unit_test(test_ban_full_of_manual_refuses),
        cmocka_unit_test(test_ban_million_addresses_bounded),
        cmocka_unit_test(test_ban_backends_told_except_origin),
        cmocka_unit_test(test_ban_apply_keeps_manual),
        cmocka_unit_test(test_ban_active_count_and_due_shards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
