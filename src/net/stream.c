/*
 * Stream transports (see stream.h): the set of one worker, its listeners and accepting,
 * outbound connects and stream_send(). The connections themselves live in conn.c, the
 * OpenSSL calls in tls.c.
 */
#include "net/stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "net/conn.h"
#include "net/loop.h"
#include "net/tls.h"
#include "net/udp.h"
#include "net/worker.h"
#include "sip/msg.h"

#define LISTEN_BACKLOG           1024
#define ACCEPTS_PER_WAKE         64
#define ACCEPT_PAUSE_MS          100
#define DEFAULT_MAX_CONNECTIONS  4096
#define DEFAULT_IDLE_MS          120000
#define DEFAULT_FIRST_BYTE_MS    5000
#define DEFAULT_HANDSHAKE_MS     5000
#define DEFAULT_MESSAGE_MS       10000
#define DEFAULT_MAX_QUEUED_BYTES ((size_t)256 * 1024)
/* All send queues of one worker together (not configurable: a memory bound). */
#define MAX_WORKER_QUEUED_BYTES  ((size_t)64 * 1024 * 1024)

unsigned stream_conn_owner(uint64_t conn_id)
{
    return (unsigned)(conn_id & ((1u << CONN_ID_WORKER_BITS) - 1));
}

size_t stream_set_connection_count(const struct stream_set *set)
{
    return set->conn_count;
}

static size_t listener_for(const struct stream_set *set, enum sw_transport transport,
                           sa_family_t family)
{
    for (size_t i = 0; i < set->listener_count; i++) {
        if (set->listeners[i].transport == transport &&
            set->listeners[i].addr.ss_family == family) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* ---- accepting ---- */

static void listener_resume(struct loop *loop, void *ctx)
{
    struct stream_listener *l = ctx;
    if (loop_watch_mod(loop, &l->watch, EPOLLIN) != 0) {
        log_err(NULL, "stream: cannot resume accepting on listener %zu", l->index);
    }
}

/* Out of descriptors: stop accepting for a moment instead of spinning on a ready socket. */
static void listener_pause(struct stream_listener *l, int err)
{
    log_warn(NULL, "stream: accept failed on listener %zu: %s; pausing %d ms", l->index,
             sw_strerror(err), ACCEPT_PAUSE_MS);
    struct loop *loop = l->set->loop;
    if (loop_watch_mod(loop, &l->watch, 0) != 0 ||
        loop_timer_start(loop, &l->pause_timer, ACCEPT_PAUSE_MS, listener_resume, l) != 0) {
        (void)loop_watch_mod(loop, &l->watch, EPOLLIN); /* keep accepting rather than stop */
    }
}

static void listener_adopt(struct stream_listener *l, int fd, const struct sockaddr_storage *remote)
{
    struct stream_set *set = l->set;
    if (set->conn_count >= set->max_connections) {
        log_debug(NULL, "stream: connection limit %zu reached, refusing a connection",
                  set->max_connections);
        (void)close(fd);
        return;
    }
    size_t counter = SIZE_MAX;
    if (!worker_source_admit(set->worker, remote, &counter)) {
        char addr[SW_ADDR_STRLEN];
        sw_sockaddr_format(remote, addr, sizeof(addr));
        log_debug(NULL, "stream: %s holds its most connections, refusing another", addr);
        (void)close(fd);
        return;
    }
    int one = 1;
    /* SIP messages are written whole: do not hold back their last segment. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct conn *c = conn_new(set, fd, l->transport, remote);
    if (c == NULL) {
        worker_source_release(set->worker, counter);
        return;
    }
    c->source_counter = counter;
    c->listener = l->index;
    c->local = set->listeners[l->index].addr;
    (void)net_socket_local_addr(fd, &c->local); /* the exact address when bound to any */
    if (l->transport == SW_TRANSPORT_TLS) {
        c->ssl = net_tls_new_server(set->tls, fd);
        if (c->ssl == NULL) {
            conn_close(c);
            return;
        }
        c->state = CONN_HANDSHAKE;
    } else {
        c->state = CONN_OPEN;
    }
    (void)conn_start(c);
}

static void listener_accept(struct loop *loop, uint32_t events, void *ctx)
{
    (void)loop;
    (void)events;
    struct stream_listener *l = ctx;
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        struct sockaddr_storage remote;
        socklen_t len = sizeof(remote);
        memset(&remote, 0, sizeof(remote));
        int fd =
            accept4(l->watch.fd, (struct sockaddr *)&remote, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            listener_adopt(l, fd, &remote);
            continue;
        }
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
            return;
        }
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            listener_pause(l, -err);
            return;
        }
        /* EINTR, ECONNABORTED, EPROTO...: that one connection is gone; try the next. */
    }
}

static int listener_open(struct stream_set *set, struct net_listener *nl, size_t index)
{
    int fd = socket(nl->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -errno;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        (nl->addr.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
        bind(fd, (const struct sockaddr *)&nl->addr, sw_sockaddr_len(&nl->addr)) == -1 ||
        listen(fd, LISTEN_BACKLOG) == -1) {
        int err = -errno;
        (void)close(fd);
        return err;
    }
    if (sw_sockaddr_port(&nl->addr) == 0) {
        /* Port 0 (tests): the first worker learns the port, the others reuse it. */
        int rc = net_socket_local_addr(fd, &nl->addr);
        if (rc != 0) {
            (void)close(fd);
            return rc;
        }
    }
    if (set->on_socket != NULL) {
        set->on_socket(set->socket_ctx, fd, nl->transport);
    }
    struct stream_listener *l = &set->socks[set->sock_count++];
    *l = (struct stream_listener){
        .watch = { .fd = fd, .fn = listener_accept, .ctx = l },
        .set = set,
        .index = index,
        .transport = nl->transport,
    };
    return loop_watch_add(set->loop, &l->watch, EPOLLIN);
}

/* ---- connecting ---- */

/* Makes room for an outbound connection by closing the least recently active one. */
static bool evict_one(struct stream_set *set)
{
    struct conn *c = set->lru_head;
    /* Bounded by max_connections; only the connection being delivered is ever busy. */
    while (c != NULL && (c->busy > 0 || c->is_closing)) {
        c = c->lru_next;
    }
    if (c == NULL) {
        return false;
    }
    log_debug(NULL, "stream: connection limit reached, closing the longest idle one");
    conn_close(c);
    return true;
}

static int conn_connect_socket(const struct sockaddr_storage *addr, int *out)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -errno;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = 0;
    do {
        rc = connect(fd, (const struct sockaddr *)addr, sw_sockaddr_len(addr));
    } while (rc == -1 && errno == EINTR);
    if (rc == -1 && errno != EINPROGRESS) {
        int err = -errno;
        (void)close(fd);
        return err;
    }
    *out = fd;
    return 0;
}

static int conn_connect(struct stream_set *set, const struct net_dest *dst, struct conn **out)
{
    if (dst->transport == SW_TRANSPORT_TLS && set->tls == NULL) {
        return -EPROTONOSUPPORT;
    }
    if (set->conn_count >= set->max_connections && !evict_one(set)) {
        return -SW_EFULL;
    }
    int fd = -1;
    int rc = conn_connect_socket(&dst->addr, &fd);
    if (rc != 0) {
        return rc;
    }
    struct conn *c = conn_new(set, fd, dst->transport, &dst->addr);
    if (c == NULL) {
        return -ENOMEM;
    }
    c->is_outbound = true;
    c->state = CONN_CONNECTING;
    c->listener = listener_for(set, dst->transport, dst->addr.ss_family);
    if (dst->transport == SW_TRANSPORT_TLS) {
        c->ssl = net_tls_new_client(set->tls, fd, dst->tls_server_name, &dst->addr);
        if (dst->tls_server_name != NULL) {
            c->server_name = sw_strdup(dst->tls_server_name);
        }
        if (c->ssl == NULL || (dst->tls_server_name != NULL && c->server_name == NULL)) {
            conn_close(c);
            return -SW_ETLS;
        }
    }
    rc = conn_start(c);
    if (rc != 0) {
        return rc;
    }
    *out = c;
    return 0;
}

int stream_send(struct stream_set *set, const struct net_dest *dst, struct sv data)
{
    if (dst->transport != SW_TRANSPORT_TCP && dst->transport != SW_TRANSPORT_TLS) {
        return -EPROTONOSUPPORT;
    }
    struct conn *c = NULL;
    if (dst->conn_id != 0 && stream_conn_owner(dst->conn_id) == worker_index(set->worker)) {
        c = conn_by_id(set, dst->conn_id);
    }
    if (c == NULL) {
        c = conn_by_addr(set, dst);
    }
    if (c == NULL) {
        int rc = conn_connect(set, dst, &c);
        if (rc != 0) {
            return rc;
        }
    }
    return conn_send(c, data);
}

/* ---- the set ---- */

static int set_alloc_tables(struct stream_set *set, size_t max_connections)
{
    set->max_connections = max_connections;
    size_t buckets = 16;
    while (buckets < max_connections) {
        buckets *= 2;
    }
    set->bucket_mask = buckets - 1;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers is meant. */
    set->slots = sw_calloc(max_connections, sizeof(*set->slots));
    set->free_slots = sw_calloc(max_connections, sizeof(*set->free_slots));
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers is meant. */
    set->buckets = sw_calloc(buckets, sizeof(*set->buckets));
    if (set->slots == NULL || set->free_slots == NULL || set->buckets == NULL) {
        return -ENOMEM;
    }
    /* Lowest slot on top, so slots are reused in order (easier to read in logs). */
    for (size_t i = 0; i < max_connections; i++) {
        set->free_slots[i] = max_connections - 1 - i;
    }
    set->free_count = max_connections;
    return 0;
}

static void set_apply_settings(struct stream_set *set, const struct net_settings *s)
{
    sip_limits_default(&set->limits);
    set->idle_ms = s->idle_timeout_ms != 0 ? s->idle_timeout_ms : DEFAULT_IDLE_MS;
    set->first_byte_ms =
        s->first_byte_timeout_ms != 0 ? s->first_byte_timeout_ms : DEFAULT_FIRST_BYTE_MS;
    set->handshake_ms =
        s->handshake_timeout_ms != 0 ? s->handshake_timeout_ms : DEFAULT_HANDSHAKE_MS;
    set->message_ms = s->message_timeout_ms != 0 ? s->message_timeout_ms : DEFAULT_MESSAGE_MS;
    set->max_queued_bytes =
        s->max_queued_bytes != 0 ? s->max_queued_bytes : DEFAULT_MAX_QUEUED_BYTES;
    set->max_worker_queued_bytes = MAX_WORKER_QUEUED_BYTES > set->max_queued_bytes
                                       ? MAX_WORKER_QUEUED_BYTES
                                       : set->max_queued_bytes;
    set->tls = s->tls;
    set->on_socket = s->on_socket;
    set->socket_ctx = s->socket_ctx;
}

/*
 * OpenSSL writes to sockets with write(2), which raises SIGPIPE when the peer has reset
 * the connection; that must not kill the gateway. Left alone when someone installed a
 * handler.
 */
static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction ignore;
        memset(&ignore, 0, sizeof(ignore));
        ignore.sa_handler = SIG_IGN;
        (void)sigemptyset(&ignore.sa_mask);
        (void)sigaction(SIGPIPE, &ignore, NULL);
    }
}

static int set_open_listeners(struct stream_set *set, struct net_listener *listeners,
                              size_t listener_count)
{
    for (size_t i = 0; i < listener_count; i++) {
        struct net_listener *nl = &listeners[i];
        if (nl->transport != SW_TRANSPORT_TCP && nl->transport != SW_TRANSPORT_TLS) {
            continue;
        }
        if (nl->transport == SW_TRANSPORT_TLS && !net_tls_can_serve(set->tls)) {
            return -EPROTONOSUPPORT;
        }
        if (set->sock_count == MAX_STREAM_LISTENERS) {
            return -SW_EFULL;
        }
        int rc = listener_open(set, nl, i);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int stream_set_new(struct worker *worker, struct loop *loop, struct net_listener *listeners,
                   size_t listener_count, const struct net_settings *settings,
                   struct stream_set **out)
{
    size_t max_connections =
        settings->max_connections != 0 ? settings->max_connections : DEFAULT_MAX_CONNECTIONS;
    if (max_connections > CONN_ID_MAX_SLOTS) {
        return -SW_EBADARG;
    }
    struct stream_set *set = sw_calloc(1, sizeof(*set));
    if (set == NULL) {
        return -ENOMEM;
    }
    set->worker = worker;
    set->loop = loop;
    set->listeners = listeners;
    set->listener_count = listener_count;
    set_apply_settings(set, settings);
    int rc = set_alloc_tables(set, max_connections);
    if (rc == 0) {
        rc = set_open_listeners(set, listeners, listener_count);
    }
    if (rc != 0) {
        stream_set_free(set);
        return rc;
    }
    ignore_sigpipe();
    *out = set;
    return 0;
}

void stream_set_free(struct stream_set *set)
{
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < set->sock_count; i++) {
        loop_timer_stop(set->loop, &set->socks[i].pause_timer);
        (void)loop_watch_del(set->loop, &set->socks[i].watch);
        (void)close(set->socks[i].watch.fd);
    }
    /* Bounded by max_connections: every round frees one connection. */
    while (set->lru_head != NULL) {
        struct conn *c = set->lru_head;
        c->busy = 0;
        c->is_closing = true;
        conn_destroy(c);
    }
    sw_free(set->slots);
    sw_free(set->free_slots);
    sw_free(set->buckets);
    sw_free(set);
}
