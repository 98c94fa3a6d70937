#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/settab.h"
#include "support/unit.h"

#define THREADS        4u
#define KEYS           512u
#define ROUNDS         200u
#define SETTAB_ENTRIES 1024u

struct counter {
    uint64_t key; /* 0 = empty */
    uint64_t count;
};

static void test_settab_rejects_bad_sizes(void **state)
{
    (void)state;
    struct settab tab;
    assert_int_equal(settab_init(&tab, 0, 8, 2, 1), -SW_EBADARG);
    assert_int_equal(settab_init(&tab, 8, 0, 2, 1), -SW_EBADARG);
    assert_int_equal(settab_init(&tab, 8, 8, 0, 1), -SW_EBADARG);
    assert_int_equal(settab_init(&tab, 8, 8, 65, 1), -SW_EBADARG);
    assert_int_equal(settab_init(&tab, 8, 8, 2, 0), -SW_EBADARG);
    settab_fini(&tab); /* a failed table */
}

/* Whole sets, zeroed, a key always in the same set, the ways contiguous and distinct. */
static void test_settab_sets_and_ways(void **state)
{
    (void)state;
    struct settab tab;
    assert_int_equal(settab_init(&tab, sizeof(struct counter), 10, 4, 2), 0);
    assert_int_equal(tab.set_count, 3);
    assert_int_equal(settab_memory_bytes(&tab),
                     12 * sizeof(struct counter) + 2 * sizeof(pthread_mutex_t));
    struct counter *set = settab_lock(&tab, 7);
    for (unsigned w = 0; w < tab.ways; w++) {
        struct counter *c = settab_way(&tab, set, w);
        assert_ptr_equal(c, &set[w]);
        assert_int_equal(c->key, 0);
        c->key = 100 + w;
    }
    settab_unlock(&tab, 7);
    struct counter *again = settab_lock(&tab, 7 + 3 * 1000); /* same set: hash mod 3 */
    assert_ptr_equal(again, set);
    assert_int_equal(again[3].key, 103);
    settab_unlock(&tab, 7 + 3 * 1000);
    struct counter *other = settab_lock(&tab, 8);
    assert_ptr_not_equal(other, set);
    assert_int_equal(other[0].key, 0);
    settab_unlock(&tab, 8);
    settab_fini(&tab);
    settab_fini(&tab); /* twice is fine */
}

static struct settab shared;

/* Counts `key` in its set: the matching way, else a free one; false when the set is full. */
static bool count_key(uint64_t key)
{
    struct counter *set = settab_lock(&shared, key);
    struct counter *hit = NULL;
    for (unsigned w = 0; w < shared.ways && hit == NULL; w++) {
        if (set[w].key == key || set[w].key == 0) {
            hit = &set[w];
        }
    }
    if (hit != NULL) {
        hit->key = key;
        hit->count++;
    }
    settab_unlock(&shared, key);
    return hit != NULL;
}

static void *count_keys(void *arg)
{
    (void)arg;
    for (unsigned round = 0; round < ROUNDS; round++) {
        for (uint64_t key = 1; key <= KEYS; key++) {
            assert_true(count_key(key * 0x9e3779b97f4a7c15ull | 1u));
        }
    }
    return NULL;
}

/* Threads updating overlapping sets under the striped locks: no update is lost. This is
 * the test the TSan build runs. */
static void test_settab_threads_lose_no_update(void **state)
{
    (void)state;
    /* Enough ways that the keys fit: 512 keys over 64 sets of 16. */
    assert_int_equal(settab_init(&shared, sizeof(struct counter), SETTAB_ENTRIES, 16, 8), 0);
    pthread_t threads[THREADS];
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, count_keys, NULL), 0);
    }
    for (unsigned i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    uint64_t total = 0;
    unsigned keys = 0;
    for (size_t s = 0; s < shared.set_count; s++) {
        struct counter *set = settab_lock(&shared, s);
        for (unsigned w = 0; w < shared.ways; w++) {
            total += set[w].count;
            keys += set[w].key != 0 ? 1u : 0u;
            assert_true(set[w].key == 0 || set[w].count == THREADS * ROUNDS);
        }
        settab_unlock(&shared, s);
    }
    assert_int_equal(keys, KEYS);
    assert_int_equal(total, (uint64_t)THREADS * ROUNDS * KEYS);
    settab_fini(&shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settab_rejects_bad_sizes),
        cmocka_unit_test(test_settab_sets_and_ways),
        cmocka_unit_test(test_settab_threads_lose_no_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
