/*
 * The control socket (gateway_obs.h): `sipwarden ban list|add|del`, `sipwarden calls
 * list|kill` (gateway_calls.c), `sipwarden account disable|enable` and `sipwarden trunk
 * isolate|restore` (gateway_incident.c) talk to the running daemon through it. One thread serves
 * one short connection at a time: the requests are rare, and a peer that stalls is cut off by a
 * receive timeout.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "gateway/gateway_incident.h"
#include "gateway/gateway_obs.h"
#include "gateway/gateway_spend.h"
#include "state/ban.h"

#define CTL_LINE_MAX  256
#define CTL_REPLY_MAX ((size_t)1 << 20)
#define CTL_LIST_MAX  4096
#define CTL_TIMEOUT_S 2

struct gw_ctl {
    int fd;
    char *path;
    struct ban_store *bans;
    struct gateway *gw; /* for the call commands */
    pthread_t thread;
    bool has_thread;
    atomic_bool is_stopping;
};

/* ---- requests ---------------------------------------------------------------------- */

struct reply {
    char *out;
    size_t cap;
    size_t len;
    bool is_truncated;
};

static void reply_add(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reply_add(struct reply *r, const char *fmt, ...)
{
    if (r->is_truncated) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above. */
    int n = vsnprintf(r->out + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= r->cap - r->len) {
        r->is_truncated = true;
        r->out[r->len] = '\0';
        return;
    }
    r->len += (size_t)n;
}

static void list_bans(struct ban_store *bans, int64_t now_s, struct reply *r)
{
    struct ban_entry *entries = sw_calloc(CTL_LIST_MAX, sizeof(*entries));
    if (entries == NULL) {
        reply_add(r, "error: out of memory\n");
        return;
    }
    size_t total = ban_store_list(bans, now_s, entries, CTL_LIST_MAX);
    size_t shown = total < CTL_LIST_MAX ? total : CTL_LIST_MAX;
    for (size_t i = 0; i < shown; i++) {
        const struct ban_entry *e = &entries[i];
        char ip[SW_ADDR_STRLEN];
        sw_ip_format(&e->ip, ip, sizeof(ip));
        char end[24];
        if (e->end_s == BAN_FOREVER) {
            (void)snprintf(end, sizeof(end), "never");
        } else {
            (void)snprintf(end, sizeof(end), "%lld", (long long)e->end_s);
        }
        /* The reason is ours ("InvalidPassword=3,FailedACL=1"): no spaces, no newlines. */
        reply_add(r, "ban %s %lld %s %u %s %s\n", ip, (long long)e->start_s, end, e->offence,
                  ban_source_name(e->source), e->reason[0] != '\0' ? e->reason : "-");
    }
    if (total > shown) {
        reply_add(r, "more %zu\n", total - shown);
    }
    reply_add(r, "ok\n");
    sw_free(entries);
}

static bool parse_ip(const char *word, struct sw_ip *ip)
{
    return word != NULL && sw_ip_parse(sv_from_cstr(word), ip);
}

static void add_ban(struct ban_store *bans, const char *addr, const char *time, int64_t now_s,
                    struct reply *r)
{
    struct sw_ip ip;
    uint32_t duration = 0;
    if (!parse_ip(addr, &ip)) {
        reply_add(r, "error: not an IP address\n");
        return;
    }
    if (time != NULL && strcmp(time, "forever") == 0) {
        duration = BAN_DURATION_FOREVER;
    } else if (time != NULL &&
               (!sv_to_u32(sv_from_cstr(time), &duration) || duration == BAN_DURATION_FOREVER)) {
        reply_add(r, "error: bad duration\n");
        return;
    }
    struct ban_request req = {
        .ip = ip, .source = BAN_SOURCE_MANUAL, .duration_s = duration, .reason = "manual"
    };
    struct ban_entry entry;
    switch (ban_store_add(bans, &req, now_s, &entry)) {
    case BAN_OUTCOME_ADDED:
    case BAN_OUTCOME_UPDATED:
    case BAN_OUTCOME_EXISTS:
        log_notice(NULL, "control: %s banned by the operator", addr);
        reply_add(r, "ok\n");
        return;
    case BAN_OUTCOME_EXEMPT:
        reply_add(r, "error: %s is on the never-ban list ([ban] never_ban, trunks, PBX)\n", addr);
        return;
    case BAN_OUTCOME_FULL:
        reply_add(r, "error: the ban table is full\n");
        return;
    }
    reply_add(r, "error: unexpected outcome\n");
}

static void del_ban(struct ban_store *bans, const char *addr, int64_t now_s, struct reply *r)
{
    struct sw_ip ip;
    if (!parse_ip(addr, &ip)) {
        reply_add(r, "error: not an IP address\n");
        return;
    }
    if (ban_store_del(bans, &ip, now_s) != 0) {
        reply_add(r, "error: %s is not banned\n", addr);
        return;
    }
    log_notice(NULL, "control: ban of %s lifted by the operator", addr);
    reply_add(r, "ok\n");
}

void gw_ctl_handle(struct ban_store *bans, const char *line, int64_t now_s, char *out, size_t cap)
{
    SW_ASSERT(cap >= 64);
    struct reply r = { .out = out, .cap = cap - 32 }; /* room for the truncation line */
    out[0] = '\0';
    char copy[CTL_LINE_MAX];
    (void)snprintf(copy, sizeof(copy), "%s", line);
    char *save = NULL;
    const char *words[4] = { NULL, NULL, NULL, NULL };
    char *w = strtok_r(copy, " \t", &save);
    for (size_t i = 0; i < 4 && w != NULL; i++) {
        words[i] = w;
        w = strtok_r(NULL, " \t", &save);
    }
    bool has_extra = w != NULL;
    if (words[0] != NULL && strcmp(words[0], "list") == 0 && words[1] == NULL) {
        list_bans(bans, now_s, &r);
    } else if (words[0] != NULL && strcmp(words[0], "add") == 0 && words[3] == NULL && !has_extra) {
        add_ban(bans, words[1], words[2], now_s, &r);
    } else if (words[0] != NULL && strcmp(words[0], "del") == 0 && words[2] == NULL) {
        del_ban(bans, words[1], now_s, &r);
    } else {
        reply_add(&r, "error: unknown request (list | add IP [SECONDS|forever] | del IP)\n");
    }
    if (r.is_truncated) {
        (void)snprintf(out + r.len, cap - r.len, "error: reply truncated\n");
    }
}

/* ---- the socket -------------------------------------------------------------------- */

static bool peer_is_allowed(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
        return false;
    }
    return cred.uid == 0 || cred.uid == getuid();
}

/* Reads one line (up to '\n' or the peer's shutdown), at most CTL_LINE_MAX - 1 bytes. */
static bool read_line(int fd, char *line)
{
    size_t len = 0;
    while (len < CTL_LINE_MAX - 1) {
        ssize_t n = recv(fd, line + len, CTL_LINE_MAX - 1 - len, 0);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        if (memchr(line, '\n', len) != NULL) {
            break;
        }
    }
    line[len] = '\0';
    char *nl = strpbrk(line, "\r\n");
    if (nl != NULL) {
        *nl = '\0';
    }
    return len > 0;
}

static void send_all(int fd, const char *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, data + done, len - done, MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* the peer went away or stalled past the timeout */
        }
        done += (size_t)n;
    }
}

static void serve_one(struct gw_ctl *ctl, int fd)
{
    struct timeval timeout = { .tv_sec = CTL_TIMEOUT_S, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (!peer_is_allowed(fd)) {
        log_warn(NULL, "control: refused a peer that is neither root nor our user");
        static const char refused[] = "error: permission denied\n";
        send_all(fd, refused, sizeof(refused) - 1);
        return;
    }
    char line[CTL_LINE_MAX];
    if (!read_line(fd, line)) {
        return;
    }
    char *reply = sw_malloc(CTL_REPLY_MAX);
    if (reply == NULL) {
        static const char oom[] = "error: out of memory\n";
        send_all(fd, oom, sizeof(oom) - 1);
        return;
    }
    if (strncmp(line, "calls ", 6) == 0 && ctl->gw != NULL) {
        gw_calls_handle(ctl->gw, line + 6, reply, CTL_REPLY_MAX);
    } else if ((strcmp(line, "spend") == 0 || strncmp(line, "spend ", 6) == 0) && ctl->gw != NULL) {
        gw_spend_handle(gw_obs_spend(ctl->gw), line + 5, reply, CTL_REPLY_MAX);
    } else if ((strncmp(line, "account ", 8) == 0 || strncmp(line, "trunk ", 6) == 0) &&
               ctl->gw != NULL) {
        gw_incident_handle(ctl->gw, line, reply, CTL_REPLY_MAX);
    } else {
        gw_ctl_handle(ctl->bans, line, sw_wall_s(), reply, CTL_REPLY_MAX);
    }
    send_all(fd, reply, strlen(reply));
    sw_free(reply);
}

static void *ctl_main(void *arg)
{
    struct gw_ctl *ctl = arg;
    while (!atomic_load(&ctl->is_stopping)) {
        struct pollfd p = { .fd = ctl->fd, .events = POLLIN };
        int ready = poll(&p, 1, 200);
        if (ready <= 0) {
            continue; /* timeout (check the stop flag) or EINTR */
        }
        int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd == -1) {
            continue;
        }
        serve_one(ctl, fd);
        (void)close(fd);
    }
    return NULL;
}

/* A socket file left by a daemon that died is removed; one that answers is in use. */
static int clear_stale(const char *path, const struct sockaddr_un *addr)
{
    struct stat st;
    if (lstat(path, &st) == -1) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        return -EEXIST;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe == -1) {
        return -errno;
    }
    int rc = connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
    (void)close(probe);
    if (rc == 0) {
        return -EADDRINUSE;
    }
    return unlink(path) == 0 ? 0 : -errno;
}

static int bind_socket(const char *path, int *out)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        return -ENAMETOOLONG;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int rc = clear_stale(path, &addr);
    if (rc != 0) {
        return rc;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -errno;
    }
    /* The mode is set right after bind; SO_PEERCRED guards the moment in between. */
    if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) == -1 || chmod(path, 0600) == -1 ||
        listen(fd, 8) == -1) {
        rc = -errno;
        (void)close(fd);
        (void)unlink(path);
        return rc;
    }
    *out = fd;
    return 0;
}

int gw_ctl_open(const char *path, struct ban_store *bans, struct gateway *gw, struct gw_ctl **out,
                struct sw_diag *diag)
{
    struct gw_ctl *ctl = sw_calloc(1, sizeof(*ctl));
    if (ctl == NULL || (ctl->path = sw_strdup(path)) == NULL) {
        sw_free(ctl);
        return -ENOMEM;
    }
    ctl->bans = bans;
    ctl->gw = gw;
    atomic_init(&ctl->is_stopping, false);
    int rc = bind_socket(path, &ctl->fd);
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, "general.control_socket", "%s: %s", path,
                    rc == -EADDRINUSE ? "another sipwarden serves it" : sw_strerror(rc));
        sw_free(ctl->path);
        sw_free(ctl);
        return rc;
    }
    *out = ctl;
    return 0;
}

int gw_ctl_start(struct gw_ctl *ctl)
{
    int rc = pthread_create(&ctl->thread, NULL, ctl_main, ctl);
    if (rc != 0) {
        return -rc;
    }
    ctl->has_thread = true;
    return 0;
}

void gw_ctl_close(struct gw_ctl *ctl)
{
    if (ctl == NULL) {
        return;
    }
    atomic_store(&ctl->is_stopping, true);
    if (ctl->has_thread) {
        (void)pthread_join(ctl->thread, NULL);
    }
    (void)close(ctl->fd);
    (void)unlink(ctl->path);
    sw_free(ctl->path);
    sw_free(ctl);
}
