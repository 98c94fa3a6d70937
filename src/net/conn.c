#include "net/conn.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"
#include "net/framer.h"
#include "net/tls.h"
#include "net/udp.h"
#include "net/worker.h"

#define READS_PER_WAKE 8
#define READ_CHUNK     16384
#define RX_INITIAL_CAP 4096
#define RX_KEEP_CAP    32768

static void conn_io(struct loop *loop, uint32_t events, void *ctx);
static void conn_timeout(struct loop *loop, void *ctx);
static void conn_read(struct conn *c);
static int conn_queue(struct conn *c, struct sv data);

/* ---- tables: slots by conn_id, chains by remote address, LRU by activity ---- */

static uint64_t addr_hash(const struct sockaddr_storage *addr, enum sw_transport transport)
{
    struct {
        struct sw_ip ip;
        uint16_t port;
        uint16_t transport;
    } key;

    memset(&key, 0, sizeof(key));
    (void)sw_ip_from_sockaddr(addr, &key.ip); /* other families hash as ::, harmless */
    key.port = sw_sockaddr_port(addr);
    key.transport = (uint16_t)transport;
    return sw_hash_bytes(&key, sizeof(key));
}

static struct conn **addr_bucket(struct stream_set *set, const struct conn *c)
{
    return &set->buckets[addr_hash(&c->remote, c->transport) & set->bucket_mask];
}

static void addr_unlink(struct stream_set *set, struct conn *c)
{
    struct conn **link = addr_bucket(set, c);
    /* Bounded by the chain length, at most max_connections. */
    while (*link != NULL && *link != c) {
        link = &(*link)->addr_next;
    }
    if (*link == c) {
        *link = c->addr_next;
    }
    c->addr_next = NULL;
}

static void lru_unlink(struct stream_set *set, struct conn *c)
{
    if (c->lru_prev != NULL) {
        c->lru_prev->lru_next = c->lru_next;
    } else {
        set->lru_head = c->lru_next;
    }
    if (c->lru_next != NULL) {
        c->lru_next->lru_prev = c->lru_prev;
    } else {
        set->lru_tail = c->lru_prev;
    }
    c->lru_prev = NULL;
    c->lru_next = NULL;
}

static void lru_append(struct stream_set *set, struct conn *c)
{
    c->lru_prev = set->lru_tail;
    c->lru_next = NULL;
    if (set->lru_tail != NULL) {
        set->lru_tail->lru_next = c;
    } else {
        set->lru_head = c;
    }
    set->lru_tail = c;
}

struct conn *conn_by_id(struct stream_set *set, uint64_t conn_id)
{
    size_t slot = (size_t)((conn_id >> CONN_ID_WORKER_BITS) & (CONN_ID_MAX_SLOTS - 1));
    if (slot >= set->max_connections) {
        return NULL;
    }
    struct conn *c = set->slots[slot];
    return (c != NULL && c->id == conn_id && !c->is_closing) ? c : NULL;
}

static bool names_match(const char *conn_name, const char *wanted)
{
    if (wanted == NULL) {
        return true;
    }
    /* A connection verified for another name (or an inbound one) proves nothing. */
    return conn_name != NULL && sv_eq_nocase(sv_from_cstr(conn_name), sv_from_cstr(wanted));
}

struct conn *conn_by_addr(struct stream_set *set, const struct net_dest *dst)
{
    struct conn *c = set->buckets[addr_hash(&dst->addr, dst->transport) & set->bucket_mask];
    for (; c != NULL; c = c->addr_next) {
        if (c->transport == dst->transport && !c->is_closing &&
            sw_sockaddr_eq(&c->remote, &dst->addr) &&
            (c->transport != SW_TRANSPORT_TLS ||
             names_match(c->server_name, dst->tls_server_name))) {
            return c;
        }
    }
    return NULL;
}

/* ---- connection life cycle ---- */

static void conn_log_ctx(const struct conn *c, struct log_ctx *ctx, char *buf, size_t cap)
{
    sw_sockaddr_format(&c->remote, buf, cap);
    *ctx = (struct log_ctx){ .worker = (int)worker_index(c->set->worker), .src = buf };
}

void conn_destroy(struct conn *c)
{
    struct stream_set *set = c->set;
    SW_ASSERT(set->slots[c->slot] == c && set->conn_count > 0);
    SW_ASSERT(set->queued_bytes >= c->tx_len - c->tx_off);
    loop_timer_stop(set->loop, &c->timer);
    /* The fd is about to close, which removes it from epoll; this just keeps it explicit. */
    (void)loop_watch_del(set->loop, &c->watch);
    net_tls_free(c->ssl);
    c->ssl = NULL;
    (void)close(c->watch.fd);
    addr_unlink(set, c);
    lru_unlink(set, c);
    set->slots[c->slot] = NULL;
    set->free_slots[set->free_count++] = c->slot;
    set->conn_count--;
    worker_source_release(set->worker, c->source_counter);
    sw_free(c->server_name);
    sw_free(c->rx);
    set->queued_bytes -= c->tx_len - c->tx_off;
    sw_free(c->tx);
    sw_free(c);
}

/* Closes now, or once the delivery in progress on this connection has returned. */
void conn_close(struct conn *c)
{
    if (!c->is_closing) {
        c->is_closing = true;
        /* No close_notify after a fatal TLS error: OpenSSL forbids SSL_shutdown() then. */
        if (c->ssl != NULL && c->state == CONN_OPEN && !c->is_tls_broken) {
            net_tls_shutdown(c->ssl);
        }
    }
    if (c->busy == 0) {
        conn_destroy(c);
    }
}

/* Closes a misbehaving peer and tells the application, which counts it against the source. */
static void conn_fail(struct conn *c, int code, const char *reason)
{
    char addr[SW_ADDR_STRLEN];
    struct log_ctx ctx;
    conn_log_ctx(c, &ctx, addr, sizeof(addr));
    log_debug(&ctx, "stream: closing %s connection: %s", c->is_outbound ? "outbound" : "inbound",
              reason);
    if (!c->is_closing) {
        struct net_stream_error error = {
            .transport = c->transport,
            .src = c->remote,
            .local = c->local,
            .listener = c->listener,
            .conn_id = c->id,
            .code = code,
            .reason = reason,
        };
        worker_report_stream_error(c->set->worker, &error);
    }
    conn_close(c);
}

static uint32_t conn_wanted_events(const struct conn *c)
{
    if (c->state == CONN_CONNECTING) {
        return EPOLLOUT;
    }
    if (c->state == CONN_HANDSHAKE) {
        return c->is_handshake_writing ? EPOLLOUT : EPOLLIN;
    }
    uint32_t events = EPOLLIN;
    if (c->tx_len > c->tx_off || c->is_read_blocked_on_write) {
        events |= EPOLLOUT;
    }
    return events;
}

static void conn_update_events(struct conn *c)
{
    uint32_t events = conn_wanted_events(c);
    if (events == c->events) {
        return;
    }
    int rc = loop_watch_mod(c->set->loop, &c->watch, events);
    if (rc != 0) {
        log_warn(NULL, "stream: epoll_ctl failed: %s", sw_strerror(rc));
        conn_close(c);
        return;
    }
    c->events = events;
}

static uint64_t conn_deadline(const struct conn *c)
{
    const struct stream_set *set = c->set;
    if (c->state != CONN_OPEN) {
        return c->started_ms + set->handshake_ms;
    }
    uint64_t deadline = c->last_active_ms + set->idle_ms;
    if (!c->is_outbound && !c->has_received && set->first_byte_ms < set->idle_ms) {
        /* A peer that connects and says nothing only holds a descriptor (#9 item 10). */
        deadline = c->last_active_ms + set->first_byte_ms;
    }
    if (c->msg_start_ms != 0 && c->msg_start_ms + set->message_ms < deadline) {
        deadline = c->msg_start_ms + set->message_ms;
    }
    return deadline;
}

/* Arms the connection's one timer for its earliest deadline; false when no timer is free. */
static bool conn_arm(struct conn *c)
{
    uint64_t deadline = conn_deadline(c);
    if (c->timer.is_active && deadline == c->deadline_ms) {
        return true;
    }
    uint64_t now = loop_now_ms(c->set->loop);
    c->deadline_ms = deadline;
    return loop_timer_start(c->set->loop, &c->timer, deadline > now ? deadline - now : 0,
                            conn_timeout, c) == 0;
}

static void conn_timeout(struct loop *loop, void *ctx)
{
    struct conn *c = ctx;
    uint64_t now = loop_now_ms(loop);
    if (now < conn_deadline(c)) {
        if (!conn_arm(c)) {
            conn_close(c);
        }
        return;
    }
    if (c->state != CONN_OPEN && c->is_outbound) {
        char addr[SW_ADDR_STRLEN];
        struct log_ctx log;
        conn_log_ctx(c, &log, addr, sizeof(addr));
        log_info(&log, "stream: outbound connection not ready after %llu ms; queued data lost",
                 (unsigned long long)c->set->handshake_ms);
        conn_close(c);
    } else if (c->state != CONN_OPEN) {
        conn_fail(c, -ETIMEDOUT, "TLS handshake not completed in time");
    } else if (c->msg_start_ms != 0 && now >= c->msg_start_ms + c->set->message_ms) {
        conn_fail(c, -ETIMEDOUT, "message not completed in time");
    } else {
        conn_close(c); /* idle: the ordinary end of a connection nobody uses */
    }
}

/* Takes ownership of `fd`; on failure closes it and returns NULL. */
struct conn *conn_new(struct stream_set *set, int fd, enum sw_transport transport,
                      const struct sockaddr_storage *remote)
{
    struct conn *c = sw_calloc(1, sizeof(*c));
    if (c == NULL || set->free_count == 0) {
        sw_free(c);
        (void)close(fd);
        return NULL;
    }
    c->set = set;
    c->slot = set->free_slots[--set->free_count];
    SW_ASSERT(c->slot < set->max_connections && set->slots[c->slot] == NULL);
    if (++set->next_serial == 0) {
        set->next_serial = 1; /* 0 would make conn_id 0 possible for worker 0, slot 0 */
    }
    c->id = ((uint64_t)set->next_serial << 32) | ((uint64_t)c->slot << CONN_ID_WORKER_BITS) |
            worker_index(set->worker);
    c->watch = (struct loop_watch){ .fd = fd, .fn = conn_io, .ctx = c };
    c->transport = transport;
    c->remote = *remote;
    c->source_counter = SIZE_MAX;
    c->started_ms = loop_now_ms(set->loop);
    c->last_active_ms = c->started_ms;
    set->slots[c->slot] = c;
    set->conn_count++;
    struct conn **bucket = addr_bucket(set, c);
    c->addr_next = *bucket;
    *bucket = c;
    lru_append(set, c);
    return c;
}

/* Registers a new connection with epoll and its timer; closes it on failure. */
int conn_start(struct conn *c)
{
    c->events = conn_wanted_events(c);
    int rc = loop_watch_add(c->set->loop, &c->watch, c->events);
    if (rc == 0 && !conn_arm(c)) {
        rc = -SW_EFULL;
    }
    if (rc != 0) {
        conn_close(c);
    }
    return rc;
}

/* ---- receiving and framing ---- */

static void conn_touch(struct conn *c)
{
    struct stream_set *set = c->set;
    c->last_active_ms = loop_now_ms(set->loop);
    if (set->lru_tail != c) {
        lru_unlink(set, c);
        lru_append(set, c);
    }
}

static void conn_deliver(struct conn *c, struct sv data)
{
    struct net_msg msg = {
        .data = data,
        .transport = c->transport,
        .src = c->remote,
        .local = c->local,
        .listener = c->listener,
        .conn_id = c->id,
        .is_outbound = c->is_outbound,
    };
    conn_touch(c);
    worker_deliver(c->set->worker, &msg);
}

/* The framer's view of a connection (net/framer.h). */
static void conn_pong(void *ctx)
{
    struct conn *c = ctx;
    if (conn_queue(c, SV("\r\n")) != 0) {
        conn_close(c);
        return;
    }
    conn_touch(c);
}

static void conn_touch_op(void *ctx)
{
    conn_touch(ctx);
}

static void conn_deliver_op(void *ctx, struct sv msg)
{
    conn_deliver(ctx, msg);
}

static void conn_fail_op(void *ctx, int code, const char *reason)
{
    conn_fail(ctx, code, reason);
}

static bool conn_is_closing_op(void *ctx)
{
    const struct conn *c = ctx;
    return c->is_closing;
}

static const struct framer_ops conn_framer_ops = {
    .pong = conn_pong,
    .touch = conn_touch_op,
    .deliver = conn_deliver_op,
    .fail = conn_fail_op,
    .is_closing = conn_is_closing_op,
};

static void conn_process_rx(struct conn *c)
{
    c->busy++;
    struct framer_result framed =
        framer_consume(sv_make(c->rx, c->rx_len), &c->set->limits, &conn_framer_ops, c);
    c->busy--;
    size_t off = framed.consumed;
    bool is_waiting_keepalive = framed.is_waiting_keepalive;
    bool has_delivered = framed.has_delivered;
    if (c->is_closing) {
        return;
    }
    if (off > 0) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
    }
    if (c->rx_len == 0 || is_waiting_keepalive) {
        c->msg_start_ms = 0;
    } else if (c->msg_start_ms == 0 || has_delivered) {
        /* The rest belongs to a message that started in this read. */
        c->msg_start_ms = loop_now_ms(c->set->loop);
    }
    if (c->rx_len == 0 && c->rx_cap > RX_KEEP_CAP) {
        /* A burst grew the buffer; an idle connection should not keep 64 KiB. */
        sw_free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
}

/* Makes room for the next read; returns the bytes that may be read, 0 when out of memory. */
static size_t conn_rx_reserve(struct conn *c)
{
    size_t max = c->set->limits.max_msg_bytes + 1;
    size_t want = max - c->rx_len < READ_CHUNK ? max - c->rx_len : READ_CHUNK;
    if (c->rx_cap - c->rx_len >= want) {
        return want;
    }
    size_t cap = c->rx_cap == 0 ? RX_INITIAL_CAP : c->rx_cap * 2;
    if (cap < c->rx_len + want) {
        cap = c->rx_len + want;
    }
    if (cap > max) {
        cap = max;
    }
    char *rx = sw_realloc(c->rx, cap);
    if (rx == NULL) {
        return 0;
    }
    c->rx = rx;
    c->rx_cap = cap;
    return cap - c->rx_len < want ? cap - c->rx_len : want;
}

/* One read into rx: >0 bytes, 0 when nothing more now, -1 when the connection closed. */
static long conn_read_once(struct conn *c)
{
    size_t room = conn_rx_reserve(c);
    if (room == 0) {
        conn_close(c);
        return -1;
    }
    if (c->ssl != NULL) {
        size_t n = 0;
        c->is_read_blocked_on_write = false;
        switch (net_tls_read(c->ssl, c->rx + c->rx_len, room, &n)) {
        case NET_TLS_DONE:
            return (long)n;
        case NET_TLS_WANT_READ:
            return 0;
        case NET_TLS_WANT_WRITE:
            c->is_read_blocked_on_write = true;
            return 0;
        default:
            c->is_tls_broken = true;
            conn_close(c);
            return -1;
        }
    }
    for (;;) {
        ssize_t n = recv(c->watch.fd, c->rx + c->rx_len, room, MSG_DONTWAIT);
        if (n > 0) {
            return (long)n;
        }
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        conn_close(c); /* EOF or reset: a partial message dies with the connection */
        return -1;
    }
}

static void conn_read(struct conn *c)
{
    /* A few reads per wake-up so that one fast peer cannot starve the others. */
    for (int round = 0; round < READS_PER_WAKE; round++) {
        long n = conn_read_once(c);
        if (n <= 0) {
            return;
        }
        c->has_received = true;
        c->rx_len += (size_t)n;
        conn_process_rx(c);
        if (c->is_closing) {
            return;
        }
    }
    /*
     * Decrypted bytes left inside OpenSSL do not make the socket readable again: drain
     * them now. Bounded by one TLS record (16 KiB), as SSL_read does not touch the socket
     * while it holds pending bytes.
     */
    while (c->ssl != NULL && net_tls_pending(c->ssl) > 0) {
        long n = conn_read_once(c);
        if (n <= 0) {
            return;
        }
        c->rx_len += (size_t)n;
        conn_process_rx(c);
        if (c->is_closing) {
            return;
        }
    }
}

/* ---- sending ---- */

/*
 * Appends to the send queue; -SW_EFULL when this peer is too far behind or the worker's
 * queues together hold their maximum (many peers that do not read cannot exhaust memory).
 */
static int conn_queue(struct conn *c, struct sv data)
{
    struct stream_set *set = c->set;
    SW_ASSERT(c->tx_off <= c->tx_len && c->tx_len <= c->tx_cap);
    size_t queued = c->tx_len - c->tx_off;
    if (data.len > set->max_queued_bytes - queued ||
        data.len > set->max_worker_queued_bytes - set->queued_bytes) {
        return -SW_EFULL;
    }
    if (c->tx_off > 0 && c->tx_len + data.len > c->tx_cap) {
        /* Moving unsent TLS bytes is allowed: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER. */
        memmove(c->tx, c->tx + c->tx_off, queued);
        c->tx_len = queued;
        c->tx_off = 0;
    }
    if (c->tx_len + data.len > c->tx_cap) {
        size_t cap = c->tx_cap == 0 ? RX_INITIAL_CAP : c->tx_cap;
        while (cap < c->tx_len + data.len) {
            cap *= 2;
        }
        char *tx = sw_realloc(c->tx, cap);
        if (tx == NULL) {
            return -ENOMEM;
        }
        c->tx = tx;
        c->tx_cap = cap;
    }
    memcpy(c->tx + c->tx_len, data.ptr, data.len);
    c->tx_len += data.len;
    set->queued_bytes += data.len;
    return 0;
}

/* One write from the queue: >0 bytes sent, 0 when the socket is full, -1 on failure. */
static long conn_write_once(struct conn *c)
{
    const char *buf = c->tx + c->tx_off;
    size_t len = c->tx_len - c->tx_off;
    if (c->ssl != NULL) {
        size_t n = 0;
        c->is_write_blocked_on_read = false;
        switch (net_tls_write(c->ssl, buf, len, &n)) {
        case NET_TLS_DONE:
            return (long)n;
        case NET_TLS_WANT_WRITE:
            return 0;
        case NET_TLS_WANT_READ:
            c->is_write_blocked_on_read = true;
            return 0;
        default:
            c->is_tls_broken = true;
            return -1;
        }
    }
    for (;;) {
        ssize_t n = send(c->watch.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) {
            return (long)n;
        }
        if (errno == EINTR) {
            continue;
        }
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
}

/* Sends what the socket takes; closes the connection on a write error. */
static void conn_flush(struct conn *c)
{
    if (c->state != CONN_OPEN) {
        return;
    }
    /* Bounded: each round sends at least one byte of the bounded queue, or stops. */
    while (c->tx_off < c->tx_len) {
        long n = conn_write_once(c);
        if (n < 0) {
            conn_close(c);
            return;
        }
        if (n == 0) {
            return;
        }
        c->tx_off += (size_t)n;
        c->set->queued_bytes -= (size_t)n;
    }
    c->tx_off = 0;
    c->tx_len = 0;
    if (c->tx_cap > RX_KEEP_CAP) {
        sw_free(c->tx);
        c->tx = NULL;
        c->tx_cap = 0;
    }
}

/* ---- connection events ---- */

static void conn_set_open(struct conn *c)
{
    c->state = CONN_OPEN;
    c->last_active_ms = loop_now_ms(c->set->loop);
    conn_flush(c);
    if (!c->is_closing && c->ssl != NULL) {
        conn_read(c); /* application data may have arrived with the last handshake flight */
    }
}

static void conn_handshake(struct conn *c)
{
    switch (net_tls_handshake(c->ssl)) {
    case NET_TLS_DONE:
        c->is_handshake_writing = false;
        conn_set_open(c);
        return;
    case NET_TLS_WANT_READ:
        c->is_handshake_writing = false;
        return;
    case NET_TLS_WANT_WRITE:
        c->is_handshake_writing = true;
        return;
    case NET_TLS_CLOSED:
        /* A peer that connects and leaves (a port scan, a client giving up) said nothing
           malformed; its handshake timeout or the connection limit bound the cost. */
        conn_close(c);
        return;
    default:
        break;
    }
    char why[160];
    net_tls_describe_failure(c->ssl, why, sizeof(why));
    char addr[SW_ADDR_STRLEN];
    struct log_ctx ctx;
    conn_log_ctx(c, &ctx, addr, sizeof(addr));
    if (c->is_outbound) {
        /* Our own connection failing verification is an operator problem, not a peer's. */
        log_warn(&ctx, "tls: handshake with %s failed: %s",
                 c->server_name != NULL ? c->server_name : addr, why);
        conn_close(c);
        return;
    }
    log_debug(&ctx, "tls: handshake failed: %s", why);
    conn_fail(c, -SW_ETLS, "TLS handshake failed");
}

static void conn_connected(struct conn *c)
{
    int error = 0;
    socklen_t len = sizeof(error);
    if (getsockopt(c->watch.fd, SOL_SOCKET, SO_ERROR, &error, &len) == -1) {
        error = errno;
    }
    if (error != 0) {
        char addr[SW_ADDR_STRLEN];
        struct log_ctx ctx;
        conn_log_ctx(c, &ctx, addr, sizeof(addr));
        log_info(&ctx, "stream: connect failed: %s", sw_strerror(error));
        conn_close(c);
        return;
    }
    /* Our end of the connection; failure leaves it zeroed, which only affects logs. */
    (void)net_socket_local_addr(c->watch.fd, &c->local);
    if (c->ssl != NULL) {
        c->state = CONN_HANDSHAKE;
        conn_handshake(c);
        return;
    }
    conn_set_open(c);
}

static void conn_io(struct loop *loop, uint32_t events, void *ctx)
{
    (void)loop;
    struct conn *c = ctx;
    c->busy++;
    if (c->state == CONN_CONNECTING) {
        conn_connected(c);
    } else if (c->state == CONN_HANDSHAKE) {
        conn_handshake(c);
    } else {
        bool is_writable = (events & EPOLLOUT) != 0;
        bool is_readable = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
        if (is_writable || (is_readable && c->is_write_blocked_on_read)) {
            conn_flush(c);
        }
        if (!c->is_closing && (is_readable || (is_writable && c->is_read_blocked_on_write))) {
            conn_read(c);
        }
    }
    /* Still busy, so that a failure below marks the connection instead of freeing it. */
    if (!c->is_closing) {
        conn_update_events(c);
    }
    if (!c->is_closing && !conn_arm(c)) {
        conn_close(c);
    }
    c->busy--;
    if (c->is_closing) {
        conn_close(c);
    }
}

int conn_send(struct conn *c, struct sv data)
{
    int rc = conn_queue(c, data);
    if (rc == -SW_EFULL) {
        /* The peer does not read: dropping single messages would leave a connection that
           looks alive and loses transactions, so end it (RFC 3261 §18 reliable transports
           do not retransmit). */
        log_debug(NULL, "stream: send queue full, closing the connection");
        conn_close(c);
        return rc;
    }
    if (rc != 0) {
        return rc;
    }
    conn_touch(c);
    c->busy++;
    conn_flush(c);
    if (!c->is_closing) {
        conn_update_events(c);
    }
    c->busy--;
    if (c->is_closing) {
        conn_close(c);
        return -ECONNRESET;
    }
    return 0;
}
