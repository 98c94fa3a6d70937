#include "net/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "net/loop.h"
#include "net/srccap.h"
#include "net/steer.h"
#include "net/stream.h"
#include "net/udp.h"

#define MAX_LISTENERS  16
#define MAX_WORKERS    128
#define DEFAULT_TIMERS 262144
#define DEFAULT_POSTS  65536

struct post_task {
    worker_task_fn *fn;
    void *arg;
};

struct udp_socket {
    struct loop_dgram dgram;
    struct worker *worker;
    size_t listener;
};

struct worker {
    unsigned index;
    struct net_group *group;
    struct loop *loop;
    pthread_t thread;
    bool is_started;
    struct udp_socket udp[MAX_LISTENERS];
    size_t udp_count;
    struct stream_set *streams;
    void *app_state;
    /* Cross-worker tasks: a mutex-protected ring, drained on wake. Bounded. */
    pthread_mutex_t post_lock;
    struct post_task *posts;
    size_t post_cap;
    size_t post_head;
    size_t post_count;
};

struct net_group {
    struct net_listener listeners[MAX_LISTENERS];
    size_t listener_count;
    struct net_handlers handlers;
    void *app;
    struct worker *workers;
    unsigned worker_count;
    net_socket_fn *on_socket;
    void *socket_ctx;
    struct srccap *sources; /* NULL = no per-source cap */
    uint32_t max_per_known_source;
    uint32_t max_per_unknown_source;
    struct net_steer *steer; /* NULL = off */
    char steer_why[192];
    int ring_refused; /* why a worker could not wait in an io_uring (-errno); 0 = none */
};

unsigned worker_index(const struct worker *worker)
{
    return worker->index;
}

struct loop *worker_loop(struct worker *worker)
{
    return worker->loop;
}

struct net_group *worker_group(struct worker *worker)
{
    return worker->group;
}

void worker_set_app_state(struct worker *worker, void *state)
{
    worker->app_state = state;
}

void *worker_app_state(struct worker *worker)
{
    return worker->app_state;
}

unsigned net_group_worker_count(const struct net_group *group)
{
    return group->worker_count;
}

struct worker *net_group_worker(struct net_group *group, unsigned index)
{
    SW_ASSERT(index < group->worker_count);
    return &group->workers[index];
}

const struct net_listener *net_group_listener(const struct net_group *group, size_t index)
{
    SW_ASSERT(index < group->listener_count);
    return &group->listeners[index];
}

size_t net_group_listener_count(const struct net_group *group)
{
    return group->listener_count;
}

size_t worker_connection_count(const struct worker *worker)
{
    return worker->streams != NULL ? stream_set_connection_count(worker->streams) : 0;
}

bool worker_source_admit(struct worker *worker, const struct sockaddr_storage *src, size_t *counter)
{
    struct net_group *g = worker->group;
    if (g->sources == NULL) {
        *counter = SIZE_MAX;
        return true;
    }
    bool is_known =
        g->handlers.is_source_known != NULL && g->handlers.is_source_known(g->app, worker, src);
    uint32_t max = is_known ? g->max_per_known_source : g->max_per_unknown_source;
    return srccap_acquire(g->sources, src, max, counter);
}

void worker_source_release(struct worker *worker, size_t counter)
{
    if (counter != SIZE_MAX) {
        srccap_release(worker->group->sources, counter);
    }
}

void worker_deliver(struct worker *worker, const struct net_msg *msg)
{
    worker->group->handlers.on_message(worker->group->app, worker, msg);
}

void worker_report_stream_error(struct worker *worker, const struct net_stream_error *error)
{
    if (worker->group->handlers.on_stream_error != NULL) {
        worker->group->handlers.on_stream_error(worker->group->app, worker, error);
    }
}

static void udp_received(struct loop *loop, void *ctx, struct sv data,
                         const struct sockaddr_storage *src)
{
    (void)loop;
    struct udp_socket *sock = ctx;
    struct worker *w = sock->worker;
    struct net_msg msg = {
        .data = data,
        .transport = SW_TRANSPORT_UDP,
        .src = *src,
        .local = w->group->listeners[sock->listener].addr,
        .listener = sock->listener,
    };
    worker_deliver(w, &msg);
}

static void drain_posts(struct loop *loop, void *ctx)
{
    (void)loop;
    struct worker *w = ctx;
    /* Bounded by the queue's size at entry; tasks posted meanwhile wake the loop again. */
    for (;;) {
        struct post_task task;
        pthread_mutex_lock(&w->post_lock);
        if (w->post_count == 0) {
            pthread_mutex_unlock(&w->post_lock);
            return;
        }
        task = w->posts[w->post_head];
        w->post_head = (w->post_head + 1) % w->post_cap;
        w->post_count--;
        pthread_mutex_unlock(&w->post_lock);
        task.fn(w, task.arg);
    }
}

int worker_post(struct worker *target, worker_task_fn *fn, void *arg)
{
    pthread_mutex_lock(&target->post_lock);
    if (target->post_count == target->post_cap) {
        pthread_mutex_unlock(&target->post_lock);
        return -SW_EFULL;
    }
    size_t slot = (target->post_head + target->post_count) % target->post_cap;
    target->posts[slot] = (struct post_task){ .fn = fn, .arg = arg };
    target->post_count++;
    pthread_mutex_unlock(&target->post_lock);
    loop_wake(target->loop);
    return 0;
}

static int udp_socket_for(struct worker *w, const struct net_dest *dst)
{
    if (dst->listener < w->group->listener_count) {
        for (size_t i = 0; i < w->udp_count; i++) {
            if (w->udp[i].listener == dst->listener) {
                return w->udp[i].dgram.fd;
            }
        }
    }
    for (size_t i = 0; i < w->udp_count; i++) {
        if (w->group->listeners[w->udp[i].listener].addr.ss_family == dst->addr.ss_family) {
            return w->udp[i].dgram.fd;
        }
    }
    return -1;
}

struct stream_handoff {
    struct net_dest dst;
    size_t len;
    char data[];
};

static void stream_handoff_run(struct worker *worker, void *arg)
{
    struct stream_handoff *handoff = arg;
    /* A failed send here is like a lost datagram: the transaction layer copes. */
    (void)stream_send(worker->streams, &handoff->dst, sv_make(handoff->data, handoff->len));
    sw_free(handoff);
}

static int stream_send_via_owner(struct worker *w, const struct net_dest *dst, struct sv data)
{
    unsigned owner = stream_conn_owner(dst->conn_id);
    if (dst->conn_id == 0 || owner == w->index || owner >= w->group->worker_count) {
        return stream_send(w->streams, dst, data);
    }
    /* The name travels along: if the connection closed meanwhile, the owner connects
       anew and must verify the same name, not fall back to the IP. */
    size_t name_len = dst->tls_server_name != NULL ? strlen(dst->tls_server_name) + 1 : 0;
    struct stream_handoff *handoff = sw_malloc(sizeof(*handoff) + data.len + name_len);
    if (handoff == NULL) {
        return -ENOMEM;
    }
    handoff->dst = *dst;
    handoff->len = data.len;
    memcpy(handoff->data, data.ptr, data.len);
    if (name_len != 0) {
        memcpy(handoff->data + data.len, dst->tls_server_name, name_len);
        handoff->dst.tls_server_name = handoff->data + data.len;
    }
    int rc = worker_post(&w->group->workers[owner], stream_handoff_run, handoff);
    if (rc != 0) {
        sw_free(handoff);
    }
    return rc;
}

int worker_send(struct worker *worker, const struct net_dest *dst, struct sv data)
{
    if (dst->transport == SW_TRANSPORT_UDP) {
        int fd = udp_socket_for(worker, dst);
        if (fd < 0) {
            return -EAFNOSUPPORT;
        }
        return net_udp_send(fd, &dst->addr, data);
    }
    if (worker->streams == NULL) {
        return -EPROTONOSUPPORT;
    }
    return stream_send_via_owner(worker, dst, data);
}

static void describe(char *errbuf, size_t errcap, const struct net_listener *l, const char *what,
                     int rc)
{
    char addr[SW_ADDR_STRLEN];
    sw_sockaddr_format(&l->addr, addr, sizeof(addr));
    static const char *const names[] = { "udp", "tcp", "tls", "ws", "wss" };
    (void)snprintf(errbuf, errcap, "%s %s:%s: %s", what, names[l->transport], addr,
                   sw_strerror(rc));
}

static int worker_open_udp(struct worker *w, char *errbuf, size_t errcap)
{
    struct net_group *g = w->group;
    for (size_t i = 0; i < g->listener_count; i++) {
        struct net_listener *l = &g->listeners[i];
        if (l->transport != SW_TRANSPORT_UDP) {
            continue;
        }
        int fd = net_udp_open(&l->addr);
        if (fd < 0) {
            describe(errbuf, errcap, l, "cannot listen on", fd);
            return fd;
        }
        if (sw_sockaddr_port(&l->addr) == 0) {
            /* Port 0 (tests): the first worker learns the port, the others reuse it. */
            int rc = net_socket_local_addr(fd, &l->addr);
            if (rc != 0) {
                (void)close(fd);
                return rc;
            }
        }
        if (g->on_socket != NULL) {
            g->on_socket(g->socket_ctx, fd, l->transport);
        }
        struct udp_socket *sock = &w->udp[w->udp_count++];
        *sock = (struct udp_socket){
            .dgram = { .fd = fd, .fn = udp_received, .ctx = sock },
            .worker = w,
            .listener = i,
        };
        int rc = loop_dgram_add(w->loop, &sock->dgram);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int worker_init(struct worker *w, const struct net_settings *s, char *errbuf, size_t errcap)
{
    size_t timers = s->max_timers != 0 ? s->max_timers : DEFAULT_TIMERS;
    w->post_cap = s->post_queue_cap != 0 ? s->post_queue_cap : DEFAULT_POSTS;
    w->posts = sw_calloc(w->post_cap, sizeof(*w->posts));
    w->loop = loop_new(timers, drain_posts, w);
    if (w->posts == NULL || w->loop == NULL || pthread_mutex_init(&w->post_lock, NULL) != 0) {
        (void)snprintf(errbuf, errcap, "worker %u: out of memory", w->index);
        return -ENOMEM;
    }
    if (s->use_ring) {
        int refused = loop_use_ring(w->loop);
        if (refused != 0) {
            w->group->ring_refused = refused;
        }
    }
    int rc = worker_open_udp(w, errbuf, errcap);
    if (rc != 0) {
        return rc;
    }
    rc = stream_set_new(w, w->loop, w->group->listeners, w->group->listener_count, s, &w->streams);
    if (rc != 0) {
        (void)snprintf(errbuf, errcap, "worker %u: stream transports: %s", w->index,
                       sw_strerror(rc));
        return rc;
    }
    return 0;
}

static void worker_fini(struct worker *w)
{
    stream_set_free(w->streams);
    w->streams = NULL;
    for (size_t i = 0; i < w->udp_count; i++) {
        (void)close(w->udp[i].dgram.fd);
    }
    w->udp_count = 0;
    /* Tasks still queued own their arguments; the process is ending, free them. */
    while (w->post_count > 0) {
        sw_free(w->posts[w->post_head].arg);
        w->post_head = (w->post_head + 1) % w->post_cap;
        w->post_count--;
    }
    loop_free(w->loop);
    w->loop = NULL;
    sw_free(w->posts);
    w->posts = NULL;
    if (w->post_cap != 0) {
        pthread_mutex_destroy(&w->post_lock);
    }
}

unsigned net_worker_count(unsigned configured)
{
    if (configured != 0) {
        return configured > MAX_WORKERS ? MAX_WORKERS : configured;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1u : (cores > MAX_WORKERS ? MAX_WORKERS : (unsigned)cores);
}

/* The per-source caps: a table only when a cap is set. */
static int group_init_sources(struct net_group *g, const struct net_settings *s)
{
    g->max_per_known_source = s->max_connections_per_source;
    g->max_per_unknown_source = s->max_connections_per_unknown_source;
    if (g->max_per_known_source == 0 && g->max_per_unknown_source == 0) {
        return 0;
    }
    size_t total = s->max_connections * g->worker_count;
    g->sources = srccap_new(total, s->source_v6_prefix_len);
    return g->sources != NULL ? 0 : -ENOMEM;
}

/* Every worker's sockets are open, in worker order: index i of each group is worker i. */
static void group_steer(struct net_group *g, const struct net_settings *s)
{
    if (!s->steer_udp || g->worker_count < 2) {
        (void)snprintf(g->steer_why, sizeof(g->steer_why), "%s",
                       s->steer_udp ? "one worker" : "turned off");
        return;
    }
    int rc = net_steer_new(g->worker_count, &g->steer, g->steer_why, sizeof(g->steer_why));
    struct worker *first = &g->workers[0];
    for (size_t i = 0; i < first->udp_count && rc == 0; i++) {
        rc = net_steer_attach(g->steer, first->udp[i].dgram.fd);
        if (rc != 0) {
            (void)snprintf(g->steer_why, sizeof(g->steer_why),
                           "cannot attach the steering program: %s", sw_strerror(rc));
        }
    }
    if (rc != 0) {
        /* A group attached before the failure keeps steering: ownership is checked again
           in user space, so a half-steered set of listeners stays correct. */
        net_steer_free(g->steer);
        g->steer = NULL;
    }
}

const struct net_steer *net_group_steer(const struct net_group *group)
{
    return group->steer;
}

const char *net_group_steer_why(const struct net_group *group)
{
    return group->steer != NULL ? "" : group->steer_why;
}

int net_group_ring_refused(const struct net_group *group)
{
    return group->ring_refused;
}

bool net_group_has_ring(const struct net_group *group)
{
    return group->worker_count > 0 && loop_has_ring(group->workers[0].loop);
}

/* NOLINTNEXTLINE(readability-function-size): its contract takes 8 parameters (worker.h). */
int net_group_new(const struct net_listener *listeners, size_t listener_count,
                  const struct net_settings *settings, const struct net_handlers *handlers,
                  void *app, struct net_group **out, char *errbuf, size_t errcap)
{
    if (listener_count == 0 || listener_count > MAX_LISTENERS) {
        (void)snprintf(errbuf, errcap, "between 1 and %d listeners are supported", MAX_LISTENERS);
        return -SW_EBADARG;
    }
    struct net_group *g = sw_calloc(1, sizeof(*g));
    if (g == NULL) {
        return -ENOMEM;
    }
    memcpy(g->listeners, listeners, listener_count * sizeof(*listeners));
    g->listener_count = listener_count;
    g->handlers = *handlers;
    g->app = app;
    g->on_socket = settings->on_socket;
    g->socket_ctx = settings->socket_ctx;
    g->worker_count = net_worker_count(settings->worker_count);
    struct net_settings s = *settings;
    if (s.max_connections_total != 0) {
        s.max_connections = s.max_connections_total / g->worker_count;
        s.max_connections = s.max_connections != 0 ? s.max_connections : 1;
    }
    g->workers = sw_calloc(g->worker_count, sizeof(*g->workers));
    if (g->workers == NULL || group_init_sources(g, &s) != 0) {
        net_group_free(g);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < g->worker_count; i++) {
        g->workers[i].index = i;
        g->workers[i].group = g;
        int rc = worker_init(&g->workers[i], &s, errbuf, errcap);
        if (rc != 0) {
            net_group_free(g);
            return rc;
        }
    }
    group_steer(g, &s);
    *out = g;
    return 0;
}

static void *worker_thread(void *arg)
{
    struct worker *w = arg;
    struct net_group *g = w->group;
    if (g->handlers.on_start != NULL) {
        g->handlers.on_start(g->app, w);
    }
    int rc = loop_run(w->loop);
    if (rc != 0) {
        log_err(NULL, "worker %u: event loop failed: %s", w->index, sw_strerror(rc));
    }
    if (g->handlers.on_stop != NULL) {
        g->handlers.on_stop(g->app, w);
    }
    return NULL;
}

int net_group_start(struct net_group *group)
{
    for (unsigned i = 0; i < group->worker_count; i++) {
        struct worker *w = &group->workers[i];
        int rc = pthread_create(&w->thread, NULL, worker_thread, w);
        if (rc != 0) {
            return -rc;
        }
        w->is_started = true;
    }
    return 0;
}

void net_group_stop(struct net_group *group)
{
    for (unsigned i = 0; i < group->worker_count; i++) {
        if (group->workers[i].is_started) {
            loop_stop(group->workers[i].loop);
        }
    }
    for (unsigned i = 0; i < group->worker_count; i++) {
        if (group->workers[i].is_started) {
            (void)pthread_join(group->workers[i].thread, NULL);
            group->workers[i].is_started = false;
        }
    }
}

void net_group_free(struct net_group *group)
{
    if (group == NULL) {
        return;
    }
    for (unsigned i = 0; i < group->worker_count && group->workers != NULL; i++) {
        worker_fini(&group->workers[i]);
    }
    sw_free(group->workers);
    srccap_free(group->sources);
    net_steer_free(group->steer);
    sw_free(group);
}
