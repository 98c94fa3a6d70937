#include "obs/seclog.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/fdio.h"
#include "base/log.h"

#define SECLOG_WRITE_ATTEMPTS 8

struct seclog {
    enum seclog_format format;
    enum seclog_dest dest;
    char *path;
    char *ident;
    char *service;
    int fd;
    long pid;
    atomic_bool is_reopen_wanted;
    _Atomic uint64_t lines;
    _Atomic uint64_t write_errors;
    _Atomic uint64_t reopens;
    size_t held_len;   /* bytes of whole lines in held, not written yet */
    size_t held_lines; /* how many lines */
    char held[SECLOG_HELD_MAX];
};

static const char hex_digits[] = "0123456789ABCDEF";

static bool is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%';
}

void seclog_neutralize(struct sv value, struct sw_buf *out)
{
    size_t i = 0;
    while (i < value.len) {
        /* A run of plain bytes goes in whole: a byte at a time was half of a line's cost. */
        size_t start = i;
        while (i < value.len && is_plain((unsigned char)value.ptr[i])) {
            i++;
        }
        sw_buf_put(out, value.ptr + start, i - start);
        if (i == value.len || value.ptr[i] == '\0') {
            return;
        }
        unsigned char c = (unsigned char)value.ptr[i++];
        char enc[3] = { '%', hex_digits[c >> 4], hex_digits[c & 15u] };
        sw_buf_put(out, enc, sizeof(enc));
    }
}

static void put_field(struct sw_buf *out, const char *name, struct sv value)
{
    sw_buf_char(out, ',');
    sw_buf_str(out, name);
    sw_buf_str(out, "=\"");
    seclog_neutralize(value, out);
    sw_buf_char(out, '"');
}

static struct sv field_sv(const char *field, size_t cap)
{
    return sv_make(field, strnlen(field, cap));
}

#define FIELD(event, name) field_sv((event)->name, sizeof((event)->name))

static const char *transport_name(enum sw_transport transport)
{
    static const char *const names[] = {
        [SW_TRANSPORT_UDP] = "UDP", [SW_TRANSPORT_TCP] = "TCP", [SW_TRANSPORT_TLS] = "TLS",
        [SW_TRANSPORT_WS] = "WS",   [SW_TRANSPORT_WSS] = "WSS",
    };
    return (unsigned)transport <= SW_TRANSPORT_WSS ? names[transport] : "UDP";
}

/* "IPV4/UDP/192.0.2.1/5060" (Asterisk's ast_sockaddr form in security events). */
static void format_address(const struct sockaddr_storage *ss, enum sw_transport transport,
                           struct sw_buf *out)
{
    char ip[SW_ADDR_STRLEN] = "0.0.0.0";
    struct sw_ip addr;
    bool is_v6 = false;
    if (sw_ip_from_sockaddr(ss, &addr)) {
        sw_ip_format(&addr, ip, sizeof(ip));
        is_v6 = !sw_ip_is_v4(&addr);
    }
    /* Pieces, not sw_buf_fmt: two addresses per line, and every line of a registration. */
    sw_buf_str(out, is_v6 ? "IPV6/" : "IPV4/");
    sw_buf_str(out, transport_name(transport));
    sw_buf_char(out, '/');
    sw_buf_str(out, ip);
    sw_buf_char(out, '/');
    sw_buf_u64(out, sw_sockaddr_port(ss));
}

static void put_address(struct sw_buf *out, const char *name, const struct sockaddr_storage *ss,
                        enum sw_transport transport)
{
    sw_buf_char(out, ',');
    sw_buf_str(out, name);
    sw_buf_str(out, "=\"");
    format_address(ss, transport, out);
    sw_buf_char(out, '"');
}

/*
 * The local time of one second in the two forms a line needs, kept per thread: events
 * come in bursts within a second, and localtime_r (which takes the time zone's lock) and
 * strftime cost more than the rest of the line.
 */
struct second_text {
    int64_t second;  /* -1: none yet */
    char prefix[32]; /* "[2026-11-26 15:30:01] " */
    size_t prefix_len;
    char tv[32]; /* "2026-11-26T15:30:01" */
    size_t tv_len;
    char zone[8]; /* "+0000" */
    size_t zone_len;
};

static const struct second_text *second_text_of(uint64_t wall_us)
{
    static _Thread_local struct second_text cache = { .second = -1 };
    int64_t second = (int64_t)(wall_us / 1000000u);
    if (cache.second == second) {
        return &cache;
    }
    time_t seconds = (time_t)second;
    struct tm tm;
    if (localtime_r(&seconds, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm));
    }
    cache.prefix_len = strftime(cache.prefix, sizeof(cache.prefix), "[%Y-%m-%d %H:%M:%S] ", &tm);
    cache.tv_len = strftime(cache.tv, sizeof(cache.tv), "%Y-%m-%dT%H:%M:%S", &tm);
    cache.zone_len = strftime(cache.zone, sizeof(cache.zone), "%z", &tm);
    cache.second = second;
    return &cache;
}

/* "2026-11-26T15:30:01.123+0000": Asterisk's EventTV. */
static void format_event_tv(uint64_t wall_us, struct sw_buf *out)
{
    const struct second_text *text = second_text_of(wall_us);
    unsigned ms = (unsigned)(wall_us / 1000u % 1000u);
    char frac[4] = { '.', (char)('0' + ms / 100), (char)('0' + ms / 10 % 10),
                     (char)('0' + ms % 10) };
    sw_buf_put(out, text->tv, text->tv_len);
    sw_buf_put(out, frac, sizeof(frac));
    sw_buf_put(out, text->zone, text->zone_len);
}

static const char *severity_of(enum sw_event_kind kind)
{
    /* A refused toll-fraud call is no authentication failure (it never bans the PBX), but
     * it is what an operator must see first. */
    return sw_event_kind_is_failure(kind) || kind == EV_FRAUD_BLOCK ? "Error" : "Informational";
}

static unsigned version_of(enum sw_event_kind kind)
{
    /* Asterisk's InvalidPassword is version 2; everything else 1. */
    return kind == EV_INVALID_PASSWORD ? 2u : 1u;
}

static void put_module(struct sw_buf *out, const struct sw_event *event)
{
    if (event->module[0] != '\0') {
        put_field(out, "Module", FIELD(event, module));
    }
}

/* The fields after RemoteAddress, in Asterisk's order for its own events. */
static void put_kind_fields(struct sw_buf *out, const struct sw_event *event)
{
    switch (event->kind) {
    case EV_FAILED_ACL:
        put_module(out, event);
        if (event->detail[0] != '\0') {
            put_field(out, "ACLName", FIELD(event, detail));
        }
        return;
    case EV_INVALID_ACCOUNT_ID:
        put_module(out, event);
        return;
    case EV_CHALLENGE_RESPONSE_FAILED:
        put_field(out, "Challenge", FIELD(event, challenge));
        put_field(out, "Response", FIELD(event, response));
        /* Never the expected response: it would help an offline attack. */
        put_field(out, "ExpectedResponse", SV(""));
        put_module(out, event);
        return;
    case EV_INVALID_PASSWORD:
        put_module(out, event);
        put_field(out, "Challenge", FIELD(event, challenge));
        put_field(out, "ReceivedChallenge", FIELD(event, challenge));
        put_field(out, "ReceivedHash", FIELD(event, response));
        return;
    case EV_CHALLENGE_SENT:
        put_field(out, "Challenge", FIELD(event, challenge));
        put_module(out, event);
        return;
    case EV_SUCCESSFUL_AUTH:
        put_field(out, "UsingPassword", SV("1"));
        put_module(out, event);
        return;
    case EV_REQUEST_NOT_ALLOWED:
        put_field(out, "RequestType", FIELD(event, detail));
        put_module(out, event);
        return;
    default:
        break;
    }
    /* Our own kinds: the same shape, with what they carry. */
    put_module(out, event);
    if (event->user_agent[0] != '\0') {
        put_field(out, "UserAgent", FIELD(event, user_agent));
    }
    if (event->detail[0] != '\0') {
        put_field(out, "Detail", FIELD(event, detail));
    }
    sw_buf_str(out, ",Count=\"");
    sw_buf_u64(out, event->count);
    sw_buf_char(out, '"');
}

static void format_asterisk(const struct sw_event *event, const char *service, long pid,
                            bool with_date, struct sw_buf *out)
{
    if (with_date) {
        const struct second_text *text = second_text_of(event->wall_us);
        sw_buf_put(out, text->prefix, text->prefix_len);
    }
    sw_buf_str(out, "SECURITY[");
    sw_buf_u64(out, (uint64_t)pid);
    sw_buf_str(out, "] res_security_log.c: SecurityEvent=\"");
    sw_buf_str(out, sw_event_kind_name(event->kind));
    sw_buf_str(out, "\",EventTV=\"");
    format_event_tv(event->wall_us, out);
    sw_buf_char(out, '"');
    put_field(out, "Severity", sv_from_cstr(severity_of(event->kind)));
    put_field(out, "Service", sv_from_cstr(service));
    sw_buf_str(out, ",EventVersion=\"");
    sw_buf_u64(out, version_of(event->kind));
    sw_buf_char(out, '"');
    put_field(out, "AccountID", FIELD(event, account));
    put_field(out, "SessionID", FIELD(event, session));
    put_address(out, "LocalAddress", &event->local, event->transport);
    put_address(out, "RemoteAddress", &event->remote, event->transport);
    put_kind_fields(out, event);
    sw_buf_char(out, '\n');
}

/* A neutralized copy of a field as a JSON string (always valid ASCII). */
static int json_put(json_t *obj, const char *key, struct sv value)
{
    char storage[SECLOG_LINE_MAX];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage));
    seclog_neutralize(value, &buf);
    return json_object_set_new(obj, key, json_stringn(storage, buf.len));
}

static int json_put_address(json_t *obj, const char *key, const struct sockaddr_storage *ss,
                            enum sw_transport transport)
{
    char storage[128];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage));
    format_address(ss, transport, &buf);
    return json_object_set_new(obj, key, json_stringn(storage, buf.len));
}

static json_t *json_event(const struct sw_event *event, const char *service)
{
    json_t *obj = json_object();
    if (obj == NULL) {
        return NULL;
    }
    char tv[64];
    struct sw_buf tv_buf;
    sw_buf_init(&tv_buf, tv, sizeof(tv));
    format_event_tv(event->wall_us, &tv_buf);
    int err = json_object_set_new(obj, "time", json_stringn(tv, tv_buf.len));
    err |= json_object_set_new(obj, "event", json_string(sw_event_kind_name(event->kind)));
    err |= json_object_set_new(obj, "severity", json_string(severity_of(event->kind)));
    err |= json_put(obj, "service", sv_from_cstr(service));
    err |= json_object_set_new(obj, "version", json_integer(version_of(event->kind)));
    err |= json_put(obj, "account", FIELD(event, account));
    err |= json_put(obj, "session", FIELD(event, session));
    err |= json_put_address(obj, "local", &event->local, event->transport);
    err |= json_put_address(obj, "remote", &event->remote, event->transport);
    err |= json_put(obj, "user_agent", FIELD(event, user_agent));
    err |= json_put(obj, "detail", FIELD(event, detail));
    err |= json_put(obj, "challenge", FIELD(event, challenge));
    err |= json_put(obj, "response", FIELD(event, response));
    err |= json_put(obj, "module", FIELD(event, module));
    err |= json_object_set_new(obj, "count", json_integer(event->count));
    if (err != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static void format_json(const struct sw_event *event, const char *service, struct sw_buf *out)
{
    json_t *obj = json_event(event, service);
    if (obj == NULL) {
        out->is_overflow = true;
        return;
    }
    size_t room = out->cap - out->len;
    size_t need = json_dumpb(obj, out->ptr + out->len, room, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(obj);
    if (need == 0 || need >= room) {
        out->is_overflow = true;
        return;
    }
    out->len += need;
    sw_buf_char(out, '\n');
}

void seclog_format(const struct sw_event *event, enum seclog_format format, const char *service,
                   long pid, bool with_date, struct sw_buf *out)
{
    const char *svc = service != NULL ? service : "SIP";
    if (format == SECLOG_FORMAT_JSON) {
        format_json(event, svc, out);
        return;
    }
    format_asterisk(event, svc, pid, with_date, out);
}

static int open_file(const char *path)
{
    if (path == NULL) {
        return -SW_EBADARG;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    return fd == -1 ? -errno : fd;
}

static char *dup_or(const char *value, const char *fallback)
{
    return sw_strdup(value != NULL ? value : fallback);
}

int seclog_open(const struct seclog_config *cfg, struct seclog **out)
{
    if ((cfg->dest == SECLOG_DEST_FILE && cfg->path == NULL) ||
        (cfg->format != SECLOG_FORMAT_ASTERISK && cfg->format != SECLOG_FORMAT_JSON)) {
        return -SW_EBADARG;
    }
    struct seclog *log = sw_calloc(1, sizeof(*log));
    if (log == NULL) {
        return -ENOMEM;
    }
    log->fd = -1;
    log->format = cfg->format;
    log->dest = cfg->dest;
    log->pid = (long)getpid();
    log->service = dup_or(cfg->service, "SIP");
    log->ident = dup_or(cfg->syslog_ident, "sipwarden");
    log->path = cfg->path != NULL ? sw_strdup(cfg->path) : NULL;
    if (log->service == NULL || log->ident == NULL || (cfg->path != NULL && log->path == NULL)) {
        seclog_close(log);
        return -ENOMEM;
    }
    if (cfg->dest == SECLOG_DEST_SYSLOG) {
        /* openlog keeps the ident pointer: log->ident lives until seclog_close. */
        openlog(log->ident, LOG_PID | LOG_NDELAY,
                cfg->syslog_facility != 0 ? cfg->syslog_facility : LOG_AUTH);
    } else {
        log->fd = open_file(log->path);
        if (log->fd < 0) {
            int err = log->fd;
            log->fd = -1;
            seclog_close(log);
            return err;
        }
    }
    *out = log;
    return 0;
}

void seclog_close(struct seclog *log)
{
    if (log == NULL) {
        return;
    }
    seclog_flush(log);
    if (log->fd >= 0) {
        /* Appends only: nothing is buffered, so a failing close loses nothing. */
        (void)close(log->fd);
        log->fd = -1;
    }
    if (log->dest == SECLOG_DEST_SYSLOG) {
        closelog();
    }
    sw_free(log->path);
    log->path = NULL;
    sw_free(log->ident);
    log->ident = NULL;
    sw_free(log->service);
    log->service = NULL;
    sw_free(log);
}

void seclog_reopen(struct seclog *log)
{
    atomic_store(&log->is_reopen_wanted, true);
}

static void reopen_now(struct seclog *log)
{
    int fd = open_file(log->path);
    if (fd < 0) {
        /* Keep writing to the old file rather than lose events. */
        log_err(NULL, "seclog: cannot reopen %s: %s", log->path, sw_strerror(fd));
        return;
    }
    if (log->fd >= 0) {
        (void)close(log->fd);
    }
    log->fd = fd;
    atomic_fetch_add_explicit(&log->reopens, 1, memory_order_relaxed);
}

/* The line of `event` into `buf` (SECLOG_LINE_MAX bytes); the log's own form. */
static int format_line(struct seclog *log, const struct sw_event *event, struct sw_buf *buf)
{
    seclog_format(event, log->format, log->service, log->pid, log->dest == SECLOG_DEST_FILE, buf);
    return buf->is_overflow ? -SW_ETOOBIG : 0;
}

/* Appends whole lines to the file, reopened first when asked; counts them. */
static int write_lines(struct seclog *log, const char *text, size_t len, size_t lines)
{
    if (atomic_exchange(&log->is_reopen_wanted, false)) {
        reopen_now(log);
    }
    /* Whole lines per write(2), so that lines never interleave; a short write is completed. */
    int err = sw_write_all(log->fd, text, len, SECLOG_WRITE_ATTEMPTS);
    atomic_fetch_add_explicit(err == 0 ? &log->lines : &log->write_errors, lines,
                              memory_order_relaxed);
    return err;
}

int seclog_write(struct seclog *log, const struct sw_event *event)
{
    char storage[SECLOG_LINE_MAX];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage));
    int err = format_line(log, event, &buf);
    if (err != 0) {
        atomic_fetch_add_explicit(&log->write_errors, 1, memory_order_relaxed);
        return err;
    }
    if (log->dest == SECLOG_DEST_FILE) {
        seclog_flush(log); /* the held lines came first */
        return write_lines(log, buf.ptr, buf.len, 1);
    }
    syslog(LOG_NOTICE, "%.*s", (int)(buf.len - 1), buf.ptr);
    atomic_fetch_add_explicit(&log->lines, 1, memory_order_relaxed);
    return 0;
}

void seclog_emit(void *ctx, const struct sw_event *event)
{
    /* Errors are counted in the stats; the consumer must not stop for one line. */
    (void)seclog_write(ctx, event);
}

void seclog_emit_held(void *ctx, const struct sw_event *event)
{
    struct seclog *log = ctx;
    if (log->dest != SECLOG_DEST_FILE) {
        (void)seclog_write(log, event);
        return;
    }
    if (SECLOG_HELD_MAX - log->held_len < SECLOG_LINE_MAX) {
        seclog_flush(log); /* a line may need all of SECLOG_LINE_MAX */
    }
    struct sw_buf buf;
    sw_buf_init(&buf, log->held + log->held_len, SECLOG_LINE_MAX);
    if (format_line(log, event, &buf) != 0) {
        atomic_fetch_add_explicit(&log->write_errors, 1, memory_order_relaxed);
        return;
    }
    log->held_len += buf.len;
    log->held_lines++;
}

void seclog_flush(void *ctx)
{
    struct seclog *log = ctx;
    if (log->held_len == 0) {
        return;
    }
    /* Errors are counted in the stats, as seclog_emit's. */
    (void)write_lines(log, log->held, log->held_len, log->held_lines);
    log->held_len = 0;
    log->held_lines = 0;
}

void seclog_stats_get(const struct seclog *log, struct seclog_stats *out)
{
    out->lines = atomic_load_explicit(&log->lines, memory_order_relaxed);
    out->write_errors = atomic_load_explicit(&log->write_errors, memory_order_relaxed);
    out->reopens = atomic_load_explicit(&log->reopens, memory_order_relaxed);
}
