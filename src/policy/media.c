#include "policy/media.h"

#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/time.h"
#include "call/registrar.h"
#include "config/config.h"
#include "sip/msg.h"
#include "sip/sdp.h"
#include "sip/sdp_rewrite.h"

/* The policy of one side of the call, as far as media goes. */
struct leg {
    bool is_known;
    const char *kind; /* "trunk", "account", "PBX" */
    const char *name;
    enum cfg_media_encryption encryption;
    bool is_srtp_required;
    bool is_tls; /* its signalling: a=crypto may only travel over TLS */
};

/* What one offer contains, stream by stream. */
struct offer_scan {
    bool has_keys;       /* some a=crypto line */
    size_t weak_dropped; /* weak lines in streams that offer a good one too */
    size_t weak_only;    /* streams whose every a=crypto line is weak */
    struct sip_sdp_rewrite drop;
};

static bool srtp_is_required(enum cfg_srtp srtp, bool is_tls)
{
    return srtp == CFG_SRTP_REQUIRED || (srtp == CFG_SRTP_AUTO && is_tls);
}

static struct leg leg_make(const char *kind, const char *name, enum cfg_media_encryption enc,
                           enum cfg_srtp srtp, enum sw_transport transport)
{
    bool is_tls = transport == SW_TRANSPORT_TLS || transport == SW_TRANSPORT_WSS;
    return (struct leg){ .is_known = true,
                         .kind = kind,
                         .name = name,
                         .encryption = enc,
                         .is_srtp_required = srtp_is_required(srtp, is_tls),
                         .is_tls = is_tls };
}

static struct leg pbx_leg(const struct cfg *cfg, enum sw_transport transport)
{
    return leg_make("PBX", "pbx", cfg->pbx.media_encryption, cfg->pbx.srtp, transport);
}

/* The side that sent the offer, on the transport it came in on. */
static struct leg source_leg(const struct stage_ctx *ctx)
{
    const struct cfg *cfg = ctx->cfg;
    if (ctx->side == SIDE_PROVIDER && ctx->trunk < cfg->trunk_count) {
        const struct cfg_trunk *t = &cfg->trunks[ctx->trunk];
        return leg_make("trunk", t->name, t->media_encryption, t->srtp, ctx->transport);
    }
    if ((ctx->side == SIDE_ACCOUNT || ctx->is_authenticated) && ctx->account < cfg->account_count) {
        const struct cfg_account *a = &cfg->accounts[ctx->account];
        return leg_make("account", a->name, a->media_encryption, a->srtp, ctx->transport);
    }
    if (ctx->side == SIDE_PBX) {
        return pbx_leg(cfg, ctx->transport);
    }
    return (struct leg){ .is_known = false };
}

/* Where the offer goes (the routing of gateway_msg.c: provider and accounts call the PBX;
 * the PBX calls a registered account its Request-URI names, else the default trunk). */
static struct leg destination_leg(const struct stage_ctx *ctx)
{
    const struct cfg *cfg = ctx->cfg;
    /* Towards a peer: another node of ours carries the phone's leg and applies its
     * account's policy there; to us it is a leg like the PBX's. */
    if (ctx->side != SIDE_PBX || ctx->is_towards_peer) {
        return pbx_leg(cfg, cfg->pbx.address.transport);
    }
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(ctx->msg, &err);
    const struct cfg_account *a = ruri != NULL ? cfg_account_find(cfg, ruri->user) : NULL;
    struct registrar_binding binding;
    if (a != NULL && a->enabled &&
        registrar_lookup(sv_from_cstr(a->username), sw_wall_s(), &binding)) {
        return leg_make("account", a->name, a->media_encryption, a->srtp, binding.dest.transport);
    }
    if (cfg->default_trunk_index < cfg->trunk_count) {
        const struct cfg_trunk *t = &cfg->trunks[cfg->default_trunk_index];
        return leg_make("trunk", t->name, t->media_encryption, t->srtp, t->provider.transport);
    }
    return (struct leg){ .is_known = false };
}

static bool is_sdp_offer(const struct sip_msg *msg)
{
    if (!msg->is_request || msg->body.len == 0 ||
        (msg->method != SIP_METHOD_INVITE && msg->method != SIP_METHOD_UPDATE &&
         msg->method != SIP_METHOD_PRACK)) {
        return false;
    }
    const struct sip_hdr *type = sip_msg_find(msg, SIP_HDR_CONTENT_TYPE, NULL);
    /* RFC 3261 §20.15: no Content-Type with a body is malformed; sanity answers that. */
    return type != NULL && sv_starts_with_nocase(sv_trim(type->value), SV("application/sdp"));
}

/* Counts and marks the weak a=crypto lines of every stream. */
static void scan_offer(const struct sip_sdp *sdp, struct offer_scan *scan)
{
    memset(scan, 0, sizeof(*scan));
    for (size_t i = 0; i < sdp->media_count; i++) {
        const struct sip_sdp_media *m = &sdp->media[i];
        uint32_t weak = 0;
        size_t good = 0;
        scan->has_keys |= m->crypto_count > 0;
        for (size_t k = 0; k < m->crypto_count; k++) {
            if (sip_sdp_crypto_rate(m, k) == SIP_SDP_CRYPTO_OK) {
                good++;
            } else {
                weak |= 1u << k;
            }
        }
        if (weak != 0 && good > 0) {
            scan->drop.drop_crypto[i] = weak;
            scan->weak_dropped += (size_t)__builtin_popcount(weak);
        } else if (weak != 0 && m->port != 0) {
            scan->weak_only++;
        }
    }
}

/* True when the stream offers SRTP this leg accepts. */
static bool media_is_acceptable(const struct sip_sdp *sdp, const struct sip_sdp_media *m,
                                enum cfg_media_encryption enc)
{
    bool allows_sdes = enc == CFG_MEDIA_ENCRYPTION_SDES || enc == CFG_MEDIA_ENCRYPTION_ANY;
    bool allows_dtls = enc == CFG_MEDIA_ENCRYPTION_DTLS || enc == CFG_MEDIA_ENCRYPTION_ANY;
    if (allows_dtls && sip_sdp_media_is_dtls(sdp, m)) {
        return true;
    }
    if (!allows_sdes || !sip_sdp_media_is_srtp(m) || sip_sdp_media_is_dtls(sdp, m)) {
        return false;
    }
    for (size_t k = 0; k < m->crypto_count; k++) {
        if (sip_sdp_crypto_rate(m, k) == SIP_SDP_CRYPTO_OK) {
            return true;
        }
    }
    return false;
}

/* The first active RTP stream that `leg` would refuse, or NULL. */
static const struct sip_sdp_media *refused_media(const struct sip_sdp *sdp, const struct leg *leg)
{
    if (!leg->is_known || !leg->is_srtp_required) {
        return NULL;
    }
    for (size_t i = 0; i < sdp->media_count; i++) {
        const struct sip_sdp_media *m = &sdp->media[i];
        if (m->port != 0 && sip_sdp_media_is_rtp(m) &&
            !media_is_acceptable(sdp, m, leg->encryption)) {
            return m;
        }
    }
    return NULL;
}

static void emit(const struct stage_ctx *ctx, enum sw_event_kind kind, const char *detail)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, kind, "media");
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    sw_event_emit(ctx->events, &ev);
}

/* A reply with "Warning: 399 sipwarden "<text>"" (RFC 3261 §20.43); the text has no '"'. */
static struct verdict refuse(struct stage_ctx *ctx, uint16_t status, const char *reason,
                             const char *text)
{
    char line[256];
    int n = sw_snprintf(line, sizeof(line), "Warning: 399 sipwarden \"%s\"\r\n", text);
    /* The text may quote the peer's SDP tokens: nothing in it may end the quoted string. */
    size_t text_end = n > 0 && (size_t)n < sizeof(line) ? (size_t)n - 3 : 0;
    for (size_t i = sizeof("Warning: 399 sipwarden \"") - 1; i < text_end; i++) {
        if (line[i] == '"' || line[i] == '\\' || (unsigned char)line[i] < 0x20) {
            line[i] = '?';
        }
    }
    struct verdict v = verdict_reply(status, reason);
    if (n > 0 && (size_t)n < sizeof(line)) {
        v.extra_headers = arena_sv_dup(ctx->arena, sv_make(line, (size_t)n));
    }
    emit(ctx, status == 400 ? EV_MALFORMED : EV_POLICY_HIT, text);
    return v;
}

/* Why `leg` refuses the offer (text, and true), or false when it accepts it. */
static bool leg_refuses(const struct leg *leg, const struct sip_sdp *sdp,
                        const struct offer_scan *scan, char *text, size_t cap)
{
    if (scan->has_keys && leg->is_known && !leg->is_tls) {
        (void)sw_snprintf(text, cap, "SDES keys (a=crypto) refused on a leg without TLS (%s %s)",
                          leg->kind, leg->name);
        return true;
    }
    const struct sip_sdp_media *m = refused_media(sdp, leg);
    if (m != NULL) {
        (void)sw_snprintf(text, cap, "SRTP required by %s %s: " SV_FMT " stream is " SV_FMT,
                          leg->kind, leg->name, SV_ARG(sv_slice(m->media, 0, 16)),
                          SV_ARG(sv_slice(m->proto, 0, 24)));
        return true;
    }
    return false;
}

/*
 * With anchoring, the media rtpengine gives `leg`: SRTP when its policy requires it (SDES
 * where its signalling is TLS, else DTLS-SRTP), plain RTP on a leg without TLS (keys never
 * travel there in clear), as offered otherwise. False when a required policy cannot be met.
 */
static bool anchored_protocol(const struct leg *leg, enum anchor_protocol *out)
{
    *out = ANCHOR_PROTOCOL_AS_OFFERED;
    if (!leg->is_known) {
        return true;
    }
    bool allows_sdes =
        leg->encryption == CFG_MEDIA_ENCRYPTION_SDES || leg->encryption == CFG_MEDIA_ENCRYPTION_ANY;
    bool allows_dtls =
        leg->encryption == CFG_MEDIA_ENCRYPTION_DTLS || leg->encryption == CFG_MEDIA_ENCRYPTION_ANY;
    if (leg->is_srtp_required) {
        *out = leg->is_tls && allows_sdes ? ANCHOR_PROTOCOL_SDES : ANCHOR_PROTOCOL_DTLS;
        return (leg->is_tls && allows_sdes) || allows_dtls;
    }
    if (!leg->is_tls) {
        *out = ANCHOR_PROTOCOL_RTP;
    }
    return true;
}

/*
 * The sender's policy always judges its own offer. The receiver's judges it too without
 * anchoring; with anchoring rtpengine re-keys per leg, so the receiver's policy chooses
 * what rtpengine gives it instead (and whether the offer may cross only anchored).
 */
static struct verdict check_keys_and_srtp(struct stage_ctx *ctx, const struct sip_sdp *sdp,
                                          const struct offer_scan *scan)
{
    const struct leg source = source_leg(ctx);
    const struct leg destination = destination_leg(ctx);
    char text[200];
    if (leg_refuses(&source, sdp, scan, text, sizeof(text))) {
        return refuse(ctx, 488, "Not Acceptable Here", text);
    }
    if (ctx->cfg->media.engine_count == 0) {
        return leg_refuses(&destination, sdp, scan, text, sizeof(text))
                   ? refuse(ctx, 488, "Not Acceptable Here", text)
                   : verdict_continue();
    }
    ctx->edits.is_anchor_needed = leg_refuses(&destination, sdp, scan, text, sizeof(text));
    if (!anchored_protocol(&destination, &ctx->edits.media_to_b)) {
        (void)sw_snprintf(text, sizeof(text),
                          "SRTP required by %s %s cannot be keyed: SDES needs TLS, DTLS is not "
                          "allowed",
                          destination.kind, destination.name);
        return refuse(ctx, 488, "Not Acceptable Here", text);
    }
    /* The sender's own offers met its policy above; what it gets back is the same. */
    (void)anchored_protocol(&source, &ctx->edits.media_to_a);
    return verdict_continue();
}

/* Writes the offer without its weak a=crypto lines into ctx->edits.sdp. */
static struct verdict drop_weak_lines(struct stage_ctx *ctx, const struct offer_scan *scan)
{
    struct sv body = ctx->msg->body;
    size_t cap = 2 * body.len + 2; /* LF-only lines become CRLF: at most one byte more each */
    char *storage = arena_alloc(ctx->arena, cap);
    if (storage == NULL) {
        return verdict_reply(500, "Server Internal Error"); /* fails closed */
    }
    struct sw_buf out;
    sw_buf_init(&out, storage, cap);
    if (sip_sdp_rewrite(body, &scan->drop, &out) != 0) {
        return verdict_reply(500, "Server Internal Error");
    }
    ctx->edits.sdp = sw_buf_view(&out);
    char text[96];
    (void)sw_snprintf(text, sizeof(text), "%zu weak SRTP crypto offer(s) removed",
                      scan->weak_dropped);
    emit(ctx, EV_POLICY_HIT, text);
    return verdict_continue();
}

static struct verdict media_check(void *state, struct stage_ctx *ctx)
{
    (void)state;
    if (!is_sdp_offer(ctx->msg)) {
        if (ctx->msg->is_request && ctx->msg->method == SIP_METHOD_INVITE &&
            ctx->msg->body.len == 0 && ctx->cfg->media.engine_count > 0) {
            /* A late offer: the media of both sides are chosen now all the same. */
            const struct leg source = source_leg(ctx);
            const struct leg destination = destination_leg(ctx);
            (void)anchored_protocol(&source, &ctx->edits.media_to_a);
            (void)anchored_protocol(&destination, &ctx->edits.media_to_b);
        }
        return verdict_continue();
    }
    struct sip_sdp *sdp = arena_alloc(ctx->arena, sizeof(*sdp));
    if (sdp == NULL) {
        return verdict_reply(500, "Server Internal Error");
    }
    struct sip_err err = { 0 };
    if (sip_sdp_parse(ctx->msg->body, sdp, &err) != 0) {
        char text[128];
        (void)sw_snprintf(text, sizeof(text), "malformed SDP at byte %zu: %s", err.pos,
                          err.reason != NULL ? err.reason : "unreadable");
        return refuse(ctx, 400, "Malformed SDP", text);
    }
    struct offer_scan scan;
    scan_offer(sdp, &scan);
    struct verdict v = check_keys_and_srtp(ctx, sdp, &scan);
    if (v.action != VERDICT_CONTINUE) {
        return v;
    }
    if (scan.weak_only > 0) {
        emit(ctx, EV_POLICY_HIT, "SRTP offered with weak crypto suites only");
    }
    return scan.weak_dropped > 0 ? drop_weak_lines(ctx, &scan) : verdict_continue();
}

static int media_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    (void)cfg;
    (void)diag;
    *state = NULL; /* the policy is read from ctx->cfg: nothing to build */
    return 0;
}

static void media_fini(void *state)
{
    (void)state;
}

const struct stage media_stage = {
    .name = "media",
    .init = media_init,
    .check = media_check,
    .fini = media_fini,
};
