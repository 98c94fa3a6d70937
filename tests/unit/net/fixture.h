/*
 * Shared fixture of the src/net tests: a worker group on loopback with port 0 listeners
 * whose callbacks record messages and stream errors under a lock, and blocking client
 * sockets with receive timeouts. Header-only (static inline) because every test file is
 * its own executable. The group's threads run the transports; the test thread plays the
 * peer and waits on the recorder with a deadline, so no test can hang.
 */
#ifndef SW_TESTS_UNIT_NET_FIXTURE_H
#define SW_TESTS_UNIT_NET_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "net/stream.h"
#include "net/worker.h"

#define FX_MAX_MSGS   32
#define FX_MSG_CAP    4096
#define FX_WAIT_MS    3000
#define FX_MAX_ERRORS 16

struct fx_msg {
    char data[FX_MSG_CAP];
    size_t len;
    enum sw_transport transport;
    uint64_t conn_id;
    bool is_outbound;
    unsigned worker;
    struct sockaddr_storage src;
};

struct fx_recorder {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct fx_msg msgs[FX_MAX_MSGS];
    size_t msg_count;
    int error_codes[FX_MAX_ERRORS];
    size_t error_count;
};

struct fx {
    struct fx_recorder rec;
    struct net_group *group;
};

static inline void fx_on_message(void *app, struct worker *worker, const struct net_msg *msg)
{
    struct fx_recorder *rec = app;
    pthread_mutex_lock(&rec->lock);
    if (rec->msg_count < FX_MAX_MSGS) {
        struct fx_msg *m = &rec->msgs[rec->msg_count++];
        m->len = msg->data.len < FX_MSG_CAP ? msg->data.len : FX_MSG_CAP;
        memcpy(m->data, msg->data.ptr, m->len);
        m->transport = msg->transport;
        m->conn_id = msg->conn_id;
        m->is_outbound = msg->is_outbound;
        m->worker = worker_index(worker);
        m->src = msg->src;
    }
    pthread_cond_broadcast(&rec->cond);
    pthread_mutex_unlock(&rec->lock);
}

static inline void fx_on_stream_error(void *app, struct worker *worker,
                                      const struct net_stream_error *error)
{
    (void)worker;
    struct fx_recorder *rec = app;
    pthread_mutex_lock(&rec->lock);
    if (rec->error_count < FX_MAX_ERRORS) {
        rec->error_codes[rec->error_count++] = error->code;
    }
    pthread_cond_broadcast(&rec->cond);
    pthread_mutex_unlock(&rec->lock);
}

static inline void fx_deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits until `count` messages were recorded; returns how many there are. */
static inline size_t fx_wait_msgs(struct fx *fx, size_t count, int timeout_ms)
{
    struct timespec ts;
    fx_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&fx->rec.lock);
    while (fx->rec.msg_count < count) {
        if (pthread_cond_timedwait(&fx->rec.cond, &fx->rec.lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    size_t n = fx->rec.msg_count;
    pthread_mutex_unlock(&fx->rec.lock);
    return n;
}

static inline size_t fx_wait_errors(struct fx *fx, size_t count, int timeout_ms)
{
    struct timespec ts;
    fx_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&fx->rec.lock);
    while (fx->rec.error_count < count) {
        if (pthread_cond_timedwait(&fx->rec.cond, &fx->rec.lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    size_t n = fx->rec.error_count;
    pthread_mutex_unlock(&fx->rec.lock);
    return n;
}

static inline struct fx_msg fx_msg_at(struct fx *fx, size_t i)
{
    pthread_mutex_lock(&fx->rec.lock);
    struct fx_msg m = fx->rec.msgs[i];
    pthread_mutex_unlock(&fx->rec.lock);
    return m;
}

static inline int fx_error_at(struct fx *fx, size_t i)
{
    pthread_mutex_lock(&fx->rec.lock);
    int code = fx->rec.error_codes[i];
    pthread_mutex_unlock(&fx->rec.lock);
    return code;
}

static inline struct net_listener fx_listener(enum sw_transport transport, const char *ip_port)
{
    struct net_listener l;
    memset(&l, 0, sizeof(l));
    l.transport = transport;
    if (!sw_sockaddr_parse(sv_from_cstr(ip_port), 0, &l.addr)) {
        abort();
    }
    return l;
}

/* Creates and starts a group; returns 0 or the error of net_group_new. */
static inline int fx_start(struct fx *fx, const struct net_listener *listeners, size_t count,
                           const struct net_settings *settings)
{
    memset(fx, 0, sizeof(*fx));
    (void)sw_hash_init();
    pthread_mutex_init(&fx->rec.lock, NULL);
    pthread_cond_init(&fx->rec.cond, NULL);
    struct net_handlers handlers = {
        .on_message = fx_on_message,
        .on_stream_error = fx_on_stream_error,
    };
    char errbuf[256];
    int rc = net_group_new(listeners, count, settings, &handlers, &fx->rec, &fx->group, errbuf,
                           sizeof(errbuf));
    if (rc != 0) {
        return rc;
    }
    return net_group_start(fx->group);
}

static inline void fx_stop(struct fx *fx)
{
    if (fx->group != NULL) {
        net_group_stop(fx->group);
        net_group_free(fx->group);
        fx->group = NULL;
    }
    pthread_cond_destroy(&fx->rec.cond);
    pthread_mutex_destroy(&fx->rec.lock);
}

static inline const struct sockaddr_storage *fx_addr(struct fx *fx, size_t listener)
{
    return &net_group_listener(fx->group, listener)->addr;
}

/* A blocking TCP client connected to `addr` with 2 s send/receive timeouts; -1 on failure. */
static inline int fx_connect(const struct sockaddr_storage *addr)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }
    struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)addr, sw_sockaddr_len(addr)) == -1) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

static inline bool fx_send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/*
 * True when the peer closed the connection (EOF or reset) within the socket's receive
 * timeout; bytes received before are discarded.
 */
static inline bool fx_wait_closed(int fd)
{
    char buf[512];
    for (int i = 0; i < 1000; i++) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n == -1 && errno == ECONNRESET)) {
            return true;
        }
        if (n == -1) {
            return false; /* timeout */
        }
    }
    return false;
}

/* A listening TCP socket on 127.0.0.1 (or ::1), port 0; its address in *addr. */
static inline int fx_listen(const char *ip, struct sockaddr_storage *addr)
{
    if (!sw_sockaddr_parse(sv_from_cstr(ip), 0, addr)) {
        return -1;
    }
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }
    socklen_t len = sizeof(*addr);
    if (bind(fd, (const struct sockaddr *)addr, sw_sockaddr_len(addr)) == -1 ||
        listen(fd, 16) == -1 || getsockname(fd, (struct sockaddr *)addr, &len) == -1) {
        (void)close(fd);
        return -1;
    }
    struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Accepts one connection within the listening socket's timeout; the client gets timeouts. */
static inline int fx_accept(int listen_fd)
{
    int fd = accept(listen_fd, NULL, NULL);
    if (fd >= 0) {
        struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

/* A send task run in the worker thread through worker_post(). */
struct fx_send_task {
    struct net_dest dst;
    char data[FX_MSG_CAP];
    size_t len;
    int rc;
    bool is_done;
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
};

static inline void fx_send_task_run(struct worker *worker, void *arg)
{
    struct fx_send_task *task = arg;
    int rc = worker_send(worker, &task->dst, sv_make(task->data, task->len));
    pthread_mutex_lock(task->lock);
    task->rc = rc;
    task->is_done = true;
    pthread_cond_broadcast(task->cond);
    pthread_mutex_unlock(task->lock);
}

/*
 * Runs worker_send(dst, data) in worker `index` and returns its result (or -ETIMEDOUT).
 * The task lives on the caller's stack; the caller waits for it, so nothing is freed early.
 */
static inline int fx_send_from(struct fx *fx, unsigned index, const struct net_dest *dst,
                               const char *data)
{
    struct fx_send_task task;
    memset(&task, 0, sizeof(task));
    task.dst = *dst;
    task.len = strlen(data);
    memcpy(task.data, data, task.len);
    task.lock = &fx->rec.lock;
    task.cond = &fx->rec.cond;
    if (worker_post(net_group_worker(fx->group, index), fx_send_task_run, &task) != 0) {
        return -SW_EFULL;
    }
    struct timespec ts;
    fx_deadline(&ts, FX_WAIT_MS);
    pthread_mutex_lock(&fx->rec.lock);
    while (!task.is_done) {
        if (pthread_cond_timedwait(&fx->rec.cond, &fx->rec.lock, &ts) == ETIMEDOUT) {
            break;
        }
    }
    bool is_done = task.is_done;
    int rc = task.rc;
    pthread_mutex_unlock(&fx->rec.lock);
    if (!is_done) {
        abort(); /* the task still points at this stack frame */
    }
    return rc;
}

static inline void fx_sleep_ms(long ms);

struct fx_count_task {
    size_t count;
    atomic_bool is_done;
};

static inline void fx_count_task_run(struct worker *worker, void *arg)
{
    struct fx_count_task *task = arg;
    task->count = worker_connection_count(worker);
    atomic_store(&task->is_done, true);
}

/* The stream connections of worker `index`, read in its thread; SIZE_MAX on timeout. */
static inline size_t fx_conn_count(struct fx *fx, unsigned index)
{
    struct fx_count_task task = { .count = 0 };
    atomic_init(&task.is_done, false);
    if (worker_post(net_group_worker(fx->group, index), fx_count_task_run, &task) != 0) {
        return SIZE_MAX;
    }
    for (int i = 0; i < FX_WAIT_MS && !atomic_load(&task.is_done); i++) {
        fx_sleep_ms(1);
    }
    if (!atomic_load(&task.is_done)) {
        abort(); /* the task still points at this stack frame */
    }
    return task.count;
}

/* Waits until every worker's connections were closed; true when they were. */
static inline bool fx_wait_no_conns(struct fx *fx)
{
    for (int i = 0; i < 300; i++) {
        size_t total = 0;
        for (unsigned w = 0; w < net_group_worker_count(fx->group); w++) {
            total += fx_conn_count(fx, w);
        }
        if (total == 0) {
            return true;
        }
        fx_sleep_ms(10);
    }
    return false;
}

static inline void fx_sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

#endif
