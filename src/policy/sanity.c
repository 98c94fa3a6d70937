#include "policy/sanity.h"

#include "base/arena.h"
#include "base/buf.h"
#include "config/config.h"

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

/* The drop-or-reply rule's half about the sender: who may learn why we refused. */
static bool may_answer(const struct stage_ctx *ctx)
{
    return ctx->is_trusted || ctx->cfg == NULL ||
           ctx->cfg->general.malformed_reply == CFG_MALFORMED_REPLY;
}

bool sanity_read(const struct stage_ctx *ctx, struct sv raw, bool is_stream,
                 const struct sip_limits *limits, struct sip_msg *msg,
                 struct sanity_read_result *out)
{
    *out = (struct sanity_read_result){ .verdict = verdict_continue() };
    int rc = sip_msg_parse(raw, is_stream, limits, ctx->arena, msg, &out->err);
    out->is_parsed = rc == 0;
    if (rc == 0) {
        rc = sip_msg_validate(msg, &out->err);
    }
    if (rc == 0) {
        return true;
    }
    const char *reason = out->err.reason != NULL ? out->err.reason : "malformed";
    stage_event_emit_short(ctx, EV_MALFORMED, "gateway",
                           out->is_parsed ? sip_msg_call_id(msg) : SV_NULL, reason);
    /* An ACK is never answered (RFC 3261 §17.1.1.3), nor a response. */
    bool is_answered =
        msg->is_request && msg->method != SIP_METHOD_ACK && out->err.status != 0 && may_answer(ctx);
    out->verdict = is_answered ? verdict_reply(out->err.status, reason) : verdict_drop(reason);
    return false;
}

/* A 420's Unsupported line in the arena; absent when it does not fit (the 420 stands). */
static struct sv unsupported_line(struct arena *arena, struct sv tags)
{
    size_t cap = tags.len + 32;
    char *mem = arena_alloc(arena, cap);
    if (mem == NULL) {
        return SV_NULL;
    }
    struct sw_buf line;
    sw_buf_init(&line, mem, cap);
    sw_buf_fmt(&line, "Unsupported: " SV_FMT "\r\n", SV_ARG(tags));
    return line.is_overflow ? SV_NULL : sw_buf_view(&line);
}

struct verdict sanity_judge(struct stage_ctx *ctx, enum sip_role role)
{
    struct sip_check_cfg check = {
        .role = role,
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
    const char *reason = result.reason != NULL ? result.reason : "semantics";
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_MALFORMED, "sanity");
    SW_EVENT_SET(&ev, detail, sv_from_cstr(reason));
    sw_event_emit(ctx->events, &ev);
    if (result.action == SIP_ACTION_DROP || !may_answer(ctx)) {
        return verdict_drop(reason);
    }
    struct verdict v = verdict_reply(result.status, reason);
    if (result.status == 420 && result.unsupported.len > 0) {
        v.extra_headers = unsupported_line(ctx->arena, result.unsupported);
    }
    return v;
}

static struct verdict sanity_check(void *state, struct stage_ctx *ctx)
{
    (void)state;
    return sanity_judge(ctx, SIP_ROLE_PROXY);
}

/* NOLINTNEXTLINE(readability-function-size): sanity_read()'s arguments plus the role. */
struct verdict sanity_chain_run(struct stage_ctx *ctx, struct sv raw, bool is_stream,
                                const struct sip_limits *limits, enum sip_role role,
                                struct sip_msg *msg, struct sanity_read_result *out)
{
    if (!sanity_read(ctx, raw, is_stream, limits, msg, out)) {
        return out->verdict;
    }
    ctx->msg = msg;
    return sanity_judge(ctx, role);
}

const struct stage sanity_stage = {
    .name = "sanity",
    .init = sanity_init,
    .check = sanity_check,
    .fini = sanity_fini,
};
