#include <stdio.h>
#include <string.h>

#include "state/spendstore.h"
#include "support/unit.h"

#define WALL 1796623200 /* 2026-12-07 06:00 UTC */

static const struct rate per_second = { .per_minute_micro = 1200000,
                                        .first_increment_s = 1,
                                        .next_increment_s = 1 };

static struct spend_call call_on(const char *id, const char *trunk, struct rate rate)
{
    struct spend_call c = { .rate = rate };
    (void)snprintf(c.id, sizeof(c.id), "%s", id);
    c.key_count = spend_keys_of("", trunk, c.keys);
    return c;
}

static struct spend_store *store_with_caps(int64_t trunk_daily, int64_t global_monthly,
                                           bool is_cancel_ringing)
{
    struct spend_store *s = spend_store_new_memory(16, 64);
    assert_non_null(s);
    static const char *const keys[] = { "trunk:t1", SPEND_GLOBAL_KEY };
    struct spend_caps caps[] = { { .daily_micro = trunk_daily },
                                 { .monthly_micro = global_monthly } };
    struct spend_config cfg = {
        .is_cancel_ringing = is_cancel_ringing, .keys = keys, .caps = caps, .count = 2
    };
    spend_store_configure(s, &cfg);
    return s;
}

static void test_keys_of_a_call(void **state)
{
    (void)state;
    char keys[SPEND_CALL_KEYS][SPEND_KEY_CAP];
    assert_int_equal(spend_keys_of("alice", "t1", keys), 1);
    assert_string_equal(keys[0], "account:alice");
    assert_int_equal(spend_keys_of("", "t1", keys), 2);
    assert_string_equal(keys[0], "trunk:t1");
    assert_string_equal(keys[1], "global");
    assert_int_equal(spend_keys_of("", "", keys), 0);
}

static void test_two_calls_end_together_at_the_crossing(void **state)
{
    (void)state;
    struct spend_store *s = store_with_caps(1000000, 0, true);
    struct spend_call a = call_on("a", "t1", per_second);
    struct spend_call b = call_on("b", "t1", per_second);
    spend_store_start(s, &a);
    spend_store_start(s, &b);
    assert_int_equal(spend_store_next_deadline(s, 0, WALL), SPEND_NEVER); /* only ringing */
    spend_store_answer(s, sv_from_cstr("a"), 0);
    spend_store_answer(s, sv_from_cstr("b"), 10000);
    /* 1.00 at 0.02 a second each: a's 10 s alone, then 0.04 a second: 20 s more. The
     * cost exceeds the cap at 30,001 ms; the calls end at the last instant within it. */
    assert_int_equal(spend_store_next_deadline(s, 10000, WALL), 30000);
    struct spend_due due[4];
    assert_int_equal(spend_store_due(s, 29999, WALL, due, 4), 0);
    assert_int_equal(spend_store_due(s, 30000, WALL, due, 4), 2);
    assert_int_equal(due[0].why, SPEND_DAILY);
    assert_string_equal(due[0].key, "trunk:t1");
    assert_int_equal(due[0].crossing_ms, 30001);
    /* Returned once: their end is on the way. */
    assert_int_equal(spend_store_due(s, 30001, WALL, due, 4), 0);
    assert_int_equal(spend_store_next_deadline(s, 30001, WALL), SPEND_NEVER);
    spend_store_end(s, &a, 600000, WALL);
    spend_store_end(s, &b, 400000, WALL);
    struct spend_view views[4];
    assert_int_equal(spend_store_list(s, 30001, WALL, views, 4), 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(views[i].day_micro, 1000000);
        assert_int_equal(views[i].answered + views[i].ringing, 0);
    }
    /* The budget is spent: a new call cannot carry its first second. */
    char key[SPEND_KEY_CAP] = "";
    struct spend_call c = call_on("c", "t1", per_second);
    assert_int_equal(spend_store_check(s, &c, 40000, WALL, key, sizeof(key)), SPEND_DAILY);
    assert_string_equal(key, "trunk:t1");
    assert_string_equal(spend_verdict_text(SPEND_DAILY), "daily cap");
    /* The next day (reset at 00:00 UTC) starts from 0. */
    assert_int_equal(spend_store_check(s, &c, 40000, WALL + 86400, key, sizeof(key)), SPEND_OK);
    spend_store_free(s);
}

static void test_ringing_calls_cancelled_or_ended_at_answer(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        bool is_cancel = mode == 0;
        struct spend_store *s = store_with_caps(0, 100000, is_cancel);
        struct spend_call a = call_on("a", "t1", per_second);
        struct spend_call r = call_on("r", "t1", per_second);
        spend_store_start(s, &a);
        spend_store_start(s, &r);
        spend_store_answer(s, sv_from_cstr("a"), 0);
        /* 0.10 buys a 5 s; at 4,001 ms the ringing call's first second no longer fits. */
        int64_t deadline = spend_store_next_deadline(s, 0, WALL);
        assert_int_equal(deadline, is_cancel ? 4001 : 5000);
        struct spend_due due[4];
        size_t n = spend_store_due(s, deadline, WALL, due, 4);
        assert_int_equal(n, 1);
        assert_string_equal(due[0].id, is_cancel ? "r" : "a");
        assert_int_equal(due[0].why, SPEND_MONTHLY);
        if (!is_cancel) {
            /* Answered later, it cannot carry a first second: due at once. */
            spend_store_answer(s, sv_from_cstr("r"), 6000);
            assert_int_equal(spend_store_next_deadline(s, 6000, WALL), 6000);
            assert_int_equal(spend_store_due(s, 6000, WALL, due, 4), 1);
            assert_string_equal(due[0].id, "r");
        }
        spend_store_free(s);
    }
}

static void test_closed_spend_from_before_a_restart(void **state)
{
    (void)state;
    struct spend_store *s = store_with_caps(1000000, 0, true);
    spend_store_add_closed(s, sv_from_cstr("trunk:t1"), 990000, 990000, WALL);
    struct spend_call a = call_on("a", "t1", per_second);
    char key[SPEND_KEY_CAP];
    /* 0.01 left does not carry a first second at 0.02. */
    assert_int_equal(spend_store_check(s, &a, 0, WALL, key, sizeof(key)), SPEND_DAILY);
    spend_store_add_closed(s, sv_from_cstr("trunk:t1"), -20000, -20000, WALL);
    assert_int_equal(spend_store_check(s, &a, 0, WALL, key, sizeof(key)), SPEND_OK);
    spend_store_start(s, &a);
    spend_store_answer(s, sv_from_cstr("a"), 0);
    /* 0.03 left: the first second fits, the second does not. */
    assert_int_equal(spend_store_next_deadline(s, 0, WALL), 1000);
    spend_store_free(s);
    assert_null(spend_store_new_memory(0, 1));
}

static void test_uncapped_budgets_still_count(void **state)
{
    (void)state;
    struct spend_store *s = spend_store_new_memory(4, 4);
    struct spend_call a = call_on("a", "t9", per_second);
    spend_store_start(s, &a);
    spend_store_answer(s, sv_from_cstr("a"), 0);
    assert_int_equal(spend_store_next_deadline(s, 0, WALL), SPEND_NEVER);
    struct spend_view views[4];
    assert_int_equal(spend_store_list(s, 2500, WALL, views, 4), 2);
    assert_int_equal(views[0].live_micro, 60000);
    assert_int_equal(views[0].crossing_ms, SPEND_NEVER);
    spend_store_end(s, &a, 60000, WALL);
    assert_int_equal(spend_store_list(s, 2500, WALL, views, 4), 2);
    assert_int_equal(views[0].day_micro + views[1].day_micro, 120000);
    spend_store_free(s);
}

static void count_hook(void *ctx)
{
    (*(int *)ctx)++;
}

/* The view of budget `key`. */
static struct spend_view view_of(struct spend_store *s, const char *key, int64_t now_ms)
{
    struct spend_view views[4];
    size_t count = spend_store_list(s, now_ms, WALL, views, 4);
    for (size_t i = 0; i < count && i < 4; i++) {
        if (strcmp(views[i].key, key) == 0) {
            return views[i];
        }
    }
    fail_msg("no budget %s", key);
    return views[0];
}

/*
 * In a cluster (issue #15) a budget is bounded by its grant too: the local share before
 * any grant, then the grant less what the node closed since; half a spare before the
 * grant is used up the store asks once for more, and the calls end at its crossing.
 */
static void test_shared_budget_is_bounded_by_its_grant(void **state)
{
    (void)state;
    char key[SPEND_KEY_CAP];
    struct spend_share share;
    size_t cursor = 0;
    /* No grant yet: half of the 1.00 left; a call asking 0.60 widens the spare. */
    struct spend_store *fresh = store_with_caps(1000000, 0, true);
    spend_store_share(fresh, 50);
    const struct rate fee = { .connect_fee_micro = 600000,
                              .first_increment_s = 1,
                              .next_increment_s = 1 };
    struct spend_call dear = call_on("dear", "t1", fee);
    assert_int_equal(spend_store_check(fresh, &dear, 0, WALL, key, sizeof(key)), SPEND_DAILY);
    assert_int_equal(view_of(fresh, "trunk:t1", 0).grant_micro, 500000);
    /* The cluster thread reports the budget (the uncapped global one is not shared). */
    assert_true(spend_store_share_next(fresh, &cursor, 0, WALL, true, &share));
    assert_string_equal(share.key, "trunk:t1");
    assert_int_equal(share.want_micro, 1200000); /* the spare: twice the 0.60 asked for */
    assert_false(spend_store_share_next(fresh, &cursor, 0, WALL, true, &share));
    spend_store_free(fresh);

    struct spend_store *s = store_with_caps(1000000, 0, true);
    int asked = 0;
    int changed = 0;
    spend_store_on_wanted(s, count_hook, &asked);
    spend_store_on_changed(s, count_hook, &changed);
    spend_store_share(s, 50);
    struct spend_call a = call_on("a", "t1", per_second); /* 0.02 a second */
    assert_int_equal(spend_store_check(s, &a, 0, WALL, key, sizeof(key)), SPEND_OK);
    spend_store_start(s, &a);
    spend_store_answer(s, sv_from_cstr("a"), 0);
    cursor = 0;
    assert_true(spend_store_share_next(s, &cursor, 0, WALL, true, &share));
    assert_int_equal(share.want_micro, 240000); /* 2 s ahead and the 0.20 spare */

    /* Short of what it wants: no ask between the ticks; the call ends at 5 s. */
    spend_store_grant_set(s, &share, 100000, 0, 0);
    assert_int_equal(changed, 1);
    assert_int_equal(spend_store_next_deadline(s, 0, WALL), 5000);
    /* 0.30: asked for more at 10 s (half the spare before), ended at 15 s without it. */
    spend_store_grant_set(s, &share, 300000, 0, 0);
    assert_int_equal(spend_store_next_deadline(s, 0, WALL), 10001);
    struct spend_due due[4];
    assert_int_equal(spend_store_due(s, 10001, WALL, due, 4), 0);
    assert_int_equal(asked, 1);
    assert_int_equal(spend_store_next_deadline(s, 10001, WALL), 15000);
    assert_int_equal(spend_store_due(s, 12000, WALL, due, 4), 0);
    assert_int_equal(asked, 1); /* once until the answer */
    cursor = 0;
    assert_true(spend_store_share_next(s, &cursor, 12000, WALL, false, &share));

    /* More came: the next ask at 25 s. The call ends at 20 s costing 0.40: the grant
     * leaves 0.20. */
    spend_store_grant_set(s, &share, 600000, 0, 0);
    assert_int_equal(spend_store_next_deadline(s, 12000, WALL), 25001);
    spend_store_end(s, &a, 400000, WALL);
    assert_int_equal(view_of(s, "trunk:t1", 20000).grant_micro, 200000);
    /* Redis away: the local share of what is known to remain (1.00 - 0.40). */
    spend_store_grants_local(s);
    assert_int_equal(view_of(s, "trunk:t1", 20000).grant_micro, 300000);
    spend_store_share(s, 0);
    assert_int_equal(view_of(s, "trunk:t1", 20000).grant_micro, -1);
    spend_store_free(s);
}

/*
 * #15 item 3: a burst on one node meets its grant used up while the cluster still has
 * money (the last answer gave all that was wanted): the store asks for more and says
 * SPEND_GRANT (503 and retry), not the daily cap. Once an answer gives less than wanted
 * the cluster has nothing more: the cap (403).
 */
static void test_burst_waits_for_the_next_grant(void **state)
{
    (void)state;
    char key[SPEND_KEY_CAP];
    struct spend_share share;
    size_t cursor = 0;
    int asked = 0;
    struct spend_store *s = store_with_caps(1000000, 0, true);
    spend_store_on_wanted(s, count_hook, &asked);
    spend_store_share(s, 50);
    struct spend_call a = call_on("a", "t1", per_second);
    assert_int_equal(spend_store_check(s, &a, 0, WALL, key, sizeof(key)), SPEND_OK);
    spend_store_start(s, &a);
    spend_store_answer(s, sv_from_cstr("a"), 0);
    assert_true(spend_store_share_next(s, &cursor, 0, WALL, true, &share));
    spend_store_grant_set(s, &share, share.want_micro, 0, 0); /* all it wanted */

    const struct rate fee = { .connect_fee_micro = 300000,
                              .first_increment_s = 1,
                              .next_increment_s = 1 };
    struct spend_call burst = call_on("burst", "t1", fee);
    assert_int_equal(spend_store_check(s, &burst, 1000, WALL, key, sizeof(key)), SPEND_GRANT);
    assert_string_equal(key, "trunk:t1");
    assert_int_equal(asked, 1);
    assert_string_equal(spend_verdict_text(SPEND_GRANT), "cluster grant pending");

    /* The answer gives less than wanted (another node holds the rest): the cap. */
    cursor = 0;
    assert_true(spend_store_share_next(s, &cursor, 1000, WALL, false, &share));
    spend_store_grant_set(s, &share, 100000, 700000, 700000);
    assert_int_equal(spend_store_check(s, &burst, 1000, WALL, key, sizeof(key)), SPEND_DAILY);
    /* Redis away: the local share, never a wait. */
    spend_store_grants_local(s);
    assert_int_equal(spend_store_check(s, &burst, 1000, WALL, key, sizeof(key)), SPEND_DAILY);
    spend_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_of_a_call),
        cmocka_unit_test(test_two_calls_end_together_at_the_crossing),
        cmocka_unit_test(test_ringing_calls_cancelled_or_ended_at_answer),
        cmocka_unit_test(test_closed_spend_from_before_a_restart),
        cmocka_unit_test(test_uncapped_budgets_still_count),
        cmocka_unit_test(test_shared_budget_is_bounded_by_its_grant),
        cmocka_unit_test(test_burst_waits_for_the_next_grant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
