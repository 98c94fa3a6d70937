/*
 * The ratelimit stage: token buckets per source address and request class (REGISTER,
 * INVITE, OPTIONS, everything else) from [ratelimit], and one global bucket for every
 * unknown source together (state/ratelimit.h).
 *
 * Budgets: an unknown source gets the configured rates and bursts. The PBX and the
 * providers' ranges (ctx->is_trusted) have no per-source budget at all: a busy trunk
 * carries hundreds of calls per second, bounded by its max_calls instead (the gate
 * exempts them from its packet budget too). A remote account (ctx->side == SIDE_ACCOUNT,
 * or ctx->is_authenticated when a stage before this one proved it) gets known_factor
 * times the budget. Neither is subject to the global bucket, so a flood of strangers
 * cannot lock them out.
 * Over budget: a remote account gets 503 with Retry-After (it is legitimate and should
 * back off, not retransmit into a black hole); an unknown source gets what [ratelimit]
 * reply says: a silent drop (default) or 503 with Retry-After. ACK is never answered.
 * Floods: when one source goes over its budget flood_threshold times within 10 s, an
 * unknown source gets a RateExceeded event (count = flood_threshold) that counts towards
 * a ban; a known side gets a PolicyHit event instead, which is logged and counted but
 * never bans: volume alone never bans the PBX, a provider or an account (both happened
 * to users of Kamailio's pike).
 * Memory: [ratelimit] max_sources buckets, fixed at start: 68 bytes each (4.3 MiB for
 * 65,536); when full, a bucket that is full again or not used since the clock hand last
 * passed is evicted first, so a flood of one-shot spoofed sources evicts itself.
 * Metrics: the events counter (RateExceeded, PolicyHit).
 */
#ifndef SW_POLICY_RATELIMIT_H
#define SW_POLICY_RATELIMIT_H

#include "policy/stage.h"

extern const struct stage ratelimit_stage;

#endif
