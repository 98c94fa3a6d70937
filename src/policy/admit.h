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
 * as the security log has always named it). Any worker thread.
 */
#ifndef SW_POLICY_ADMIT_H
#define SW_POLICY_ADMIT_H

#include "policy/stage.h"

struct b2bua_route;

/* CONTINUE, or the 403 of the first rule that refuses the call `route` describes. */
struct verdict admit_call(struct stage_ctx *ctx, const struct b2bua_route *route);

#endif
