#include "policy/unknown.h"

#include "sip/msg.h"

static int unknown_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    (void)cfg;
    (void)diag;
    *state = NULL;
    return 0;
}

static void unknown_fini(void *state)
{
    (void)state;
}

static struct verdict unknown_check(void *state, struct stage_ctx *ctx)
{
    (void)state;
    bool is_known = ctx->side == SIDE_PBX || ctx->side == SIDE_PROVIDER || ctx->is_authenticated;
    if (is_known || ctx->is_in_dialog) {
        return verdict_continue();
    }
    if (ctx->msg->method == SIP_METHOD_ACK) {
        return verdict_drop("the ACK of a stateless challenge");
    }
    stage_event_emit_short(ctx, EV_FAILED_ACL, "gateway", sip_msg_call_id(ctx->msg),
                           "unknown source");
    return verdict_drop("unknown source");
}

const struct stage unknown_stage = {
    .name = "unknown",
    .init = unknown_init,
    .check = unknown_check,
    .fini = unknown_fini,
};
