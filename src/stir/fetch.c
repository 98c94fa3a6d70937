#include "stir/fetch.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/workq.h"
#include "stir/resolve.h"

#define DEFAULT_CONNECT_MS 2000U
#define DEFAULT_TOTAL_MS   5000U
#define DEFAULT_MAX_BYTES  65536U
#define DEFAULT_QUEUE_CAP  64U
#define HOST_MAX           256

/* Destinations refused unless allow_private: RFC 6890 special-purpose and local ranges. */
static const char *const private_ranges[] = {
    "0.0.0.0/8",     "10.0.0.0/8",   "100.64.0.0/10",  "127.0.0.0/8",   "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
    "240.0.0.0/4",   "::/128",       "::1/128",        "fc00::/7",      "fe80::/10",
    "ff00::/8",      "64:ff9b::/96", "2002::/16",
};

/* Per-request state shared with curl's callbacks. */
struct fetch_ctx {
    const struct stir_fetch_cfg *cfg;
    struct stir_fetch_result *out;
    size_t body_cap;
    bool is_oversize;
    bool is_addr_refused;
    char pinned_ip[INET6_ADDRSTRLEN];
};

static void set_error(struct stir_fetch_result *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct stir_fetch_result *out, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Truncation is fine. The analyzer misreads va_start through _FORTIFY_SOURCE. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(out->error, sizeof(out->error), fmt, ap);
    va_end(ap);
    out->status = status;
}

bool stir_fetch_addr_is_private(const char *ip)
{
    struct sw_ip addr;
    if (!sw_ip_parse(sv_from_cstr(ip), &addr)) {
        return true;
    }
    for (size_t i = 0; i < sizeof(private_ranges) / sizeof(private_ranges[0]); i++) {
        struct sw_cidr range;
        SW_ASSERT(sw_cidr_parse(sv_from_cstr(private_ranges[i]), &range));
        if (sw_cidr_contains(&range, &addr)) {
            return true;
        }
    }
    return false;
}

static bool port_is_allowed(const struct stir_fetch_cfg *cfg, long port)
{
    if (cfg->port_count == 0) {
        return port == 443 || port == 8443;
    }
    for (size_t i = 0; i < cfg->port_count && i < STIR_FETCH_PORTS_MAX; i++) {
        if (port == (long)cfg->ports[i]) {
            return true;
        }
    }
    return false;
}

static size_t on_body(char *data, size_t size, size_t count, void *userdata)
{
    struct fetch_ctx *ctx = userdata;
    size_t len = size * count;
    struct stir_fetch_result *out = ctx->out;
    if (out->body_len + len > ctx->body_cap) {
        ctx->is_oversize = true;
        return 0; /* makes curl abort with CURLE_WRITE_ERROR */
    }
    memcpy(out->body + out->body_len, data, len);
    out->body_len += len;
    out->body[out->body_len] = '\0';
    return len;
}

/* Cache-Control: max-age=N (RFC 9111 §5.2.2.1); no-store / no-cache mean "do not keep". */
static void parse_cache_control(struct sv value, struct stir_fetch_result *out)
{
    struct sv item;
    struct sv cur = value;
    bool is_more = true;
    for (size_t n = 0; is_more && n < 32; n++) {
        is_more = sv_take_until(&cur, ',', &item);
        item = sv_trim(item);
        uint64_t seconds = 0;
        if (sv_eq_nocase(item, SV("no-store")) || sv_eq_nocase(item, SV("no-cache"))) {
            out->max_age_s = 0;
            return;
        }
        if (sv_starts_with_nocase(item, SV("max-age=")) &&
            sv_to_u64(sv_slice(item, 8, item.len), &seconds)) {
            out->max_age_s = seconds > INT32_MAX ? INT32_MAX : (int64_t)seconds;
        }
    }
}

static size_t on_header(char *data, size_t size, size_t count, void *userdata)
{
    struct fetch_ctx *ctx = userdata;
    struct sv line = sv_make(data, size * count);
    if (sv_starts_with_nocase(line, SV("Cache-Control:"))) {
        parse_cache_control(sv_trim(sv_slice(line, 14, line.len)), ctx->out);
    }
    return size * count;
}

/* The socket curl connects: must be the address that was checked and pinned. */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
                                    struct curl_sockaddr *address)
{
    struct fetch_ctx *ctx = clientp;
    char ip[INET6_ADDRSTRLEN] = "";
    if (purpose != CURLSOCKTYPE_IPCXN) {
        return CURL_SOCKET_BAD;
    }
    if (address->family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)&address->addr;
        (void)inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)); /* cannot fail for AF_INET */
    } else if (address->family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)&address->addr;
        (void)inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip)); /* likewise */
    }
    if (ip[0] == '\0' || strcmp(ip, ctx->pinned_ip) != 0 ||
        (!ctx->cfg->allow_private && stir_fetch_addr_is_private(ip))) {
        ctx->is_addr_refused = true;
        return CURL_SOCKET_BAD;
    }
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return fd == -1 ? CURL_SOCKET_BAD : (curl_socket_t)fd;
}

/*
 * Resolves `host` and picks the address to pin. Every address must pass the check: a
 * name with one public and one private address is refused as a whole.
 */
static int resolve_and_check(struct fetch_ctx *ctx, const char *host, long port)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port_text[24];
    (void)snprintf(port_text, sizeof(port_text), "%ld", port); /* a long always fits */
    struct addrinfo *list = NULL;
    /* Bounded: a hanging resolver must not hold the fetcher past its own time limit. */
    uint32_t limit_ms = ctx->cfg->total_timeout_ms != 0 ? ctx->cfg->total_timeout_ms : 5000u;
    int gai = stir_resolve(ctx->cfg->resolve, host, port_text, &hints, limit_ms, &list);
    if (gai != 0) {
        set_error(ctx->out, -SW_ENOTFOUND, "cannot resolve %s: %s", host, gai_strerror(gai));
        return ctx->out->status;
    }
    int rc = -SW_ENOTFOUND;
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        char ip[INET6_ADDRSTRLEN] = "";
        const void *bytes =
            ai->ai_family == AF_INET
                ? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr
                : (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)
                      ->sin6_addr;
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            inet_ntop(ai->ai_family, bytes, ip, sizeof(ip)) == NULL) {
            continue;
        }
        if (!ctx->cfg->allow_private && stir_fetch_addr_is_private(ip)) {
            set_error(ctx->out, -EACCES, "%s resolves to a private or loopback address (%s)", host,
                      ip);
            rc = ctx->out->status;
            break;
        }
        if (ctx->pinned_ip[0] == '\0') {
            (void)snprintf(ctx->pinned_ip, sizeof(ctx->pinned_ip), "%s", ip); /* fits */
            rc = 0;
        }
    }
    freeaddrinfo(list);
    if (rc == -SW_ENOTFOUND) {
        set_error(ctx->out, rc, "no usable address for %s", host);
    }
    return rc;
}

/* Splits and checks the URL; fills host (without brackets) and port. */
static int check_url(struct fetch_ctx *ctx, const char *url, char *host, size_t host_cap,
                     long *port)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    char *user = NULL;
    char *h = NULL;
    char *p = NULL;
    int rc = -SW_EBADARG;
    if (u == NULL) {
        set_error(ctx->out, -ENOMEM, "out of memory");
        return -ENOMEM;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        set_error(ctx->out, rc, "malformed URL");
    } else if (strcmp(scheme, "https") != 0) {
        set_error(ctx->out, rc, "scheme %s refused: https only", scheme);
    } else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        set_error(ctx->out, rc, "credentials in the URL refused");
    } else {
        uint32_t port_value = 0;
        *port = sv_to_u32(sv_from_cstr(p), &port_value) ? (long)port_value : -1;
        size_t len = strlen(h);
        bool is_v6 = len >= 2 && h[0] == '[' && h[len - 1] == ']';
        struct sv bare = is_v6 ? sv_make(h + 1, len - 2) : sv_make(h, len);
        if (!port_is_allowed(ctx->cfg, *port)) {
            set_error(ctx->out, rc, "port %ld is not in the allowed list", *port);
        } else if (!sv_copy_cstr(bare, host, host_cap)) {
            set_error(ctx->out, rc, "host name too long");
        } else {
            rc = 0;
        }
    }
    curl_free(scheme);
    curl_free(user);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

static int set_options(CURL *curl, struct fetch_ctx *ctx, const char *url,
                       struct curl_slist *resolve)
{
    const struct stir_fetch_cfg *cfg = ctx->cfg;
    CURLcode rc = CURLE_OK;
    /* Each setopt can only fail for an unknown option or out of memory; collect once. */
    rc |= curl_easy_setopt(curl, CURLOPT_URL, url);
    rc |= curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    rc |= curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    rc |= curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(curl, CURLOPT_PROXY, "");
    rc |= curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    rc |= curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    rc |= curl_easy_setopt(
        curl, CURLOPT_CONNECTTIMEOUT_MS,
        (long)(cfg->connect_timeout_ms ? cfg->connect_timeout_ms : DEFAULT_CONNECT_MS));
    rc |=
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                         (long)(cfg->total_timeout_ms ? cfg->total_timeout_ms : DEFAULT_TOTAL_MS));
    rc |= curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ctx->body_cap);
    rc |= curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(curl, CURLOPT_WRITEDATA, ctx);
    rc |= curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(curl, CURLOPT_HEADERDATA, ctx);
    rc |= curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    rc |= curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, ctx);
    rc |= curl_easy_setopt(curl, CURLOPT_USERAGENT, "sipwarden-stir");
    if (resolve != NULL) {
        rc |= curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
    }
    if (cfg->tls_ca_file != NULL) {
        rc |= curl_easy_setopt(curl, CURLOPT_CAINFO, cfg->tls_ca_file);
    }
    return rc == CURLE_OK ? 0 : -ENOMEM;
}

/* Turns the transfer outcome into out->status / out->error. */
static void judge_transfer(struct fetch_ctx *ctx, CURL *curl, CURLcode code)
{
    struct stir_fetch_result *out = ctx->out;
    (void)curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->http_code); /* 0 if none */
    if (ctx->is_oversize || code == CURLE_FILESIZE_EXCEEDED) {
        set_error(out, -SW_ETOOBIG, "certificate larger than %zu bytes refused", ctx->body_cap);
    } else if (ctx->is_addr_refused) {
        set_error(out, -EACCES, "connection to a refused address blocked");
    } else if (code != CURLE_OK) {
        set_error(out, -SW_EIO, "transfer failed: %s", curl_easy_strerror(code));
    } else if (out->http_code >= 300 && out->http_code < 400) {
        set_error(out, -SW_EIO, "redirect (HTTP %ld) refused", out->http_code);
    } else if (out->http_code != 200) {
        set_error(out, -SW_EIO, "HTTP status %ld", out->http_code);
    } else {
        out->status = 0;
    }
}

static int perform(struct fetch_ctx *ctx, const char *url, const char *host, long port)
{
    struct curl_slist *resolve = NULL;
    struct sw_ip literal;
    if (!sw_ip_parse(sv_from_cstr(host), &literal)) {
        /* CURLOPT_RESOLVE pins the checked address: "host:port:address". */
        char entry[HOST_MAX + INET6_ADDRSTRLEN + 16];
        bool is_v6 = strchr(ctx->pinned_ip, ':') != NULL;
        (void)snprintf(entry, sizeof(entry), is_v6 ? "%s:%ld:[%s]" : "%s:%ld:%s", host, port,
                       ctx->pinned_ip); /* fits by construction */
        resolve = curl_slist_append(NULL, entry);
        if (resolve == NULL) {
            set_error(ctx->out, -ENOMEM, "out of memory");
            return -ENOMEM;
        }
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL || set_options(curl, ctx, url, resolve) != 0) {
        set_error(ctx->out, -ENOMEM, "cannot set up the transfer");
    } else {
        judge_transfer(ctx, curl, curl_easy_perform(curl));
    }
    curl_easy_cleanup(curl);
    curl_slist_free_all(resolve);
    return ctx->out->status;
}

int stir_fetch_url(const struct stir_fetch_cfg *cfg, const char *url, struct stir_fetch_result *out)
{
    memset(out, 0, sizeof(*out));
    out->max_age_s = -1;
    struct fetch_ctx ctx = { .cfg = cfg, .out = out };
    ctx.body_cap = cfg->max_bytes != 0 ? cfg->max_bytes : DEFAULT_MAX_BYTES;
    char host[HOST_MAX];
    long port = 0;
    if (check_url(&ctx, url, host, sizeof(host), &port) != 0 ||
        resolve_and_check(&ctx, host, port) != 0) {
        return out->status;
    }
    out->body = sw_malloc(ctx.body_cap + 1);
    if (out->body == NULL) {
        set_error(out, -ENOMEM, "out of memory");
        return out->status;
    }
    out->body[0] = '\0';
    if (perform(&ctx, url, host, port) != 0) {
        sw_free(out->body);
        out->body = NULL;
        out->body_len = 0;
    }
    return out->status;
}

void stir_fetch_result_fini(struct stir_fetch_result *result)
{
    sw_free(result->body);
    result->body = NULL;
    result->body_len = 0;
}

/* The fetcher: a bounded queue of jobs served by a few threads. */
struct fetch_job {
    char *url;
    stir_fetch_done_fn *done;
    void *arg;
};

struct stir_fetcher {
    struct stir_fetch_cfg cfg;
    char *tls_ca_file;
    struct workq *queue; /* of struct fetch_job, not drained on stop */
    _Atomic uint64_t requests;
};

static void fetch_run(void *ctx, void *items, size_t count)
{
    struct stir_fetcher *fetcher = ctx;
    struct fetch_job *jobs = items;
    for (size_t i = 0; i < count; i++) {
        atomic_fetch_add_explicit(&fetcher->requests, 1, memory_order_relaxed);
        struct stir_fetch_result result;
        (void)stir_fetch_url(&fetcher->cfg, jobs[i].url, &result); /* status is in result */
        jobs[i].done(jobs[i].arg, &result);
        stir_fetch_result_fini(&result);
        sw_free(jobs[i].url);
    }
}

static void fetcher_release(struct stir_fetcher *fetcher)
{
    workq_free(fetcher->queue);
    sw_free(fetcher->tls_ca_file);
    sw_free(fetcher);
}

struct stir_fetcher *stir_fetcher_new(const struct stir_fetch_cfg *cfg)
{
    struct stir_fetcher *fetcher = sw_calloc(1, sizeof(*fetcher));
    if (fetcher == NULL) {
        return NULL;
    }
    fetcher->cfg = *cfg;
    fetcher->tls_ca_file = cfg->tls_ca_file != NULL ? sw_strdup(cfg->tls_ca_file) : NULL;
    fetcher->cfg.tls_ca_file = fetcher->tls_ca_file;
    struct workq_config queue = {
        .item_size = sizeof(struct fetch_job),
        .capacity = cfg->queue_cap != 0 ? cfg->queue_cap : DEFAULT_QUEUE_CAP,
        .thread_count = cfg->thread_count != 0 ? cfg->thread_count : 1,
        .run = fetch_run,
        .ctx = fetcher,
    };
    if ((cfg->tls_ca_file != NULL && fetcher->tls_ca_file == NULL) ||
        workq_new(&queue, &fetcher->queue) != 0 || workq_start(fetcher->queue) != 0) {
        fetcher_release(fetcher);
        return NULL;
    }
    return fetcher;
}

int stir_fetcher_submit(struct stir_fetcher *fetcher, const char *url, stir_fetch_done_fn *done,
                        void *arg)
{
    struct fetch_job job = { .url = sw_strdup(url), .done = done, .arg = arg };
    if (job.url == NULL) {
        return -ENOMEM;
    }
    if (!workq_push(fetcher->queue, &job)) {
        sw_free(job.url);
        return -SW_EFULL;
    }
    return 0;
}

uint64_t stir_fetcher_request_count(struct stir_fetcher *fetcher)
{
    return atomic_load_explicit(&fetcher->requests, memory_order_relaxed);
}

void stir_fetcher_free(struct stir_fetcher *fetcher)
{
    if (fetcher == NULL) {
        return;
    }
    workq_stop(fetcher->queue);
    /* The threads are gone: cancel what is still queued, each job exactly once. */
    struct fetch_job job;
    while (workq_take(fetcher->queue, &job, 1) == 1) {
        struct stir_fetch_result result;
        memset(&result, 0, sizeof(result));
        result.max_age_s = -1;
        set_error(&result, -ECANCELED, "fetcher stopped");
        job.done(job.arg, &result);
        sw_free(job.url);
    }
    fetcher_release(fetcher);
}
