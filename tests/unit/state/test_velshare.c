#include <string.h>

#include "base/hash.h"
#include "state/velshare.h"
#include "support/unit.h"

static void count_hook(void *ctx)
{
    (*(int *)ctx)++;
}

/* A dial records the local counts (dirty once until taken) and adds the others' counts. */
static void test_dial_adds_the_remote_counts(void **state)
{
    (void)state;
    struct velshare *v = velshare_new(2);
    assert_non_null(v);
    int dirty = 0;
    velshare_on_dirty(v, count_hook, &dirty);
    struct velshare_counts counts = { 3, 1 };
    velshare_dial(v, SV("account:alice"), &counts);
    assert_int_equal(counts.calls_minute, 3); /* nobody else known yet */
    counts = (struct velshare_counts){ 4, 1 };
    velshare_dial(v, SV("account:alice"), &counts);
    assert_int_equal(dirty, 1); /* once until the cluster thread took it */

    struct velshare_item item;
    assert_true(velshare_next_dirty(v, &item));
    assert_string_equal(item.key, "account:alice");
    assert_int_equal(item.local.calls_minute, 4);
    assert_false(velshare_next_dirty(v, &item));
    velshare_set_remote(v, "account:alice", (struct velshare_counts){ 5, 2 });

    counts = (struct velshare_counts){ 5, 2 };
    velshare_dial(v, SV("account:alice"), &counts);
    assert_int_equal(counts.calls_minute, 10);
    assert_int_equal(counts.international_hour, 4);
    assert_int_equal(dirty, 2);

    /* Redis away: the others' counts are forgotten, the keys published again later. */
    velshare_clear_remote(v);
    counts = (struct velshare_counts){ 6, 2 };
    velshare_dial(v, SV("account:alice"), &counts);
    assert_int_equal(counts.calls_minute, 6);

    /* A full table judges a new key on its local counts. */
    counts = (struct velshare_counts){ 1, 0 };
    velshare_dial(v, SV("trunk:t1"), &counts);
    counts = (struct velshare_counts){ 1, 0 };
    velshare_dial(v, SV("trunk:t2"), &counts);
    assert_int_equal(counts.calls_minute, 1);
    velshare_free(v);
}

/* The installed table is the fraud stage's; without one a dial changes nothing. */
static void test_installed_table(void **state)
{
    (void)state;
    struct velshare_counts counts = { 2, 0 };
    velshare_shared_dial(SV("account:bob"), &counts);
    assert_int_equal(counts.calls_minute, 2);
    struct velshare *v = velshare_new(4);
    velshare_install(v);
    velshare_shared_dial(SV("account:bob"), &counts);
    velshare_set_remote(v, "account:bob", (struct velshare_counts){ 7, 0 });
    velshare_shared_dial(SV("account:bob"), &counts);
    assert_int_equal(counts.calls_minute, 9);
    velshare_install(NULL);
    velshare_free(v);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dial_adds_the_remote_counts),
        cmocka_unit_test(test_installed_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
