/*
 * The state tables under several threads at once, as workers use them. Meant for the
 * TSan build (-DSW_SANITIZE=thread) as much as for the plain one: every loop is bounded.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "base/hash.h"
#include "state/ban.h"
#include "state/failtrack.h"
#include "state/ratelimit.h"
#include "support/unit.h"

#define THREADS 4
#define ROUNDS  20000
#define NOW     1800000000

static struct sw_ip ip_n(uint32_t n)
{
    char text[32];
    (void)snprintf(text, sizeof(text), "10.%u.%u.%u", (n >> 16) & 255u, (n >> 8) & 255u, n & 255u);
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

struct shared {
    struct ban_store *bans;
    struct failtrack *failures;
    struct ratelimit *buckets;
    struct sw_ip always_banned;
    struct sw_ip never_banned;
    atomic_int wrong; /* invariant violations seen by any thread */
    atomic_bool is_done;
};

struct worker_arg {
    struct shared *shared;
    uint32_t id;
};

/* Each worker bans and lifts its own addresses and must always see its own writes. */
static void *worker_main(void *arg)
{
    const struct worker_arg *w = arg;
    struct shared *s = w->shared;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        struct sw_ip ip = ip_n(w->id * 1000000u + i % 5000u);
        struct ban_request req = { .ip = ip, .source = BAN_SOURCE_AUTO, .duration_s = 60 };
        enum ban_outcome outcome = ban_store_add(s->bans, &req, NOW, NULL);
        bool is_banned = ban_store_is_banned(s->bans, &ip, NOW);
        if ((outcome == BAN_OUTCOME_ADDED || outcome == BAN_OUTCOME_EXISTS) && !is_banned) {
            atomic_fetch_add(&s->wrong, 1);
        }
        if (i % 3 == 0 && ban_store_del(s->bans, &ip, NOW) == 0 &&
            ban_store_is_banned(s->bans, &ip, NOW)) {
            atomic_fetch_add(&s->wrong, 1);
        }
        struct failtrack_attempt a = { .ip = ip, .kind = EV_FAILED_ACL };
        struct failtrack_result r;
        failtrack_record(s->failures, &a, NOW + i, &r);
        (void)ratelimit_take(s->buckets, &ip, (enum ratelimit_class)(i % 4), 1 + i % 3, NOW + i);
    }
    return NULL;
}

/* Readers hammer the lock-free path: no false answer while writers churn the shards. */
static void *reader_main(void *arg)
{
    struct shared *s = arg;
    for (uint32_t i = 0; i < 4 * ROUNDS && !atomic_load(&s->is_done); i++) {
        if (!ban_store_is_banned(s->bans, &s->always_banned, NOW) ||
            ban_store_is_banned(s->bans, &s->never_banned, NOW)) {
            atomic_fetch_add(&s->wrong, 1);
        }
    }
    return NULL;
}

static void *housekeeper_main(void *arg)
{
    struct shared *s = arg;
    for (int i = 0; i < 200 && !atomic_load(&s->is_done); i++) {
        (void)ban_store_expire(s->bans, NOW + 30);
        struct ban_entry list[64];
        (void)ban_store_list(s->bans, NOW, list, 64);
        (void)failtrack_count(s->failures);
        (void)ratelimit_count(s->buckets);
    }
    return NULL;
}

static void test_state_tables_concurrently(void **state)
{
    (void)state;
    struct shared s = { 0 };
    assert_int_equal(ban_store_new(&(struct ban_config){ .max_entries = 65536 }, &s.bans), 0);
    assert_int_equal(failtrack_new(&(struct failtrack_config){ .max_sources = 2048 }, &s.failures),
                     0);
    assert_int_equal(ratelimit_new(&(struct ratelimit_config){ .max_entries = 2048 }, &s.buckets),
                     0);
    s.always_banned = ip_n(9000000);
    s.never_banned = ip_n(9000001);
    struct ban_request manual = { .ip = s.always_banned, .source = BAN_SOURCE_MANUAL };
    assert_int_equal(ban_store_add(s.bans, &manual, NOW, NULL), BAN_OUTCOME_ADDED);

    pthread_t workers[THREADS];
    pthread_t readers[2];
    pthread_t housekeeper;
    struct worker_arg args[THREADS];
    for (uint32_t i = 0; i < THREADS; i++) {
        args[i] = (struct worker_arg){ .shared = &s, .id = i };
        assert_int_equal(pthread_create(&workers[i], NULL, worker_main, &args[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&readers[i], NULL, reader_main, &s), 0);
    }
    assert_int_equal(pthread_create(&housekeeper, NULL, housekeeper_main, &s), 0);
    for (uint32_t i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(workers[i], NULL), 0);
    }
    atomic_store(&s.is_done, true);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(readers[i], NULL), 0);
    }
    assert_int_equal(pthread_join(housekeeper, NULL), 0);

    assert_int_equal(atomic_load(&s.wrong), 0);
    assert_true(ban_store_count(s.bans) <= ban_store_capacity(s.bans));
    assert_true(failtrack_count(s.failures) <= failtrack_capacity(s.failures));
    assert_true(ratelimit_count(s.buckets) <= ratelimit_capacity(s.buckets));
    assert_true(ban_store_is_banned(s.bans, &s.always_banned, NOW));
    ratelimit_free(s.buckets);
    failtrack_free(s.failures);
    ban_store_free(s.bans);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_tables_concurrently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
