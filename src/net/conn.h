/*
 * Stream connections, internal to src/net: the per-worker connection table (slots by
 * conn_id, chains by remote address, a list by last activity) and the life of one
 * connection (connect, TLS handshake, reading and framing, the send queue, timeouts).
 * stream.c owns the listeners and the set; conn.c the connections. Everything here runs
 * in the owning worker's thread.
 *
 * Lifetime: a connection is heap-allocated when accepted or connected and freed when
 * closed. While its bytes are being handled (`busy` > 0) the application may send on it or
 * cause it to be closed, so conn_close() then only marks it; the handler frees it when it
 * returns.
 */
#ifndef SW_NET_CONN_H
#define SW_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/event.h"
#include "base/sv.h"
#include "net/loop.h"
#include "net/worker.h"
#include "sip/msg.h"

#define MAX_STREAM_LISTENERS 16

/* conn_id layout: worker index (8 bits) | slot (24 bits) | serial (32 bits, never 0). */
#define CONN_ID_WORKER_BITS 8
#define CONN_ID_SLOT_BITS   24
#define CONN_ID_MAX_SLOTS   ((size_t)1 << CONN_ID_SLOT_BITS)

struct worker;
struct net_dest;
struct net_listener;
struct net_tls_settings;
struct ssl_st;

enum conn_state {
    CONN_CONNECTING, /* outbound TCP connect in progress */
    CONN_HANDSHAKE,  /* TLS handshake in progress */
    CONN_OPEN,
};

struct conn {
    struct loop_watch watch;
    struct loop_timer timer;
    struct stream_set *set;
    uint64_t id;
    size_t slot;
    enum sw_transport transport;
    enum conn_state state;
    bool is_outbound;
    bool is_closing; /* closed while busy: freed when the delivery returns */
    unsigned busy;
    uint32_t events; /* registered with epoll */
    struct ssl_st *ssl;
    bool is_read_blocked_on_write; /* SSL_read wants the socket writable */
    bool is_write_blocked_on_read; /* SSL_write wants the socket readable */
    bool is_handshake_writing;     /* the handshake wants the socket writable */
    bool is_tls_broken;            /* a TLS read or write failed: no close_notify */
    bool has_received;             /* a byte arrived after the handshake */
    size_t source_counter;         /* worker_source_admit's counter; SIZE_MAX = none */
    struct sockaddr_storage remote;
    struct sockaddr_storage local;
    size_t listener;
    char *server_name; /* outbound TLS: the name verified, or NULL (the IP) */
    uint64_t started_ms;
    uint64_t last_active_ms;
    uint64_t msg_start_ms; /* first byte of the message being received; 0 = none */
    uint64_t deadline_ms;  /* what `timer` is armed for */
    char *rx;
    size_t rx_len;
    size_t rx_cap;
    char *tx;
    size_t tx_off; /* bytes of tx already sent */
    size_t tx_len;
    size_t tx_cap;
    struct conn *addr_next; /* address table chain */
    struct conn *lru_prev;  /* towards the least recently active */
    struct conn *lru_next;
};

struct stream_listener {
    struct loop_watch watch;
    struct loop_timer pause_timer; /* re-enables accepting after fd exhaustion */
    struct stream_set *set;
    size_t index;
    enum sw_transport transport;
};

struct stream_set {
    struct worker *worker;
    struct loop *loop;
    const struct net_tls_settings *tls;
    net_socket_fn *on_socket; /* net_settings.on_socket */
    void *socket_ctx;
    const struct net_listener *listeners;
    size_t listener_count;
    struct stream_listener socks[MAX_STREAM_LISTENERS];
    size_t sock_count;
    struct sip_limits limits;
    uint64_t idle_ms;
    uint64_t first_byte_ms; /* accepted connections that have sent nothing yet */
    uint64_t handshake_ms;
    uint64_t message_ms;
    size_t max_queued_bytes;        /* per connection */
    size_t max_worker_queued_bytes; /* all connections of the set together */
    size_t queued_bytes;            /* unsent bytes of all connections */
    size_t max_connections;
    size_t conn_count;
    struct conn **slots; /* max_connections entries */
    size_t *free_slots;  /* stack of unused slot numbers */
    size_t free_count;
    struct conn **buckets; /* address table, a power of two */
    size_t bucket_mask;
    struct conn *lru_head; /* least recently active */
    struct conn *lru_tail;
    uint32_t next_serial;
};

/*
 * A connection on `fd` (owned from now on) to `remote`, entered in the tables. NULL when
 * out of memory or out of slots (fd closed). The caller sets the state and the rest,
 * then calls conn_start().
 */
struct conn *conn_new(struct stream_set *set, int fd, enum sw_transport transport,
                      const struct sockaddr_storage *remote);

/* Registers with epoll and arms the timer; on failure closes it and returns -errno/-SW_E…. */
int conn_start(struct conn *c);

/* Closes now, or marks it for closing when busy. */
void conn_close(struct conn *c);

/* Frees a connection at once whatever its state (stream_set_free). */
void conn_destroy(struct conn *c);

/* The open connection with this id, or NULL. */
struct conn *conn_by_id(struct stream_set *set, uint64_t conn_id);

/* An open connection to dst->addr over dst->transport usable for dst (TLS: same name). */
struct conn *conn_by_addr(struct stream_set *set, const struct net_dest *dst);

/*
 * Queues `data` and sends what the socket takes now. Returns 0, -ENOMEM, -SW_EFULL when
 * the bounded queue is full (the connection is then closed: its peer does not read), or
 * -ECONNRESET when the connection failed (closed).
 */
int conn_send(struct conn *c, struct sv data);

#endif
