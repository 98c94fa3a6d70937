/*
 * The lock-free rate limit: a burst is allowed at once, then one event per interval; time
 * gives the burst back; no limit at rate 0; exact under threads.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "state/gcra.h"
#include "support/unit.h"

static void test_gcra_burst_then_rate(void **state)
{
    (void)state;
    struct gcra g = { 0 };
    uint64_t now = 1000000000u;
    for (int i = 0; i < 5; i++) {
        assert_true(gcra_take(&g, now, 10, 5)); /* a burst of 5 at once */
    }
    assert_false(gcra_take(&g, now, 10, 5));
    assert_false(gcra_take(&g, now + 99999, 10, 5));
    assert_true(gcra_take(&g, now + 100000, 10, 5)); /* one per 100 ms after that */
    assert_false(gcra_take(&g, now + 100001, 10, 5));
    /* A quiet second gives the whole burst back, no more. */
    now += 2000000;
    for (int i = 0; i < 5; i++) {
        assert_true(gcra_take(&g, now, 10, 5));
    }
    assert_false(gcra_take(&g, now, 10, 5));
    struct gcra free_for_all = { 0 };
    for (int i = 0; i < 1000; i++) {
        assert_true(gcra_take(&free_for_all, now, 0, 1));
    }
}

struct race {
    struct gcra limit;
    atomic_uint taken;
};

static void *racer(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < 10000; i++) {
        if (gcra_take(&r->limit, 5000000u, 100, 20)) {
            atomic_fetch_add(&r->taken, 1);
        }
    }
    return NULL;
}

static void test_gcra_exact_across_threads(void **state)
{
    (void)state;
    struct race r = { 0 };
    atomic_init(&r.taken, 0);
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, racer, &r), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    assert_int_equal(atomic_load(&r.taken), 20); /* the burst, at one instant */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcra_burst_then_rate),
        cmocka_unit_test(test_gcra_exact_across_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
