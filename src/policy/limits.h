/*
 * The limits stage (issue #11 "Where it goes"): the concurrent-call caps every new call
 * (an INVITE outside a dialog) passes before the fraud stage judges its destination:
 *   - a call from a trunk's provider: the trunk's max_call_rate (new calls per second,
 *     503 with Retry-After: 5 beyond) and its max_calls;
 *   - a call from the PBX: the account it goes to (max_calls, at least 1: a phone takes
 *     one call at a time unless its account allows more), or else the default trunk's
 *     max_calls;
 *   - a call from an authenticated account: the account's max_calls (0 = no calls);
 *   - every call: its originating side's share of the worker's call pool (60 % of
 *     [general] max_calls_per_worker), so that a flood from one side cannot starve the
 *     others (issue #9 item 6).
 * The places are taken all at once or not at all (a check apart from the increment let
 * 11 calls through a limit of 10, issue #9 item 13) and recorded in ctx->edits.places:
 * the call layer releases them when the call ends, the pipeline when a later stage
 * refuses the call. A call over a cap gets 503 with Retry-After: 30 and an
 * EV_POLICY_HIT event ("max_calls reached").
 *
 * The counters are the process's shared call-count table (state/callcount.h), keyed by
 * name, so a reload keeps every call's place. Threads: built once (configuration
 * thread), then read-only; check() from any worker.
 */
#ifndef SW_POLICY_LIMITS_H
#define SW_POLICY_LIMITS_H

#include <stddef.h>

#include "policy/stage.h"

/* The share of a worker's call pool one originating side may hold. */
#define LIMITS_SIDE_SHARE_PERCENT 60u

extern const struct stage limits_stage;

/*
 * Room in the shared call-count table for the trunks and accounts of `cfg` and of the
 * reloads that may follow (the first acquire of the table sizes it).
 */
size_t limits_table_capacity(const struct cfg *cfg);

#endif
