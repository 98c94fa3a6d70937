#include "policy/auth.h"

#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/time.h"
#include "config/config.h"
#include "policy/acl.h"
#include "policy/fraud.h"
#include "policy/nonce.h"
#include "sip/auth.h"
#include "sip/digest.h"
#include "sip/msg.h"

#define AUTH_REPLAY_SLOTS 65536

/* Used for unknown users so that they cost what a known user costs (no timing oracle). */
static const char dummy_ha1[] = "6d2f0c9b1e8a47d3b5f28e1c9a0d4e7f6d2f0c9b1e8a47d3b5f28e1c9a0d4e7f";

struct auth_state {
    struct nonce_keeper *nonces;
    const struct cfg *cfg;
    /* The accounts by user name, open addressing: slot = account index + 1, 0 = empty.
     * cfg_account_find compared every name in turn, the second cost of a registration
     * after the digest itself with a hundred accounts (callgrind, #13). */
    uint32_t *by_name;
    size_t by_name_mask;
};

/* sw_wall_s() but in tests (auth_clock_set). */
static auth_clock_fn *test_clock;

void auth_clock_set(auth_clock_fn *clock)
{
    test_clock = clock;
}

static int64_t auth_clock(void)
{
    return test_clock != NULL ? test_clock() : sw_wall_s();
}

/*
 * FNV-1a, unkeyed: the names are the configuration's, so a caller who picks names that
 * collide only makes a probe walk a cluster, never longer than the accounts (the old
 * scan); and the index does not depend on when the process key was seeded.
 */
static size_t name_hash(struct sv name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < name.len; i++) {
        h = (h ^ (unsigned char)name.ptr[i]) * 0x100000001b3ULL;
    }
    return (size_t)(h ^ (h >> 32));
}

/* Twice the accounts at least, so that a probe ends soon at an empty slot. */
static bool index_accounts(struct auth_state *s, const struct cfg *cfg)
{
    size_t slots = 16;
    while (slots < 2 * cfg->account_count) {
        slots *= 2;
    }
    s->by_name = sw_calloc(slots, sizeof(*s->by_name));
    if (s->by_name == NULL || cfg->account_count >= UINT32_MAX) {
        return false;
    }
    s->cfg = cfg;
    s->by_name_mask = slots - 1;
    for (size_t i = 0; i < cfg->account_count; i++) {
        size_t at = name_hash(sv_from_cstr(cfg->accounts[i].username)) & s->by_name_mask;
        while (s->by_name[at] != 0) {
            at = (at + 1) & s->by_name_mask;
        }
        s->by_name[at] = (uint32_t)(i + 1);
    }
    return true;
}

/* cfg_account_find() of the configuration the stage was made for, through the index. */
static const struct cfg_account *account_find(const struct auth_state *s, const struct cfg *cfg,
                                              struct sv username)
{
    if (cfg != s->cfg) {
        return cfg_account_find(cfg, username);
    }
    size_t at = name_hash(username) & s->by_name_mask;
    for (uint32_t slot = s->by_name[at]; slot != 0; slot = s->by_name[at]) {
        const struct cfg_account *a = &cfg->accounts[slot - 1];
        if (sv_eq(sv_from_cstr(a->username), username)) {
            return a;
        }
        at = (at + 1) & s->by_name_mask;
    }
    return NULL;
}

static int auth_init(void **state, const struct cfg *cfg, struct sw_diag *diag)
{
    struct auth_state *s = sw_calloc(1, sizeof(*s));
    if (s == NULL || !index_accounts(s, cfg)) {
        if (s != NULL) {
            sw_free(s->by_name);
        }
        sw_free(s);
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, "auth", "out of memory");
        return -1;
    }
    s->nonces = nonce_keeper_new(cfg->auth.nonce_lifetime, AUTH_REPLAY_SLOTS);
    if (s->nonces == NULL) {
        sw_free(s->by_name);
        sw_free(s);
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, "auth", "cannot create the nonce keeper");
        return -1;
    }
    *state = s;
    return 0;
}

static void auth_fini(void *state)
{
    struct auth_state *s = state;
    if (s != NULL) {
        nonce_keeper_free(s->nonces);
        sw_free(s->by_name);
        sw_free(s);
    }
}

static bool needs_challenge(const struct stage_ctx *ctx)
{
    const struct sip_msg *msg = ctx->msg;
    if (!msg->is_request || ctx->is_in_dialog || msg->method == SIP_METHOD_ACK ||
        msg->method == SIP_METHOD_CANCEL) {
        return false;
    }
    if (ctx->side == SIDE_PROVIDER) {
        return false;
    }
    if (ctx->side == SIDE_PBX) {
        return ctx->cfg->auth.challenge_pbx;
    }
    return true;
}

/* The challenge lines, one per configured algorithm, into the arena. */
static struct verdict challenge(struct auth_state *s, struct stage_ctx *ctx, bool is_stale)
{
    const struct cfg *cfg = ctx->cfg;
    bool is_register = ctx->msg->method == SIP_METHOD_REGISTER;
    char nonce[NONCE_HEX_LEN + 1];
    nonce_make(s->nonces, &ctx->src_ip, sv_from_cstr(cfg->auth.realm), auth_clock(), nonce);
    size_t cap = 256 * cfg->auth.algorithms.count + 64;
    char *mem = arena_alloc(ctx->arena, cap);
    if (mem == NULL) {
        return stage_fail_closed(ctx, "auth: arena exhausted");
    }
    struct sw_buf out;
    sw_buf_init(&out, mem, cap);
    for (size_t i = 0; i < cfg->auth.algorithms.count; i++) {
        enum sip_digest_alg alg = (enum sip_digest_alg)cfg->auth.algorithms.items[i];
        sw_buf_fmt(&out, "%s: Digest realm=\"%s\", nonce=\"%s\", qop=\"auth\", algorithm=%s%s\r\n",
                   is_register ? "WWW-Authenticate" : "Proxy-Authenticate", cfg->auth.realm, nonce,
                   sip_digest_alg_name(alg), is_stale ? ", stale=true" : "");
    }
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_CHALLENGE_SENT, "auth");
    SW_EVENT_SET(&ev, challenge, sv_from_cstr(nonce));
    sw_event_emit(ctx->events, &ev);
    struct verdict v = verdict_reply(is_register ? 401 : 407, NULL);
    v.extra_headers = out.is_overflow ? SV_NULL : sw_buf_view(&out);
    return v;
}

static const struct sip_hdr *credentials_header(struct sip_msg *msg)
{
    const struct sip_hdr *h = sip_msg_find(msg, SIP_HDR_AUTHORIZATION, NULL);
    return h != NULL ? h : sip_msg_find(msg, SIP_HDR_PROXY_AUTHORIZATION, NULL);
}

/* The account's HA1 for `alg`, or NULL (then the dummy is used and the answer fails). */
static const char *account_ha1(const struct cfg_account *a, enum sip_digest_alg alg,
                               struct sv realm, char *computed)
{
    const char *stored = alg == SIP_DIGEST_MD5      ? a->ha1
                         : alg == SIP_DIGEST_SHA256 ? a->ha1_sha256
                                                    : a->ha1_sha512_256;
    if (stored != NULL) {
        return stored;
    }
    if (a->secret != NULL && sip_digest_ha1(alg, sv_from_cstr(a->username), realm,
                                            sv_from_cstr(a->secret), computed) == 0) {
        return computed;
    }
    return NULL;
}

static bool algorithm_offered(const struct cfg *cfg, enum sip_digest_alg alg)
{
    for (size_t i = 0; i < cfg->auth.algorithms.count; i++) {
        if ((enum sip_digest_alg)cfg->auth.algorithms.items[i] == alg) {
            return true;
        }
    }
    return false;
}

static void emit_failure(struct stage_ctx *ctx, enum sw_event_kind kind, const struct sip_auth *a,
                         const char *detail)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, kind, "auth");
    SW_EVENT_SET(&ev, account, a->username);
    SW_EVENT_SET(&ev, challenge, a->nonce);
    SW_EVENT_SET(&ev, response, a->response);
    SW_EVENT_SET(&ev, detail, sv_from_cstr(detail));
    sw_event_emit(ctx->events, &ev);
}

/*
 * A disabled account that gave its right password (state/isolation.h: the operator or the
 * fraud policy disabled it) gets the 403 of a wrong one, so the reply confirms nothing,
 * but the event is a policy hit, not a failure: its phone retrying must not ban the
 * office's address, and the account works again as soon as it is enabled.
 */
static struct verdict refuse_disabled(struct stage_ctx *ctx, const struct sip_auth *a)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_POLICY_HIT, "auth");
    SW_EVENT_SET(&ev, account, a->username);
    SW_EVENT_SET(&ev, detail, SV("account disabled: refused"));
    sw_event_emit(ctx->events, &ev);
    return verdict_reply(403, NULL);
}

/*
 * RFC 7616 §3.4.6: the digest uri must designate the Request-URI. Some clients (sipp among
 * them) put only the host there, so the same host and port is accepted too: with nonces
 * bound to the source address and nc tracked, a response cannot be moved to another
 * request anyway.
 */
static bool digest_uri_fits(struct sip_msg *msg, struct sv uri)
{
    if (sv_eq(uri, msg->ruri)) {
        return true;
    }
    struct sip_err err = { 0 };
    struct sip_uri parsed;
    const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
    if (ruri == NULL || sip_uri_parse(uri, &parsed, &err) != 0) {
        return false;
    }
    return parsed.scheme == ruri->scheme && sv_eq_nocase(parsed.host, ruri->host) &&
           parsed.port == ruri->port && parsed.has_port == ruri->has_port;
}

/* Checks what does not depend on the account: realm, algorithm, nonce, qop, uri. Returns
 * NULL when the credentials may be verified, else why not. */
static const char *check_frame(struct auth_state *s, struct stage_ctx *ctx,
                               const struct sip_auth *a, enum sip_digest_alg *alg, bool *is_stale)
{
    const struct cfg *cfg = ctx->cfg;
    bool is_sess = false;
    struct sv alg_name = sv_is_present(a->algorithm) ? a->algorithm : SV("MD5");
    if (!sv_eq(a->realm, sv_from_cstr(cfg->auth.realm))) {
        return "realm not ours";
    }
    if (!sip_digest_alg_parse(alg_name, alg, &is_sess) || is_sess ||
        !algorithm_offered(cfg, *alg)) {
        return "algorithm not offered";
    }
    switch (nonce_verify(s->nonces, &ctx->src_ip, a->realm, a->nonce, auth_clock())) {
    case NONCE_STALE:
        *is_stale = true;
        return "stale nonce";
    case NONCE_FORGED:
        return "nonce not issued to this address";
    case NONCE_OK:
        break;
    }
    if (!sv_eq(a->qop, SV("auth")) || !sv_is_present(a->nc) || !sv_is_present(a->cnonce)) {
        return "qop=auth with nc and cnonce required";
    }
    if (!digest_uri_fits(ctx->msg, a->uri)) {
        return "digest uri does not name the Request-URI";
    }
    return NULL;
}

static size_t account_index(const struct cfg *cfg, const struct cfg_account *a)
{
    return (size_t)(a - cfg->accounts);
}

static bool response_matches(struct stage_ctx *ctx, const struct sip_auth *a,
                             enum sip_digest_alg alg, const struct cfg_account *account)
{
    char computed[SIP_DIGEST_HEX_CAP];
    const char *ha1 = account != NULL ? account_ha1(account, alg, a->realm, computed) : NULL;
    bool has_ha1 = ha1 != NULL && strlen(ha1) == sip_digest_hex_len(alg);
    char expected[SIP_DIGEST_HEX_CAP];
    /* The same computation runs for every user, known or not: no timing difference. */
    int rc = sip_digest_response(
        alg, false, sv_make(has_ha1 ? ha1 : dummy_ha1, sip_digest_hex_len(alg)), a->nonce, a->nc,
        a->cnonce, a->qop, ctx->msg->method_name, a->uri, expected);
    bool is_equal = rc == 0 && sip_digest_hex_eq_ct(sv_from_cstr(expected), a->response);
    explicit_bzero(computed, sizeof(computed));
    return has_ha1 && is_equal;
}

static struct verdict auth_check(void *state, struct stage_ctx *ctx)
{
    struct auth_state *s = state;
    if (!needs_challenge(ctx)) {
        return verdict_continue();
    }
    const struct sip_hdr *h = credentials_header(ctx->msg);
    struct sip_auth a;
    struct sip_err err = { 0 };
    if (h == NULL || sip_auth_parse(h->value, &a, &err) != 0 || !a.is_digest) {
        return challenge(s, ctx, false);
    }
    enum sip_digest_alg alg = SIP_DIGEST_MD5;
    bool is_stale = false;
    const char *why = check_frame(s, ctx, &a, &alg, &is_stale);
    if (is_stale) {
        return challenge(s, ctx, true);
    }
    if (why != NULL) {
        emit_failure(ctx, EV_CHALLENGE_RESPONSE_FAILED, &a, why);
        return challenge(s, ctx, false);
    }
    const struct cfg_account *account = account_find(s, ctx->cfg, a.username);
    bool is_usable = account != NULL && account->enabled;
    if (!response_matches(ctx, &a, alg, is_usable ? account : NULL)) {
        emit_failure(ctx, is_usable ? EV_INVALID_PASSWORD : EV_INVALID_ACCOUNT_ID, &a,
                     is_usable ? "wrong password" : "no such account");
        return verdict_reply(403, NULL);
    }
    /* Outside the account's ranges the answer is a wrong password's, whatever the password
     * (no oracle that confirms it from anywhere), and it is checked before the nonce count
     * so that a replayed count cannot tell the two apart either. */
    if (!acl_account_permits(account, &ctx->src_ip)) {
        emit_failure(ctx, EV_FAILED_ACL, &a, "account not permitted from this address");
        return verdict_reply(403, NULL);
    }
    if (!nonce_accept_nc(s->nonces, a.nonce, a.nc)) {
        emit_failure(ctx, EV_CHALLENGE_RESPONSE_FAILED, &a, "replayed nonce count");
        return challenge(s, ctx, false);
    }
    if (account == NULL || fraud_account_is_disabled(sv_from_cstr(account->username))) {
        return refuse_disabled(ctx, &a);
    }
    ctx->is_authenticated = true;
    ctx->account = account_index(ctx->cfg, account);
    ctx->side = SIDE_ACCOUNT;
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_SUCCESSFUL_AUTH, "auth");
    SW_EVENT_SET(&ev, account, a.username);
    sw_event_emit(ctx->events, &ev);
    return verdict_continue();
}

const struct stage auth_stage = {
    .name = "auth",
    .init = auth_init,
    .check = auth_check,
    .fini = auth_fini,
};
