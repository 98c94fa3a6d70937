#include "sip/check.h"

#include <string.h>

#include "base/err.h"
#include "sip/chars.h"

/* The most option tags one Require/Proxy-Require list may name. */
#define CHECK_MAX_TAGS 32

static void result_set(struct sip_check_result *out, enum sip_action action, uint16_t status,
                       const char *reason)
{
    out->action = action;
    out->status = status;
    out->reason = reason;
}

static bool tag_is_supported(const struct sip_check_cfg *cfg, struct sv tag)
{
    for (size_t i = 0; i < cfg->supported_count; i++) {
        if (sv_eq_nocase(cfg->supported[i], tag)) {
            return true;
        }
    }
    return false;
}

/* RFC 3261 §8.2.2.3 / §16.3: 420 with an Unsupported header listing the tags. */
static int check_extensions(struct sip_msg *msg, const struct sip_check_cfg *cfg,
                            struct sip_check_result *out)
{
    enum sip_hdr_id id = cfg->role == SIP_ROLE_PROXY ? SIP_HDR_PROXY_REQUIRE : SIP_HDR_REQUIRE;
    if (sip_msg_hdr_lines(msg, id) == 0) {
        return 0; /* the common request: nothing required */
    }
    struct sv tags[CHECK_MAX_TAGS];
    size_t count = 0;
    int rc = sip_msg_option_tags(msg, id, tags, CHECK_MAX_TAGS, &count);
    if (rc != 0) {
        result_set(out, SIP_ACTION_REPLY, 400, "bad option tag list");
        return 0;
    }
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        total += tag_is_supported(cfg, tags[i]) ? 0 : tags[i].len + 2;
    }
    if (total == 0) {
        return 0;
    }
    result_set(out, SIP_ACTION_REPLY, 420, "Bad Extension");
    char *list = arena_alloc(msg->arena, total);
    if (list == NULL) {
        result_set(out, SIP_ACTION_REPLY, 500, "arena exhausted");
        return -SW_ENOMEM_ARENA;
    }
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (tag_is_supported(cfg, tags[i])) {
            continue;
        }
        if (used > 0) {
            list[used++] = ',';
            list[used++] = ' ';
        }
        memcpy(list + used, tags[i].ptr, tags[i].len);
        used += tags[i].len;
    }
    out->unsupported = sip_sv(list, used);
    return 0;
}

/* Parses a dotted IPv4 address; false for anything else (host names, IPv6). */
static bool ipv4_parse(struct sv host, uint8_t octets[4])
{
    size_t part = 0;
    uint32_t value = 0;
    size_t digits = 0;
    for (size_t i = 0; i <= host.len; i++) {
        if (i == host.len || host.ptr[i] == '.') {
            if (digits == 0 || value > 255 || part > 3) {
                return false;
            }
            octets[part++] = (uint8_t)value;
            value = 0;
            digits = 0;
        } else if (sip_char_is(host.ptr[i], SIP_C_DIGIT) && digits < 3) {
            value = value * 10 + (uint32_t)(host.ptr[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    return part == 4;
}

/* RFC 4475 §3.3.10: a response must never be sent to a broadcast or multicast address. */
static void check_response_route(struct sip_msg *msg, struct sip_check_result *out)
{
    struct sip_via vias[2];
    size_t count = 0;
    int rc = sip_msg_vias(msg, vias, 2, &count, NULL);
    if ((rc != 0 && rc != -SW_EFULL) || count < 2) {
        return;
    }
    struct sv next = vias[1].received.ptr != NULL ? vias[1].received : vias[1].host;
    uint8_t o[4];
    if (!ipv4_parse(next, o)) {
        return;
    }
    bool is_broadcast = o[0] == 255 && o[1] == 255 && o[2] == 255 && o[3] == 255;
    bool is_multicast = o[0] >= 224 && o[0] <= 239;
    if (is_broadcast || is_multicast || o[0] == 0) {
        result_set(out, SIP_ACTION_DROP, 0, "response routed to a broadcast/multicast address");
    }
}

static int check_request(struct sip_msg *msg, const struct sip_check_cfg *cfg,
                         struct sip_check_result *out)
{
    const struct sip_uri *ruri = sip_msg_ruri(msg, NULL);
    if (ruri != NULL && ruri->scheme == SIP_URI_OTHER) {
        result_set(out, SIP_ACTION_REPLY, 416, "Unsupported URI Scheme");
        return 0;
    }
    int rc = check_extensions(msg, cfg, out);
    if (rc != 0 || out->action != SIP_ACTION_PROCEED) {
        return rc;
    }
    if (msg->method == SIP_METHOD_REFER && sip_msg_hdr_lines(msg, SIP_HDR_REFER_TO) != 1) {
        /* RFC 3515 §2.4.1: a REFER carries exactly one Refer-To; without it there is
         * nothing a relayed REFER could mean but a probe of the far end. */
        result_set(out, SIP_ACTION_REPLY, 400, "REFER needs exactly one Refer-To");
        return 0;
    }
    const struct sip_via *via = sip_msg_top_via(msg, NULL);
    if (via != NULL && via->branch.ptr != NULL && !sip_via_has_rfc3261_branch(via) &&
        sv_starts_with(via->branch, SV(SIP_BRANCH_COOKIE))) {
        /* RFC 4475 §3.2.1: the cookie alone is not a transaction id; a stateless 400
         * is the answer that keeps no state for a peer we cannot match. */
        result_set(out, SIP_ACTION_REPLY, 400, "Via branch is only the magic cookie");
        return 0;
    }
    uint32_t max_forwards = 0;
    if (cfg->role == SIP_ROLE_PROXY && sip_msg_max_forwards(msg, &max_forwards) == 0 &&
        max_forwards == 0) {
        result_set(out, SIP_ACTION_REPLY, 483, "Too Many Hops");
    }
    return 0;
}

int sip_check_semantics(struct sip_msg *msg, const struct sip_check_cfg *cfg,
                        struct sip_check_result *out)
{
    *out = (struct sip_check_result){ .action = SIP_ACTION_PROCEED };
    if (!msg->is_request) {
        if (cfg->role == SIP_ROLE_PROXY) {
            check_response_route(msg, out);
        }
        return 0;
    }
    if (msg->method == SIP_METHOD_ACK) {
        /* An ACK is never answered (RFC 3261 §17.1.1.3): only the scheme matters. */
        const struct sip_uri *ruri = sip_msg_ruri(msg, NULL);
        if (ruri != NULL && ruri->scheme == SIP_URI_OTHER) {
            result_set(out, SIP_ACTION_DROP, 0, "Unsupported URI Scheme");
        }
        return 0;
    }
    return check_request(msg, cfg, out);
}

/* NOLINTNEXTLINE(readability-function-size): sip_msg_parse()'s arguments plus cfg and out. */
int sip_check_message(struct sv raw, bool is_stream, const struct sip_limits *limits,
                      const struct sip_check_cfg *cfg, struct arena *arena, struct sip_msg *msg,
                      struct sip_check_result *out)
{
    *out = (struct sip_check_result){ .action = SIP_ACTION_PROCEED };
    int rc = sip_msg_parse(raw, is_stream, limits, arena, msg, &out->err);
    if (rc == 0) {
        rc = sip_msg_validate(msg, &out->err);
    }
    if (rc != 0) {
        bool is_drop = out->err.status == 0 || (msg->is_request && msg->method == SIP_METHOD_ACK);
        out->action = is_drop ? SIP_ACTION_DROP : SIP_ACTION_REPLY;
        out->status = is_drop ? 0 : out->err.status;
        out->reason = out->err.reason;
        return 0;
    }
    struct sip_err saved = out->err;
    rc = sip_check_semantics(msg, cfg, out);
    out->err = saved;
    return rc == -SW_ENOMEM_ARENA ? 0 : rc;
}
