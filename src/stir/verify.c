#include "stir/verify.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/time.h"
#include "stir/b64url.h"
#include "stir/cert.h"
#include "stir/identity.h"
#include "stir/jws.h"

#define DEFAULT_IAT_WINDOW_S   60
#define DEFAULT_TTL_S          3600
#define DEFAULT_MAX_TTL_S      86400
#define DEFAULT_NEGATIVE_TTL_S 30
#define DEFAULT_MAX_WAITERS    256

struct inflight;

struct stir_verifier {
    struct stir_verifier_cfg cfg;
    X509_STORE *trust;
    struct stir_cache *cache;
    struct stir_fetcher *fetcher; /* NULL when fetching is disabled */
    pthread_mutex_t inflight_lock;
    struct inflight *inflight; /* x5u URLs being fetched (at most queue_cap + threads) */
};

/* What a verification keeps while its certificate is fetched (heap, one per miss). */
struct pending {
    struct pending *next; /* the next call waiting for the same URL */
    char input[STIR_TOKEN_MAX];
    size_t input_len;
    unsigned char sig[STIR_ES256_SIG_LEN];
    int64_t now_s;
    struct stir_result result;
    stir_verify_done_fn *done;
    void *ctx;
};

/*
 * One x5u URL being fetched and every call waiting for it: calls that miss the cache
 * for a URL already on its way join the fetch instead of queueing another, so a burst
 * of calls from one carrier after a restart costs one request, not a full queue.
 */
struct inflight {
    struct stir_verifier *verifier;
    char url[STIR_X5U_MAX];
    int64_t now_s; /* the first caller's clock, for the chain check */
    struct pending *waiters;
    size_t waiter_count;
    struct inflight *next;
};

/* The signing input and signature of a checked token. */
struct signed_part {
    char input[STIR_TOKEN_MAX];
    size_t input_len;
    unsigned char sig[STIR_ES256_SIG_LEN];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    /* The result shows up as failing transfers later; nothing else to do here. */
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t or_default(int64_t value, int64_t fallback)
{
    return value > 0 ? value : fallback;
}

int stir_verifier_new(const struct stir_verifier_cfg *cfg, struct stir_verifier **out,
                      struct sw_diag *diag)
{
    *out = NULL;
    SW_ASSERT(pthread_once(&curl_once, curl_init_once) == 0);
    struct stir_verifier *v = sw_calloc(1, sizeof(*v));
    if (v == NULL) {
        return -ENOMEM;
    }
    v->cfg = *cfg;
    v->cfg.iat_window_s = or_default(cfg->iat_window_s, DEFAULT_IAT_WINDOW_S);
    v->cfg.default_ttl_s = or_default(cfg->default_ttl_s, DEFAULT_TTL_S);
    v->cfg.max_ttl_s = or_default(cfg->max_ttl_s, DEFAULT_MAX_TTL_S);
    v->cfg.negative_ttl_s = or_default(cfg->negative_ttl_s, DEFAULT_NEGATIVE_TTL_S);
    v->cfg.max_waiters = cfg->max_waiters != 0 ? cfg->max_waiters : DEFAULT_MAX_WAITERS;
    SW_ASSERT(pthread_mutex_init(&v->inflight_lock, NULL) == 0);
    if (cfg->ca_pem != NULL) {
        v->trust = stir_cert_trust_from_pem(cfg->ca_pem, cfg->ca_pem_len, cfg->is_partial_chain);
    } else {
        v->trust = stir_cert_trust_load(cfg->ca_file, cfg->ca_dir, cfg->is_partial_chain, diag);
    }
    v->cache = stir_cache_new(&cfg->cache);
    if (!cfg->is_fetch_disabled) {
        v->fetcher = stir_fetcher_new(&cfg->fetch);
    }
    if (v->trust == NULL || v->cache == NULL || (!cfg->is_fetch_disabled && v->fetcher == NULL)) {
        int rc = v->trust == NULL ? -SW_ECONFIG : -ENOMEM;
        stir_verifier_free(v);
        return rc;
    }
    /* The configuration strings are not used after this point. */
    v->cfg.ca_file = NULL;
    v->cfg.ca_dir = NULL;
    v->cfg.ca_pem = NULL;
    v->cfg.fetch.tls_ca_file = NULL;
    *out = v;
    return 0;
}

void stir_verifier_free(struct stir_verifier *verifier)
{
    if (verifier == NULL) {
        return;
    }
    /* Runs the callbacks of queued fetches as failures; afterwards nothing is in flight. */
    stir_fetcher_free(verifier->fetcher);
    SW_ASSERT(verifier->inflight == NULL);
    (void)pthread_mutex_destroy(&verifier->inflight_lock); /* no thread uses it any more */
    stir_cache_free(verifier->cache);
    X509_STORE_free(verifier->trust);
    sw_free(verifier);
}

/* Decodes one base64url part holding JSON into `json` (capacity cap, NUL added). */
static bool decode_json_part(struct sv part, char *json, size_t cap)
{
    if (STIR_B64URL_DECODED_MAX(part.len) >= cap) {
        return false;
    }
    long n = stir_b64url_decode(part, (unsigned char *)json, cap - 1);
    if (n < 0) {
        return false;
    }
    json[n] = '\0';
    return true;
}

/* Full form: decodes header and claims as received; the signing input is their text. */
static enum stir_reason decode_full(const struct stir_identity *id, struct stir_passport *pp,
                                    struct signed_part *sp)
{
    char json[STIR_PASSPORT_JSON_MAX + 4];
    if (!decode_json_part(id->header, json, sizeof(json))) {
        return STIR_BAD_ENCODING;
    }
    enum stir_reason reason = stir_passport_decode_header(sv_from_cstr(json), pp);
    if (reason != STIR_OK) {
        return reason;
    }
    if (!decode_json_part(id->claims, json, sizeof(json))) {
        return STIR_BAD_ENCODING;
    }
    reason = stir_passport_decode_claims(sv_from_cstr(json), pp);
    if (reason != STIR_OK) {
        return reason;
    }
    sp->input_len = id->header.len + 1 + id->claims.len;
    memcpy(sp->input, id->header.ptr, sp->input_len); /* header "." claims, contiguous */
    return STIR_OK;
}

/*
 * Compact form (RFC 8225 §7, RFC 8224 §4): the verifier rebuilds header and claims from
 * the request. Only a base PASSporT can be rebuilt: SHAKEN's attest and origid are not
 * in the SIP request.
 */
static enum stir_reason rebuild_compact(const struct stir_verifier *v,
                                        const struct stir_identity *id,
                                        const struct stir_call *call, struct stir_passport *pp,
                                        struct signed_part *sp)
{
    if (!v->cfg.allow_non_shaken || id->ppt.ptr != NULL || call->orig == NULL ||
        call->dest == NULL || id->info.len >= sizeof(pp->x5u)) {
        return STIR_COMPACT_UNSUPPORTED;
    }
    memcpy(pp->alg, "ES256", sizeof("ES256"));
    memcpy(pp->typ, "passport", sizeof("passport"));
    memcpy(pp->x5u, id->info.ptr, id->info.len);
    pp->orig = *call->orig;
    pp->dest[0] = *call->dest;
    pp->dest_count = 1;
    pp->iat = call->date_s > 0 ? call->date_s : call->now_s;
    long n = stir_passport_signing_input(pp, sp->input, sizeof(sp->input));
    if (n < 0) {
        return STIR_BAD_X5U;
    }
    sp->input_len = (size_t)n;
    return STIR_OK;
}

/* alg, typ, ppt, x5u and the agreement of the header parameters with the PASSporT. */
static enum stir_reason check_header(const struct stir_verifier *v, const struct stir_identity *id,
                                     const struct stir_passport *pp)
{
    struct sv ppt = sv_from_cstr(pp->ppt);
    if (strcmp(pp->alg, "ES256") != 0) {
        return STIR_BAD_ALG;
    }
    if (strcmp(pp->typ, "passport") != 0) {
        return STIR_BAD_TYP;
    }
    if ((ppt.len > 0 && !sv_eq(ppt, SV("shaken"))) || (ppt.len == 0 && !v->cfg.allow_non_shaken)) {
        return STIR_BAD_PPT;
    }
    if ((id->alg.ptr != NULL && !sv_eq(id->alg, SV("ES256"))) ||
        (id->ppt.ptr != NULL && !sv_eq(id->ppt, ppt))) {
        return STIR_PARAM_MISMATCH;
    }
    if (!stir_passport_x5u_is_valid(sv_from_cstr(pp->x5u))) {
        return STIR_BAD_X5U;
    }
    /* ATIS-1000074: the info parameter carries the same URL as x5u. */
    if (!sv_eq(id->info, sv_from_cstr(pp->x5u))) {
        return STIR_X5U_MISMATCH;
    }
    return STIR_OK;
}

static bool dest_matches(const struct stir_passport *pp, const struct stir_tn *dest)
{
    for (size_t i = 0; i < pp->dest_count; i++) {
        if (stir_tn_eq(&pp->dest[i], dest)) {
            return true;
        }
    }
    return false;
}

/* SHAKEN claims, iat freshness and the numbers of the call. */
static enum stir_reason check_claims(const struct stir_verifier *v, const struct stir_call *call,
                                     const struct stir_passport *pp)
{
    bool is_shaken = strcmp(pp->ppt, "shaken") == 0;
    if (is_shaken &&
        (pp->attest == STIR_ATTEST_NONE || pp->origid[0] == '\0' || pp->dest_count == 0)) {
        return STIR_BAD_CLAIMS;
    }
    int64_t age = call->now_s - pp->iat;
    /* RFC 8224 §6.2.1 (60 s): the same window applies to a clock ahead of ours. */
    if (age > v->cfg.iat_window_s || age < -v->cfg.iat_window_s) {
        return STIR_STALE;
    }
    if (call->orig != NULL && !stir_tn_eq(&pp->orig, call->orig)) {
        return STIR_ORIG_MISMATCH;
    }
    if (call->dest != NULL && !dest_matches(pp, call->dest)) {
        return STIR_DEST_MISMATCH;
    }
    return STIR_OK;
}

/* Every check that needs no certificate. */
static enum stir_reason precheck(const struct stir_verifier *v, const struct stir_call *call,
                                 struct stir_result *result, struct signed_part *sp)
{
    struct stir_identity id;
    enum stir_reason reason = stir_identity_parse(call->identity, &id);
    if (reason != STIR_OK) {
        return reason;
    }
    /* 64 bytes are 86 base64url characters; the decoder wants room for 66. */
    unsigned char sig[STIR_B64URL_DECODED_MAX(86)];
    if (id.signature.len != 86 ||
        stir_b64url_decode(id.signature, sig, sizeof(sig)) != STIR_ES256_SIG_LEN) {
        return STIR_BAD_ENCODING;
    }
    memcpy(sp->sig, sig, STIR_ES256_SIG_LEN);
    reason = id.is_compact ? rebuild_compact(v, &id, call, &result->passport, sp)
                           : decode_full(&id, &result->passport, sp);
    if (reason != STIR_OK) {
        return reason;
    }
    result->has_passport = true;
    reason = check_header(v, &id, &result->passport);
    return reason != STIR_OK ? reason : check_claims(v, call, &result->passport);
}

/* The signature with a certificate from the cache or a fetch. */
static void finish(struct stir_result *result, const struct stir_cache_hit *hit, const char *input,
                   size_t input_len, const unsigned char *sig, int64_t now_s)
{
    result->chain_len = hit->chain_len;
    if (hit->status != STIR_OK) {
        result->reason = hit->status;
        return;
    }
    if (now_s < hit->valid_from_s || now_s > hit->valid_until_s) {
        result->reason = STIR_CERT_EXPIRED;
        return;
    }
    /* RFC 8226 §9: the certificate must allow its holder to sign for the calling number. */
    if (result->has_passport && hit->tnauth.is_present &&
        !stir_tnauth_covers(&hit->tnauth, &result->passport.orig)) {
        result->reason = STIR_TN_UNAUTHORIZED;
        return;
    }
    int rc = stir_jws_verify(hit->key, sv_make(input, input_len), sig);
    result->reason = rc == 0 ? STIR_OK : (rc == -SW_EIDENTITY ? STIR_BAD_SIGNATURE : STIR_INTERNAL);
}

static int64_t clamp_ttl(const struct stir_verifier *v, int64_t ttl_s)
{
    return ttl_s > v->cfg.max_ttl_s ? v->cfg.max_ttl_s : ttl_s;
}

/* The leaf's TNAuthList: malformed is a bad certificate; absent, one that may not sign
 * unless the configuration accepts certificates without it. */
static enum stir_reason leaf_authority(const struct stir_verifier *v, X509 *leaf,
                                       struct stir_tnauth *out)
{
    if (stir_tnauth_from_cert(leaf, out) != 0) {
        return STIR_CERT_BAD;
    }
    return out->is_present || !v->cfg.require_tnauthlist ? STIR_OK : STIR_CERT_NO_TNAUTH;
}

/* Parses, verifies and caches a fetched (or given) chain; fills `hit` for finish(). */
static void admit_chain(struct stir_verifier *v, struct sv url, struct sv pem, int64_t now_s,
                        int64_t ttl_s, struct stir_cache_hit *hit)
{
    memset(hit, 0, sizeof(*hit));
    STACK_OF(X509) *chain = stir_cert_chain_parse(pem.ptr, pem.len);
    hit->status = chain == NULL ? STIR_CERT_BAD
                                : stir_cert_chain_verify(v->trust, chain, now_s, &hit->valid_from_s,
                                                         &hit->valid_until_s);
    if (hit->status == STIR_OK) {
        hit->status = leaf_authority(v, sk_X509_value(chain, 0), &hit->tnauth);
    }
    if (hit->status == STIR_OK) {
        hit->key = X509_get_pubkey(sk_X509_value(chain, 0));
        hit->chain_len = (size_t)sk_X509_num(chain);
        hit->status = hit->key != NULL ? STIR_OK : STIR_INTERNAL;
    } else {
        ttl_s = v->cfg.negative_ttl_s;
    }
    struct stir_cache_put put = {
        .url = url,
        .chain = hit->status == STIR_OK ? chain : NULL,
        .status = hit->status,
        .tnauth = hit->tnauth,
        .valid_from_s = hit->valid_from_s,
        .valid_until_s = hit->valid_until_s,
        .expires_ms = sw_mono_ms() + (uint64_t)clamp_ttl(v, ttl_s) * 1000U,
        .bytes = pem.len,
    };
    /* A zero TTL (no-store) or a failed insert still verifies this call, uncached. */
    if (ttl_s <= 0 || stir_cache_insert(v->cache, &put) != 0) {
        put.chain = NULL;
    }
    if (put.chain == NULL) {
        sk_X509_pop_free(chain, X509_free);
    }
}

/* Turns a fetch outcome into the cache entry every waiter finishes with. */
static void admit_fetched(struct inflight *f, const struct stir_fetch_result *fetched,
                          struct stir_cache_hit *hit)
{
    struct stir_verifier *v = f->verifier;
    struct sv url = sv_from_cstr(f->url);
    memset(hit, 0, sizeof(*hit));
    if (fetched->status == 0) {
        int64_t ttl = fetched->max_age_s >= 0 ? fetched->max_age_s : v->cfg.default_ttl_s;
        admit_chain(v, url, sv_make(fetched->body, fetched->body_len), f->now_s, ttl, hit);
        return;
    }
    hit->status = STIR_CERT_FETCH;
    if (fetched->status != -ECANCELED) {
        struct stir_cache_put put = {
            .url = url,
            .status = STIR_CERT_FETCH,
            .expires_ms = sw_mono_ms() + (uint64_t)v->cfg.negative_ttl_s * 1000U,
        };
        (void)stir_cache_insert(v->cache, &put); /* best effort: only saves a refetch */
    }
}

static void inflight_unlink(struct stir_verifier *v, struct inflight *f)
{
    struct inflight **slot = &v->inflight;
    while (*slot != NULL && *slot != f) {
        slot = &(*slot)->next;
    }
    SW_ASSERT(*slot == f);
    *slot = f->next;
}

/* Runs on a fetcher thread: admit what came back, then finish and report every waiter. */
static void on_fetched(void *arg, struct stir_fetch_result *fetched)
{
    struct inflight *f = arg;
    struct stir_verifier *v = f->verifier;
    struct stir_cache_hit hit;
    admit_fetched(f, fetched, &hit);
    /* Unlinked only now, after the cache has the entry: a call arriving meanwhile either
     * joins this list or hits the cache. */
    SW_ASSERT(pthread_mutex_lock(&v->inflight_lock) == 0);
    inflight_unlink(v, f);
    SW_ASSERT(pthread_mutex_unlock(&v->inflight_lock) == 0);
    struct pending *p = f->waiters;
    while (p != NULL) {
        struct pending *next = p->next;
        if (fetched->status != 0) {
            (void)snprintf(p->result.detail, sizeof(p->result.detail), "%s", fetched->error);
        }
        finish(&p->result, &hit, p->input, p->input_len, p->sig, p->now_s);
        p->done(p->ctx, &p->result);
        sw_free(p);
        p = next;
    }
    EVP_PKEY_free(hit.key);
    sw_free(f);
}

static struct inflight *inflight_find(struct stir_verifier *v, const char *url)
{
    for (struct inflight *f = v->inflight; f != NULL; f = f->next) {
        if (strcmp(f->url, url) == 0) {
            return f;
        }
    }
    return NULL;
}

/* Starts a fetch for `p` alone; returns NULL (nothing kept) or the detail of a failure. */
static const char *inflight_start(struct stir_verifier *v, struct pending *p)
{
    struct inflight *f = sw_calloc(1, sizeof(*f));
    if (f == NULL) {
        return "out of memory";
    }
    f->verifier = v;
    (void)snprintf(f->url, sizeof(f->url), "%s", p->result.passport.x5u); /* same size */
    f->now_s = p->now_s;
    f->waiters = p;
    f->waiter_count = 1;
    f->next = v->inflight;
    v->inflight = f;
    if (stir_fetcher_submit(v->fetcher, f->url, on_fetched, f) != 0) {
        v->inflight = f->next;
        sw_free(f);
        return "fetch queue full";
    }
    return NULL;
}

/* Joins a fetch of the same URL or starts one; NULL on success, else why not. */
static const char *inflight_join(struct stir_verifier *v, struct pending *p)
{
    const char *why = NULL;
    SW_ASSERT(pthread_mutex_lock(&v->inflight_lock) == 0);
    struct inflight *f = inflight_find(v, p->result.passport.x5u);
    if (f == NULL) {
        why = inflight_start(v, p);
    } else if (f->waiter_count >= v->cfg.max_waiters) {
        why = "too many calls waiting for this certificate";
    } else {
        p->next = f->waiters;
        f->waiters = p;
        f->waiter_count++;
    }
    SW_ASSERT(pthread_mutex_unlock(&v->inflight_lock) == 0);
    return why;
}

/* Queues the fetch (or joins one); false (result set) when that is impossible. */
static bool start_fetch(struct stir_verifier *v, const struct stir_call *call,
                        struct stir_result *result, const struct signed_part *sp,
                        stir_verify_done_fn *done, void *ctx)
{
    struct pending *p = v->fetcher != NULL ? sw_malloc(sizeof(*p)) : NULL;
    const char *why =
        v->fetcher == NULL ? "certificate not cached and fetching is disabled" : "out of memory";
    if (p != NULL) {
        *p = (struct pending){ .input_len = sp->input_len,
                               .now_s = call->now_s,
                               .result = *result,
                               .done = done,
                               .ctx = ctx };
        memcpy(p->input, sp->input, sp->input_len);
        memcpy(p->sig, sp->sig, sizeof(p->sig));
        why = inflight_join(v, p);
    }
    if (why != NULL) {
        sw_free(p);
        result->reason = STIR_CERT_FETCH;
        (void)snprintf(result->detail, sizeof(result->detail), "%s", why);
        return false;
    }
    return true;
}

enum stir_verify_status stir_verify_start(struct stir_verifier *verifier,
                                          const struct stir_call *call, struct stir_result *result,
                                          stir_verify_done_fn *done, void *ctx)
{
    SW_ASSERT(verifier != NULL && call != NULL && result != NULL);
    memset(result, 0, sizeof(*result));
    struct signed_part sp;
    result->reason = precheck(verifier, call, result, &sp);
    if (result->reason != STIR_OK) {
        return STIR_VERIFY_DONE;
    }
    struct stir_cache_hit hit;
    if (stir_cache_lookup(verifier->cache, sv_from_cstr(result->passport.x5u), sw_mono_ms(),
                          &hit)) {
        result->is_cache_hit = true;
        finish(result, &hit, sp.input, sp.input_len, sp.sig, call->now_s);
        EVP_PKEY_free(hit.key);
        return STIR_VERIFY_DONE;
    }
    return start_fetch(verifier, call, result, &sp, done, ctx) ? STIR_VERIFY_PENDING
                                                               : STIR_VERIFY_DONE;
}

/* stir_verify_sync's rendezvous with the fetcher thread. */
struct sync_wait {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool is_done;
    struct stir_result *result;
};

static void on_sync_done(void *ctx, const struct stir_result *result)
{
    struct sync_wait *w = ctx;
    SW_ASSERT(pthread_mutex_lock(&w->lock) == 0);
    *w->result = *result;
    w->is_done = true;
    SW_ASSERT(pthread_cond_signal(&w->cond) == 0);
    SW_ASSERT(pthread_mutex_unlock(&w->lock) == 0);
}

/* The fetcher calls back exactly once, after at most its total timeout. */
static void sync_wait_done(struct sync_wait *w)
{
    SW_ASSERT(pthread_mutex_lock(&w->lock) == 0);
    while (!w->is_done) {
        SW_ASSERT(pthread_cond_wait(&w->cond, &w->lock) == 0);
    }
    SW_ASSERT(pthread_mutex_unlock(&w->lock) == 0);
}

enum stir_reason stir_verify_sync(struct stir_verifier *verifier, const struct stir_call *call,
                                  struct stir_result *result)
{
    struct sync_wait w = { .result = result };
    SW_ASSERT(pthread_mutex_init(&w.lock, NULL) == 0);
    SW_ASSERT(pthread_cond_init(&w.cond, NULL) == 0);
    if (stir_verify_start(verifier, call, result, on_sync_done, &w) == STIR_VERIFY_PENDING) {
        sync_wait_done(&w);
    }
    (void)pthread_cond_destroy(&w.cond); /* nobody waits any more */
    (void)pthread_mutex_destroy(&w.lock);
    return result->reason;
}

enum stir_reason stir_verifier_preload(struct stir_verifier *verifier, struct sv url,
                                       const char *pem, size_t pem_len, int64_t now_s)
{
    struct stir_cache_hit hit;
    admit_chain(verifier, url, sv_make(pem, pem_len), now_s, verifier->cfg.max_ttl_s, &hit);
    EVP_PKEY_free(hit.key);
    return hit.status;
}

void stir_verifier_get_stats(struct stir_verifier *verifier, struct stir_verifier_stats *out)
{
    memset(out, 0, sizeof(*out));
    stir_cache_get_stats(verifier->cache, &out->cache);
    out->fetches = verifier->fetcher != NULL ? stir_fetcher_request_count(verifier->fetcher) : 0;
}
