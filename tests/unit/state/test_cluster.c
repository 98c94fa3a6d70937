#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/time.h"
#include "state/callcount.h"
#include "state/cluster.h"
#include "state/regshare.h"
#include "state/spendstore.h"
#include "state/velshare.h"
#include "support/redis_server.h"
#include "support/unit.h"

/* What on_ban saw, per node. */
struct seen {
    atomic_uint bans;
    atomic_uint failures;
    struct sw_ip ip;
};

static void on_ban(void *ctx, const struct sw_ip *ip, uint32_t failures)
{
    struct seen *seen = ctx;
    seen->ip = *ip;
    atomic_store(&seen->failures, failures);
    atomic_fetch_add(&seen->bans, 1);
}

static struct cluster *node_open(struct seen *seen, uint32_t maxretry)
{
    struct cluster_config cfg = {
        .port = (uint16_t)redis_server_port(),
        .prefix = "swtest:",
        .timeout_ms = 500,
        .maxretry = maxretry,
        .findtime_s = 60,
    };
    struct cluster *c = NULL;
    assert_int_equal(cluster_new(&cfg, on_ban, seen, &c), 0);
    assert_int_equal(cluster_start(c), 0);
    return c;
}

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

/* Polls until `c` has had `want` operations taken by Redis, at most 5 s. */
static bool wait_operations(struct cluster *c, uint64_t want)
{
    for (int i = 0; i < 500; i++) {
        struct cluster_stats stats;
        cluster_stats_get(c, &stats);
        if (stats.operations >= want) {
            return true;
        }
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 10000000L };
        (void)nanosleep(&pause, NULL);
    }
    return false;
}

/* Failures alternating between two nodes: the third in all bans, on the node that made it. */
static void test_cluster_failures_add_up_across_nodes(void **state)
{
    (void)state;
    struct seen seen_a = { 0 };
    struct seen seen_b = { 0 };
    struct cluster *a = node_open(&seen_a, 3);
    struct cluster *b = node_open(&seen_b, 3);
    struct sw_ip ip = ip_of("192.0.2.7");
    cluster_failure(a, &ip);
    assert_true(wait_operations(a, 1));
    cluster_failure(b, &ip);
    assert_true(wait_operations(b, 1));
    assert_int_equal(atomic_load(&seen_a.bans) + atomic_load(&seen_b.bans), 0);
    cluster_failure(a, &ip);
    assert_true(wait_operations(a, 2));
    assert_int_equal(atomic_load(&seen_a.bans), 1);
    assert_int_equal(atomic_load(&seen_a.failures), 3);
    assert_true(sw_ip_eq(&seen_a.ip, &ip));
    assert_int_equal(atomic_load(&seen_b.bans), 0);

    /* Another source's count is its own. */
    struct sw_ip other = ip_of("2001:db8::9");
    cluster_failure(b, &other);
    assert_true(wait_operations(b, 2));
    assert_int_equal(atomic_load(&seen_b.bans), 0);

    struct cluster_stats stats;
    cluster_stats_get(a, &stats);
    assert_int_equal(stats.dropped, 0);
    assert_int_equal(stats.bans, 1);
    assert_true(stats.is_connected);
    cluster_free(b);
    cluster_free(a);
}

/* Redis away: failures wait in the queue and are added when it is back. */
static void test_cluster_failures_wait_for_redis(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    redis_server_stop();
    struct cluster *a = node_open(&seen, 2);
    struct sw_ip ip = ip_of("198.51.100.4");
    cluster_failure(a, &ip);
    cluster_failure(a, &ip);
    assert_false(cluster_wait_ready(a, 300)); /* the start goes on with the local shares */
    struct cluster_stats stats;
    cluster_stats_get(a, &stats);
    assert_false(stats.is_connected);
    assert_true(stats.errors >= 1);
    assert_true(redis_server_start());
    assert_true(wait_operations(a, 2));
    assert_int_equal(atomic_load(&seen.bans), 1);
    cluster_free(a);
}

/* A full queue drops the oldest failure, counts it, and never blocks the caller. */
static void test_cluster_full_queue_drops_oldest(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    redis_server_stop();
    struct cluster_config cfg = { .port = (uint16_t)redis_server_port(), .queue_cap = 4 };
    struct cluster *c = NULL;
    assert_int_equal(cluster_new(&cfg, on_ban, &seen, &c), 0);
    struct sw_ip ip = ip_of("203.0.113.5");
    for (int i = 0; i < 10; i++) {
        cluster_failure(c, &ip);
    }
    struct cluster_stats stats;
    cluster_stats_get(c, &stats);
    assert_int_equal(stats.dropped, 6);
    cluster_free(c); /* never started: nothing is sent */
    assert_true(redis_server_start());
}

/* A node sharing the cap of trunk "provider" through `table`. */
static struct cluster *cap_node(const char *node, struct callcount *table, struct seen *seen)
{
    struct cluster_config cfg = {
        .port = (uint16_t)redis_server_port(),
        .prefix = "swtest:",
        .timeout_ms = 500,
        .node = node,
        .calls = table,
        .local_share_pct = 50,
    };
    struct cluster *c = NULL;
    assert_int_equal(cluster_new(&cfg, on_ban, seen, &c), 0);
    assert_int_equal(cluster_start(c), 0);
    return c;
}

static void pause_ms(long ms)
{
    struct timespec pause = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    (void)nanosleep(&pause, NULL);
}

/* Reserves on `slot` until it has `want` calls or 2 s passed; returns what it holds. */
static uint32_t take_up_to(struct callcount_slot *slot, uint32_t want)
{
    for (int i = 0; i < 200 && callcount_value(slot) < want; i++) {
        if (!callcount_reserve(slot, 100)) {
            pause_ms(10); /* the cluster thread asks for more meanwhile */
        }
    }
    return callcount_value(slot);
}

/*
 * Two nodes share a cap of 4: whatever each asks for, they never hold more than 4 calls
 * together; when one stops, the other gets its room; without Redis each holds its local
 * share (2).
 */
static void test_cluster_call_cap_is_shared(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct callcount *ta = callcount_new(8);
    struct callcount *tb = callcount_new(8);
    struct callcount_slot *sa = callcount_slot(ta, CALLCOUNT_TRUNK, "provider");
    struct callcount_slot *sb = callcount_slot(tb, CALLCOUNT_TRUNK, "provider");
    callcount_share(sa, 4);
    callcount_share(sb, 4);
    struct cluster *a = cap_node("a", ta, &seen);
    assert_int_equal(callcount_grant(sa), 2); /* the local share until Redis answers */
    struct cluster *b = cap_node("b", tb, &seen);
    /* B takes its places once Redis answered it (before, its local share of 2 holds). */
    assert_true(cluster_wait_ready(b, 5000));
    assert_int_equal(take_up_to(sa, 3), 3);
    /* B asks for 3 as well: only 1 is left. */
    assert_int_equal(take_up_to(sb, 3), 1);
    assert_true(callcount_grant(sa) + callcount_grant(sb) <= 4);

    /* A ends its calls; within a tick its grant shrinks and B may grow to 3. */
    for (int i = 0; i < 3; i++) {
        callcount_release(sa);
    }
    assert_int_equal(take_up_to(sb, 3), 3);
    assert_true(callcount_grant(sa) + callcount_grant(sb) <= 4);

    /* B stops (its lease goes): A may hold all 4. */
    cluster_free(b);
    assert_int_equal(take_up_to(sa, 4), 4);

    /* Redis away: A falls back to its local share; its calls stay, new ones wait. */
    redis_server_stop();
    for (int i = 0; i < 100 && callcount_grant(sa) != 2; i++) {
        pause_ms(20);
    }
    assert_int_equal(callcount_grant(sa), 2);
    for (int i = 0; i < 3; i++) {
        callcount_release(sa);
    }
    assert_int_equal(take_up_to(sa, 4), 2);
    assert_true(redis_server_start());
    cluster_free(a);
    callcount_free(tb);
    callcount_free(ta);
}

static struct cluster *spend_node(const char *node, struct spend_store *store)
{
    struct cluster_config cfg = {
        .port = (uint16_t)redis_server_port(),
        .prefix = "swtest:",
        .timeout_ms = 500,
        .node = node,
        .local_share_pct = 50,
    };
    struct cluster *c = NULL;
    assert_int_equal(cluster_new(&cfg, on_ban, NULL, &c), 0);
    cluster_share_spend(c, store);
    assert_int_equal(cluster_start(c), 0);
    return c;
}

static struct spend_store *alice_store(void)
{
    struct spend_store *s = spend_store_new_memory(8, 16);
    assert_non_null(s);
    static const char *const keys[] = { "account:alice" };
    const struct spend_caps caps[] = { { .daily_micro = 1000000 } };
    struct spend_config cfg = { .keys = keys, .caps = caps, .count = 1 };
    spend_store_configure(s, &cfg);
    return s;
}

static struct spend_view alice_view(struct spend_store *s)
{
    struct spend_view v[2];
    assert_int_equal(spend_store_list(s, (int64_t)sw_mono_ms(), sw_wall_s(), v, 2), 1);
    return v[0];
}

static struct spend_call alice_call(const char *id, int64_t connect_fee_micro)
{
    struct spend_call call = { .rate = { .connect_fee_micro = connect_fee_micro,
                                         .first_increment_s = 1,
                                         .next_increment_s = 1 } };
    (void)snprintf(call.id, sizeof(call.id), "%s", id);
    call.key_count = spend_keys_of("alice", "", call.keys);
    return call;
}

/* Polls (at most 4 s) until `s`'s view of alice says the cluster spent `day` today. */
static bool wait_cluster_day(struct spend_store *s, int64_t day)
{
    for (int i = 0; i < 200 && alice_view(s).cluster_day_micro != day; i++) {
        pause_ms(20);
    }
    return alice_view(s).cluster_day_micro == day;
}

/*
 * Two nodes share a daily cap of 1.00: their grants never exceed what the cluster's
 * closed spend leaves; a node short of grant gets the room of a node that stopped;
 * without Redis a node keeps half of what it knew to remain.
 */
static void test_cluster_spend_cap_is_shared(void **state)
{
    (void)state;
    struct spend_store *sa = alice_store();
    struct spend_store *sb = alice_store();
    struct cluster *a = spend_node("a", sa);
    struct cluster *b = spend_node("b", sb);
    /* Their first round asked for the grants and told them the cluster's spend. */
    assert_true(cluster_wait_ready(a, 5000));
    assert_true(cluster_wait_ready(b, 5000));
    assert_int_equal(alice_view(sa).cluster_day_micro, 0);
    assert_int_equal(alice_view(sb).cluster_day_micro, 0);
    assert_true(alice_view(sa).grant_micro + alice_view(sb).grant_micro <= 1000000);

    /* A closes 0.70: once reported, the grants fit in the 0.30 left. */
    struct spend_call spent = alice_call("spent", 0);
    spend_store_start(sa, &spent);
    spend_store_end(sa, &spent, 700000, sw_wall_s());
    assert_true(wait_cluster_day(sa, 700000));
    assert_true(alice_view(sa).grant_micro + alice_view(sb).grant_micro <= 300000);

    /* B cannot start a call asking 0.25 while A holds its spare: at first maybe "retry"
     * (its last answer gave all it wanted: more is asked for), then the cap... */
    char key[SPEND_KEY_CAP];
    struct spend_call dear = alice_call("dear", 250000);
    enum spend_verdict first =
        spend_store_check(sb, &dear, (int64_t)sw_mono_ms(), sw_wall_s(), key, sizeof(key));
    assert_true(first == SPEND_DAILY || first == SPEND_GRANT);
    enum spend_verdict then = SPEND_GRANT;
    for (int i = 0; i < 100 && then == SPEND_GRANT; i++) {
        pause_ms(20);
        then = spend_store_check(sb, &dear, (int64_t)sw_mono_ms(), sw_wall_s(), key, sizeof(key));
    }
    assert_int_equal(then, SPEND_DAILY);
    assert_true(alice_view(sa).grant_micro + alice_view(sb).grant_micro <= 300000);
    /* ...and can once A stopped (its lease went with it). */
    cluster_free(a);
    enum spend_verdict v = SPEND_DAILY;
    for (int i = 0; i < 200 && v != SPEND_OK; i++) {
        pause_ms(20);
        v = spend_store_check(sb, &dear, (int64_t)sw_mono_ms(), sw_wall_s(), key, sizeof(key));
    }
    assert_int_equal(v, SPEND_OK);
    assert_int_equal(alice_view(sb).cluster_day_micro, 700000);
    assert_true(alice_view(sb).grant_micro <= 300000);

    /* Redis away: half of the 0.30 B knows to remain. */
    redis_server_stop();
    for (int i = 0; i < 100 && alice_view(sb).grant_micro != 150000; i++) {
        pause_ms(20);
    }
    assert_int_equal(alice_view(sb).grant_micro, 150000);
    /* Redis back empty, A gone: B brings back the cluster's 0.70 it knew, so the spend
     * does not appear lower and B's grant still fits in the 0.30 left. */
    assert_true(redis_server_start());
    assert_true(cluster_wait_ready(b, 8000));
    assert_int_equal(alice_view(sb).cluster_day_micro, 700000);
    assert_true(alice_view(sb).grant_micro <= 300000);
    cluster_free(b);
    spend_store_free(sb);
    spend_store_free(sa);
}

/* Polls (at most 4 s) until the velocity scripts `c` ran reach `want`. */
static bool wait_velocity(struct cluster *c, uint64_t want)
{
    for (int i = 0; i < 200; i++) {
        struct cluster_stats stats;
        cluster_stats_get(c, &stats);
        if (stats.velocity_sent >= want) {
            return true;
        }
        pause_ms(20);
    }
    return false;
}

/* Velocity counts of one account on two nodes: each node's dial learns the other's. */
static void test_cluster_velocity_is_shared(void **state)
{
    (void)state;
    struct velshare *va = velshare_new(8);
    struct velshare *vb = velshare_new(8);
    struct cluster_config cfg = {
        .port = (uint16_t)redis_server_port(), .prefix = "swtest:", .timeout_ms = 500
    };
    struct cluster *a = NULL;
    struct cluster *b = NULL;
    cfg.node = "a";
    assert_int_equal(cluster_new(&cfg, on_ban, NULL, &a), 0);
    cfg.node = "b";
    assert_int_equal(cluster_new(&cfg, on_ban, NULL, &b), 0);
    cluster_share_velocity(a, va);
    cluster_share_velocity(b, vb);
    assert_int_equal(cluster_start(a), 0);
    assert_int_equal(cluster_start(b), 0);

    /* A dialled 3 calls (1 international) in the minute: published. */
    struct velshare_counts counts = { 3, 1 };
    velshare_dial(va, SV("account:alice"), &counts);
    assert_true(wait_velocity(a, 1));
    /* B's first dial publishes its own count and learns A's; its next one adds them. */
    counts = (struct velshare_counts){ 1, 0 };
    velshare_dial(vb, SV("account:alice"), &counts);
    assert_int_equal(counts.calls_minute, 1);
    assert_true(wait_velocity(b, 1));
    counts = (struct velshare_counts){ 2, 0 };
    velshare_dial(vb, SV("account:alice"), &counts);
    assert_int_equal(counts.calls_minute, 5);
    assert_int_equal(counts.international_hour, 1);
    assert_true(wait_velocity(b, 2)); /* B's 2 published */
    /* A learns B's at its next dial's publish. */
    counts = (struct velshare_counts){ 4, 1 };
    velshare_dial(va, SV("account:alice"), &counts);
    assert_true(wait_velocity(a, 2));
    counts = (struct velshare_counts){ 5, 1 };
    velshare_dial(va, SV("account:alice"), &counts);
    assert_int_equal(counts.calls_minute, 5 + 2);
    cluster_free(a);
    cluster_free(b);
    velshare_free(va);
    velshare_free(vb);
}

/* Polls (3 s at most) until `r` knows `node` as the holder of `account`, or no holder. */
static bool wait_holder(struct regshare *r, const char *account, const char *node)
{
    for (int i = 0; i < 300; i++) {
        struct regshare_holder holder;
        bool has = regshare_lookup(r, sv_from_cstr(account), sw_wall_s(), &holder);
        if (node == NULL ? !has : has && strcmp(holder.node, node) == 0) {
            return true;
        }
        pause_ms(10);
    }
    return false;
}

static struct cluster *reg_node_open(const char *node, struct regshare *r, const char *address)
{
    struct cluster_config cfg = {
        .port = (uint16_t)redis_server_port(), .prefix = "swtest:", .timeout_ms = 500, .node = node
    };
    struct cluster *c = NULL;
    assert_int_equal(cluster_new(&cfg, on_ban, NULL, &c), 0);
    cluster_share_registrations(c, r, address);
    assert_int_equal(cluster_start(c), 0);
    return c;
}

/*
 * A binding published by one node is learnt by the other, with where to relay; a phone
 * that moves to the other node is not removed by the first's unregistration; an
 * unregistration reaches the other node; a node that stops takes its bindings along.
 */
static void test_cluster_registrations_are_shared(void **state)
{
    (void)state;
    struct regshare *ra = regshare_new(8);
    struct regshare *rb = regshare_new(8);
    struct cluster *a = reg_node_open("a", ra, "udp:127.0.0.11:5070");
    struct cluster *b = reg_node_open("b", rb, "udp:127.0.0.12:5070");
    int64_t now = sw_wall_s();

    regshare_local(ra, SV("1001"), now + 120);
    assert_true(wait_holder(rb, "1001", "a"));
    struct regshare_holder holder;
    assert_true(regshare_lookup(rb, SV("1001"), now, &holder));
    assert_string_equal(holder.address, "udp:127.0.0.11:5070");
    assert_int_equal(holder.expires_at_s, now + 120);
    assert_false(regshare_lookup(rb, SV("1001"), now + 120, &holder)); /* expired by then */
    assert_false(regshare_lookup(ra, SV("1001"), now, &holder));       /* a's own */

    /* The phone registers through b; a's binding then expires: b's stays. */
    regshare_local(rb, SV("1001"), now + 60);
    assert_true(wait_holder(ra, "1001", "b"));
    regshare_local(ra, SV("1001"), 0);
    pause_ms(500);
    assert_true(wait_holder(ra, "1001", "b"));
    assert_int_equal(regshare_remote_count(ra, now), 1);
    /* b's unregistration reaches a. */
    regshare_local(rb, SV("1001"), 0);
    assert_true(wait_holder(ra, "1001", NULL));

    /* a stops (its lease goes, as when it dies and the lease lapses): b forgets a's. */
    regshare_local(ra, SV("1002"), now + 120);
    assert_true(wait_holder(rb, "1002", "a"));
    cluster_free(a);
    assert_true(wait_holder(rb, "1002", NULL));
    cluster_free(b);
    regshare_free(ra);
    regshare_free(rb);
}

static void test_cluster_refuses_bad_config(void **state)
{
    (void)state;
    struct cluster *c = NULL;
    struct cluster_config bad_prefix = { .prefix = "a b" };
    assert_int_equal(cluster_new(&bad_prefix, on_ban, NULL, &c), -SW_EBADARG);
    struct cluster_config bad_queue = { .queue_cap = (1u << 20) + 1 };
    assert_int_equal(cluster_new(&bad_queue, on_ban, NULL, &c), -SW_EBADARG);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    if (!redis_server_is_installed()) {
        print_message("redis-server not installed: skipped\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cluster_failures_add_up_across_nodes,
                                        redis_server_setup, redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_cluster_failures_wait_for_redis, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_cluster_full_queue_drops_oldest, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_cluster_call_cap_is_shared, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_cluster_spend_cap_is_shared, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_cluster_velocity_is_shared, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test_setup_teardown(test_cluster_registrations_are_shared, redis_server_setup,
                                        redis_server_teardown),
        cmocka_unit_test(test_cluster_refuses_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
