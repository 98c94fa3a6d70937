#include <stdint.h>

#include "policy/gate.h"
#include "support/unit.h"

static bool banned_if_last_byte_is_66(void *ctx, const struct sw_ip *ip, uint64_t now_ms)
{
    (void)now_ms;
    int *calls = ctx;
    (*calls)++;
    return ip->bytes[15] == 66;
}

static bool over_budget_after(void *ctx, const struct sw_ip *ip, uint64_t now_ms)
{
    (void)ip;
    return now_ms > *(const uint64_t *)ctx;
}

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static void test_gate_orders_ban_deny_budget(void **state)
{
    (void)state;
    struct sw_cidr deny;
    assert_true(sw_cidr_parse(SV("198.51.100.0/24"), &deny));
    int ban_calls = 0;
    uint64_t budget_deadline = 1000;
    struct gate_hooks hooks = {
        .is_banned = banned_if_last_byte_is_66,
        .ban_ctx = &ban_calls,
        .is_over_budget = over_budget_after,
        .budget_ctx = &budget_deadline,
    };
    struct gate *gate = gate_new(&deny, 1, &hooks);
    assert_non_null(gate);

    struct sw_ip banned = ip_of("198.51.100.66");
    struct sw_ip denied = ip_of("198.51.100.7");
    struct sw_ip ok = ip_of("192.0.2.1");
    assert_int_equal(gate_check(gate, &banned, 0), GATE_DROP_BANNED);
    assert_int_equal(gate_check(gate, &denied, 0), GATE_DROP_DENIED);
    assert_int_equal(gate_check(gate, &ok, 0), GATE_PASS);
    assert_int_equal(gate_check(gate, &ok, 2000), GATE_DROP_BUDGET);
    assert_int_equal(ban_calls, 4);
    assert_int_equal(gate_count(gate, GATE_PASS), 1);
    assert_int_equal(gate_count(gate, GATE_DROP_BANNED), 1);
    assert_int_equal(gate_count(gate, GATE_DROP_DENIED), 1);
    assert_int_equal(gate_count(gate, GATE_DROP_BUDGET), 1);
    assert_string_equal(gate_result_name(GATE_DROP_BUDGET), "budget");
    gate_free(gate);
}

static void test_gate_without_hooks_passes_everything_not_denied(void **state)
{
    (void)state;
    struct gate *gate = gate_new(NULL, 0, NULL);
    struct sw_ip ip = ip_of("2001:db8::1");
    assert_int_equal(gate_check(gate, &ip, 0), GATE_PASS);
    gate_free(gate);
    gate_free(NULL);
}

/* A reload replaces the gate; the verdict figures run on in the caller's block. */
static void test_gates_sharing_counts_keep_the_figures_across_a_swap(void **state)
{
    (void)state;
    struct gate_counts counts = { 0 };
    struct gate_hooks hooks = { .counts = &counts };
    struct sw_cidr deny;
    assert_true(sw_cidr_parse(SV("198.51.100.0/24"), &deny));
    struct gate *old = gate_new(&deny, 1, &hooks);
    assert_non_null(old);
    struct sw_ip stranger = ip_of("198.51.100.7");
    struct sw_ip friend = ip_of("192.0.2.1");
    assert_int_equal(gate_check(old, &stranger, 0), GATE_DROP_DENIED);
    assert_int_equal(gate_check(old, &friend, 0), GATE_PASS);
    struct gate *fresh = gate_new(NULL, 0, &hooks); /* the new [acl] denies nothing */
    assert_non_null(fresh);
    gate_free(old);
    assert_int_equal(gate_check(fresh, &stranger, 0), GATE_PASS);
    assert_int_equal(gate_count(fresh, GATE_PASS), 2);
    assert_int_equal(gate_count(fresh, GATE_DROP_DENIED), 1);
    assert_int_equal(atomic_load(&counts.by_result[GATE_PASS]), 2);
    gate_free(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_orders_ban_deny_budget),
        cmocka_unit_test(test_gate_without_hooks_passes_everything_not_denied),
        cmocka_unit_test(test_gates_sharing_counts_keep_the_figures_across_a_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
