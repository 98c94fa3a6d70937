/*
 * Call counters keyed by name: a slot is found again by its name (so a reload that
 * reorders sections keeps every count), kinds are separate, the table is bounded, and a
 * limit holds exactly when several threads reserve at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "state/callcount.h"
#include "support/unit.h"

#define THREADS 4
#define ROUNDS  20000

static void test_callcount_names_find_their_slot(void **state)
{
    (void)state;
    struct callcount *t = callcount_new(8);
    assert_non_null(t);
    struct callcount_slot *a = callcount_slot(t, CALLCOUNT_ACCOUNT, "1001");
    struct callcount_slot *b = callcount_slot(t, CALLCOUNT_ACCOUNT, "1002");
    struct callcount_slot *trunk = callcount_slot(t, CALLCOUNT_TRUNK, "1001");
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_ptr_not_equal(a, trunk); /* same name, other kind: another counter */
    assert_true(callcount_reserve(a, 2));
    /* Found again by name, as a reload in another order does. */
    assert_ptr_equal(callcount_slot(t, CALLCOUNT_ACCOUNT, "1001"), a);
    assert_int_equal(callcount_value(a), 1);
    assert_int_equal(callcount_value(b), 0);
    assert_string_equal(callcount_name(a), "1001");
    assert_int_equal(callcount_slot_kind(trunk), CALLCOUNT_TRUNK);
    callcount_release(a);
    assert_int_equal(callcount_value(a), 0);
    callcount_free(t);
}

static void test_callcount_limit_and_unlimited(void **state)
{
    (void)state;
    struct callcount *t = callcount_new(4);
    struct callcount_slot *s = callcount_slot(t, CALLCOUNT_TRUNK, "provider");
    assert_true(callcount_reserve(s, 2));
    assert_true(callcount_reserve(s, 2));
    assert_false(callcount_reserve(s, 2));
    assert_int_equal(callcount_value(s), 2);
    assert_true(callcount_reserve(s, 0)); /* 0 = no limit */
    assert_int_equal(callcount_value(s), 3);
    callcount_release(s);
    callcount_release(s);
    assert_true(callcount_reserve(s, 2));
    /* A NULL slot counts nothing and refuses nothing. */
    assert_true(callcount_reserve(NULL, 1));
    callcount_release(NULL);
    assert_int_equal(callcount_value(NULL), 0);
    callcount_free(t);
}

static void test_callcount_table_is_bounded(void **state)
{
    (void)state;
    struct callcount *t = callcount_new(3);
    char name[16];
    for (int i = 0; i < 3; i++) {
        (void)snprintf(name, sizeof(name), "a%d", i);
        assert_non_null(callcount_slot(t, CALLCOUNT_ACCOUNT, name));
    }
    assert_null(callcount_slot(t, CALLCOUNT_ACCOUNT, "one-too-many"));
    assert_non_null(callcount_slot(t, CALLCOUNT_ACCOUNT, "a1")); /* existing names still found */
    char long_name[CALLCOUNT_NAME_CAP + 1];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_null(callcount_slot(t, CALLCOUNT_ACCOUNT, long_name));
    callcount_free(t);
    callcount_free(NULL);
}

struct race {
    struct callcount_slot *slot;
    atomic_uint over;
    atomic_uint taken;
};

static void *racer(void *arg)
{
    struct race *r = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (callcount_reserve(r->slot, 10)) {
            atomic_fetch_add(&r->taken, 1);
            if (callcount_value(r->slot) > 10) {
                atomic_fetch_add(&r->over, 1);
            }
            callcount_release(r->slot);
        }
    }
    return NULL;
}

/* Issue #9 item 13: 11 calls with a limit of 10 when the check and the increment were
 * apart. Four threads hammer one slot: the count never passes the limit. */
static void test_callcount_limit_is_exact_across_threads(void **state)
{
    (void)state;
    struct callcount *t = callcount_new(1);
    struct race r = { .slot = callcount_slot(t, CALLCOUNT_TRUNK, "provider") };
    atomic_init(&r.over, 0);
    atomic_init(&r.taken, 0);
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, racer, &r), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    assert_int_equal(atomic_load(&r.over), 0);
    assert_true(atomic_load(&r.taken) > 0);
    assert_int_equal(callcount_value(r.slot), 0);
    callcount_free(t);
}

static unsigned wanted_calls;

static void count_wanted(void *ctx)
{
    (void)ctx;
    wanted_calls++;
}

/* A cluster's grant bounds reservations below the cap and asks for more as it runs out. */
static void test_callcount_grant_bounds_and_asks(void **state)
{
    (void)state;
    struct callcount *t = callcount_new(4);
    callcount_on_wanted(t, count_wanted, NULL);
    struct callcount_slot *s = callcount_slot(t, CALLCOUNT_TRUNK, "provider");
    assert_int_equal(callcount_grant(s), CALLCOUNT_NO_GRANT);
    callcount_share(s, 10);
    assert_int_equal(callcount_shared_cap(s), 10);
    callcount_grant_set(s, 2);
    assert_true(callcount_reserve(s, 10));
    assert_false(callcount_take_wanted(s));
    assert_int_equal(wanted_calls, 0);
    assert_true(callcount_reserve(s, 10)); /* the last place: asks before the next call */
    assert_true(callcount_take_wanted(s));
    assert_int_equal(wanted_calls, 1);
    assert_false(callcount_reserve(s, 10));
    assert_true(callcount_take_wanted(s));
    assert_int_equal(wanted_calls, 2);
    /* The cap itself still rules under a larger grant. */
    callcount_grant_set(s, 50);
    assert_false(callcount_reserve(s, 2));
    /* Not shared any more: the grant goes. */
    callcount_share(s, 0);
    assert_int_equal(callcount_grant(s), CALLCOUNT_NO_GRANT);
    assert_true(callcount_reserve(s, 0));
    assert_int_equal(callcount_slot_count(t), 1);
    assert_ptr_equal(callcount_slot_at(t, 0), s);
    for (int i = 0; i < 3; i++) {
        callcount_release(s);
    }
    callcount_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callcount_names_find_their_slot),
        cmocka_unit_test(test_callcount_limit_and_unlimited),
        cmocka_unit_test(test_callcount_table_is_bounded),
        cmocka_unit_test(test_callcount_limit_is_exact_across_threads),
        cmocka_unit_test(test_callcount_grant_bounds_and_asks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
