#include "state/cluster.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "state/redis_link.h"

#define CLUSTER_DEFAULT_QUEUE    4096u
#define CLUSTER_DEFAULT_MAXRETRY 3u
#define CLUSTER_DEFAULT_FINDTIME 300u

/*
 * One failure, added atomically: the window starts at the first failure of a source
 * (fail2ban's findtime, as a fixed window: Redis keeps no per-failure times for us).
 */
static const char fail_script[] = "local n = redis.call('INCR', KEYS[1]) "
                                  "if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
                                  "return n";

struct cluster_op {
    struct sw_ip ip;
    uint64_t seq; /* tells an operation from a later one in its place */
};

struct cluster {
    struct redis_link link;
    char prefix[REDIS_LINK_NAME_MAX + 1];
    char findtime_ms[24];
    uint32_t maxretry;
    cluster_ban_fn *on_ban;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct cluster_op *ring;
    size_t ring_cap;
    size_t ring_head;
    size_t ring_len;
    uint64_t next_seq;
    atomic_bool is_stopping;
    pthread_t thread;
    bool is_started;
    _Atomic uint64_t operations;
    _Atomic uint64_t dropped;
    _Atomic uint64_t bans;
    _Atomic uint64_t errors;
    _Atomic uint64_t cpu_ns;
    atomic_bool is_connected;
};

static int configure(struct cluster *c, const struct cluster_config *cfg)
{
    const char *prefix = cfg->prefix != NULL ? cfg->prefix : "sipwarden:";
    if (cfg->queue_cap > (1u << 20) || !redis_link_is_name(prefix, true) ||
        !redis_link_init(&c->link, cfg->host, cfg->port, cfg->timeout_ms, "cluster", &c->errors)) {
        return -SW_EBADARG;
    }
    (void)snprintf(c->prefix, sizeof(c->prefix), "%s", prefix);
    uint32_t findtime_s = cfg->findtime_s != 0 ? cfg->findtime_s : CLUSTER_DEFAULT_FINDTIME;
    (void)snprintf(c->findtime_ms, sizeof(c->findtime_ms), "%llu",
                   (unsigned long long)findtime_s * 1000u);
    c->maxretry = cfg->maxretry != 0 ? cfg->maxretry : CLUSTER_DEFAULT_MAXRETRY;
    c->ring_cap = cfg->queue_cap != 0 ? cfg->queue_cap : CLUSTER_DEFAULT_QUEUE;
    return 0;
}

int cluster_new(const struct cluster_config *cfg, cluster_ban_fn *on_ban, void *ctx,
                struct cluster **out)
{
    struct cluster *c = sw_calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    int err = configure(c, cfg);
    c->ring = err == 0 ? sw_calloc(c->ring_cap, sizeof(*c->ring)) : NULL;
    if (err == 0 && c->ring == NULL) {
        err = -ENOMEM;
    }
    if (err == 0 && pthread_mutex_init(&c->lock, NULL) != 0) {
        err = -ENOMEM;
    }
    if (err == 0 && pthread_cond_init(&c->wake, NULL) != 0) {
        pthread_mutex_destroy(&c->lock);
        err = -ENOMEM;
    }
    if (err != 0) {
        sw_free(c->ring);
        sw_free(c);
        return err;
    }
    c->on_ban = on_ban;
    c->ctx = ctx;
    *out = c;
    return 0;
}

void cluster_failure(struct cluster *c, const struct sw_ip *ip)
{
    pthread_mutex_lock(&c->lock);
    if (c->ring_len == c->ring_cap) {
        /* The oldest failure gives way: the newest are the ones that can still ban. */
        c->ring_head = (c->ring_head + 1) % c->ring_cap;
        c->ring_len--;
        atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed);
    }
    c->ring[(c->ring_head + c->ring_len) % c->ring_cap] =
        (struct cluster_op){ .ip = *ip, .seq = c->next_seq++ };
    c->ring_len++;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

/* Waits for the operation at the head (it stays there until op_done); false to stop. */
static bool op_next(struct cluster *c, struct cluster_op *op)
{
    pthread_mutex_lock(&c->lock);
    while (c->ring_len == 0 && !atomic_load(&c->is_stopping)) {
        pthread_cond_wait(&c->wake, &c->lock);
    }
    bool has_op = c->ring_len > 0;
    if (has_op) {
        *op = c->ring[c->ring_head];
    }
    pthread_mutex_unlock(&c->lock);
    return has_op;
}

/* Removes the head, unless a full queue pushed it out meanwhile (then it is gone). */
static void op_done(struct cluster *c, const struct cluster_op *op)
{
    pthread_mutex_lock(&c->lock);
    if (c->ring_len > 0 && c->ring[c->ring_head].seq == op->seq) {
        c->ring_head = (c->ring_head + 1) % c->ring_cap;
        c->ring_len--;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Adds the failure; false on a connection or command error. */
static bool op_run(struct cluster *c, redisContext *rc, const struct cluster_op *op)
{
    char ip[SW_ADDR_STRLEN];
    char key[REDIS_LINK_NAME_MAX + 8 + SW_ADDR_STRLEN];
    sw_ip_format(&op->ip, ip, sizeof(ip));
    (void)snprintf(key, sizeof(key), "%sfail:%s", c->prefix, ip);
    const char *argv[] = { "EVAL", fail_script, "1", key, c->findtime_ms };
    size_t lens[5];
    for (size_t i = 0; i < 5; i++) {
        lens[i] = strlen(argv[i]);
    }
    redisReply *reply = redisCommandArgv(rc, 5, argv, lens);
    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        if (reply != NULL) {
            freeReplyObject(reply);
        }
        return false;
    }
    long long count = reply->integer;
    freeReplyObject(reply);
    if (count >= (long long)c->maxretry) {
        atomic_fetch_add_explicit(&c->bans, 1, memory_order_relaxed);
        c->on_ban(c->ctx, &op->ip, count > UINT32_MAX ? UINT32_MAX : (uint32_t)count);
    }
    return true;
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Marks the link down (logged once a streak) or up again (logged once). */
static void note_link(struct cluster *c, redisContext *rc, bool is_up, bool *is_logged)
{
    if (!is_up) {
        redis_link_error(&c->link, "lost", rc, is_logged);
        atomic_store(&c->is_connected, false);
        return;
    }
    if (*is_logged) {
        log_notice(NULL, "cluster: %s:%d reachable again", c->link.host, c->link.port);
    }
    *is_logged = false;
    atomic_store(&c->is_connected, true);
}

static void *cluster_main(void *arg)
{
    struct cluster *c = arg;
    redisContext *rc = NULL;
    unsigned backoff = REDIS_LINK_BACKOFF_MIN_MS;
    bool is_logged = false;
    struct cluster_op op;
    while (op_next(c, &op)) {
        bool is_stopping = atomic_load(&c->is_stopping);
        if (rc == NULL && !is_stopping && (rc = redis_link_connect(&c->link, &is_logged)) == NULL) {
            atomic_store(&c->is_connected, false);
            (void)redis_link_pause(&c->is_stopping, backoff);
            backoff = redis_link_backoff(backoff);
            continue;
        }
        bool is_ok = rc != NULL && op_run(c, rc, &op);
        atomic_store(&c->cpu_ns, thread_cpu_ns());
        if (!is_ok && is_stopping) {
            break;
        }
        note_link(c, rc, is_ok, &is_logged);
        if (!is_ok) {
            redisFree(rc);
            rc = NULL;
            continue;
        }
        backoff = REDIS_LINK_BACKOFF_MIN_MS;
        atomic_fetch_add_explicit(&c->operations, 1, memory_order_relaxed);
        op_done(c, &op);
    }
    if (rc != NULL) {
        redisFree(rc);
    }
    return NULL;
}

int cluster_start(struct cluster *c)
{
    int err = pthread_create(&c->thread, NULL, cluster_main, c);
    if (err != 0) {
        return -err;
    }
    c->is_started = true;
    return 0;
}

void cluster_free(struct cluster *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->is_stopping, true);
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->is_started) {
        int err = pthread_join(c->thread, NULL);
        SW_ASSERT(err == 0);
    }
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    sw_free(c->ring);
    c->ring = NULL;
    sw_free(c);
}

void cluster_stats_get(struct cluster *c, struct cluster_stats *out)
{
    out->operations = atomic_load_explicit(&c->operations, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&c->dropped, memory_order_relaxed);
    out->bans = atomic_load_explicit(&c->bans, memory_order_relaxed);
    out->errors = atomic_load_explicit(&c->errors, memory_order_relaxed);
    out->cpu_ns = atomic_load_explicit(&c->cpu_ns, memory_order_relaxed);
    out->is_connected = atomic_load(&c->is_connected);
}
