/*
 * The last word on a new call once it is routed (#10, moved from the gateway): the rules
 * that need to know where the call goes, which no stage can see (the route comes from
 * the generation's resolved next hops, call/route.h), run by the gateway between routing
 * and the call layer. In order:
 *   - hairpin (issue #9 item 3): a call from the PBX that carries our origin header with
 *     trunk=NAME came in from a trunk; leaving through a trunk again is refused unless
 *     that trunk allows transit ([trunk] allow_transit; a trunk we no longer know allows
 *     nothing);
 *   - isolation (issue #12): a trunk the operator isolated and an account that is
 *     disabled take no new call, in either direction (state/isolation.h).
 * A refusal is a 403 and a PolicyHit event in the gateway's short form (module "gateway",
 * as the security log has always named it). Also here: who gets an answer to a CANCEL,
 * the one request that passes no stage. Any worker thread.
 */
#ifndef SW_POLICY_ADMIT_H
#define SW_POLICY_ADMIT_H

#include "policy/stage.h"

struct b2bua_route;

/* CONTINUE, or the 403 of the first rule that refuses the call `route` describes. */
struct verdict admit_call(struct stage_ctx *ctx, const struct b2bua_route *route);

/*
 * RFC 3261 §9: a CANCEL is never challenged; it carries the caller's hang-up, and it
 * skips the pipeline. One that targets a pending INVITE of the address it comes from
 * (`is_pending`, the call layer's b2bua_cancel_matches) goes to the call layer (200,
 * relayed, the INVITE answered 487); one that matches nothing goes there too (481) when
 * the sender is someone we know (a trusted side, or an address an account authenticated
 * from: ctx->is_source_authed), and gets silence otherwise. Never a failure event, so a
 * phone that hangs up while a call rings is never banned for it. CONTINUE or a drop.
 */
struct verdict admit_cancel(const struct stage_ctx *ctx, bool is_pending);

#endif
