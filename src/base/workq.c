#include "base/workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

#define WORKQ_CAPACITY_MAX ((size_t)1 << 20)
#define WORKQ_THREADS_MAX  64u
#define WORKQ_ITEM_MAX     ((size_t)1 << 16)

struct workq_consumer {
    struct workq *queue;
    pthread_t thread;
    unsigned char *batch; /* batch_max items, this thread's */
};

struct workq {
    struct workq_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* an item, a kick or stop (consumers wait) */
    pthread_cond_t idle; /* a consumer left run (workq_wait_idle waits) */
    pthread_cond_t halt; /* stop began (workq_pause waits) */
    unsigned char *items;
    size_t head; /* next to pop */
    size_t len;
    unsigned busy; /* consumers inside run */
    bool is_kicked;
    atomic_bool is_stopping;
    unsigned started; /* consumers running */
    struct workq_consumer *consumers;
};

static void deadline_in(unsigned ms, struct timespec *out)
{
    (void)clock_gettime(CLOCK_MONOTONIC, out);
    out->tv_sec += ms / 1000u;
    out->tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

static bool config_is_valid(const struct workq_config *cfg)
{
    return cfg->item_size > 0 && cfg->item_size <= WORKQ_ITEM_MAX && cfg->capacity > 0 &&
           cfg->capacity <= WORKQ_CAPACITY_MAX && cfg->batch_max <= WORKQ_CAPACITY_MAX &&
           cfg->thread_count <= WORKQ_THREADS_MAX && cfg->run != NULL;
}

static void release(struct workq *q)
{
    for (unsigned i = 0; q->consumers != NULL && i < q->cfg.thread_count; i++) {
        sw_free(q->consumers[i].batch);
    }
    sw_free(q->consumers);
    sw_free(q->items);
    sw_free(q);
}

/* The locks and conditions; the conditions time out on the monotonic clock. */
static int sync_init(struct workq *q)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        return -ENOMEM;
    }
    (void)pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* supported on Linux */
    int err = pthread_mutex_init(&q->lock, NULL) != 0 ? -ENOMEM : 0;
    if (err == 0 && pthread_cond_init(&q->wake, &attr) != 0) {
        pthread_mutex_destroy(&q->lock);
        err = -ENOMEM;
    }
    if (err == 0 && pthread_cond_init(&q->idle, &attr) != 0) {
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->lock);
        err = -ENOMEM;
    }
    if (err == 0 && pthread_cond_init(&q->halt, &attr) != 0) {
        pthread_cond_destroy(&q->idle);
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->lock);
        err = -ENOMEM;
    }
    (void)pthread_condattr_destroy(&attr);
    return err;
}

int workq_new(const struct workq_config *cfg, struct workq **out)
{
    if (!config_is_valid(cfg)) {
        return -SW_EBADARG;
    }
    struct workq *q = sw_calloc(1, sizeof(*q));
    if (q == NULL) {
        return -ENOMEM;
    }
    q->cfg = *cfg;
    q->cfg.batch_max = cfg->batch_max != 0 ? cfg->batch_max : 1;
    q->cfg.thread_count = cfg->thread_count != 0 ? cfg->thread_count : 1;
    q->items = sw_calloc(cfg->capacity, cfg->item_size);
    q->consumers = sw_calloc(q->cfg.thread_count, sizeof(*q->consumers));
    bool is_ok = q->items != NULL && q->consumers != NULL;
    for (unsigned i = 0; is_ok && i < q->cfg.thread_count; i++) {
        q->consumers[i].queue = q;
        q->consumers[i].batch = sw_calloc(q->cfg.batch_max, cfg->item_size);
        is_ok = q->consumers[i].batch != NULL;
    }
    int err = is_ok ? sync_init(q) : -ENOMEM;
    if (err != 0) {
        release(q);
        return err;
    }
    atomic_init(&q->is_stopping, false);
    *out = q;
    return 0;
}

static unsigned char *slot(const struct workq *q, size_t pos)
{
    return q->items + (pos % q->cfg.capacity) * q->cfg.item_size;
}

/* Under the lock: moves up to `max` items from the head to `out`. */
static size_t pop_locked(struct workq *q, unsigned char *out, size_t max)
{
    size_t n = 0;
    for (; n < max && q->len > 0; n++) {
        memcpy(out + n * q->cfg.item_size, slot(q, q->head), q->cfg.item_size);
        q->head = (q->head + 1) % q->cfg.capacity;
        q->len--;
    }
    return n;
}

/* Under the lock: waits for an item, a kick, stop or the tick. False when the consumer
 * should leave. */
static bool wait_for_work(struct workq *q)
{
    struct timespec until;
    if (q->cfg.tick_ms != 0) {
        deadline_in(q->cfg.tick_ms, &until);
    }
    while (q->len == 0 && !q->is_kicked && !atomic_load(&q->is_stopping)) {
        int rc = q->cfg.tick_ms == 0 ? pthread_cond_wait(&q->wake, &q->lock)
                                     : pthread_cond_timedwait(&q->wake, &q->lock, &until);
        if (rc == ETIMEDOUT) {
            return true; /* the tick: run with nothing */
        }
        SW_ASSERT(rc == 0);
    }
    if (!atomic_load(&q->is_stopping)) {
        return true;
    }
    return q->cfg.is_drained_on_stop && (q->len > 0 || q->is_kicked);
}

static void *consumer_main(void *arg)
{
    struct workq_consumer *self = arg;
    struct workq *q = self->queue;
    SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
    while (wait_for_work(q)) {
        size_t n = pop_locked(q, self->batch, q->cfg.batch_max);
        q->is_kicked = false;
        q->busy++;
        SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
        q->cfg.run(q->cfg.ctx, self->batch, n);
        SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
        q->busy--;
        SW_ASSERT(pthread_cond_broadcast(&q->idle) == 0);
    }
    SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
    return NULL;
}

int workq_start(struct workq *q)
{
    SW_ASSERT(q->started == 0);
    for (unsigned i = 0; i < q->cfg.thread_count; i++) {
        int err = pthread_create(&q->consumers[i].thread, NULL, consumer_main, &q->consumers[i]);
        if (err != 0) {
            workq_stop(q);
            return -err;
        }
        q->started++;
    }
    return 0;
}

bool workq_push(struct workq *q, const void *item)
{
    SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
    bool is_full = q->len == q->cfg.capacity;
    bool is_queued = (!is_full || q->cfg.is_oldest_dropped) && !atomic_load(&q->is_stopping);
    if (is_queued && is_full) {
        q->head = (q->head + 1) % q->cfg.capacity; /* the oldest gives way */
        q->len--;
    }
    if (is_queued) {
        memcpy(slot(q, q->head + q->len), item, q->cfg.item_size);
        q->len++;
        SW_ASSERT(pthread_cond_signal(&q->wake) == 0);
    }
    SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
    return is_queued && !is_full;
}

void workq_kick(struct workq *q)
{
    SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
    q->is_kicked = true;
    SW_ASSERT(pthread_cond_signal(&q->wake) == 0);
    SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
}

bool workq_is_stopping(const struct workq *q)
{
    return atomic_load(&q->is_stopping);
}

bool workq_pause(struct workq *q, unsigned ms)
{
    struct timespec until;
    deadline_in(ms, &until);
    SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
    while (!atomic_load(&q->is_stopping)) {
        if (pthread_cond_timedwait(&q->halt, &q->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
    return atomic_load(&q->is_stopping);
}

bool workq_wait_idle(struct workq *q, unsigned timeout_ms)
{
    struct timespec until;
    deadline_in(timeout_ms, &until);
    SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
    bool is_idle = true;
    while (q->len > 0 || q->busy > 0 || q->is_kicked) {
        if (pthread_cond_timedwait(&q->idle, &q->lock, &until) == ETIMEDOUT) {
            is_idle = q->len == 0 && q->busy == 0 && !q->is_kicked;
            break;
        }
    }
    SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
    return is_idle;
}

void workq_stop_begin(struct workq *q)
{
    SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
    atomic_store(&q->is_stopping, true);
    SW_ASSERT(pthread_cond_broadcast(&q->wake) == 0);
    SW_ASSERT(pthread_cond_broadcast(&q->halt) == 0);
    SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
}

void workq_stop(struct workq *q)
{
    workq_stop_begin(q);
    for (unsigned i = 0; i < q->started; i++) {
        SW_ASSERT(pthread_join(q->consumers[i].thread, NULL) == 0);
    }
    q->started = 0;
}

size_t workq_take(struct workq *q, void *out, size_t max)
{
    SW_ASSERT(pthread_mutex_lock(&q->lock) == 0);
    SW_ASSERT(atomic_load(&q->is_stopping));
    size_t n = pop_locked(q, out, max);
    SW_ASSERT(pthread_mutex_unlock(&q->lock) == 0);
    return n;
}

void workq_free(struct workq *q)
{
    if (q == NULL) {
        return;
    }
    workq_stop(q);
    (void)pthread_cond_destroy(&q->halt); /* no thread waits any more */
    (void)pthread_cond_destroy(&q->idle);
    (void)pthread_cond_destroy(&q->wake);
    (void)pthread_mutex_destroy(&q->lock);
    release(q);
}
