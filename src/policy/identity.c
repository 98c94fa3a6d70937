#include "policy/identity.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/time.h"
#include "config/config.h"
#include "policy/callerid.h"
#include "sip/msg.h"
#include "stir/attest.h"
#include "stir/identity.h"
#include "stir/sign.h"
#include "stir/verify.h"
#include "stir/verstat.h"

/* The connection part of a certificate fetch never waits longer than this. */
#define CONNECT_TIMEOUT_MS 2000u

struct identity_trunk {
    char name[64];
    char country_code[4];
    char domain[CFG_HOST_CAP];
    struct stir_owned *owned; /* NULL: no owned_numbers */
    enum cfg_identity_policy policy;
};

enum slot_state {
    SLOT_FREE,
    SLOT_STARTING,  /* the first pass is starting the verifications */
    SLOT_HELD,      /* the message is held; the last callback resumes it */
    SLOT_READY,     /* every result is in; waiting for the second pass */
    SLOT_ABANDONED, /* no hold was possible: the last callback frees the slot */
};

struct identity_state;
struct identity_slot;

/* One Identity header whose verification may finish on a fetcher thread. */
struct identity_wait {
    struct identity_slot *slot;
    bool is_pending; /* its callback is still to come */
    struct stir_result result;
};

struct identity_slot {
    struct identity_state *owner;
    enum slot_state state;
    uint64_t key; /* which INVITE: Call-ID, CSeq, From tag and the Identity values */
    uint64_t since_ms;
    size_t count;   /* Identity headers */
    size_t pending; /* callbacks still to come */
    struct stage_hold *hold;
    struct identity_wait waits[IDENTITY_MAX_HEADERS];
};

struct identity_state {
    struct stir_signer *signer;     /* NULL: no signing */
    struct stir_verifier *verifier; /* NULL: no verification */
    struct identity_trunk *trunks;
    size_t trunk_count;
    size_t default_trunk;
    struct stir_tn *account_numbers; /* len 0 = none */
    size_t account_count;
    pthread_mutex_t lock; /* guards every slot */
    struct identity_slot slots[IDENTITY_SLOTS];
};

/* What one call's verification found, ready to be applied. */
struct inbound_call {
    const struct identity_trunk *trunk;
    struct stir_tn orig; /* len 0 when the call has no calling number */
    struct stir_tn dest;
    struct sv values[IDENTITY_MAX_HEADERS];
    size_t count;
    struct stir_result results[IDENTITY_MAX_HEADERS];
};

/* ---- set-up --------------------------------------------------------------------- */

static int make_signer(struct identity_state *state, const struct cfg_stir *stir,
                       struct sw_diag *diag)
{
    if (stir->signing_key == NULL || stir->x5u == NULL) {
        return 0;
    }
    struct stir_signer_cfg cfg = {
        .key_file = stir->signing_key,
        .cert_file = stir->signing_certificate,
        .x5u = stir->x5u,
    };
    return stir_signer_new(&cfg, &state->signer, diag);
}

static int make_verifier(struct identity_state *state, const struct cfg_stir *stir,
                         struct sw_diag *diag)
{
    if (stir->ca_file == NULL && stir->ca_dir == NULL) {
        return 0;
    }
    uint32_t total_ms = stir->fetch_timeout * 1000u;
    struct stir_verifier_cfg cfg = {
        .ca_file = stir->ca_file,
        .ca_dir = stir->ca_dir,
        .iat_window_s = stir->iat_window,
        .require_tnauthlist = stir->require_tnauthlist,
        .default_ttl_s = stir->cache_ttl,
        .max_ttl_s = stir->cache_max_ttl,
        .max_waiters = (size_t)IDENTITY_SLOTS * IDENTITY_MAX_HEADERS,
        .cache = { .max_entries = stir->cache_entries },
        .fetch = {
            .connect_timeout_ms = total_ms < CONNECT_TIMEOUT_MS ? total_ms : CONNECT_TIMEOUT_MS,
            .total_timeout_ms = total_ms,
            .allow_private = stir->fetch_allow_private,
            .tls_ca_file = stir->fetch_ca_file,
            .thread_count = stir->fetch_threads,
        },
    };
    for (size_t i = 0; i < stir->fetch_ports.count && i < STIR_FETCH_PORTS_MAX; i++) {
        uint32_t port = 0;
        if (sv_to_u32(sv_from_cstr(stir->fetch_ports.items[i]), &port) && port > 0 &&
            port <= 65535) {
            cfg.fetch.ports[cfg.fetch.port_count++] = (uint16_t)port;
        }
    }
    return stir_verifier_new(&cfg, &state->verifier, diag);
}

static int make_numbers(struct identity_state *state, const struct cfg *cfg, struct sw_diag *diag)
{
    for (size_t i = 0; i < cfg->trunk_count; i++) {
        const struct cfg_trunk *c = &cfg->trunks[i];
        struct identity_trunk *t = &state->trunks[i];
        state->trunk_count = i + 1;
        (void)sw_snprintf(t->name, sizeof(t->name), "%s", c->name);
        (void)sw_snprintf(t->country_code, sizeof(t->country_code), "%s",
                          c->country_code != NULL ? c->country_code : "");
        (void)sw_snprintf(t->domain, sizeof(t->domain), "%s", c->domain != NULL ? c->domain : "");
        t->policy = c->identity_policy;
        const char *bad = NULL;
        if (c->owned_numbers.count > 0 &&
            (t->owned = callerid_owned_new(&c->owned_numbers, sv_from_cstr(t->country_code),
                                           &bad)) == NULL) {
            sw_diag_add(diag, DIAG_ERROR, NULL, c->line, c->name, "identity: %s",
                        bad != NULL ? "an owned number is not a valid telephone number"
                                    : "out of memory");
            return -SW_ECONFIG;
        }
    }
    struct sv cc = SV("1");
    if (state->default_trunk < state->trunk_count) {
        cc = sv_from_cstr(state->trunks[state->default_trunk].country_code);
    }
    state->account_count = cfg->account_count;
    for (size_t i = 0; i < cfg->account_count; i++) {
        if (cfg->accounts[i].callerid != NULL) {
            /* A number that does not normalize simply owns nothing. */
            (void)stir_tn_normalize(sv_from_cstr(cfg->accounts[i].callerid), cc,
                                    &state->account_numbers[i]);
        }
    }
    return 0;
}

static void identity_fini(void *opaque)
{
    struct identity_state *state = opaque;
    if (state == NULL) {
        return;
    }
    /* Runs the callbacks of pending fetches (as failures): every hold is resumed. */
    stir_verifier_free(state->verifier);
    state->verifier = NULL;
    stir_signer_free(state->signer);
    state->signer = NULL;
    for (size_t i = 0; state->trunks != NULL && i < state->trunk_count; i++) {
        stir_owned_free(state->trunks[i].owned);
        state->trunks[i].owned = NULL;
    }
    sw_free(state->trunks);
    sw_free(state->account_numbers);
    (void)pthread_mutex_destroy(&state->lock); /* no thread uses it any more */
    sw_free(state);
}

static int identity_init(void **out, const struct cfg *cfg, struct sw_diag *diag)
{
    struct identity_state *state = sw_calloc(1, sizeof(*state));
    if (state == NULL || pthread_mutex_init(&state->lock, NULL) != 0) {
        sw_free(state);
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "identity: out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < IDENTITY_SLOTS; i++) {
        state->slots[i].owner = state;
        for (size_t j = 0; j < IDENTITY_MAX_HEADERS; j++) {
            state->slots[i].waits[j].slot = &state->slots[i];
        }
    }
    state->default_trunk = cfg->default_trunk_index;
    state->trunks = sw_calloc(cfg->trunk_count + 1, sizeof(*state->trunks));
    state->account_numbers = sw_calloc(cfg->account_count + 1, sizeof(*state->account_numbers));
    int rc = state->trunks == NULL || state->account_numbers == NULL ? -ENOMEM : 0;
    if (rc == 0) {
        rc = make_numbers(state, cfg, diag);
    }
    if (rc == 0) {
        rc = make_signer(state, &cfg->stir, diag);
    }
    if (rc == 0) {
        rc = make_verifier(state, &cfg->stir, diag);
    }
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, "stir", "identity: cannot start: %s",
                    sw_strerror(rc));
        identity_fini(state);
        return rc;
    }
    *out = state;
    return 0;
}

/* ---- outbound: signing ---------------------------------------------------------- */

/* The called number: the Request-URI's, else To's. */
static bool called_number(struct sip_msg *msg, struct sv country_code, struct stir_tn *out)
{
    struct sip_err err = { 0 };
    const struct sip_uri *ruri = sip_msg_ruri(msg, &err);
    if (ruri != NULL && stir_tn_from_uri(ruri->raw, country_code, out) == 0) {
        return true;
    }
    const struct sip_nameaddr *to = sip_msg_to(msg, &err);
    return to != NULL && stir_tn_from_uri(to->uri_text, country_code, out) == 0;
}

/* The number the outgoing leg presents: callerid's replacement, else the caller's own. */
static bool presented_number(struct stage_ctx *ctx, const struct identity_trunk *trunk,
                             struct stir_tn *out)
{
    struct sv cc = sv_from_cstr(trunk->country_code);
    if (sv_is_present(ctx->edits.caller_user)) {
        return stir_tn_normalize(ctx->edits.caller_user, cc, out) == 0;
    }
    return callerid_calling_number(ctx->msg, cc, out, NULL);
}

static enum stir_attest attestation(const struct identity_state *state, const struct stage_ctx *ctx,
                                    const struct identity_trunk *trunk, const struct stir_tn *orig)
{
    struct stir_attest_input in = {
        /* The PBX is known by its source address (classify); an account by its digest. */
        .is_authenticated = ctx->side == SIDE_PBX || ctx->is_authenticated,
        /* callerid ran before: a refused number never gets here. */
        .is_policy_passed = true,
    };
    if (ctx->side == SIDE_ACCOUNT && ctx->account < state->account_count) {
        in.is_number_owned = stir_tn_eq(&state->account_numbers[ctx->account], orig);
    } else {
        in.is_number_owned = stir_owned_contains(trunk->owned, orig);
    }
    return stir_attest_decide(&in);
}

/* Appends "Identity: value\r\n" to the edits' extra headers, in the arena. */
static bool add_identity_header(struct stage_ctx *ctx, const char *value, size_t len)
{
    struct sv old = ctx->edits.extra_headers;
    size_t old_len = sv_is_present(old) ? old.len : 0;
    size_t cap = old_len + len + sizeof("Identity: \r\n");
    char *mem = arena_alloc(ctx->arena, cap);
    if (mem == NULL) {
        return false;
    }
    if (old_len > 0) {
        memcpy(mem, old.ptr, old_len);
    }
    int n = sw_snprintf(mem + old_len, cap - old_len, "Identity: %.*s\r\n", (int)len, value);
    if (n < 0 || (size_t)n >= cap - old_len) {
        return false;
    }
    ctx->edits.extra_headers = sv_make(mem, old_len + (size_t)n);
    return true;
}

static bool set_asserted_identity(struct stage_ctx *ctx, const struct identity_trunk *trunk,
                                  const struct stir_tn *orig)
{
    if (sv_is_present(ctx->edits.asserted_identity)) {
        return true; /* callerid wrote it for the same number */
    }
    size_t cap = strlen(trunk->domain) + STIR_TN_MAX_DIGITS + 32;
    char *mem = arena_alloc(ctx->arena, cap);
    if (mem == NULL) {
        return false;
    }
    int n = sw_snprintf(mem, cap, "<sip:+%s@%s;user=phone>", orig->digits, trunk->domain);
    if (n < 0 || (size_t)n >= cap) {
        return false;
    }
    ctx->edits.asserted_identity = sv_make(mem, (size_t)n);
    return true;
}

static struct verdict sign_outbound(const struct identity_state *state, struct stage_ctx *ctx)
{
    if (state->default_trunk >= state->trunk_count) {
        return verdict_continue();
    }
    const struct identity_trunk *trunk = &state->trunks[state->default_trunk];
    struct log_ctx log = { .worker = (int)ctx->worker, .call_id = sip_msg_call_id(ctx->msg) };
    struct stir_tn orig;
    struct stir_tn dest;
    if (!presented_number(ctx, trunk, &orig) ||
        !called_number(ctx->msg, sv_from_cstr(trunk->country_code), &dest)) {
        log_debug(&log, "identity: not signed: caller or callee is not a telephone number");
        return verdict_continue();
    }
    enum stir_attest attest = attestation(state, ctx, trunk, &orig);
    if (attest == STIR_ATTEST_NONE) {
        return verdict_continue();
    }
    struct stir_sign_req req = { .attest = attest, .orig = &orig, .dest = &dest };
    req.iat = sw_wall_s();
    char *value = arena_alloc(ctx->arena, STIR_IDENTITY_VALUE_MAX);
    long n = value != NULL ? stir_signer_sign(state->signer, &req, value, STIR_IDENTITY_VALUE_MAX)
                           : -SW_ENOMEM_ARENA;
    if (n < 0 || !add_identity_header(ctx, value, (size_t)n) ||
        !set_asserted_identity(ctx, trunk, &orig)) {
        /* Our failure, not the caller's: fail closed rather than send half a policy. */
        log_err(&log, "identity: signing failed: %s", sw_strerror(n < 0 ? (int)n : -ENOMEM));
        return stage_fail_closed(ctx, "identity: signing failed");
    }
    log_debug(&log, "identity: signed orig %s dest %s attest %s", orig.digits, dest.digits,
              stir_attest_text(attest));
    ctx->edits.attestation = sv_from_cstr(stir_attest_text(attest)); /* for the call record */
    return verdict_continue();
}

/* ---- inbound: the slot table ---------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
    /* Order matters (header i is result i), so combine rather than xor. */
    return (h ^ v) * 0x9E3779B97F4A7C15u + (h >> 29);
}

static uint64_t call_key(struct sip_msg *msg, const struct inbound_call *call)
{
    struct sip_err err = { 0 };
    uint64_t h = sw_hash_sv(sip_msg_call_id(msg));
    const struct sip_cseq *cseq = sip_msg_cseq(msg, &err);
    h = mix(h, cseq != NULL ? cseq->seq : 0);
    const struct sip_nameaddr *from = sip_msg_from(msg, &err);
    h = mix(h, sw_hash_sv(from != NULL ? from->tag : SV_NULL));
    for (size_t i = 0; i < call->count; i++) {
        h = mix(h, sw_hash_sv(call->values[i]));
    }
    return h;
}

/* Caller holds the lock. The slot parked under `key`, or NULL. */
static struct identity_slot *slot_find(struct identity_state *state, uint64_t key)
{
    for (size_t i = 0; i < IDENTITY_SLOTS; i++) {
        struct identity_slot *slot = &state->slots[i];
        if (slot->state != SLOT_FREE && slot->state != SLOT_ABANDONED && slot->key == key) {
            return slot;
        }
    }
    return NULL;
}

/* Caller holds the lock. A free slot (reclaiming stale parked results), or NULL. */
static struct identity_slot *slot_take(struct identity_state *state, uint64_t key, size_t count,
                                       uint64_t now_ms)
{
    for (size_t i = 0; i < IDENTITY_SLOTS; i++) {
        struct identity_slot *slot = &state->slots[i];
        bool is_stale = slot->state == SLOT_READY && now_ms - slot->since_ms > IDENTITY_SLOT_TTL_MS;
        if (slot->state == SLOT_FREE || is_stale) {
            slot->state = SLOT_STARTING;
            slot->key = key;
            slot->since_ms = now_ms;
            slot->count = count;
            slot->pending = 0;
            slot->hold = NULL;
            return slot;
        }
    }
    return NULL;
}

/* Fetcher thread (or the caller of stir_verifier_free): one header's result. */
static void on_verified(void *arg, const struct stir_result *result)
{
    if (arg == NULL) {
        return; /* a verification started without a slot: only the cache profits */
    }
    struct identity_wait *wait = arg;
    struct identity_slot *slot = wait->slot;
    struct identity_state *state = slot->owner;
    struct stage_hold *hold = NULL;
    (void)pthread_mutex_lock(&state->lock); /* cannot fail: a default mutex, ours */
    wait->result = *result;
    wait->is_pending = false;
    SW_ASSERT(slot->pending > 0);
    slot->pending--;
    if (slot->pending == 0 && slot->state == SLOT_HELD) {
        slot->state = SLOT_READY;
        slot->since_ms = sw_mono_ms();
        hold = slot->hold;
        slot->hold = NULL;
    } else if (slot->pending == 0 && slot->state == SLOT_ABANDONED) {
        slot->state = SLOT_FREE;
    }
    (void)pthread_mutex_unlock(&state->lock);
    if (hold != NULL) {
        stage_hold_resume(hold);
    }
}

static void fetch_unfinished(struct stir_result *result)
{
    memset(result, 0, sizeof(*result));
    result->reason = STIR_CERT_FETCH;
    (void)sw_snprintf(result->detail, sizeof(result->detail), "%s",
                      "certificate not available yet and the call cannot wait");
}

/*
 * Starts header i. Without a slot the result lands in call->results[i] (a fetch that
 * cannot be waited for counts as STIR_CERT_FETCH). With a slot every result lands in
 * slot->waits[i], now or from the callback. Returns true when the callback is pending.
 */
static bool start_one(struct identity_state *state, struct identity_slot *slot,
                      struct inbound_call *call, size_t i)
{
    struct stir_call sc = {
        .identity = call->values[i],
        .orig = &call->orig, /* an empty number matches no orig.tn: never "not checked" */
        .dest = &call->dest,
        .now_s = sw_wall_s(),
    };
    struct identity_wait *wait = slot != NULL ? &slot->waits[i] : NULL;
    if (wait != NULL) {
        (void)pthread_mutex_lock(&state->lock);
        slot->pending++;
        wait->is_pending = true;
        (void)pthread_mutex_unlock(&state->lock);
    }
    enum stir_verify_status st =
        stir_verify_start(state->verifier, &sc, &call->results[i], on_verified, wait);
    if (st == STIR_VERIFY_DONE && wait != NULL) {
        (void)pthread_mutex_lock(&state->lock);
        wait->result = call->results[i];
        wait->is_pending = false;
        slot->pending--;
        (void)pthread_mutex_unlock(&state->lock);
    } else if (st == STIR_VERIFY_PENDING && wait == NULL) {
        fetch_unfinished(&call->results[i]);
    }
    return st == STIR_VERIFY_PENDING;
}

/* Caller holds the lock: the slot's results (unfinished ones as fetch failures). */
static void slot_collect(const struct identity_slot *slot, struct inbound_call *call)
{
    for (size_t i = 0; i < call->count; i++) {
        if (slot->waits[i].is_pending) {
            fetch_unfinished(&call->results[i]);
        } else {
            call->results[i] = slot->waits[i].result;
        }
    }
}

/*
 * First pass. Returns true when every result is in `call->results` (decide now), false
 * when the message is held (the verdict is then "hold").
 */
static bool start_all(struct identity_state *state, struct stage_ctx *ctx,
                      struct inbound_call *call, struct identity_slot *slot)
{
    bool has_pending = false;
    for (size_t i = 0; i < call->count; i++) {
        has_pending |= start_one(state, slot, call, i);
    }
    if (slot == NULL) {
        return true;
    }
    /* Taken outside the lock: the gateway copies the message. */
    struct stage_hold *hold = has_pending && ctx->hold != NULL ? ctx->hold(ctx) : NULL;
    bool is_resume_now = false;
    (void)pthread_mutex_lock(&state->lock);
    if (hold != NULL) {
        is_resume_now = slot->pending == 0;
        slot->hold = is_resume_now ? NULL : hold;
        slot->state = is_resume_now ? SLOT_READY : SLOT_HELD;
        slot->since_ms = ctx->now_ms;
    } else {
        slot_collect(slot, call);
        slot->state = slot->pending == 0 ? SLOT_FREE : SLOT_ABANDONED;
    }
    (void)pthread_mutex_unlock(&state->lock);
    if (is_resume_now) {
        stage_hold_resume(hold); /* every callback came while the hold was being taken */
    }
    return hold == NULL;
}

/* ---- inbound: the decision ------------------------------------------------------ */

/* A user part without its user parameters (";verstat=..." sent by the provider). */
static struct sv user_without_params(struct sv user)
{
    long semi = sv_find_char(user, ';');
    return semi < 0 ? user : sv_slice(user, 0, (size_t)semi);
}

/* Puts our verstat on the PBX leg's From and P-Asserted-Identity, dropping the peer's. */
static void tag_verstat(struct stage_ctx *ctx, enum stir_verstat verstat)
{
    ctx->edits.verstat = sv_from_cstr(stir_verstat_text(verstat));
    struct sip_err err = { 0 };
    const struct sip_nameaddr *from = sip_msg_from(ctx->msg, &err);
    if (from != NULL && (from->uri.scheme == SIP_URI_SIP || from->uri.scheme == SIP_URI_SIPS) &&
        sv_is_present(from->uri.user) && sv_find_char(from->uri.user, ';') >= 0) {
        ctx->edits.caller_user = user_without_params(from->uri.user);
    }
    struct sip_nameaddr pai;
    size_t count = 0;
    int rc = sip_msg_nameaddrs(ctx->msg, SIP_HDR_P_ASSERTED_IDENTITY, &pai, 1, &count, &err);
    if ((rc != 0 && rc != -SW_EFULL) || count == 0) {
        return;
    }
    size_t cap = pai.uri_text.len + (sv_is_present(pai.display) ? pai.display.len : 0) + 64;
    char *uri = arena_alloc(ctx->arena, cap);
    char *line = arena_alloc(ctx->arena, cap + 8);
    long n = uri != NULL ? stir_verstat_apply(pai.uri_text, verstat, uri, cap) : -SW_ETOOBIG;
    if (n < 0 || line == NULL) {
        return; /* not a telephone URI: the From carries the verstat */
    }
    int len = sv_is_present(pai.display) && pai.display.len > 0
                  ? sw_snprintf(line, cap + 8, "\"%.*s\" <%s>", SV_ARG(pai.display), uri)
                  : sw_snprintf(line, cap + 8, "<%s>", uri);
    if (len > 0 && (size_t)len < cap + 8) {
        ctx->edits.asserted_identity = sv_make(line, (size_t)len);
    }
}

static void emit_result(const struct stage_ctx *ctx, const struct identity_trunk *trunk,
                        const struct stir_result *result)
{
    struct sw_event ev;
    stage_event_init(ctx, &ev, EV_IDENTITY_FAILED, "identity");
    stir_verstat_event(result, &ev);
    size_t len = strlen(ev.detail);
    if (result->detail[0] != '\0' || trunk != NULL) {
        (void)sw_snprintf(ev.detail + len, sizeof(ev.detail) - len, " trunk=%s%s%s",
                          trunk != NULL ? trunk->name : "", result->detail[0] != '\0' ? ": " : "",
                          result->detail);
    }
    sw_event_emit(ctx->events, &ev);
}

static struct verdict decide(struct stage_ctx *ctx, const struct identity_trunk *trunk,
                             const struct inbound_call *call)
{
    const struct stir_result *best = &call->results[0];
    for (size_t i = 0; i < call->count; i++) {
        emit_result(ctx, trunk, &call->results[i]);
        if (call->results[i].reason == STIR_OK && best->reason != STIR_OK) {
            best = &call->results[i];
        }
    }
    enum stir_reason reason = best->reason;
    bool is_rejected = false;
    if (trunk->policy == CFG_IDENTITY_REJECT) {
        is_rejected = reason != STIR_OK && reason != STIR_NO_IDENTITY;
    } else if (trunk->policy == CFG_IDENTITY_REQUIRE) {
        is_rejected = reason != STIR_OK;
    }
    if (is_rejected) {
        /* RFC 8224 §6.2.2: the response of the reason (428, 436, 437, 438; 403 Stale Date). */
        return verdict_reply((uint16_t)stir_reason_sip_code(reason),
                             stir_reason_sip_phrase(reason));
    }
    tag_verstat(ctx, stir_reason_verstat(reason));
    return verdict_continue();
}

static void read_call(struct stage_ctx *ctx, const struct identity_trunk *trunk,
                      struct inbound_call *call)
{
    memset(call, 0, sizeof(*call));
    call->trunk = trunk;
    struct sv cc = sv_from_cstr(trunk->country_code);
    /* A call without a number keeps an empty one, which no PASSporT matches. */
    (void)callerid_calling_number(ctx->msg, cc, &call->orig, NULL);
    struct sip_err err = { 0 };
    const struct sip_nameaddr *to = sip_msg_to(ctx->msg, &err);
    const struct sip_uri *ruri = sip_msg_ruri(ctx->msg, &err);
    if ((to == NULL || stir_tn_from_uri(to->uri_text, cc, &call->dest) != 0) &&
        (ruri == NULL || stir_tn_from_uri(ruri->raw, cc, &call->dest) != 0)) {
        memset(&call->dest, 0, sizeof(call->dest));
    }
    for (const struct sip_hdr *h = sip_msg_find(ctx->msg, SIP_HDR_IDENTITY, NULL);
         h != NULL && call->count < IDENTITY_MAX_HEADERS;
         h = sip_msg_find(ctx->msg, SIP_HDR_IDENTITY, h)) {
        call->values[call->count++] = h->value;
    }
}

static struct verdict verify_inbound(struct identity_state *state, struct stage_ctx *ctx)
{
    if (ctx->trunk >= state->trunk_count) {
        return verdict_continue();
    }
    struct inbound_call call;
    read_call(ctx, &state->trunks[ctx->trunk], &call);
    if (call.count == 0) {
        call.count = 1;
        call.results[0].reason = STIR_NO_IDENTITY;
        return decide(ctx, call.trunk, &call);
    }
    uint64_t key = call_key(ctx->msg, &call);
    (void)pthread_mutex_lock(&state->lock);
    struct identity_slot *slot = slot_find(state, key);
    enum slot_state found = slot != NULL ? slot->state : SLOT_FREE;
    if (found == SLOT_READY) {
        slot_collect(slot, &call); /* the second pass of a held call */
        slot->state = SLOT_FREE;
    } else if (found == SLOT_FREE) {
        slot = slot_take(state, key, call.count, ctx->now_ms);
    }
    (void)pthread_mutex_unlock(&state->lock);
    if (found == SLOT_STARTING || found == SLOT_HELD) {
        /* A retransmission while its original waits for the certificate. */
        return verdict_drop("identity: verification under way");
    }
    if (found == SLOT_FREE && !start_all(state, ctx, &call, slot)) {
        return verdict_hold();
    }
    return decide(ctx, call.trunk, &call);
}

static struct verdict identity_check(void *opaque, struct stage_ctx *ctx)
{
    struct identity_state *state = opaque;
    struct sip_msg *msg = ctx->msg;
    if (!msg->is_request || msg->method != SIP_METHOD_INVITE || ctx->is_in_dialog) {
        return verdict_continue();
    }
    bool is_outbound =
        ctx->side == SIDE_PBX || (ctx->side == SIDE_ACCOUNT && ctx->is_authenticated);
    if (is_outbound && state->signer != NULL) {
        return sign_outbound(state, ctx);
    }
    if (ctx->side == SIDE_PROVIDER && state->verifier != NULL) {
        return verify_inbound(state, ctx);
    }
    return verdict_continue();
}

enum stir_reason identity_preload(void *stage_state, struct sv url, const char *pem, size_t len,
                                  int64_t now_s)
{
    struct identity_state *state = stage_state;
    if (state == NULL || state->verifier == NULL) {
        return STIR_INTERNAL;
    }
    return stir_verifier_preload(state->verifier, url, pem, len, now_s);
}

const struct stage identity_stage = {
    .name = "identity",
    .init = identity_init,
    .check = identity_check,
    .fini = identity_fini,
};
