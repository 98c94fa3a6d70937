#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "state/shardtab.h"
#include "support/unit.h"

#define THREADS 4u
#define KEYS    2000u
#define ROUNDS  50u

struct record {
    uint64_t key;
    uint64_t count;
};

static bool record_is(const void *entry, const void *key)
{
    return ((const struct record *)entry)->key == *(const uint64_t *)key;
}

/* A hash whose top bits pick shard `shard` and whose low bits are `low`. */
static uint64_t hash_in(unsigned shard, uint32_t low)
{
    return ((uint64_t)shard << 58) | low;
}

static void test_shardtab_rejects_bad_sizes(void **state)
{
    (void)state;
    struct shardtab tab;
    assert_int_equal(shardtab_init(&tab, 0, 64), -SW_EBADARG);
    assert_int_equal(shardtab_init(&tab, 8, 0), -SW_EBADARG);
    assert_int_equal(shardtab_init(&tab, 8, ((size_t)1 << 26) + 1), -SW_EBADARG);
    shardtab_fini(&tab);
}

/* Insert until full, find by hash and key (colliding hashes too), remove and reuse. */
static void test_shardtab_insert_find_remove(void **state)
{
    (void)state;
    struct shardtab tab;
    assert_int_equal(shardtab_init(&tab, sizeof(struct record), 3 * SHARDTAB_SHARDS - 1), 0);
    assert_int_equal(shardtab_capacity(&tab), 3 * SHARDTAB_SHARDS);
    assert_true(tab.memory_bytes > 3 * SHARDTAB_SHARDS * sizeof(struct record));
    struct shardtab_shard *shard = shardtab_lock(&tab, hash_in(5, 7));
    assert_ptr_equal(shard, &tab.shards[5]);
    for (uint64_t key = 1; key <= 3; key++) {
        uint32_t idx = shardtab_insert(shard, hash_in(5, 7)); /* one hash for all */
        assert_int_equal(idx, key - 1);                       /* from 0 upwards */
        struct record *r = shardtab_entry(&tab, shard, idx);
        assert_int_equal(r->key, 0); /* zero at first */
        r->key = key;
    }
    assert_int_equal(shardtab_insert(shard, hash_in(5, 8)), SHARDTAB_NONE); /* full */
    uint64_t two = 2;
    uint64_t four = 4;
    assert_int_equal(shardtab_find(&tab, shard, hash_in(5, 7), record_is, &two), 1);
    assert_int_equal(shardtab_find(&tab, shard, hash_in(5, 7), record_is, &four), SHARDTAB_NONE);
    assert_int_equal(shardtab_find(&tab, shard, hash_in(5, 9), record_is, &two), SHARDTAB_NONE);
    shardtab_remove(shard, hash_in(5, 7), 1);
    assert_int_equal(shardtab_find(&tab, shard, hash_in(5, 7), record_is, &two), SHARDTAB_NONE);
    struct record *r = shardtab_entry(&tab, shard, 1);
    r->count = 99;
    assert_int_equal(shardtab_insert(shard, hash_in(5, 8)), 1); /* the freed one */
    assert_int_equal(r->count, 99);                             /* as its last user left it */
    shardtab_unlock(shard);
    assert_int_equal(shardtab_count(&tab), 3);
    shardtab_fini(&tab);
    shardtab_fini(&tab); /* twice is fine */
}

static struct shardtab shared;

static void *count_keys(void *arg)
{
    (void)arg;
    for (unsigned round = 0; round < ROUNDS; round++) {
        for (uint64_t key = 1; key <= KEYS; key++) {
            uint64_t hash = key * 0x9e3779b97f4a7c15ull;
            struct shardtab_shard *shard = shardtab_lock(&shared, hash);
            uint32_t idx = shardtab_find(&shared, shard, hash, record_is, &key);
            if (idx == SHARDTAB_NONE) {
                idx = shardtab_insert(shard, hash);
                assert_int_not_equal(idx, SHARDTAB_NONE);
                ((struct record *)shardtab_entry(&shared, shard, idx))->key = key;
            }
            ((struct record *)shardtab_entry(&shared, shard, idx))->count++;
            shardtab_unlock(shard);
        }
    }
    return NULL;
}

/* Threads inserting and updating the same keys: each key once, no update lost. This is
 * the test the TSan build runs. */
static void test_shardtab_threads_lose_no_update(void **state)
{
    (void)state;
    assert_int_equal(shardtab_init(&shared, sizeof(struct record), 4 * KEYS), 0);
    pthread_t threads[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, count_keys, NULL), 0);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    assert_int_equal(shardtab_count(&shared), KEYS);
    for (uint64_t key = 1; key <= KEYS; key++) {
        uint64_t hash = key * 0x9e3779b97f4a7c15ull;
        struct shardtab_shard *shard = shardtab_lock(&shared, hash);
        uint32_t idx = shardtab_find(&shared, shard, hash, record_is, &key);
        assert_int_not_equal(idx, SHARDTAB_NONE);
        assert_int_equal(((struct record *)shardtab_entry(&shared, shard, idx))->count,
                         THREADS * ROUNDS);
        shardtab_unlock(shard);
    }
    shardtab_fini(&shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shardtab_rejects_bad_sizes),
        cmocka_unit_test(test_shardtab_insert_find_remove),
        cmocka_unit_test(test_shardtab_threads_lose_no_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
