#include "call/rtpengine.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/random.h"
#include "net/loop.h"

#define DEFAULT_RETRANSMIT_MS 500u
#define DEFAULT_MAX_TRIES     3u
#define DEFAULT_MAX_PENDING   1024u
/* Largest UDP payload: no request or answer may be longer. */
#define MAX_DATAGRAM          65507u
/* Values in one answer: an offer's answer has a handful (result, sdp, warnings...). */
#define MAX_ANSWER_NODES      512u
/* Cookie: 8 random hex digits (this client) then the decimal sequence number. */
#define COOKIE_PREFIX_LEN     8u
#define COOKIE_CAP            (COOKIE_PREFIX_LEN + 20u)
/* Datagrams read per readable event before the loop serves others. */
#define READ_BATCH            64

struct server {
    struct sockaddr_storage addr;
    uint32_t weight;
    int fd;
    struct loop_watch watch;
    bool is_up;
    atomic_bool *shared_up; /* the health table's flag of this address, or NULL */
    size_t index;
    struct rtpengine *client;
};

struct pending {
    struct rtpengine *client;
    struct loop_timer timer;
    uint64_t seq; /* the cookie's number; the handle is seq + 1 */
    bool is_used;
    bool is_pinned;      /* the request named its server: no failover */
    size_t server;       /* where it was sent last */
    uint32_t tries;      /* sends to that server */
    uint32_t tried_mask; /* servers tried */
    char *datagram;
    size_t len;
    rtpengine_done_fn *done;
    void *ctx;
    uint32_t next_free;
};

struct rtpengine {
    struct loop *loop;
    struct server servers[RTPENGINE_MAX_SERVERS];
    size_t server_count;
    uint32_t retransmit_ms;
    uint32_t max_tries;
    uint32_t ping_interval_ms;
    struct pending *pending;
    uint32_t cap;
    uint32_t free_head; /* UINT32_MAX = none free */
    size_t used;
    char prefix[COOKIE_PREFIX_LEN];
    struct loop_timer ping_timer;
    char *rx;
    struct bencode_node nodes[MAX_ANSWER_NODES];
    struct rtpengine_stats stats;
};

static const char *const command_names[] = {
    [RTPENGINE_PING] = "ping",     [RTPENGINE_OFFER] = "offer", [RTPENGINE_ANSWER] = "answer",
    [RTPENGINE_DELETE] = "delete", [RTPENGINE_QUERY] = "query",
};

const char *rtpengine_command_name(enum rtpengine_command command)
{
    SW_ASSERT((size_t)command < sizeof(command_names) / sizeof(command_names[0]));
    return command_names[command];
}

int rtpengine_health_init(struct rtpengine_health *health)
{
    memset(health, 0, sizeof(*health));
    return -pthread_mutex_init(&health->lock, NULL);
}

void rtpengine_health_destroy(struct rtpengine_health *health)
{
    (void)pthread_mutex_destroy(&health->lock); /* no client uses it any more */
}

/* The shared flag of `addr`, added (up) when new; NULL when the table is full. */
static atomic_bool *health_flag(struct rtpengine_health *health,
                                const struct sockaddr_storage *addr)
{
    atomic_bool *flag = NULL;
    (void)pthread_mutex_lock(&health->lock);
    for (size_t i = 0; i < health->used && flag == NULL; i++) {
        flag = sw_sockaddr_eq(&health->addrs[i], addr) ? &health->is_up[i] : NULL;
    }
    if (flag == NULL && health->used < RTPENGINE_HEALTH_SLOTS) {
        size_t i = health->used++;
        health->addrs[i] = *addr;
        atomic_init(&health->is_up[i], true);
        flag = &health->is_up[i];
    }
    (void)pthread_mutex_unlock(&health->lock);
    return flag;
}

static bool server_is_up(const struct server *s)
{
    return s->shared_up != NULL ? atomic_load_explicit(s->shared_up, memory_order_relaxed)
                                : s->is_up;
}

static void server_set_up(struct server *s, bool is_up)
{
    /* Shared: only the client that changes the flag logs the change. */
    bool was_up = s->shared_up != NULL ? atomic_exchange(s->shared_up, is_up) : s->is_up;
    s->is_up = is_up;
    if (was_up == is_up) {
        return;
    }
    char text[64];
    sw_sockaddr_format(&s->addr, text, sizeof(text));
    if (is_up) {
        log_notice(NULL, "rtpengine: %s answers again", text);
    } else {
        log_warn(NULL, "rtpengine: %s does not answer; marked down", text);
    }
}

static bool is_candidate(const struct rtpengine *c, size_t i, uint32_t tried_mask, bool any_state)
{
    return (tried_mask & (1u << i)) == 0 && (any_state || server_is_up(&c->servers[i]));
}

/* A candidate server chosen by weight, or SIZE_MAX when there is none. */
static size_t draw_server(const struct rtpengine *c, uint32_t tried_mask, bool any_state)
{
    uint64_t total = 0;
    for (size_t i = 0; i < c->server_count; i++) {
        total += is_candidate(c, i, tried_mask, any_state) ? c->servers[i].weight : 0;
    }
    if (total == 0) {
        return SIZE_MAX;
    }
    uint32_t draw = 0;
    sw_random_bytes(&draw, sizeof(draw));
    uint64_t point = draw % total;
    for (size_t i = 0; i < c->server_count; i++) {
        if (!is_candidate(c, i, tried_mask, any_state)) {
            continue;
        }
        if (point < c->servers[i].weight) {
            return i;
        }
        point -= c->servers[i].weight;
    }
    return SIZE_MAX;
}

/* A server not in `tried_mask`, chosen by weight among those up; when none is up and no
 * health checks run, among all of them (so that traffic finds a restarted rtpengine).
 * With health checks, a down server is left to them: calls fail at once instead. */
static size_t pick_server(const struct rtpengine *c, uint32_t tried_mask)
{
    size_t chosen = draw_server(c, tried_mask, false);
    if (chosen == SIZE_MAX && c->ping_interval_ms == 0) {
        chosen = draw_server(c, tried_mask, true);
    }
    return chosen;
}

static void on_retransmit(struct loop *loop, void *ctx);

static void transmit(struct rtpengine *c, struct pending *p)
{
    const struct server *s = &c->servers[p->server];
    p->tries++;
    c->stats.sent++;
    /* A failed send (full socket buffer, an ICMP error reported late) counts as a lost
     * datagram: the timer sends again or gives up, as for a lost answer. */
    ssize_t n = send(s->fd, p->datagram, p->len, MSG_NOSIGNAL);
    if (n == -1) {
        log_debug(NULL, "rtpengine: send: %s", sw_strerror(errno));
    }
    /* Delays are capped below the wheel's range in rtpengine_new(): this cannot fail. */
    int rc = loop_timer_start_coarse(c->loop, &p->timer, c->retransmit_ms, on_retransmit, p);
    SW_ASSERT(rc == 0);
}

static void release(struct rtpengine *c, struct pending *p)
{
    loop_timer_stop(c->loop, &p->timer);
    sw_free(p->datagram);
    p->datagram = NULL;
    p->is_used = false;
    p->seq += c->cap;
    uint32_t index = (uint32_t)(p - c->pending);
    p->next_free = c->free_head;
    c->free_head = index;
    c->used--;
}

static void complete(struct rtpengine *c, struct pending *p, struct rtpengine_reply *reply)
{
    rtpengine_done_fn *done = p->done;
    void *ctx = p->ctx;
    reply->server = p->server;
    release(c, p);
    done(ctx, reply);
}

/* Every try at the current server went unanswered (or its port was refused). */
static void attempt_failed(struct rtpengine *c, struct pending *p)
{
    server_set_up(&c->servers[p->server], false);
    if (!p->is_pinned) {
        size_t next = pick_server(c, p->tried_mask);
        if (next != SIZE_MAX) {
            p->server = next;
            p->tried_mask |= 1u << next;
            p->tries = 0;
            transmit(c, p);
            return;
        }
    }
    c->stats.timeouts++;
    struct rtpengine_reply reply = { .status = -ETIMEDOUT };
    complete(c, p, &reply);
}

static void on_retransmit(struct loop *loop, void *ctx)
{
    (void)loop;
    struct pending *p = ctx;
    struct rtpengine *c = p->client;
    if (p->tries < c->max_tries) {
        c->stats.retransmits++;
        transmit(c, p);
        return;
    }
    attempt_failed(c, p);
}

/* The pending request a cookie names, or NULL. */
static struct pending *find_by_cookie(struct rtpengine *c, struct sv cookie)
{
    uint64_t seq = 0;
    if (cookie.len <= COOKIE_PREFIX_LEN || memcmp(cookie.ptr, c->prefix, COOKIE_PREFIX_LEN) != 0 ||
        !sv_to_u64(sv_slice(cookie, COOKIE_PREFIX_LEN, cookie.len), &seq)) {
        return NULL;
    }
    struct pending *p = &c->pending[seq % c->cap];
    return p->is_used && p->seq == seq ? p : NULL;
}

/* Reads the answer dictionary `body` into `reply`, decoding into `doc`. */
static void read_answer(struct bencode_doc *doc, struct sv body, struct rtpengine_reply *reply)
{
    if (bencode_decode(body, doc, NULL) != 0 || doc->nodes[0].type != BENCODE_DICT) {
        reply->status = -SW_EBADMSG;
        return;
    }
    reply->doc = doc;
    reply->result = bencode_dict_str(doc, 0, SV("result"));
    reply->error_reason = bencode_dict_str(doc, 0, SV("error-reason"));
    reply->sdp = bencode_dict_str(doc, 0, SV("sdp"));
    if (sv_eq(reply->result, SV("ok")) || sv_eq(reply->result, SV("pong"))) {
        reply->status = 0;
    } else {
        /* "error" with an error-reason, or another result such as "load limit". */
        reply->status = sv_is_present(reply->result) ? -EPROTO : -SW_EBADMSG;
    }
}

static void handle_datagram(struct rtpengine *c, struct server *s, struct sv data)
{
    long space = sv_find_char(data, ' ');
    struct pending *p = space < 0 ? NULL : find_by_cookie(c, sv_slice(data, 0, (size_t)space));
    if (p == NULL || p->server != s->index) {
        c->stats.stray++;
        return;
    }
    c->stats.answers++;
    server_set_up(s, true);
    struct rtpengine_reply reply = { 0 };
    struct bencode_doc doc = { .nodes = c->nodes, .cap = MAX_ANSWER_NODES };
    read_answer(&doc, sv_slice(data, (size_t)space + 1, data.len), &reply);
    complete(c, p, &reply);
}

/* The server's port was refused (ICMP): fail over every request waiting on it now. */
static void server_refused(struct rtpengine *c, struct server *s)
{
    server_set_up(s, false);
    for (uint32_t i = 0; i < c->cap; i++) {
        struct pending *p = &c->pending[i];
        if (p->is_used && p->server == s->index) {
            attempt_failed(c, p);
        }
    }
}

static void on_readable(struct loop *loop, uint32_t events, void *ctx)
{
    (void)loop;
    (void)events;
    struct server *s = ctx;
    struct rtpengine *c = s->client;
    for (int i = 0; i < READ_BATCH; i++) {
        ssize_t n = recv(s->fd, c->rx, MAX_DATAGRAM, 0);
        if (n >= 0) {
            handle_datagram(c, s, sv_make(c->rx, (size_t)n));
        } else if (errno == ECONNREFUSED) {
            server_refused(c, s);
        } else if (errno != EINTR) {
            return; /* EAGAIN: all read */
        }
    }
}

static size_t request_size(const struct rtpengine_request *r)
{
    size_t size = COOKIE_CAP + 1 + 2 + 6 * bencode_str_size(16);
    size += bencode_str_size(r->call_id.len) + bencode_str_size(r->from_tag.len) +
            bencode_str_size(r->to_tag.len) + bencode_str_size(r->via_branch.len) +
            bencode_str_size(r->sdp.len);
    for (size_t i = 0; i < r->option_count; i++) {
        size +=
            bencode_str_size(strlen(r->options[i].key)) + bencode_str_size(r->options[i].value.len);
    }
    for (size_t i = 0; i < r->list_count; i++) {
        size += bencode_str_size(strlen(r->lists[i].key)) + 2;
        for (size_t j = 0; j < r->lists[i].count; j++) {
            size += bencode_str_size(r->lists[i].items[j].len);
        }
    }
    return size;
}

static void encode_request(struct sw_buf *buf, const struct rtpengine_request *r)
{
    bencode_put_dict(buf);
    bencode_put_pair(buf, "command", sv_from_cstr(rtpengine_command_name(r->command)));
    bencode_put_pair(buf, "call-id", r->call_id);
    bencode_put_pair(buf, "from-tag", r->from_tag);
    bencode_put_pair(buf, "to-tag", r->to_tag);
    bencode_put_pair(buf, "via-branch", r->via_branch);
    bencode_put_pair(buf, "sdp", r->sdp);
    for (size_t i = 0; i < r->option_count; i++) {
        bencode_put_pair(buf, r->options[i].key, r->options[i].value);
    }
    for (size_t i = 0; i < r->list_count; i++) {
        bencode_put_str(buf, sv_from_cstr(r->lists[i].key));
        bencode_put_list(buf);
        for (size_t j = 0; j < r->lists[i].count; j++) {
            bencode_put_str(buf, r->lists[i].items[j]);
        }
        bencode_put_end(buf);
    }
    bencode_put_end(buf);
}

static int check_request(const struct rtpengine *c, const struct rtpengine_request *r)
{
    if ((size_t)r->command >= sizeof(command_names) / sizeof(command_names[0]) ||
        (r->command != RTPENGINE_PING && !sv_is_present(r->call_id)) ||
        (r->server != RTPENGINE_ANY_SERVER && r->server >= c->server_count) ||
        r->option_count > RTPENGINE_MAX_OPTIONS || r->list_count > RTPENGINE_MAX_LISTS) {
        return -SW_EBADARG;
    }
    return request_size(r) > MAX_DATAGRAM ? -SW_ETOOBIG : 0;
}

/* Builds "<cookie> <dict>" into a new heap buffer for `p`. */
static int build_datagram(struct rtpengine *c, struct pending *p, const struct rtpengine_request *r)
{
    size_t cap = request_size(r);
    char *data = sw_malloc(cap);
    if (data == NULL) {
        return -ENOMEM;
    }
    struct sw_buf buf;
    sw_buf_init(&buf, data, cap);
    sw_buf_put(&buf, c->prefix, COOKIE_PREFIX_LEN);
    sw_buf_u64(&buf, p->seq);
    sw_buf_char(&buf, ' ');
    encode_request(&buf, r);
    SW_ASSERT(!buf.is_overflow);
    if (buf.len > MAX_DATAGRAM) {
        sw_free(data);
        return -SW_ETOOBIG;
    }
    p->datagram = data;
    p->len = buf.len;
    return 0;
}

int rtpengine_send(struct rtpengine *c, const struct rtpengine_request *r, rtpengine_done_fn *done,
                   void *ctx, uint64_t *handle)
{
    SW_ASSERT(done != NULL);
    int rc = check_request(c, r);
    if (rc != 0) {
        return rc;
    }
    if (c->free_head == UINT32_MAX) {
        return -SW_EFULL;
    }
    bool is_pinned = r->server != RTPENGINE_ANY_SERVER;
    size_t server = is_pinned ? r->server : pick_server(c, 0);
    if (server == SIZE_MAX) {
        return -EHOSTUNREACH;
    }
    struct pending *p = &c->pending[c->free_head];
    rc = build_datagram(c, p, r);
    if (rc != 0) {
        return rc;
    }
    c->free_head = p->next_free;
    c->used++;
    p->is_used = true;
    p->is_pinned = is_pinned;
    p->server = server;
    p->tries = 0;
    p->tried_mask = 1u << server;
    p->done = done;
    p->ctx = ctx;
    c->stats.requests++;
    if (handle != NULL) {
        *handle = p->seq + 1;
    }
    transmit(c, p);
    return 0;
}

void rtpengine_cancel(struct rtpengine *c, uint64_t handle)
{
    if (handle == 0) {
        return;
    }
    struct pending *p = &c->pending[(handle - 1) % c->cap];
    if (p->is_used && p->seq == handle - 1) {
        release(c, p);
    }
}

static void on_ping_done(void *ctx, const struct rtpengine_reply *reply)
{
    /* Answers mark their server up and time-outs mark it down where they are handled. */
    (void)ctx;
    (void)reply;
}

static void on_ping_timer(struct loop *loop, void *ctx)
{
    struct rtpengine *c = ctx;
    for (size_t i = 0; i < c->server_count; i++) {
        struct rtpengine_request ping = { .command = RTPENGINE_PING, .server = i };
        /* A full table skips this round: the requests in flight test the servers too. */
        (void)rtpengine_send(c, &ping, on_ping_done, c, NULL);
    }
    int rc = loop_timer_start_coarse(loop, &c->ping_timer, c->ping_interval_ms, on_ping_timer, c);
    SW_ASSERT(rc == 0); /* within the wheel's range, as rtpengine_new() checked */
}

static int open_server(struct rtpengine *c, size_t index, const struct rtpengine_server *cfg,
                       struct rtpengine_health *health)
{
    struct server *s = &c->servers[index];
    *s = (struct server){ .addr = cfg->addr,
                          .weight = cfg->weight == 0 ? 1 : cfg->weight,
                          .fd = -1,
                          .is_up = true,
                          .shared_up = health != NULL ? health_flag(health, &cfg->addr) : NULL,
                          .index = index,
                          .client = c };
    int fd = socket(cfg->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -errno;
    }
    s->fd = fd;
    /* Connected: the kernel drops datagrams from any other source and reports ICMP port
     * unreachable as ECONNREFUSED, so a stopped rtpengine is noticed without waiting. */
    if (connect(fd, (const struct sockaddr *)&cfg->addr, sw_sockaddr_len(&cfg->addr)) == -1) {
        return -errno;
    }
    s->watch = (struct loop_watch){ .fd = fd, .fn = on_readable, .ctx = s };
    return loop_watch_add(c->loop, &s->watch, EPOLLIN);
}

static int init_pending(struct rtpengine *c, uint32_t cap)
{
    c->pending = sw_calloc(cap, sizeof(*c->pending));
    c->rx = sw_malloc(MAX_DATAGRAM);
    if (c->pending == NULL || c->rx == NULL) {
        return -ENOMEM;
    }
    c->cap = cap;
    for (uint32_t i = 0; i < cap; i++) {
        c->pending[i] = (struct pending){ .client = c, .seq = i, .next_free = i + 1 };
    }
    c->pending[cap - 1].next_free = UINT32_MAX;
    c->free_head = 0;
    return 0;
}

struct rtpengine *rtpengine_new(struct loop *loop, const struct rtpengine_settings *settings,
                                int *err)
{
    *err = -SW_EBADARG;
    if (settings->server_count == 0 || settings->server_count > RTPENGINE_MAX_SERVERS ||
        settings->retransmit_ms > RTPENGINE_MAX_DELAY_MS ||
        settings->ping_interval_ms > RTPENGINE_MAX_DELAY_MS) {
        return NULL;
    }
    struct rtpengine *c = sw_calloc(1, sizeof(*c));
    if (c == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    c->loop = loop;
    c->retransmit_ms =
        settings->retransmit_ms != 0 ? settings->retransmit_ms : DEFAULT_RETRANSMIT_MS;
    c->max_tries = settings->max_tries != 0 ? settings->max_tries : DEFAULT_MAX_TRIES;
    c->ping_interval_ms = settings->ping_interval_ms;
    sw_random_hex(c->prefix, COOKIE_PREFIX_LEN);
    int rc =
        init_pending(c, settings->max_pending != 0 ? settings->max_pending : DEFAULT_MAX_PENDING);
    for (size_t i = 0; rc == 0 && i < settings->server_count; i++) {
        c->server_count = i + 1;
        rc = open_server(c, i, &settings->servers[i], settings->health);
    }
    if (rc == 0 && c->ping_interval_ms != 0) {
        rc = loop_timer_start_coarse(loop, &c->ping_timer, c->ping_interval_ms, on_ping_timer, c);
    }
    if (rc != 0) {
        *err = rc;
        rtpengine_free(c);
        return NULL;
    }
    *err = 0;
    return c;
}

void rtpengine_free(struct rtpengine *c)
{
    if (c == NULL) {
        return;
    }
    loop_timer_stop(c->loop, &c->ping_timer);
    for (uint32_t i = 0; c->pending != NULL && i < c->cap; i++) {
        if (c->pending[i].is_used) {
            release(c, &c->pending[i]);
        }
    }
    for (size_t i = 0; i < c->server_count; i++) {
        struct server *s = &c->servers[i];
        if (s->fd != -1) {
            (void)loop_watch_del(c->loop, &s->watch); /* fails only when never added */
            (void)close(s->fd);                       /* nothing was written to flush */
        }
    }
    sw_free(c->pending);
    c->pending = NULL;
    sw_free(c->rx);
    c->rx = NULL;
    sw_free(c);
}

bool rtpengine_server_is_up(const struct rtpengine *c, size_t index)
{
    return index < c->server_count && server_is_up(&c->servers[index]);
}

size_t rtpengine_pending(const struct rtpengine *c)
{
    return c->used;
}

struct rtpengine_stats rtpengine_stats(const struct rtpengine *c)
{
    return c->stats;
}
