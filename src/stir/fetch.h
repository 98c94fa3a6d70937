/*
 * Fetching x5u certificates over HTTPS with libcurl, hardened against server-side
 * request forgery: the URL comes from an INVITE anyone can send.
 *   - https only (CURLOPT_PROTOCOLS_STR), ports from an allow list (443, 8443 by default),
 *     no user:password in the URL, no proxy from the environment;
 *   - no redirects (CURLOPT_FOLLOWLOCATION 0; a 3xx is a failure);
 *   - size cap while receiving and CURLOPT_MAXFILESIZE; connect and total time limits;
 *   - the host is resolved here, every address is checked, and the checked address is
 *     pinned with CURLOPT_RESOLVE, so curl never resolves the name a second time: a DNS
 *     answer that changes between check and connect (rebinding) cannot redirect the
 *     connection. CURLOPT_OPENSOCKETFUNCTION re-checks the address actually connected
 *     as a second line. Loopback, private (RFC 1918, CGNAT, ULA), link-local, multicast
 *     and unspecified addresses are refused unless `allow_private` is set.
 *
 * stir_fetch_url() is synchronous and blocks for up to the total timeout: it is meant
 * for the fetcher threads (and tools). A `struct stir_fetcher` owns those threads and a
 * bounded job queue; submitting never blocks. curl_global_init() must have run (the
 * verifier does it at creation) before threads use it.
 */
#ifndef SW_STIR_FETCH_H
#define SW_STIR_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stir/resolve.h"

#define STIR_FETCH_PORTS_MAX 8

struct stir_fetch_cfg {
    uint32_t connect_timeout_ms; /* 0 = 2000 */
    uint32_t total_timeout_ms;   /* 0 = 5000 */
    size_t max_bytes;            /* 0 = 65536: larger bodies are refused */
    uint16_t ports[STIR_FETCH_PORTS_MAX];
    size_t port_count;       /* 0 = 443 and 8443 */
    bool allow_private;      /* allow loopback/private/link-local/ULA destinations */
    const char *tls_ca_file; /* CA bundle for the HTTPS server; NULL = system default */
    size_t queue_cap;        /* 0 = 64 pending fetches */
    unsigned thread_count;   /* 0 = 1 */
    /* The name lookup (NULL = getaddrinfo); bounded by total_timeout_ms either way. */
    stir_resolve_fn *resolve;
};

struct stir_fetch_result {
    int status;      /* 0, or -SW_E... / -errno */
    char error[160]; /* why it failed, for logs and tools */
    long http_code;  /* 0 when no response */
    char *body;      /* owned (sw_free); NUL-terminated, body_len bytes */
    size_t body_len;
    int64_t max_age_s; /* Cache-Control max-age; -1 when absent, 0 for no-store/no-cache */
};

typedef void stir_fetch_done_fn(void *arg, struct stir_fetch_result *result);

struct stir_fetcher;

/*
 * Fetches `url` under the rules above. Returns `out->status` (0 on a 200 response within
 * the limits); on failure out->error says why and out->body is NULL. Always release with
 * stir_fetch_result_fini.
 */
int stir_fetch_url(const struct stir_fetch_cfg *cfg, const char *url,
                   struct stir_fetch_result *out);

/* Frees the body; the result may be reused. */
void stir_fetch_result_fini(struct stir_fetch_result *result);

/* True when `ip` (textual IPv4/IPv6) is a destination refused without allow_private. */
bool stir_fetch_addr_is_private(const char *ip);

/* Starts the fetcher threads. NULL on failure. `cfg` is copied (tls_ca_file too). */
struct stir_fetcher *stir_fetcher_new(const struct stir_fetch_cfg *cfg);

/*
 * Queues a fetch; `done(arg, result)` runs later on a fetcher thread, exactly once
 * (with status -ECANCELED if the fetcher is freed first). The result belongs to the
 * fetcher: copy what you need before returning. Returns 0, or -SW_EFULL when the queue
 * is full / -ENOMEM (then `done` is not called).
 */
int stir_fetcher_submit(struct stir_fetcher *fetcher, const char *url, stir_fetch_done_fn *done,
                        void *arg);

/* HTTP requests started so far (tests check that a cache hit made none). */
uint64_t stir_fetcher_request_count(struct stir_fetcher *fetcher);

/* Stops the threads (waiting for running fetches), cancels queued jobs; NULL is a no-op. */
void stir_fetcher_free(struct stir_fetcher *fetcher);

#endif
