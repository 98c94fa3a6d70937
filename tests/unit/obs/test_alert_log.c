#include <stdio.h>
#include <string.h>

#include "obs/alert_log.h"
#include "obs/recent.h"
#include "support/unit.h"

static struct alert make(const char *rule, const char *key, enum alert_state state, int64_t value)
{
    struct alert a;
    memset(&a, 0, sizeof(a));
    (void)snprintf(a.rule, sizeof(a.rule), "%s", rule);
    (void)snprintf(a.key, sizeof(a.key), "%s", key);
    a.state = state;
    a.value = value;
    return a;
}

static void test_recent_ring(void **state)
{
    (void)state;
    assert_null(recent_new(0, 4));
    assert_null(recent_new(sizeof(int), 0));
    struct recent *r = recent_new(sizeof(int), 3);
    assert_non_null(r);
    int out[5] = { 0 };
    assert_int_equal(recent_copy(r, out, 5), 0);
    for (int i = 1; i <= 5; i++) {
        recent_push(r, &i);
    }
    /* The last three, newest first; the oldest two were overwritten. */
    assert_int_equal(recent_copy(r, out, 5), 3);
    assert_int_equal(out[0], 5);
    assert_int_equal(out[1], 4);
    assert_int_equal(out[2], 3);
    assert_int_equal(recent_copy(r, out, 1), 1);
    assert_int_equal(out[0], 5);
    assert_int_equal(recent_total(r), 5);
    recent_free(r);
    recent_free(NULL);
}

static void test_alert_log_open_and_resolved(void **state)
{
    (void)state;
    struct alert_log *log = alert_log_new();
    assert_non_null(log);
    struct alert a = make("brute_force", "", ALERT_FIRING, 11);
    alert_log_note(log, &a);
    a = make("brute_force_account", "1001", ALERT_FIRING, 12);
    alert_log_note(log, &a);
    a = make("brute_force", "", ALERT_UPDATE, 40);
    alert_log_note(log, &a);
    a = make("test", "", ALERT_TEST, 0);
    alert_log_note(log, &a);
    struct alert open[4];
    assert_int_equal(alert_log_open(log, open, 4), 2);
    assert_string_equal(open[0].rule, "brute_force");
    assert_int_equal(open[0].value, 40); /* the update replaced the firing message */
    assert_string_equal(open[1].key, "1001");
    a = make("brute_force", "", ALERT_RESOLVED, 0);
    alert_log_note(log, &a);
    assert_int_equal(alert_log_open(log, open, 4), 1);
    assert_string_equal(open[0].rule, "brute_force_account");
    assert_int_equal(alert_log_open(log, NULL, 0), 1);
    struct alert recent[8];
    assert_int_equal(alert_log_recent(log, recent, 8), 5);
    assert_int_equal(recent[0].state, ALERT_RESOLVED);
    assert_int_equal(recent[1].state, ALERT_TEST);
    alert_log_free(log);
}

static void test_alert_log_bounded(void **state)
{
    (void)state;
    struct alert_log *log = alert_log_new();
    assert_non_null(log);
    for (unsigned i = 0; i < ALERT_LOG_OPEN + 10; i++) {
        char key[16];
        (void)snprintf(key, sizeof(key), "k%u", i);
        struct alert a = make("new_source", key, ALERT_FIRING, i);
        alert_log_note(log, &a);
    }
    static struct alert open[ALERT_LOG_OPEN];
    assert_int_equal(alert_log_open(log, open, ALERT_LOG_OPEN), ALERT_LOG_OPEN);
    assert_string_equal(open[0].key, "k10"); /* the oldest ten went */
    static struct alert recent[ALERT_LOG_RECENT + 1];
    assert_int_equal(alert_log_recent(log, recent, ALERT_LOG_RECENT + 1), ALERT_LOG_RECENT);
    alert_log_free(log);
    alert_log_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recent_ring),
        cmocka_unit_test(test_alert_log_open_and_resolved),
        cmocka_unit_test(test_alert_log_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
