/*
 * The gate: the first check of every packet, before any parsing. It looks at the source
 * address only: banned, on the static deny list, or over its packet budget means a silent
 * drop that costs a hash lookup. The ban store and the packet budget live in state/ and
 * are plugged in as callbacks, so the gate stays a policy with no storage of its own.
 * gate_check() is called concurrently by every worker; the gate itself is read-only after
 * gate_new(), its counters are atomic.
 */
#ifndef SW_POLICY_GATE_H
#define SW_POLICY_GATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"

enum gate_result {
    GATE_PASS,
    GATE_DROP_BANNED,
    GATE_DROP_DENIED,
    GATE_DROP_BUDGET,
    GATE_RESULT_COUNT
};

typedef bool gate_ip_check_fn(void *ctx, const struct sw_ip *ip, uint64_t now_ms);

/* Counters of the gate's verdicts, by result. A caller that replaces its gate (a reload)
 * keeps one block for every gate it makes, so the figures run on across the swap. */
struct gate_counts {
    atomic_uint_fast64_t by_result[GATE_RESULT_COUNT];
};

struct gate_hooks {
    gate_ip_check_fn *is_banned; /* NULL = no ban store */
    void *ban_ctx;
    gate_ip_check_fn *is_over_budget; /* NULL = no packet budget */
    void *budget_ctx;
    struct gate_counts *counts; /* NULL = the gate's own; else outlives the gate */
};

struct gate;

/* A gate with a copy of the `deny` ranges (may be empty). NULL when out of memory. */
struct gate *gate_new(const struct sw_cidr *deny, size_t deny_count,
                      const struct gate_hooks *hooks);

/* NULL is a no-op. */
void gate_free(struct gate *gate);

/* The verdict for a packet from `ip`; counts it. Thread-safe. */
enum gate_result gate_check(struct gate *gate, const struct sw_ip *ip, uint64_t now_ms);

/* Packets counted under `result` since start. Thread-safe. */
uint64_t gate_count(const struct gate *gate, enum gate_result result);

/* "pass", "banned", "denied", "budget". */
const char *gate_result_name(enum gate_result result);

#endif
