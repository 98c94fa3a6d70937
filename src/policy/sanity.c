#include "policy/sanity.h"

#include "base/arena.h"
#include "base/buf.h"
#include "config/config.h"
#include "sip/check.h"
#include "sip/msg.h"

static int sanity_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    (void)cfg;
    (void)diag;
    *state = NULL; /* stateless: the context carries the configuration */
    return 0;
}

static void sanity_fini(void *state)
{
    (void)state;
}

static struct verdict sanity_check(void *state, struct stage_ctx *ctx)
{
    (void)state;
    if (!ctx->msg->is_request) {
        return verdict_continue();
    }
    struct sip_check_cfg check = {
        .role = SIP_ROLE_PROXY,
        .supported = NULL, /* no Proxy-Require tag is implemented by a B2BUA of signalling */
        .supported_count = 0,
    };
    struct sip_check_result result = { 0 };
    if (sip_check_semantics(ctx->msg, &check, &result) != 0) {
        /* #10: a message that could not be checked is refused, never passed. */
        return stage_fail_closed(ctx, "sanity: check failed");
    }
    if (result.action == SIP_ACTION_PROCEED) {
        return verdict_continue();
    }
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_MALFORMED, "sanity");
    SW_EVENT_SET(&ev, detail, sv_from_cstr(result.reason != NULL ? result.reason : "semantics"));
    sw_event_emit(ctx->events, &ev);
    bool answer = ctx->is_trusted || ctx->cfg == NULL ||
                  ctx->cfg->general.malformed_reply == CFG_MALFORMED_REPLY;
    if (result.action == SIP_ACTION_DROP || !answer) {
        return verdict_drop(result.reason);
    }
    struct verdict v = verdict_reply(result.status, NULL);
    if (result.status == 420 && result.unsupported.len > 0) {
        struct sw_buf line;
        size_t cap = result.unsupported.len + 32;
        char *mem = arena_alloc(ctx->arena, cap);
        if (mem != NULL) {
            sw_buf_init(&line, mem, cap);
            sw_buf_fmt(&line, "Unsupported: " SV_FMT "\r\n", SV_ARG(result.unsupported));
            v.extra_headers = line.is_overflow ? SV_NULL : sw_buf_view(&line);
        }
    }
    return v;
}

const struct stage sanity_stage = {
    .name = "sanity",
    .init = sanity_init,
    .check = sanity_check,
    .fini = sanity_fini,
};
