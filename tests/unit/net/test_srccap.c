/* Connections per source: caps, release, and IPv6 sources counted per prefix. */
#include "base/addr.h"
#include "base/hash.h"
#include "net/srccap.h"
#include "support/unit.h"

static struct sockaddr_storage addr_of(const char *text)
{
    struct sockaddr_storage ss;
    assert_true(sw_sockaddr_parse(sv_from_cstr(text), 5060, &ss));
    return ss;
}

static void test_srccap_caps_and_releases(void **state)
{
    (void)state;
    struct srccap *cap = srccap_new(64, 64);
    assert_non_null(cap);
    struct sockaddr_storage a = addr_of("192.0.2.1:1000");
    struct sockaddr_storage a_other_port = addr_of("192.0.2.1:2000");
    size_t counters[3];
    assert_true(srccap_acquire(cap, &a, 3, &counters[0]));
    assert_true(srccap_acquire(cap, &a_other_port, 3, &counters[1]));
    assert_true(srccap_acquire(cap, &a, 3, &counters[2]));
    assert_false(srccap_acquire(cap, &a, 3, &(size_t){ 0 }));
    assert_int_equal(srccap_count(cap, &a), 3);
    /* A higher cap (a known side) still admits. */
    size_t known = 0;
    assert_true(srccap_acquire(cap, &a, 4, &known));
    srccap_release(cap, known);
    srccap_release(cap, counters[1]);
    assert_true(srccap_acquire(cap, &a, 3, &counters[1]));
    for (size_t i = 0; i < 3; i++) {
        srccap_release(cap, counters[i]);
    }
    assert_int_equal(srccap_count(cap, &a), 0);
    assert_true(srccap_acquire(cap, &a, 0, &counters[0])); /* 0 = no cap */
    srccap_release(cap, counters[0]);
    srccap_free(cap);
}

/* #9 "IPv6": the addresses of one /64 share one budget; another /64 has its own. */
static void test_srccap_ipv6_prefix(void **state)
{
    (void)state;
    struct srccap *cap = srccap_new(64, 64);
    assert_non_null(cap);
    struct sockaddr_storage one = addr_of("[2001:db8:1:2::1]:5060");
    struct sockaddr_storage two = addr_of("[2001:db8:1:2::ffff:2]:5060");
    struct sockaddr_storage elsewhere = addr_of("[2001:db8:1:3::1]:5060");
    size_t c1 = 0;
    size_t c2 = 0;
    assert_true(srccap_acquire(cap, &one, 1, &c1));
    assert_false(srccap_acquire(cap, &two, 1, &c2));
    assert_int_equal(srccap_count(cap, &two), 1);
    srccap_release(cap, c1);
    srccap_free(cap);

    /* Other prefixes, and a /128 table, tell them apart (a large table: no collision). */
    cap = srccap_new((size_t)1 << 20, 64);
    assert_non_null(cap);
    assert_true(srccap_acquire(cap, &one, 1, &c1));
    assert_true(srccap_acquire(cap, &elsewhere, 1, &c2));
    srccap_release(cap, c1);
    srccap_release(cap, c2);
    srccap_free(cap);
    cap = srccap_new((size_t)1 << 20, 128);
    assert_non_null(cap);
    assert_true(srccap_acquire(cap, &one, 1, &c1));
    assert_true(srccap_acquire(cap, &two, 1, &c2));
    srccap_release(cap, c1);
    srccap_release(cap, c2);
    srccap_free(cap);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srccap_caps_and_releases),
        cmocka_unit_test(test_srccap_ipv6_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
