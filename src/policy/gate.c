#include "policy/gate.h"

#include <stdatomic.h>
#include <string.h>

#include "base/alloc.h"

struct gate {
    struct gate_hooks hooks;
    size_t deny_count;
    struct gate_counts *counts; /* own_counts or the caller's */
    struct gate_counts own_counts;
    struct sw_cidr deny[];
};

struct gate *gate_new(const struct sw_cidr *deny, size_t deny_count, const struct gate_hooks *hooks)
{
    struct gate *gate = sw_calloc(1, sizeof(*gate) + deny_count * sizeof(gate->deny[0]));
    if (gate == NULL) {
        return NULL;
    }
    if (hooks != NULL) {
        gate->hooks = *hooks;
    }
    gate->deny_count = deny_count;
    if (deny_count > 0) {
        memcpy(gate->deny, deny, deny_count * sizeof(gate->deny[0]));
    }
    for (int i = 0; i < GATE_RESULT_COUNT; i++) {
        atomic_init(&gate->own_counts.by_result[i], 0);
    }
    gate->counts = gate->hooks.counts != NULL ? gate->hooks.counts : &gate->own_counts;
    return gate;
}

void gate_free(struct gate *gate)
{
    sw_free(gate);
}

static enum gate_result gate_decide(const struct gate *gate, const struct sw_ip *ip,
                                    uint64_t now_ms)
{
    if (gate->hooks.is_banned != NULL && gate->hooks.is_banned(gate->hooks.ban_ctx, ip, now_ms)) {
        return GATE_DROP_BANNED;
    }
    for (size_t i = 0; i < gate->deny_count; i++) {
        if (sw_cidr_contains(&gate->deny[i], ip)) {
            return GATE_DROP_DENIED;
        }
    }
    if (gate->hooks.is_over_budget != NULL &&
        gate->hooks.is_over_budget(gate->hooks.budget_ctx, ip, now_ms)) {
        return GATE_DROP_BUDGET;
    }
    return GATE_PASS;
}

enum gate_result gate_check(struct gate *gate, const struct sw_ip *ip, uint64_t now_ms)
{
    enum gate_result result = gate_decide(gate, ip, now_ms);
    atomic_fetch_add_explicit(&gate->counts->by_result[result], 1, memory_order_relaxed);
    return result;
}

uint64_t gate_count(const struct gate *gate, enum gate_result result)
{
    return atomic_load_explicit(&gate->counts->by_result[result], memory_order_relaxed);
}

const char *gate_result_name(enum gate_result result)
{
    static const char *const names[GATE_RESULT_COUNT] = { "pass", "banned", "denied", "budget" };
    return (unsigned)result < GATE_RESULT_COUNT ? names[result] : "unknown";
}
