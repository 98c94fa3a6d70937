/*
 * The verification service (RFC 8224 §6.2, RFC 8588, ATIS-1000074): checks one Identity
 * header value against the call it arrived with.
 *
 * Non-blocking by design. stir_verify_start() does every check it can inline (syntax,
 * base64url, JSON, alg/typ/ppt, info = x5u, iat window, orig/dest against the call) and,
 * when the x5u certificate is cached, the signature too: it returns STIR_VERIFY_DONE with
 * the result filled in, without any thread hop. Only a cache miss queues a fetch (or joins
 * the fetch of the same URL already under way: one request serves them all); it then
 * returns STIR_VERIFY_PENDING and calls `done(ctx, result)` exactly once, later, from a
 * fetcher thread. The callback must not block: it hands the result back to the worker
 * that holds the call (e.g. through that worker's queue). The caller keeps `ctx` valid
 * until the callback ran; stir_verifier_free() runs pending callbacks (as failures)
 * before it returns.
 *
 * A verifier is created at start-up and may then be used by every worker thread.
 */
#ifndef SW_STIR_VERIFY_H
#define SW_STIR_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "base/sv.h"
#include "stir/cache.h"
#include "stir/fetch.h"
#include "stir/passport.h"
#include "stir/reason.h"
#include "stir/tn.h"

struct stir_verifier_cfg {
    const char *ca_file; /* STI-CA trust anchors (PEM); ca_file and/or ca_dir */
    const char *ca_dir;
    const char *ca_pem; /* or the anchors as PEM text in memory (ca_pem_len bytes) */
    size_t ca_pem_len;
    bool is_partial_chain;   /* a non-self-signed certificate of the store may anchor */
    int64_t iat_window_s;    /* 0 = 60: |now - iat| beyond it is STIR_STALE */
    bool allow_non_shaken;   /* accept PASSporTs without ppt "shaken" (and compact form) */
    bool require_tnauthlist; /* refuse leaf certificates without a TNAuthList (RFC 8226) */
    int64_t default_ttl_s;   /* 0 = 3600: cache time without Cache-Control max-age */
    int64_t max_ttl_s;       /* 0 = 86400: upper bound of any cache time */
    int64_t negative_ttl_s;  /* 0 = 30: how long a failed fetch or chain is remembered */
    bool is_fetch_disabled;  /* no fetcher threads: only preloaded certificates verify */
    size_t max_waiters;      /* 0 = 256: calls that may wait for one URL being fetched */
    struct stir_cache_cfg cache;
    struct stir_fetch_cfg fetch;
};

/* The call an Identity header arrived with. */
struct stir_call {
    struct sv identity;         /* the header value (not the "Identity:" name) */
    const struct stir_tn *orig; /* calling number from PAI/From; NULL = not checked */
    const struct stir_tn *dest; /* called number from To/R-URI; NULL = not checked */
    int64_t now_s;              /* wall clock, seconds since the epoch */
    int64_t date_s;             /* the Date header, for the compact form; 0 = now_s */
};

struct stir_result {
    enum stir_reason reason;
    bool has_passport; /* `passport` holds the decoded header and claims */
    struct stir_passport passport;
    bool is_cache_hit; /* the certificate came from the cache */
    size_t chain_len;  /* certificates of the x5u chain, when known */
    char detail[160];  /* extra text for a failure (fetch error...), or "" */
};

enum stir_verify_status {
    STIR_VERIFY_DONE,    /* `result` is complete; `done` will not be called */
    STIR_VERIFY_PENDING, /* `done` will be called once from a fetcher thread */
};

typedef void stir_verify_done_fn(void *ctx, const struct stir_result *result);

struct stir_verifier_stats {
    struct stir_cache_stats cache;
    uint64_t fetches; /* HTTP requests started */
};

struct stir_verifier;

/*
 * Loads the trust anchors, creates the cache and starts the fetcher threads. Call from
 * the main thread before other threads use libcurl (it runs curl_global_init once).
 * Returns 0 with a verifier in *out, or a negative error with the problems in `diag`
 * (which may be NULL).
 */
int stir_verifier_new(const struct stir_verifier_cfg *cfg, struct stir_verifier **out,
                      struct sw_diag *diag);

/* Stops the fetcher (pending callbacks run with STIR_CERT_FETCH) and frees; NULL no-op. */
void stir_verifier_free(struct stir_verifier *verifier);

/* Starts verifying `call` (see the file comment). `result` is written only on DONE. */
enum stir_verify_status stir_verify_start(struct stir_verifier *verifier,
                                          const struct stir_call *call, struct stir_result *result,
                                          stir_verify_done_fn *done, void *ctx);

/*
 * Verifies and waits for a pending fetch (tools and tests; never on a worker thread).
 * Returns result->reason.
 */
enum stir_reason stir_verify_sync(struct stir_verifier *verifier, const struct stir_call *call,
                                  struct stir_result *result);

/*
 * Puts a certificate chain obtained otherwise (a file given to a tool, a pinned peer) in
 * the cache under `url` for max_ttl_s, after checking it against the trust anchors at
 * `now_s`. Returns the chain verdict (STIR_OK, STIR_CERT_*), STIR_INTERNAL if it could
 * not be stored; a failing chain is stored as a failure.
 */
enum stir_reason stir_verifier_preload(struct stir_verifier *verifier, struct sv url,
                                       const char *pem, size_t pem_len, int64_t now_s);

/* Counters for metrics and tests. */
void stir_verifier_get_stats(struct stir_verifier *verifier, struct stir_verifier_stats *out);

#endif
