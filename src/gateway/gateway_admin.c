/*
 * The admin HTTP server ([admin] listen): GET /metrics in the Prometheus text format,
 * with a bearer token when [admin] token is set, the JSON API under /api/v1/
 * (docs/admin-api.md), which always requires the token, and the live dashboard's files
 * (docs/dashboard.md), which hold no data and are sent to anyone who may connect. libmicrohttpd
 * runs it on its own thread (DESIGN.md "Threads"); it reads the metrics registry and the gateway's
 * shared tables (gateway_api.c), never the workers' internals.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/event.h"
#include "base/log.h"
#include "base/time.h"
#include "config/config.h"
#include "gateway/gateway_api.h"
#include "gateway/gateway_dashboard.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "obs/apireq.h"
#include "obs/metrics.h"
#include "state/ban.h"

#define ADMIN_PAGE_MAX     ((size_t)1 << 20)
/*
 * #9 item 14: sixteen idle connections from one local user took every slot and the
 * scraper got nothing. Any fixed limit per address is reached as easily from 127.0.0.1
 * as the scraper's own (and a local user may use every 127/8 address), so instead a new
 * connection pushes out an idle one: past ADMIN_PER_CLIENT connections of its address,
 * or past ADMIN_EVICT_AT in all, the oldest connection (of that address, or of any)
 * that is not in the middle of a request and has sent nothing unread is shut down. A client that
 * connects and asks is served; idle connections also end after ADMIN_TIMEOUT_S.
 */
#define ADMIN_CONNECTIONS  GW_ADMIN_MAX_CONNECTIONS
#define ADMIN_EVICT_AT     (ADMIN_CONNECTIONS / 2)
#define ADMIN_PER_CLIENT   4
#define ADMIN_TIMEOUT_S    2
#define ADMIN_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One connection of the admin server; all of them are used by MHD's one thread only. */
struct admin_conn {
    bool is_used;
    bool is_busy;    /* a request is being answered */
    bool is_evicted; /* shut down; MHD closes it soon */
    int fd;
    uint64_t seq; /* order of arrival */
    struct sw_ip ip;
};

/* One API request being read (MHD's request context): its body so far. */
struct admin_request {
    size_t len;
    bool is_oversize;
    char body[API_BODY_MAX + 1];
};

struct gw_admin {
    struct MHD_Daemon *daemon;
    const struct metrics *metrics;
    struct gateway *gw; /* the API's state; NULL = no API (tests of /metrics) */
    uint64_t failures;  /* failed authentications, numbering their events */
    char *token;        /* NULL = no token */
    char *tls_cert;     /* PEM, for HTTPS; NULL = plain HTTP */
    char *tls_key;      /* PEM; wiped at stop */
    struct admin_conn conns[ADMIN_CONNECTIONS];
    uint64_t next_seq;
};

/* Constant time in the length of the expected value: no oracle on the token. */
static bool token_matches(const char *expected, const char *got)
{
    size_t n = strlen(expected);
    size_t got_len = got != NULL ? strlen(got) : 0;
    unsigned char diff = got_len == n ? 0 : 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char g = i < got_len ? (unsigned char)got[i] : 0;
        diff |= (unsigned char)((unsigned char)expected[i] ^ g);
    }
    return diff == 0;
}

/*
 * Every answer forbids content sniffing and framing; the dashboard's may load only its
 * own script and style sheet and talk only to this server (no inline script, no other
 * origin, no form posts), so that a value that slipped into the page as markup could
 * still run nothing.
 */
static const char admin_csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static void add_security_headers(struct MHD_Response *response)
{
    (void)MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(response, "X-Frame-Options", "DENY");
    (void)MHD_add_response_header(response, "Content-Security-Policy", admin_csp);
    (void)MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    (void)MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body,
                              size_t len, const char *type)
{
    /* MUST_COPY: libmicrohttpd copies the body and never writes through the pointer. */
    char *mutable_body = NULL;
    memcpy(&mutable_body, &body, sizeof(body));
    struct MHD_Response *response =
        MHD_create_response_from_buffer(len, mutable_body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL) {
        return MHD_NO;
    }
    (void)MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    add_security_headers(response);
    if (status == MHD_HTTP_UNAUTHORIZED) {
        (void)MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                      "Bearer realm=\"sipwarden\"");
    }
    enum MHD_Result rc = MHD_queue_response(conn, status, response);
    MHD_destroy_response(response);
    return rc;
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status, const char *text)
{
    return answer(conn, status, text, strlen(text), "text/plain; charset=utf-8");
}

static bool is_authorized(const struct gw_admin *admin, struct MHD_Connection *conn)
{
    if (admin->token == NULL) {
        return true;
    }
    const char *header =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char prefix[] = "Bearer ";
    if (header == NULL || strncmp(header, prefix, sizeof(prefix) - 1) != 0) {
        return false;
    }
    return token_matches(admin->token, header + sizeof(prefix) - 1);
}

static enum MHD_Result render_metrics(const struct gw_admin *admin, struct MHD_Connection *conn)
{
    char *page = sw_malloc(ADMIN_PAGE_MAX);
    if (page == NULL) {
        return answer_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory\n");
    }
    struct sw_buf out;
    sw_buf_init(&out, page, ADMIN_PAGE_MAX);
    enum MHD_Result rc;
    if (metrics_render(admin->metrics, &out) != 0) {
        rc = answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics too large\n");
    } else {
        struct sv view = sw_buf_view(&out);
        rc = answer(conn, MHD_HTTP_OK, view.ptr, view.len, ADMIN_CONTENT_TYPE);
    }
    sw_free(page);
    return rc;
}

static struct admin_conn *conn_state(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

/*
 * True when the client has sent bytes MHD has not read yet: a request on its way (under
 * load the scraper's request can wait there while other clients connect), not idleness.
 */
static bool has_unread_bytes(int fd)
{
    int pending = 0;
    return ioctl(fd, FIONREAD, &pending) == 0 && pending > 0;
}

/* Shuts down the oldest idle connection (of `ip` when not NULL), other than `keep`. */
static void evict_oldest_idle(struct gw_admin *admin, const struct sw_ip *ip,
                              const struct admin_conn *keep)
{
    struct admin_conn *oldest = NULL;
    for (size_t i = 0; i < ADMIN_CONNECTIONS; i++) {
        struct admin_conn *c = &admin->conns[i];
        bool is_candidate = c->is_used && !c->is_busy && !c->is_evicted && c != keep &&
                            (ip == NULL || sw_ip_eq(&c->ip, ip)) && !has_unread_bytes(c->fd);
        if (is_candidate && (oldest == NULL || c->seq < oldest->seq)) {
            oldest = c;
        }
    }
    if (oldest != NULL) {
        /* MHD sees the end of the stream and closes it in its own thread (this one). */
        (void)shutdown(oldest->fd, SHUT_RDWR);
        oldest->is_evicted = true;
    }
}

static void admit(struct gw_admin *admin, struct admin_conn *fresh)
{
    size_t total = 0;
    size_t same_ip = 0;
    for (size_t i = 0; i < ADMIN_CONNECTIONS; i++) {
        const struct admin_conn *c = &admin->conns[i];
        if (c->is_used && !c->is_evicted) {
            total++;
            same_ip += sw_ip_eq(&c->ip, &fresh->ip) ? 1 : 0;
        }
    }
    if (same_ip > ADMIN_PER_CLIENT) {
        evict_oldest_idle(admin, &fresh->ip, fresh);
    } else if (total > ADMIN_EVICT_AT) {
        evict_oldest_idle(admin, NULL, fresh);
    }
}

/* MHD_NotifyConnectionCallback: connections start and end in MHD's thread. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct gw_admin *admin = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct admin_conn *c = *socket_context;
        if (c != NULL) {
            *c = (struct admin_conn){ .is_used = false };
        }
        return;
    }
    const union MHD_ConnectionInfo *fd_info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *addr_info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct admin_conn *slot = NULL;
    for (size_t i = 0; i < ADMIN_CONNECTIONS && slot == NULL; i++) {
        slot = admin->conns[i].is_used ? NULL : &admin->conns[i];
    }
    if (slot == NULL || fd_info == NULL || addr_info == NULL) {
        return; /* not tracked: it still ends at the idle timeout */
    }
    struct sockaddr_storage ss = { 0 };
    size_t len = addr_info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                               : sizeof(struct sockaddr_in);
    memcpy(&ss, addr_info->client_addr, len);
    *slot = (struct admin_conn){ .is_used = true, .fd = fd_info->connect_fd };
    slot->seq = admin->next_seq++;
    (void)sw_ip_from_sockaddr(&ss, &slot->ip); /* other families compare as :: */
    *socket_context = slot;
    admit(admin, slot);
}

/* MHD_RequestCompletedCallback: the connection is idle again (keep-alive). */
/* NOLINTNEXTLINE(readability-non-const-parameter): libmicrohttpd's signature. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)code;
    sw_free(*req_cls); /* the API request's body, if any */
    *req_cls = NULL;
    struct admin_conn *c = conn_state(conn);
    if (c != NULL) {
        c->is_busy = false;
    }
}

/* ---- the JSON API ------------------------------------------------------------------ */

static enum MHD_Result answer_api(struct MHD_Connection *conn, struct gw_api_reply *reply)
{
    enum MHD_Result rc =
        reply->body != NULL
            ? answer(conn, reply->status, reply->body, strlen(reply->body), "application/json")
            : answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    gw_api_reply_free(reply);
    return rc;
}

static enum MHD_Result api_error(struct MHD_Connection *conn, unsigned status, const char *message)
{
    struct gw_api_reply reply;
    gw_api_error(&reply, status, message);
    return answer_api(conn, &reply);
}

static bool client_address(struct MHD_Connection *conn, struct sockaddr_storage *out)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    memset(out, 0, sizeof(*out));
    if (info == NULL || info->client_addr == NULL) {
        return false;
    }
    size_t len = info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                          : sizeof(struct sockaddr_in);
    memcpy(out, info->client_addr, len);
    return true;
}

/* A wrong or missing token: a security event that counts towards a ban like any other. */
static void emit_auth_failure(struct gw_admin *admin, const struct sockaddr_storage *client)
{
    struct sw_event ev;
    sw_event_init(&ev, EV_INVALID_PASSWORD);
    ev.remote = *client;
    ev.transport = SW_TRANSPORT_TCP;
    SW_EVENT_SET(&ev, module, SV("admin"));
    SW_EVENT_SET(&ev, account, SV("admin-api"));
    SW_EVENT_SET(&ev, detail, SV("admin API: missing or wrong bearer token"));
    /* Each request is its own attempt: the failure tracker counts every one. */
    (void)snprintf(ev.session, sizeof(ev.session), "admin-api-%llu",
                   (unsigned long long)++admin->failures);
    sw_event_emit(&admin->gw->events, &ev);
}

struct query_ctx {
    struct api_request *req;
    char error[API_ERROR_CAP];
    bool is_bad;
};

static enum MHD_Result on_argument(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct query_ctx *q = cls;
    if (api_request_query(q->req, key, value, q->error) != 0) {
        q->is_bad = true;
        return MHD_NO;
    }
    return MHD_YES;
}

/* Reads the query or body into `req`; 0 or the HTTP status of the refusal (in `error`). */
static unsigned read_request(struct MHD_Connection *conn, const struct admin_request *ar,
                             struct api_request *req, char *error)
{
    if (!api_route_is_action(req->route)) {
        struct query_ctx q = { .req = req };
        (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_argument, &q);
        if (q.is_bad) {
            memcpy(error, q.error, API_ERROR_CAP);
            return MHD_HTTP_BAD_REQUEST;
        }
    } else if (ar->is_oversize) {
        (void)snprintf(error, API_ERROR_CAP, "the body is over %u bytes", API_BODY_MAX);
        return MHD_HTTP_CONTENT_TOO_LARGE;
    } else {
        int rc = api_request_body(req, ar->body, ar->len, error);
        if (rc != 0) {
            return rc == -E2BIG ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST;
        }
    }
    return api_request_check(req, error) == 0 ? 0 : MHD_HTTP_BAD_REQUEST;
}

static enum MHD_Result serve_api(struct gw_admin *admin, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const struct admin_request *ar)
{
    struct sockaddr_storage client;
    struct sw_ip ip;
    if (!client_address(conn, &client) || !sw_ip_from_sockaddr(&client, &ip) ||
        ban_store_is_banned(gw_obs_bans(admin->gw), &ip, sw_wall_s())) {
        return api_error(conn, MHD_HTTP_FORBIDDEN, "banned");
    }
    if (admin->token == NULL) {
        return api_error(conn, MHD_HTTP_FORBIDDEN,
                         "the API needs a bearer token: [admin] token or token_file");
    }
    if (!is_authorized(admin, conn)) {
        emit_auth_failure(admin, &client);
        return api_error(conn, MHD_HTTP_UNAUTHORIZED, "token required");
    }
    struct api_request req;
    int rc = api_request_route(method, url, &req);
    if (rc != 0) {
        return api_error(conn, rc == -EPERM ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND,
                         rc == -EPERM ? "method not allowed" : "not found");
    }
    char error[API_ERROR_CAP] = "";
    unsigned status = read_request(conn, ar, &req, error);
    if (status != 0) {
        return api_error(conn, status, error);
    }
    struct gw_api_reply reply;
    gw_api_handle(admin->gw, &req, &client, &reply);
    return answer_api(conn, &reply);
}

/* ---- the dashboard's files ---------------------------------------------------------- */

struct admin_asset {
    const char *path;
    const char *type;
    const unsigned char *(*bytes)(size_t *len);
};

static const struct admin_asset admin_assets[] = {
    { "/dashboard", "text/html; charset=utf-8", gw_dashboard_html },
    { "/dashboard.js", "text/javascript; charset=utf-8", gw_dashboard_js },
    { "/dashboard.css", "text/css; charset=utf-8", gw_dashboard_css },
};

/* The dashboard's file at `url`, NULL for another path. */
static const struct admin_asset *asset_at(const char *url)
{
    for (size_t i = 0; i < sizeof(admin_assets) / sizeof(admin_assets[0]); i++) {
        if (strcmp(url, admin_assets[i].path) == 0) {
            return &admin_assets[i];
        }
    }
    return NULL;
}

static enum MHD_Result serve_asset(struct MHD_Connection *conn, const struct admin_asset *asset)
{
    size_t len = 0;
    const unsigned char *bytes = asset->bytes(&len);
    return answer(conn, MHD_HTTP_OK, (const char *)bytes, len, asset->type);
}

/* Keeps what fits of the body; past API_BODY_MAX the rest is read and thrown away. */
static void take_upload(struct admin_request *ar, const char *data, size_t len)
{
    if (len > API_BODY_MAX - ar->len) {
        ar->is_oversize = true;
        return;
    }
    memcpy(ar->body + ar->len, data, len);
    ar->len += len;
}

/* The signature is libmicrohttpd's MHD_AccessHandlerCallback. */
/* NOLINTBEGIN(readability-function-size,readability-non-const-parameter) */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
/* NOLINTEND(readability-function-size,readability-non-const-parameter) */
{
    (void)version;
    struct gw_admin *admin = cls;
    struct admin_conn *state = conn_state(conn);
    if (state != NULL) {
        state->is_busy = true;
    }
    bool is_api = strncmp(url, "/api/", 5) == 0 && admin->gw != NULL;
    if (is_api && *req_cls == NULL) {
        /* The first call has the headers only: the body (if any) comes in the next ones. */
        *req_cls = sw_calloc(1, sizeof(struct admin_request));
        return *req_cls != NULL ? MHD_YES : MHD_NO;
    }
    if (is_api && *upload_data_size != 0) {
        take_upload(*req_cls, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (is_api) {
        return serve_api(admin, conn, url, method, *req_cls);
    }
    if (strcmp(method, "GET") != 0) {
        return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
    }
    const struct admin_asset *asset = asset_at(url);
    if (asset != NULL) {
        return serve_asset(conn, asset); /* no data in it: the token goes to the API */
    }
    if (!is_authorized(admin, conn)) {
        return answer_text(conn, MHD_HTTP_UNAUTHORIZED, "token required\n");
    }
    if (strcmp(url, "/metrics") != 0) {
        return answer_text(conn, MHD_HTTP_NOT_FOUND,
                           "not found (try /metrics, /api/v1/ or /dashboard)\n");
    }
    return render_metrics(admin, conn);
}

/*
 * The listening socket, made here for TCP_DEFER_ACCEPT: the kernel hands a connection
 * over only once the client has sent its request (or after ADMIN_TIMEOUT_S of silence),
 * so connections that say nothing wait in the kernel instead of in libmicrohttpd's slots,
 * and a scraper's connection arrives with its request. Returns the fd or -errno.
 */
static int open_listener(const struct sockaddr_storage *addr)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -errno;
    }
    int one = 1;
    int defer_s = ADMIN_TIMEOUT_S;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        (addr->ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
        bind(fd, (const struct sockaddr *)addr, sw_sockaddr_len(addr)) == -1 ||
        listen(fd, ADMIN_CONNECTIONS) == -1 ||
        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s)) == -1) {
        int err = -errno;
        (void)close(fd);
        return err;
    }
    return fd;
}

#define ADMIN_PEM_MAX ((size_t)256 * 1024)

/* A whole PEM file, NUL-terminated, or NULL (errno-style code in *rc). */
static char *read_pem(const char *path, int *rc)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        *rc = -errno;
        return NULL;
    }
    char *text = sw_malloc(ADMIN_PEM_MAX + 1);
    size_t len = text != NULL ? fread(text, 1, ADMIN_PEM_MAX + 1, f) : 0;
    bool is_read = text != NULL && ferror(f) == 0 && len > 0 && len <= ADMIN_PEM_MAX;
    (void)fclose(f);
    if (!is_read) {
        *rc = text == NULL ? -ENOMEM : -EINVAL;
        sw_free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

static void wipe_free(char *secret)
{
    if (secret != NULL) {
        explicit_bzero(secret, strlen(secret));
    }
    sw_free(secret);
}

/* HTTPS when [admin] certificate is set: both files read now (MHD keeps the pointers). */
static int load_tls(struct gw_admin *admin, const struct cfg_admin *cfg)
{
    if (cfg->certificate == NULL || cfg->private_key == NULL) {
        return 0;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        return -ENOTSUP;
    }
    int rc = 0;
    admin->tls_cert = read_pem(cfg->certificate, &rc);
    if (admin->tls_cert != NULL) {
        admin->tls_key = read_pem(cfg->private_key, &rc);
    }
    return admin->tls_key != NULL ? 0 : rc;
}

static struct MHD_Daemon *start_daemon(struct gw_admin *admin, int fd, bool is_ipv6)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (is_ipv6) {
        flags |= MHD_USE_IPv6;
    }
    if (admin->tls_key == NULL) {
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, admin, MHD_OPTION_LISTEN_SOCKET,
                                fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_CONNECTIONS,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_TIMEOUT_S,
                                MHD_OPTION_NOTIFY_CONNECTION, on_connection, admin,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, admin, MHD_OPTION_END);
    }
    /* GnuTLS's "SECURE" priorities: TLS 1.2 and 1.3 only, no RC4/3DES/CBC-SHA1 export. */
    return MHD_start_daemon(
        flags | MHD_USE_TLS, 0, NULL, NULL, on_request, admin, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)ADMIN_TIMEOUT_S, MHD_OPTION_NOTIFY_CONNECTION, on_connection, admin,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, admin, MHD_OPTION_HTTPS_MEM_CERT,
        admin->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, admin->tls_key, MHD_OPTION_HTTPS_PRIORITIES,
        "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_END);
}

int gw_admin_start(const struct cfg_admin *cfg, const struct metrics *metrics, struct gateway *gw,
                   struct gw_admin **out)
{
    const struct sockaddr_storage *addr = &cfg->listen.addr;
    int fd = open_listener(addr);
    if (fd < 0) {
        return fd;
    }
    struct gw_admin *admin = sw_calloc(1, sizeof(*admin));
    if (admin == NULL) {
        (void)close(fd);
        return -ENOMEM;
    }
    admin->metrics = metrics;
    admin->gw = gw;
    admin->token = cfg->token != NULL ? sw_strdup(cfg->token) : NULL;
    int rc = load_tls(admin, cfg);
    if (rc != 0) {
        (void)close(fd);
        gw_admin_stop(admin);
        return rc;
    }
    /* From here the daemon owns the socket and closes it when it stops. */
    admin->daemon = start_daemon(admin, fd, addr->ss_family == AF_INET6);
    if (admin->daemon == NULL) {
        (void)close(fd); /* a daemon that failed to start leaves the socket to its owner */
        gw_admin_stop(admin);
        return -EADDRNOTAVAIL;
    }
    *out = admin;
    return 0;
}

void gw_admin_stop(struct gw_admin *admin)
{
    if (admin == NULL) {
        return;
    }
    if (admin->daemon != NULL) {
        MHD_stop_daemon(admin->daemon);
    }
    wipe_free(admin->token);
    wipe_free(admin->tls_key);
    sw_free(admin->tls_cert);
    sw_free(admin);
}
