#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/time.h"
#include "state/ban_bpf.h"
#include "state/ban_redis.h"
#include "support/redis_server.h"
#include "support/unit.h"

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static struct ban_store *node_open(const char *node, struct ban_redis **out)
{
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(&(struct ban_config){ .bantime_s = 600 }, &store), 0);
    struct ban_redis_config cfg = { .port = (uint16_t)redis_server_port(),
                                    .prefix = "swtest:",
                                    .node_id = node,
                                    .history_s = 100,
                                    .timeout_ms = 500 };
    struct ban_redis *r = NULL;
    assert_int_equal(ban_redis_open(&cfg, &r), 0);
    assert_int_equal(ban_store_attach(store, &ban_redis_ops, r), 0);
    if (out != NULL) {
        *out = r;
    }
    return store;
}

/* Polls until `ip`'s ban state in `store` is `want`, at most 5 s. */
static bool wait_banned(const struct ban_store *store, const char *ip, bool want)
{
    struct sw_ip addr = ip_of(ip);
    for (int i = 0; i < 500; i++) {
        if (ban_store_is_banned(store, &addr, sw_wall_s()) == want) {
            return true;
        }
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 10000000L };
        (void)nanosleep(&pause, NULL);
    }
    return false;
}

static void ban(struct ban_store *store, const char *ip, enum ban_source source)
{
    struct ban_request req = { .ip = ip_of(ip), .source = source, .reason = "InvalidPassword=3" };
    assert_int_equal(ban_store_add(store, &req, sw_wall_s(), NULL), BAN_OUTCOME_ADDED);
}

static void test_ban_redis_nodes_share_bans(void **state)
{
    (void)state;
    struct ban_redis *ra = NULL;
    struct ban_store *a = node_open("node-a", &ra);
    struct ban_store *b = node_open("node-b", NULL);
    ban(a, "192.0.2.1", BAN_SOURCE_AUTO);
    ban(a, "2001:db8::5", BAN_SOURCE_MANUAL);
    assert_true(wait_banned(b, "192.0.2.1", true));
    assert_true(wait_banned(b, "2001:db8::5", true));
    struct ban_entry entry;
    struct sw_ip ip = ip_of("192.0.2.1");
    assert_true(ban_store_get(b, &ip, &entry));
    assert_int_equal(entry.offence, 1);
    assert_string_equal(entry.reason, "InvalidPassword=3");
    assert_int_equal(entry.end_s - entry.start_s, 600);

    /* A lift on B reaches A. */
    assert_int_equal(ban_store_del(b, &ip, sw_wall_s()), 0);
    assert_true(wait_banned(a, "192.0.2.1", false));

    /* A node that starts later loads what is shared. */
    struct ban_store *c = node_open("node-c", NULL);
    struct sw_ip v6 = ip_of("2001:db8::5");
    assert_true(ban_store_is_banned(c, &v6, sw_wall_s()));
    assert_false(ban_store_is_banned(c, &ip, sw_wall_s()));

    struct ban_redis_stats stats;
    ban_redis_stats_get(ra, &stats);
    assert_int_equal(stats.written, 2);
    assert_int_equal(stats.dropped, 0);
    ban_store_free(c);
    ban_store_free(b);
    ban_store_free(a);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * Issue #15: a ban made on one node drops the attacker's next packet on every node within
 * 100 ms, the kernel drop map included. Node B carries the BPF backend when this machine
 * lets it load (root), so a sample ends when B's kernel map holds the address; otherwise
 * when B's table does. 200 bans, one at a time; the median and 99th percentile are
 * printed (the figures quoted in the note) and the 99th must stay under 100 ms.
 */
static void test_ban_redis_propagation_time(void **state)
{
    (void)state;

    enum { SAMPLES = 200 };
    struct ban_store *a = node_open("node-a", NULL);
    struct ban_store *b = node_open("node-b", NULL);
    char why[128] = "";
    struct ban_bpf *bpf = NULL;
    bool has_kernel = ban_bpf_new(1024, &bpf, why, sizeof(why)) == 0;
    if (has_kernel) {
        assert_int_equal(ban_store_attach(b, &ban_bpf_ops, bpf), 0);
    }
    static uint64_t took_us[SAMPLES];
    for (uint32_t i = 0; i < SAMPLES; i++) {
        char text[32];
        (void)snprintf(text, sizeof(text), "198.18.7.%u", i);
        struct sw_ip ip = ip_of(text);
        uint64_t start = sw_mono_us();
        ban(a, text, BAN_SOURCE_AUTO);
        bool is_there = false;
        /* Bounded: 1 s of 20 us steps at most per sample. */
        for (int step = 0; step < 50000 && !is_there; step++) {
            is_there = has_kernel ? ban_bpf_lookup(bpf, &ip, NULL)
                                  : ban_store_is_banned(b, &ip, sw_wall_s());
            if (!is_there) {
                struct timespec pause = { .tv_sec = 0, .tv_nsec = 20000L };
                (void)nanosleep(&pause, NULL);
            }
        }
        assert_true(is_there);
        took_us[i] = sw_mono_us() - start;
    }
    qsort(took_us, SAMPLES, sizeof(took_us[0]), compare_u64);
    uint64_t median = took_us[SAMPLES / 2];
    uint64_t p99 = took_us[SAMPLES * 99 / 100];
    print_message("ban propagation node A -> node B (%s): median %llu us, p99 %llu us, max %llu "
                  "us over %d bans\n",
                  has_kernel ? "kernel drop map" : "ban table, BPF refused here",
                  (unsigned long long)median, (unsigned long long)p99,
                  (unsigned long long)took_us[SAMPLES - 1], SAMPLES);
    assert_true(p99 < 100000u);
    ban_store_free(b);
    ban_store_free(a);
}

/* Redis restarts: both threads reconnect; a ban made meanwhile still reaches the peer. */
static void test_ban_redis_reconnects(void **state)
{
    (void)state;
    struct ban_redis *ra = NULL;
    struct ban_redis *rb = NULL;
    struct ban_store *a = node_open("node-a", &ra);
    struct ban_store *b = node_open("node-b", &rb);
    ban(a, "198.51.100.1", BAN_SOURCE_AUTO);
    assert_true(wait_banned(b, "198.51.100.1", true));

    redis_server_stop();
    /* Banned while Redis is down: enforced locally at once, shared once it is back. */
    ban(a, "198.51.100.2", BAN_SOURCE_AUTO);
    assert_true(wait_banned(a, "198.51.100.2", true));
    assert_true(redis_server_start());
    assert_true(wait_banned(b, "198.51.100.2", true));
    ban(b, "198.51.100.3", BAN_SOURCE_AUTO);
    assert_true(wait_banned(a, "198.51.100.3", true));

    struct ban_redis_stats stats;
    ban_redis_stats_get(rb, &stats);
    assert_true(stats.reconnects >= 1);
    ban_store_free(b);
    ban_store_free(a);
}

/* Without Redis a store still starts; the backend keeps retrying in the background. */
static void test_ban_redis_down_at_start(void **state)
{
    (void)state;
    redis_server_stop();
    struct ban_store *a = node_open("node-a", NULL);
    ban(a, "203.0.113.1", BAN_SOURCE_AUTO);
    assert_true(wait_banned(a, "203.0.113.1", true));
    ban_store_free(a);
    assert_true(redis_server_start());
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    if (!redis_server_is_installed()) {
        print_message("redis-server not installed: skipped\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ban_redis_nodes_share_bans, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_ban_redis_propagation_time, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_ban_redis_reconnects, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_ban_redis_down_at_start, redis_server_setup,
                                        redis_server_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
