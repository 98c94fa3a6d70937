#include <stdio.h>

#include "base/hash.h"
#include "state/ratelimit.h"
#include "support/unit.h"

#define T0 5000000u

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static struct sw_ip ip_n(uint32_t n)
{
    char text[64];
    (void)snprintf(text, sizeof(text), "10.%u.%u.%u", (n >> 16) & 255u, (n >> 8) & 255u, n & 255u);
    return ip_of(text);
}

static struct ratelimit *table_new(const struct ratelimit_config *cfg)
{
    struct ratelimit *t = NULL;
    assert_int_equal(ratelimit_new(cfg, &t), 0);
    return t;
}

/* Takes `n` tokens at `now` and returns how many were granted. */
static unsigned take_n(struct ratelimit *t, const char *ip, enum ratelimit_class cls,
                       uint32_t factor, unsigned n, uint64_t now)
{
    struct sw_ip addr = ip_of(ip);
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++) {
        ok += ratelimit_take(t, &addr, cls, factor, now) == RATELIMIT_OK;
    }
    return ok;
}

static void test_ratelimit_budgets(void **state)
{
    (void)state;

    static const struct {
        enum ratelimit_class cls;
        uint32_t factor;
        unsigned asked;
        unsigned granted;
    } cases[] = {
        { RATELIMIT_REGISTER, 1, 30, 20 },    { RATELIMIT_INVITE, 1, 30, 20 },
        { RATELIMIT_OPTIONS, 1, 30, 20 },     { RATELIMIT_OTHER, 1, 60, 40 },
        { RATELIMIT_REGISTER, 10, 300, 200 }, { RATELIMIT_OPTIONS, 0, 100000, 100000 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ratelimit *t = table_new(&(struct ratelimit_config){ 0 });
        assert_int_equal(take_n(t, "192.0.2.1", cases[i].cls, cases[i].factor, cases[i].asked, T0),
                         cases[i].granted);
        ratelimit_free(t);
    }
}

/* #9 IPv6: the addresses of one /64 share one bucket; rotating addresses gains nothing. */
static void test_ratelimit_ipv6_prefix(void **state)
{
    (void)state;
    struct ratelimit *t = table_new(&(struct ratelimit_config){ .v6_prefix_len = 64 });
    unsigned granted = 0;
    for (unsigned i = 0; i < 30; i++) {
        char ip[64];
        (void)snprintf(ip, sizeof(ip), "2001:db8:1:2::%x", i + 1);
        granted += take_n(t, ip, RATELIMIT_INVITE, 1, 1, T0);
    }
    assert_int_equal(granted, 20); /* the burst of one source */
    assert_int_equal(take_n(t, "2001:db8:1:3::1", RATELIMIT_INVITE, 1, 30, T0), 20);
    ratelimit_free(t);

    t = table_new(&(struct ratelimit_config){ .v6_prefix_len = 128 });
    assert_int_equal(take_n(t, "2001:db8:1:2::1", RATELIMIT_INVITE, 1, 30, T0), 20);
    assert_int_equal(take_n(t, "2001:db8:1:2::2", RATELIMIT_INVITE, 1, 30, T0), 20);
    ratelimit_free(t);
}

static void test_ratelimit_refill_and_classes(void **state)
{
    (void)state;
    struct ratelimit *t = table_new(&(struct ratelimit_config){ 0 });
    assert_int_equal(take_n(t, "192.0.2.1", RATELIMIT_REGISTER, 1, 25, T0), 20);
    /* Classes and sources have their own buckets. */
    assert_int_equal(take_n(t, "192.0.2.1", RATELIMIT_INVITE, 1, 1, T0), 1);
    assert_int_equal(take_n(t, "192.0.2.2", RATELIMIT_REGISTER, 1, 1, T0), 1);
    /* 5 per second: one token every 200 ms. */
    assert_int_equal(take_n(t, "192.0.2.1", RATELIMIT_REGISTER, 1, 1, T0 + 199), 0);
    /* 199 ms gave 0.995 token, 201 more give 1.005: two tokens at 400 ms. */
    assert_int_equal(take_n(t, "192.0.2.1", RATELIMIT_REGISTER, 1, 3, T0 + 400), 2);
    assert_int_equal(take_n(t, "192.0.2.1", RATELIMIT_REGISTER, 1, 30, T0 + 100000), 20);
    /* A clock read a moment before another worker's does not refill anything. */
    assert_int_equal(take_n(t, "192.0.2.1", RATELIMIT_REGISTER, 1, 1, T0 + 99999), 0);
    assert_int_equal(ratelimit_retry_after_s(t, RATELIMIT_REGISTER, 1), 1);
    ratelimit_free(t);
}

static void test_ratelimit_flood_reported_once_per_window(void **state)
{
    (void)state;
    struct ratelimit_config cfg = { .flood_threshold = 10, .flood_window_s = 5 };
    struct ratelimit *t = table_new(&cfg);
    struct sw_ip ip = ip_of("198.51.100.9");
    unsigned floods = 0;
    unsigned overs = 0;
    for (unsigned i = 0; i < 200; i++) {
        enum ratelimit_result r = ratelimit_take(t, &ip, RATELIMIT_INVITE, 1, T0);
        floods += r == RATELIMIT_FLOOD;
        overs += r == RATELIMIT_OVER;
    }
    assert_int_equal(floods, 1);
    assert_int_equal(overs, 200 - 20 - 1);
    /* The next window reports again. */
    floods = 0;
    for (unsigned i = 0; i < 100; i++) {
        floods += ratelimit_take(t, &ip, RATELIMIT_INVITE, 1, T0 + 5000 + i) == RATELIMIT_FLOOD;
    }
    assert_int_equal(floods, 1);
    ratelimit_free(t);
}

static void test_ratelimit_global_budget_spares_known_sides(void **state)
{
    (void)state;
    struct ratelimit_config cfg = { .global = { .rate_per_s = 1, .burst = 10 } };
    struct ratelimit *t = table_new(&cfg);
    unsigned granted = 0;
    for (uint32_t n = 0; n < 50; n++) {
        struct sw_ip ip = ip_n(n);
        granted += ratelimit_take(t, &ip, RATELIMIT_INVITE, 1, T0) == RATELIMIT_OK;
    }
    assert_int_equal(granted, 10);
    /* The provider (factor 20) is not subject to the budget of the unknown. */
    assert_int_equal(take_n(t, "203.0.113.5", RATELIMIT_INVITE, 20, 50, T0), 50);
    /* One second later one more stranger gets through. */
    assert_int_equal(take_n(t, "10.9.9.9", RATELIMIT_INVITE, 1, 2, T0 + 1000), 1);
    ratelimit_free(t);
}

static void test_ratelimit_class_of(void **state)
{
    (void)state;

    static const struct {
        const char *method;
        enum ratelimit_class cls;
    } cases[] = {
        { "REGISTER", RATELIMIT_REGISTER }, { "INVITE", RATELIMIT_INVITE },
        { "OPTIONS", RATELIMIT_OPTIONS },   { "register", RATELIMIT_OTHER },
        { "BYE", RATELIMIT_OTHER },         { "", RATELIMIT_OTHER },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(ratelimit_class_of(sv_from_cstr(cases[i].method)), cases[i].cls);
    }
}

/*
 * A million spoofed sources: the table stays at capacity with constant memory; a source
 * that keeps flooding keeps its empty bucket (CLOCK keeps referenced buckets), while one
 * that went quiet is evicted and starts again with a full bucket.
 */
static void test_ratelimit_million_sources_bounded(void **state)
{
    (void)state;
    struct ratelimit_config cfg = { .max_entries = 4096, .global = { 4000000, 4000000 } };
    struct ratelimit *t = table_new(&cfg);
    size_t bytes = ratelimit_memory_bytes(t);
    struct sw_ip busy = ip_of("192.0.2.200");
    struct sw_ip quiet = ip_of("192.0.2.201");
    assert_int_equal(take_n(t, "192.0.2.200", RATELIMIT_REGISTER, 1, 25, T0), 20);
    assert_int_equal(take_n(t, "192.0.2.201", RATELIMIT_REGISTER, 1, 25, T0), 20);
    for (uint32_t n = 0; n < 1000000; n++) {
        struct sw_ip ip = ip_n(n);
        assert_int_equal(ratelimit_take(t, &ip, RATELIMIT_REGISTER, 1, T0), RATELIMIT_OK);
        if (n % 100 == 0) {
            assert_int_not_equal(ratelimit_take(t, &busy, RATELIMIT_REGISTER, 1, T0), RATELIMIT_OK);
        }
        if (n % 4096 == 0) {
            assert_true(ratelimit_count(t) <= ratelimit_capacity(t));
        }
    }
    assert_int_equal(ratelimit_count(t), ratelimit_capacity(t));
    assert_int_equal(ratelimit_memory_bytes(t), bytes);
    assert_int_not_equal(ratelimit_take(t, &busy, RATELIMIT_REGISTER, 1, T0), RATELIMIT_OK);
    assert_int_equal(ratelimit_take(t, &quiet, RATELIMIT_REGISTER, 1, T0), RATELIMIT_OK);
    print_message("ratelimit: %zu bytes for %zu buckets (%zu per bucket)\n", bytes,
                  ratelimit_capacity(t), bytes / ratelimit_capacity(t));
    ratelimit_free(t);
}

/*
 * A full bucket is the first to go: it carries no information. 1000 sources that used
 * one token a minute ago (full again) fill the table; 16 new sources then each take a
 * token and must all still be there (39 tokens left, not a fresh 40).
 */
static void test_ratelimit_full_buckets_evicted_first(void **state)
{
    (void)state;
    struct ratelimit_config cfg = { .max_entries = (size_t)RATELIMIT_SHARDS * 4,
                                    .global = { 4000000, 4000000 } };
    struct ratelimit *t = table_new(&cfg);
    for (uint32_t n = 0; n < 1000; n++) {
        struct sw_ip ip = ip_n(n);
        assert_int_equal(ratelimit_take(t, &ip, RATELIMIT_OTHER, 1, T0), RATELIMIT_OK);
    }
    for (uint32_t n = 0; n < 16; n++) {
        struct sw_ip ip = ip_n(100000 + n);
        assert_int_equal(ratelimit_take(t, &ip, RATELIMIT_OTHER, 1, T0 + 60000), RATELIMIT_OK);
    }
    for (uint32_t n = 0; n < 16; n++) {
        char text[SW_ADDR_STRLEN];
        struct sw_ip ip = ip_n(100000 + n);
        sw_ip_format(&ip, text, sizeof(text));
        assert_int_equal(take_n(t, text, RATELIMIT_OTHER, 1, 45, T0 + 60000), 39);
    }
    ratelimit_free(t);
}

int main(void)
{
    /* No sw_hash_init(): the fixed default key makes the shard of each test address,
     * and so the eviction tests, deterministic. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratelimit_budgets),
        cmocka_unit_test(test_ratelimit_ipv6_prefix),
        cmocka_unit_test(test_ratelimit_refill_and_classes),
        cmocka_unit_test(test_ratelimit_flood_reported_once_per_window),
        cmocka_unit_test(test_ratelimit_global_budget_spares_known_sides),
        cmocka_unit_test(test_ratelimit_class_of),
        cmocka_unit_test(test_ratelimit_million_sources_bounded),
        cmocka_unit_test(test_ratelimit_full_buckets_evicted_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
