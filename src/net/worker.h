/*
 * Workers: N threads, each with its own event loop, its own SO_REUSEPORT socket per UDP
 * listener, and its own stream (TCP/TLS) connections. A worker hands every complete
 * message to the application's on_message callback, in the worker's thread.
 *
 * Threads: functions taking `struct worker *` run in that worker's thread, except
 * worker_post() and worker_index(), which any thread may call. net_group_* are for the
 * main thread.
 */
#ifndef SW_NET_WORKER_H
#define SW_NET_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/event.h"
#include "base/sv.h"

struct loop;
struct worker;
struct net_group;
struct net_tls_settings;
struct net_steer;

/* One address the gateway listens on. */
struct net_listener {
    enum sw_transport transport;
    struct sockaddr_storage addr;
};

/* A complete message as received; `data` is valid only during the callback. */
struct net_msg {
    struct sv data;
    enum sw_transport transport;
    struct sockaddr_storage src;   /* the transport source; the only address we trust */
    struct sockaddr_storage local; /* the listener's address */
    size_t listener;               /* index into the listener list; on a connection we
                                      opened: the first listener of the same transport and
                                      family, or SIZE_MAX when there is none */
    uint64_t conn_id;              /* stream connection (0 for UDP) */
    bool is_outbound;              /* stream: the connection was opened by us */
};

/* Where to send. */
struct net_dest {
    enum sw_transport transport;
    struct sockaddr_storage addr;
    size_t listener;             /* UDP: listener to send from; SIZE_MAX = first of the family */
    uint64_t conn_id;            /* stream: connection to reuse when still open; 0 = by address */
    const char *tls_server_name; /* TLS: name to verify (NULL = verify the IP) */
};

/*
 * Why this worker closed a stream connection on its own: bytes that cannot be SIP
 * (framing error, oversize), a failed TLS handshake, or a peer too slow to complete a
 * handshake or a message (slowloris). The gateway counts it as malformed traffic from
 * `src`. Not reported: orderly closes, idle timeouts, resets and the connection limit.
 */
struct net_stream_error {
    enum sw_transport transport;
    struct sockaddr_storage src;   /* the peer */
    struct sockaddr_storage local; /* our end */
    size_t listener;               /* as in struct net_msg */
    uint64_t conn_id;
    int code;           /* -SW_EBADMSG, -SW_ETOOBIG, -SW_ETLS or -ETIMEDOUT */
    const char *reason; /* static text for logs, e.g. "missing Content-Length" */
};

typedef void net_msg_fn(void *app, struct worker *worker, const struct net_msg *msg);
typedef void net_stream_error_fn(void *app, struct worker *worker,
                                 const struct net_stream_error *error);
typedef void worker_task_fn(struct worker *worker, void *arg);
typedef void worker_hook_fn(void *app, struct worker *worker);
typedef void net_socket_fn(void *ctx, int fd, enum sw_transport transport);
/* True when `src` is a side the application knows (its peers, not strangers). */
typedef bool net_source_known_fn(void *app, struct worker *worker,
                                 const struct sockaddr_storage *src);

struct net_handlers {
    net_msg_fn *on_message;
    worker_hook_fn *on_start; /* in the worker thread, before its loop runs (may be NULL) */
    worker_hook_fn *on_stop;  /* in the worker thread, after its loop ended (may be NULL) */
    net_stream_error_fn *on_stream_error; /* in the worker thread (may be NULL) */
    /* In a worker thread, at each accept: which per-source cap applies (may be NULL:
       every source gets max_connections_per_unknown_source). */
    net_source_known_fn *is_source_known;
};

struct net_settings {
    unsigned worker_count;              /* 0 = one per core */
    size_t max_timers;                  /* per worker */
    size_t max_connections;             /* per worker, streams */
    size_t max_connections_total;       /* all workers together, split evenly; when set,
                                           it replaces max_connections */
    size_t post_queue_cap;              /* per worker, cross-worker tasks */
    const struct net_tls_settings *tls; /* NULL = no TLS listeners or outbound TLS */
    /* Called in net_group_new for every socket that receives from peers, once bound: each
       worker's UDP socket of each listener and each TCP/TLS listening socket (the
       connections it accepts inherit socket filters). NULL = none. A failure is the
       hook's to report: the socket is used all the same. */
    net_socket_fn *on_socket;
    void *socket_ctx;
    /* Streams; 0 selects the default in parentheses. */
    uint32_t idle_timeout_ms;      /* close after this long without a message (120 s) */
    uint32_t handshake_timeout_ms; /* TCP connect + TLS handshake must finish within (5 s) */
    uint32_t message_timeout_ms;   /* a message must be complete this long after its first
                                      byte (10 s): slowloris */
    size_t max_queued_bytes;       /* unsent bytes per connection; a send beyond it fails
                                      and closes the connection: its peer does not read
                                      (256 KiB; all of a worker's queues: 64 MiB at most) */
    /* Accepted connections held by one source address at once, over all workers; an
       accept beyond the cap is closed at once. 0 = no cap. */
    uint32_t max_connections_per_source;         /* sources is_source_known() names */
    uint32_t max_connections_per_unknown_source; /* every other source */
    unsigned source_v6_prefix_len;  /* IPv6 sources count per prefix (0 = the address) */
    uint32_t first_byte_timeout_ms; /* an accepted connection (after its TLS handshake)
                                       that has sent nothing closes after this (5 s) */
    /* With more than one worker: the kernel hands each UDP datagram to the worker owning
       its Call-ID (net/steer.h). Where the kernel refuses, net_group_steer_why says why. */
    bool steer_udp;
    /* Each worker waits and receives UDP through an io_uring (net/uring.h); where the
       kernel refuses, epoll, and net_group_ring_refused says why. */
    bool use_ring;
};

/*
 * Opens every listener on every worker (threads not started yet). Returns 0 and *out, or
 * -errno/-SW_E… with `errbuf` describing which listener failed.
 */
int net_group_new(const struct net_listener *listeners, size_t listener_count,
                  const struct net_settings *settings, const struct net_handlers *handlers,
                  void *app, struct net_group **out, char *errbuf, size_t errcap);

/* The workers net_group_new starts for `configured` (0 = one per core, capped). */
unsigned net_worker_count(unsigned configured);

/* Starts the worker threads. Returns 0 or -errno. */
int net_group_start(struct net_group *group);

/* Stops every worker and joins them; safe to call once after start. */
void net_group_stop(struct net_group *group);

/* Closes everything; NULL is a no-op. */
void net_group_free(struct net_group *group);

unsigned net_group_worker_count(const struct net_group *group);
struct worker *net_group_worker(struct net_group *group, unsigned index);

/* The UDP steering program (net/steer.h) when attached, else NULL. */
const struct net_steer *net_group_steer(const struct net_group *group);

/* Why UDP steering is off ("" when it is on). */
const char *net_group_steer_why(const struct net_group *group);

/* Whether the workers wait in an io_uring; else why not (-errno; 0 when not asked). */
bool net_group_has_ring(const struct net_group *group);
int net_group_ring_refused(const struct net_group *group);

/* The actual address of listener `index` (after binding port 0, the chosen port). */
const struct net_listener *net_group_listener(const struct net_group *group, size_t index);
size_t net_group_listener_count(const struct net_group *group);

/*
 * The worker's thread: counts an accepted connection from `src` against its source's
 * cap. True and *counter (for worker_source_release), or false: refuse the connection.
 */
bool worker_source_admit(struct worker *worker, const struct sockaddr_storage *src,
                         size_t *counter);

/* Ends what worker_source_admit counted. Any worker's thread. */
void worker_source_release(struct worker *worker, size_t counter);

/* This worker's index, 0..count-1. Any thread. */
unsigned worker_index(const struct worker *worker);
struct loop *worker_loop(struct worker *worker);
struct net_group *worker_group(struct worker *worker);

/* Per-worker application state (set in on_start). */
void worker_set_app_state(struct worker *worker, void *state);
void *worker_app_state(struct worker *worker);

/*
 * Any thread: runs fn(target, arg) in `target`'s thread soon. `arg` is owned by the task.
 * Returns 0 or -SW_EFULL when the target's queue is full (the caller still owns `arg`).
 */
int worker_post(struct worker *target, worker_task_fn *fn, void *arg);

/*
 * Sends `data` to `dst` from this worker. Streams owned by another worker are handed to
 * it (the data is copied). Returns 0 or -errno/-SW_E… (the message is then lost; the
 * transaction layer retransmits or times out).
 */
int worker_send(struct worker *worker, const struct net_dest *dst, struct sv data);

/* Stream connections open in this worker (accepted, outbound, in handshake); its thread. */
size_t worker_connection_count(const struct worker *worker);

/* Called by the transports of this worker for each complete received message. */
void worker_deliver(struct worker *worker, const struct net_msg *msg);

/* Called by the stream transports of this worker when they close a misbehaving peer. */
void worker_report_stream_error(struct worker *worker, const struct net_stream_error *error);

#endif
