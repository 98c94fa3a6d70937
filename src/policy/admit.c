#include "policy/admit.h"

#include <string.h>

#include "base/buf.h"
#include "call/b2bua.h"
#include "config/config.h"
#include "sip/msg.h"
#include "state/isolation.h"

/* The trunk a call from the PBX came in through (our origin header), and whether it may
 * not leave through a trunk again. */
static bool is_hairpin(const struct cfg *cfg, struct sip_msg *msg, struct sv *name)
{
    const char *header = cfg->pbx.origin_header;
    if (header == NULL || header[0] == '\0') {
        return false;
    }
    for (const struct sip_hdr *h = sip_msg_find_name(msg, sv_from_cstr(header), NULL); h != NULL;
         h = sip_msg_find_name(msg, sv_from_cstr(header), h)) {
        struct sv value = sv_trim(h->value);
        if (value.len <= 6 || memcmp(value.ptr, "trunk=", 6) != 0) {
            continue;
        }
        *name = sv_make(value.ptr + 6, value.len - 6);
        for (size_t i = 0; i < cfg->trunk_count; i++) {
            if (sv_eq(sv_from_cstr(cfg->trunks[i].name), *name)) {
                return !cfg->trunks[i].allow_transit;
            }
        }
        return true;
    }
    return false;
}

static struct verdict refuse(struct stage_ctx *ctx, const char *detail)
{
    stage_event_emit_short(ctx, EV_POLICY_HIT, "gateway", sip_msg_call_id(ctx->msg), detail);
    return verdict_reply(403, NULL);
}

struct verdict admit_call(struct stage_ctx *ctx, const struct b2bua_route *route)
{
    char detail[160];
    struct sv origin = SV_NULL;
    if (route->to_party == CALL_PARTY_TRUNK && is_hairpin(ctx->cfg, ctx->msg, &origin)) {
        (void)sw_snprintf(detail, sizeof(detail),
                          "hairpin: a call from trunk %.*s would leave through a trunk: refused",
                          (int)(origin.len > 64 ? 64 : origin.len), origin.ptr);
        return refuse(ctx, detail);
    }
    const struct callrec_policy *policy = &route->policy;
    const char *what = NULL;
    const char *name = NULL;
    if (isolation_is_held(ISOLATION_TRUNK, sv_from_cstr(policy->trunk))) {
        what = "trunk isolated";
        name = policy->trunk;
    } else if (isolation_is_held(ISOLATION_ACCOUNT, sv_from_cstr(policy->account))) {
        what = "account disabled";
        name = policy->account;
    } else {
        return verdict_continue();
    }
    (void)sw_snprintf(detail, sizeof(detail), "%s: %s: new call refused", what, name);
    return refuse(ctx, detail);
}

struct verdict admit_cancel(const struct stage_ctx *ctx, bool is_pending)
{
    if (ctx->is_trusted || ctx->is_source_authed || is_pending) {
        return verdict_continue();
    }
    return verdict_drop("a CANCEL from a stranger that matches no call");
}
