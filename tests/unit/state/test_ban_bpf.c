/*
 * [ban] kernel_drop: the BPF map follows the ban store (add, lift, expiry, a backend's
 * ban, refill at attach, eviction) and the socket filter drops what the maps name.
 * Needs root or CAP_BPF: where the kernel refuses, every test is skipped and says why.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/time.h"
#include "state/ban.h"
#include "state/ban_bpf.h"
#include "support/unit.h"

#define NS_PER_S 1000000000ull

struct fixture {
    struct ban_store *store;
    struct ban_bpf *bpf; /* owned by the store once attached */
};

static struct sw_ip ip_text(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

/* 198.18.x.y (RFC 2544's benchmark range) for i < 65536. */
static struct sw_ip ip_bench(uint32_t i)
{
    struct sw_ip ip = ip_text("198.18.0.0");
    ip.bytes[14] = (uint8_t)(i >> 8);
    ip.bytes[15] = (uint8_t)i;
    return ip;
}

static struct ban_bpf *bpf_or_skip(size_t max_entries)
{
    char why[256] = "";
    struct ban_bpf *bpf = NULL;
    int rc = ban_bpf_new(max_entries, &bpf, why, sizeof(why));
    if (rc != 0) {
        (void)fprintf(stderr, "SKIP: BPF refused here (%s): kernel drop untested\n", why);
        skip();
    }
    return bpf;
}

static int setup_with(void **state, size_t max_entries, unsigned v6_prefix_len)
{
    static struct fixture fx;
    memset(&fx, 0, sizeof(fx));
    struct ban_config cfg = { .max_entries = max_entries,
                              .bantime_s = 600,
                              .v6_prefix_len = v6_prefix_len };
    assert_int_equal(ban_store_new(&cfg, &fx.store), 0);
    *state = &fx;
    return 0;
}

static int setup(void **state, size_t max_entries)
{
    return setup_with(state, max_entries, 0);
}

static int setup_default(void **state)
{
    return setup(state, 0);
}

/* [ban] ipv6_prefix = 64: an automatic ban of an IPv6 address covers its /64. */
static int setup_v6_prefix(void **state)
{
    return setup_with(state, 0, 64);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    ban_store_free(fx->store); /* and the attached kernel backend with it */
    fx->store = NULL;
    return 0;
}

static void attach(struct fixture *fx)
{
    fx->bpf = bpf_or_skip(ban_store_capacity(fx->store));
    assert_int_equal(ban_store_attach(fx->store, &ban_bpf_ops, fx->bpf), 0);
}

static enum ban_outcome ban_for(struct fixture *fx, const struct sw_ip *ip, int64_t start_s,
                                uint32_t duration_s)
{
    struct ban_request req = {
        .ip = *ip, .source = BAN_SOURCE_AUTO, .duration_s = duration_s, .reason = "test"
    };
    return ban_store_add(fx->store, &req, start_s, NULL);
}

static uint64_t mono_ns(void)
{
    return sw_mono_us() * 1000u;
}

static void test_add_and_lift_reach_the_map(void **state)
{
    struct fixture *fx = *state;
    attach(fx);
    struct sw_ip v4 = ip_text("192.0.2.7");
    struct sw_ip v6 = ip_text("2001:db8::7");
    uint64_t end_ns = 0;

    assert_false(ban_bpf_lookup(fx->bpf, &v4, NULL));
    assert_int_equal(ban_for(fx, &v4, sw_wall_s(), 600), BAN_OUTCOME_ADDED);
    assert_int_equal(ban_for(fx, &v6, sw_wall_s(), BAN_DURATION_FOREVER), BAN_OUTCOME_ADDED);
    assert_true(ban_bpf_lookup(fx->bpf, &v4, &end_ns));
    /* The wall-clock end became a monotonic deadline about 600 s ahead. */
    uint64_t now_ns = mono_ns();
    assert_true(end_ns > now_ns + 590 * NS_PER_S);
    assert_true(end_ns < now_ns + 610 * NS_PER_S);
    assert_true(ban_bpf_lookup(fx->bpf, &v6, &end_ns));
    assert_true(end_ns == BAN_BPF_FOREVER);
    assert_int_equal(ban_bpf_count(fx->bpf), 2);

    assert_int_equal(ban_store_del(fx->store, &v4, sw_wall_s()), 0);
    assert_false(ban_bpf_lookup(fx->bpf, &v4, NULL));
    assert_true(ban_bpf_lookup(fx->bpf, &v6, NULL));
    assert_int_equal(ban_store_del(fx->store, &v6, sw_wall_s()), 0);
    assert_int_equal(ban_bpf_count(fx->bpf), 0);
}

static void test_refill_at_attach(void **state)
{
    struct fixture *fx = *state;
    int64_t now_s = sw_wall_s();
    for (uint32_t i = 0; i < 300; i++) {
        struct sw_ip ip = ip_bench(i);
        assert_int_equal(ban_for(fx, &ip, now_s, 600), BAN_OUTCOME_ADDED);
    }
    /* Ended already: history in the store, not a ban, so not in the map. */
    struct sw_ip old = ip_text("192.0.2.99");
    assert_int_equal(ban_for(fx, &old, now_s - 1000, 10), BAN_OUTCOME_ADDED);

    attach(fx); /* a restart: the store was filled from SQLite before the kernel backend */
    assert_int_equal(ban_bpf_count(fx->bpf), 300);
    for (uint32_t i = 0; i < 300; i++) {
        struct sw_ip ip = ip_bench(i);
        assert_true(ban_bpf_lookup(fx->bpf, &ip, NULL));
    }
    assert_false(ban_bpf_lookup(fx->bpf, &old, NULL));
}

static void test_backend_ban_reaches_the_map(void **state)
{
    struct fixture *fx = *state;
    attach(fx);
    /* What ban_redis does with a ban another node made. */
    struct ban_entry entry = { .ip = ip_text("2001:db8::42"),
                               .start_s = sw_wall_s(),
                               .end_s = sw_wall_s() + 300,
                               .offence = 1,
                               .source = BAN_SOURCE_AUTO };
    int origin = 0;
    assert_int_equal(ban_store_apply(fx->store, BAN_CHANGE_ADD, &entry, sw_wall_s(), &origin), 0);
    assert_true(ban_bpf_lookup(fx->bpf, &entry.ip, NULL));
    assert_int_equal(ban_store_apply(fx->store, BAN_CHANGE_DEL, &entry, sw_wall_s(), &origin), 0);
    assert_false(ban_bpf_lookup(fx->bpf, &entry.ip, NULL));
}

static void test_prefix_bans_reach_the_trie(void **state)
{
    struct fixture *fx = *state;
    struct sw_ip early = ip_text("2001:db8:7:7::1");
    int64_t now_s = sw_wall_s();
    assert_int_equal(ban_for(fx, &early, now_s, 600), BAN_OUTCOME_ADDED);
    attach(fx); /* a restart: the prefix ban is refilled into the trie */
    assert_int_equal(ban_bpf_prefix_count(fx->bpf), 1);
    struct sw_ip early_peer = ip_text("2001:db8:7:7:ab::9");
    assert_true(ban_bpf_lookup(fx->bpf, &early_peer, NULL));

    struct sw_ip v6 = ip_text("2001:db8:1:2::7");
    struct sw_ip same64 = ip_text("2001:db8:1:2:ffff:1:2:3");
    struct sw_ip other64 = ip_text("2001:db8:1:3::7");
    struct sw_ip v4 = ip_text("192.0.2.7");
    assert_int_equal(ban_for(fx, &v6, now_s, 600), BAN_OUTCOME_ADDED);
    assert_int_equal(ban_for(fx, &v4, now_s, 600), BAN_OUTCOME_ADDED);
    /* The /64 is one trie entry, the IPv4 address one hash entry. */
    assert_int_equal(ban_bpf_prefix_count(fx->bpf), 2);
    assert_int_equal(ban_bpf_count(fx->bpf), 3);
    uint64_t end_ns = 0;
    assert_true(ban_bpf_lookup(fx->bpf, &same64, &end_ns));
    assert_true(end_ns > mono_ns() + 590 * NS_PER_S);
    assert_true(ban_bpf_lookup(fx->bpf, &v6, NULL));
    assert_false(ban_bpf_lookup(fx->bpf, &other64, NULL));
    assert_true(ban_bpf_lookup(fx->bpf, &v4, NULL));

    /* Lifted by any address of the prefix, as the store lifts it. */
    assert_int_equal(ban_store_del(fx->store, &same64, sw_wall_s()), 0);
    assert_false(ban_bpf_lookup(fx->bpf, &v6, NULL));
    assert_false(ban_bpf_lookup(fx->bpf, &same64, NULL));
    assert_int_equal(ban_bpf_prefix_count(fx->bpf), 1);
    assert_int_equal(ban_store_del(fx->store, &early, sw_wall_s()), 0);
    assert_int_equal(ban_store_del(fx->store, &v4, sw_wall_s()), 0);
    assert_int_equal(ban_bpf_count(fx->bpf), 0);
}

static void sleep_until_wall(int64_t when_s)
{
    for (int i = 0; i < 50 && sw_wall_s() < when_s; i++) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 100000000L };
        (void)nanosleep(&pause, NULL);
    }
    assert_true(sw_wall_s() >= when_s);
}

static void test_expiry_leaves_the_map(void **state)
{
    struct fixture *fx = *state;
    attach(fx);
    struct sw_ip ip = ip_text("192.0.2.8");
    struct sw_ip stays = ip_text("192.0.2.9");
    int64_t now_s = sw_wall_s();
    /* Started 10 s ago for 11 s: ends within the next second. */
    assert_int_equal(ban_for(fx, &ip, now_s - 10, 11), BAN_OUTCOME_ADDED);
    assert_int_equal(ban_for(fx, &stays, now_s, 600), BAN_OUTCOME_ADDED);
    uint64_t end_ns = 0;
    assert_true(ban_bpf_lookup(fx->bpf, &ip, &end_ns));
    assert_true(end_ns <= mono_ns() + 2 * NS_PER_S);

    sleep_until_wall(now_s + 1);
    assert_int_equal(ban_store_expire(fx->store, sw_wall_s()), 1);
    assert_false(ban_bpf_lookup(fx->bpf, &ip, NULL));
    assert_true(ban_bpf_lookup(fx->bpf, &stays, NULL));
}

static void test_eviction_is_swept_out(void **state)
{
    struct fixture *fx = *state;
    attach(fx);
    size_t capacity = ban_store_capacity(fx->store);
    /* Three times the capacity: shards evict silently, the map fills and gets swept. */
    int64_t now_s = sw_wall_s();
    for (uint32_t i = 0; i < 3 * capacity; i++) {
        struct sw_ip ip = ip_bench(i);
        assert_int_equal(ban_for(fx, &ip, now_s, 600 + i), BAN_OUTCOME_ADDED);
    }
    size_t active = ban_store_list(fx->store, now_s, NULL, 0);
    assert_true(active <= capacity);
    for (uint32_t i = 0; i < 3 * capacity; i++) {
        struct sw_ip ip = ip_bench(i);
        bool is_banned = ban_store_is_banned(fx->store, &ip, now_s);
        /* Every ban is in the map; what the map holds beyond them is bounded by its size. */
        assert_true(!is_banned || ban_bpf_lookup(fx->bpf, &ip, NULL));
    }
    assert_true(ban_bpf_count(fx->bpf) <= capacity);
}

static int setup_small(void **state)
{
    return setup(state, 1024);
}

/* ---- the filter on a real socket --------------------------------------------------- */

static int udp_bound(const char *ip, uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    assert_int_equal(inet_pton(AF_INET, ip, &addr.sin_addr), 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    return fd;
}

static int udp6_loopback(void)
{
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        (void)close(fd);
        (void)fprintf(stderr, "SKIP: no IPv6 loopback here\n");
        skip();
    }
    return fd;
}

/* Sends one datagram from `from` to `to`, then says whether `to` got it (within 200 ms). */
static bool delivered(int from, int to)
{
    struct sockaddr_storage dst;
    socklen_t len = sizeof(dst);
    assert_int_equal(getsockname(to, (struct sockaddr *)&dst, &len), 0);
    assert_int_equal(sendto(from, "x", 1, 0, (struct sockaddr *)&dst, len), 1);
    struct timeval wait = { .tv_sec = 0, .tv_usec = 200000 };
    assert_int_equal(setsockopt(to, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)), 0);
    char byte;
    return recv(to, &byte, 1, 0) == 1;
}

static void test_filter_drops_banned_and_denied(void **state)
{
    struct fixture *fx = *state;
    attach(fx);
    int server = udp_bound("127.0.0.1", 0);
    int banned = udp_bound("127.0.0.2", 0);
    int denied = udp_bound("127.0.0.66", 0);
    int other = udp_bound("127.0.0.3", 0);
    assert_int_equal(ban_bpf_attach_socket(fx->bpf, server), 0);
    struct sw_cidr deny;
    assert_true(sw_cidr_parse(sv_from_cstr("127.0.0.64/26"), &deny));
    assert_int_equal(ban_bpf_set_deny(fx->bpf, &deny, 1), 0);
    uint64_t before[BAN_BPF_COUNTERS];
    ban_bpf_drops(fx->bpf, before);
    /* The filter's own statistics run while this descriptor is open (CAP_SYS_ADMIN). */
    int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

    assert_true(delivered(banned, server));
    struct sw_ip ip = ip_text("127.0.0.2");
    assert_int_equal(ban_for(fx, &ip, sw_wall_s(), 600), BAN_OUTCOME_ADDED);
    assert_false(delivered(banned, server));
    assert_false(delivered(banned, server));
    assert_false(delivered(denied, server));
    assert_true(delivered(other, server));
    uint64_t after[BAN_BPF_COUNTERS];
    ban_bpf_drops(fx->bpf, after);
    assert_int_equal(after[BAN_BPF_DROP_BANNED] - before[BAN_BPF_DROP_BANNED], 2);
    assert_int_equal(after[BAN_BPF_DROP_DENIED] - before[BAN_BPF_DROP_DENIED], 1);
    uint64_t runs = 0;
    uint64_t run_ns = 0;
    ban_bpf_run_stats(fx->bpf, &runs, &run_ns);
    if (stats_fd >= 0) {
        assert_true(runs >= 5);
        assert_true(run_ns > 0);
        (void)close(stats_fd);
    }

    /* Lifted: served again; deny emptied: served again. */
    assert_int_equal(ban_store_del(fx->store, &ip, sw_wall_s()), 0);
    assert_true(delivered(banned, server));
    assert_int_equal(ban_bpf_set_deny(fx->bpf, NULL, 0), 0);
    assert_true(delivered(denied, server));
    (void)close(server);
    (void)close(banned);
    (void)close(denied);
    (void)close(other);
}

static void test_filter_drops_a_banned_prefix(void **state)
{
    struct fixture *fx = *state;
    attach(fx);
    int server = udp6_loopback();
    int client = udp6_loopback();
    assert_int_equal(ban_bpf_attach_socket(fx->bpf, server), 0);
    assert_true(delivered(client, server));
    /* ::1's ban is stored under ::, its /64: only the trie can name ::1 to the filter. */
    struct sw_ip ip = ip_text("::1");
    struct ban_entry entry;
    struct ban_request req = { .ip = ip, .source = BAN_SOURCE_AUTO, .reason = "test" };
    assert_int_equal(ban_store_add(fx->store, &req, sw_wall_s(), &entry), BAN_OUTCOME_ADDED);
    struct sw_ip prefix = ip_text("::");
    assert_true(sw_ip_eq(&entry.ip, &prefix));
    uint64_t before[BAN_BPF_COUNTERS];
    ban_bpf_drops(fx->bpf, before);
    assert_false(delivered(client, server));
    uint64_t after[BAN_BPF_COUNTERS];
    ban_bpf_drops(fx->bpf, after);
    assert_int_equal(after[BAN_BPF_DROP_BANNED] - before[BAN_BPF_DROP_BANNED], 1);

    assert_int_equal(ban_store_del(fx->store, &ip, sw_wall_s()), 0);
    assert_true(delivered(client, server));
    (void)close(server);
    (void)close(client);
}

static void test_filter_stops_at_the_deadline(void **state)
{
    struct fixture *fx = *state;
    attach(fx);
    int server = udp_bound("127.0.0.1", 0);
    int client = udp_bound("127.0.0.4", 0);
    assert_int_equal(ban_bpf_attach_socket(fx->bpf, server), 0);
    struct sw_ip ip = ip_text("127.0.0.4");
    int64_t now_s = sw_wall_s();
    assert_int_equal(ban_for(fx, &ip, now_s - 10, 11), BAN_OUTCOME_ADDED);
    assert_false(delivered(client, server));
    /* Over, and not yet reported by the housekeeping: the kernel's clock decides. */
    sleep_until_wall(now_s + 2);
    assert_true(ban_bpf_lookup(fx->bpf, &ip, NULL));
    assert_true(delivered(client, server));
    (void)close(server);
    (void)close(client);
}

int main(void)
{
    if (sw_hash_init() != 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_lift_reach_the_map, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_refill_at_attach, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_backend_ban_reaches_the_map, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_leaves_the_map, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_is_swept_out, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_filter_drops_banned_and_denied, setup_default,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_filter_stops_at_the_deadline, setup_default, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_bans_reach_the_trie, setup_v6_prefix, teardown),
        cmocka_unit_test_setup_teardown(test_filter_drops_a_banned_prefix, setup_v6_prefix,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
