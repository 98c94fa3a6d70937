#include "obs/evq.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

#define EVQ_WORDS         ((sizeof(struct sw_event) + 7) / 8)
#define EVQ_BATCH         256
#define EVQ_DEFAULT_TELE  1024u
#define EVQ_DEFAULT_REL   256u
#define EVQ_DEFAULT_IDLE  20u
#define EVQ_MAX_CAP       (1u << 20)
#define EVQ_MAX_PRODUCERS 1024u

/*
 * A telemetry slot. The producer may overwrite a slot while the consumer copies it, so
 * the payload is read and written as relaxed atomic words and guarded by a per-slot
 * sequence: 2*pos+1 while event number `pos` is being written, 2*pos+2 once complete.
 */
struct tele_slot {
    _Atomic uint64_t seq;
    _Atomic uint64_t words[EVQ_WORDS];
};

struct evq_ring {
    /* Producer side. */
    _Atomic uint64_t tele_head;
    _Atomic uint64_t rel_head;
    _Atomic uint64_t pushed;
    _Atomic uint64_t reliable_rejected;
    char pad_producer[64];
    /* Consumer side. */
    _Atomic uint64_t rel_tail;
    uint64_t tele_read;
    char pad_consumer[64];
    struct tele_slot *tele;
    struct sw_event *rel;
    uint64_t tele_mask;
    uint64_t rel_mask;
};

struct evq {
    struct evq_ring *rings;
    unsigned producer_count;
    unsigned idle_wait_ms;
    struct event_sink sinks[EVQ_SINKS_MAX];
    size_t sink_count;
    int wake_fd;
    pthread_t thread;
    bool is_started;
    atomic_bool is_running;
    atomic_bool is_sleeping;
    atomic_bool is_idle; /* asleep until an event: a producer wakes it at the first one */
    _Atomic uint64_t wakeups;
    _Atomic uint64_t delivered;
    _Atomic uint64_t dropped;
};

static uint64_t pow2_at_least(size_t v)
{
    uint64_t p = 1;
    while (p < v) {
        p <<= 1;
    }
    return p;
}

static int ring_init(struct evq_ring *ring, uint64_t tele_cap, uint64_t rel_cap)
{
    ring->tele = sw_calloc(tele_cap, sizeof(*ring->tele));
    ring->rel = sw_calloc(rel_cap, sizeof(*ring->rel));
    if (ring->tele == NULL || ring->rel == NULL) {
        return -ENOMEM;
    }
    ring->tele_mask = tele_cap - 1;
    ring->rel_mask = rel_cap - 1;
    return 0;
}

int evq_new(const struct evq_config *cfg, struct evq **out)
{
    size_t tele = cfg->telemetry_cap != 0 ? cfg->telemetry_cap : EVQ_DEFAULT_TELE;
    size_t rel = cfg->reliable_cap != 0 ? cfg->reliable_cap : EVQ_DEFAULT_REL;
    if (cfg->producer_count == 0 || cfg->producer_count > EVQ_MAX_PRODUCERS || tele > EVQ_MAX_CAP ||
        rel > EVQ_MAX_CAP) {
        return -SW_EBADARG;
    }
    struct evq *q = sw_calloc(1, sizeof(*q));
    if (q == NULL) {
        return -ENOMEM;
    }
    q->wake_fd = -1;
    q->producer_count = cfg->producer_count;
    q->idle_wait_ms = cfg->idle_wait_ms != 0 ? cfg->idle_wait_ms : EVQ_DEFAULT_IDLE;
    q->rings = sw_calloc(cfg->producer_count, sizeof(*q->rings));
    int err = q->rings == NULL ? -ENOMEM : 0;
    for (unsigned i = 0; i < cfg->producer_count && err == 0; i++) {
        err = ring_init(&q->rings[i], pow2_at_least(tele), pow2_at_least(rel));
    }
    if (err == 0) {
        q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        err = q->wake_fd == -1 ? -errno : 0;
    }
    if (err != 0) {
        evq_free(q);
        return err;
    }
    *out = q;
    return 0;
}

int evq_add_sink(struct evq *queue, const struct event_sink *sink)
{
    SW_ASSERT(!queue->is_started);
    if (queue->sink_count == EVQ_SINKS_MAX) {
        return -SW_EFULL;
    }
    queue->sinks[queue->sink_count++] = *sink;
    return 0;
}

/*
 * A sleeping consumer is woken only when a ring has filled to one eighth of its capacity;
 * fewer events wait for the consumer's idle_wait_ms timer. Waking it for every event cost
 * a thread switch per call event: a fifth of the gateway's CPU in the call benchmark.
 */
static uint64_t wake_mark(uint64_t cap)
{
    return cap >= 8 ? cap / 8 : 1;
}

static void wake_consumer(struct evq *queue)
{
    /* Pairs with the fence in consumer_sleep: either the consumer sees our event or we
     * see it sleeping (a lost wake-up would still end after idle_wait_ms). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&queue->is_sleeping, memory_order_relaxed) &&
        atomic_exchange(&queue->is_sleeping, false)) {
        uint64_t one = 1;
        /* EAGAIN means the counter is already non-zero: the consumer will wake anyway. */
        (void)!write(queue->wake_fd, &one, sizeof(one));
    }
}

/*
 * The first event after a quiet spell wakes the consumer: it sleeps without a timer then.
 * The fence pairs with the one in consumer_sleep, as in wake_consumer; it costs a few
 * nanoseconds per event, a timer wake-up 50 times a second cost an idle gateway about
 * 1.3 ms of CPU per second.
 */
static void wake_if_idle(struct evq *queue)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&queue->is_idle, memory_order_relaxed) &&
        atomic_exchange(&queue->is_idle, false)) {
        wake_consumer(queue);
    }
}

void evq_push(struct evq *queue, unsigned producer, const struct sw_event *event)
{
    SW_ASSERT(producer < queue->producer_count);
    struct evq_ring *ring = &queue->rings[producer];
    uint64_t pos = atomic_load_explicit(&ring->tele_head, memory_order_relaxed);
    struct tele_slot *slot = &ring->tele[pos & ring->tele_mask];
    uint64_t words[EVQ_WORDS] = { 0 };
    memcpy(words, event, sizeof(*event));
    atomic_store_explicit(&slot->seq, 2 * pos + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < EVQ_WORDS; i++) {
        atomic_store_explicit(&slot->words[i], words[i], memory_order_relaxed);
    }
    atomic_store_explicit(&slot->seq, 2 * pos + 2, memory_order_release);
    atomic_store_explicit(&ring->tele_head, pos + 1, memory_order_release);
    atomic_fetch_add_explicit(&ring->pushed, 1, memory_order_relaxed);
    /* Every mark-th event: the consumer never lags a whole ring behind a busy producer. */
    if ((pos + 1) % wake_mark(ring->tele_mask + 1) == 0) {
        wake_consumer(queue);
    } else {
        wake_if_idle(queue);
    }
}

bool evq_push_reliable(struct evq *queue, unsigned producer, const struct sw_event *event)
{
    SW_ASSERT(producer < queue->producer_count);
    struct evq_ring *ring = &queue->rings[producer];
    uint64_t head = atomic_load_explicit(&ring->rel_head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&ring->rel_tail, memory_order_acquire);
    if (head - tail > ring->rel_mask) {
        atomic_fetch_add_explicit(&ring->reliable_rejected, 1, memory_order_relaxed);
        return false;
    }
    ring->rel[head & ring->rel_mask] = *event;
    atomic_store_explicit(&ring->rel_head, head + 1, memory_order_release);
    atomic_fetch_add_explicit(&ring->pushed, 1, memory_order_relaxed);
    if (head + 1 - tail >= wake_mark(ring->rel_mask + 1)) {
        wake_consumer(queue);
    } else {
        wake_if_idle(queue);
    }
    return true;
}

void evq_producer_emit(void *ctx, const struct sw_event *event)
{
    const struct evq_producer *producer = ctx;
    evq_push(producer->queue, producer->index, event);
}

static void deliver(struct evq *queue, const struct sw_event *event)
{
    for (size_t i = 0; i < queue->sink_count; i++) {
        sw_event_emit(&queue->sinks[i], event);
    }
    atomic_fetch_add_explicit(&queue->delivered, 1, memory_order_relaxed);
}

static size_t drain_reliable(struct evq *queue, struct evq_ring *ring)
{
    uint64_t tail = atomic_load_explicit(&ring->rel_tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&ring->rel_head, memory_order_acquire);
    size_t n = 0;
    for (; tail < head && n < EVQ_BATCH; tail++, n++) {
        deliver(queue, &ring->rel[tail & ring->rel_mask]);
        atomic_store_explicit(&ring->rel_tail, tail + 1, memory_order_release);
    }
    return n;
}

/* Copies telemetry event `pos` out of its slot; false when it was overwritten. */
static bool tele_read(const struct evq_ring *ring, uint64_t pos, struct sw_event *out)
{
    struct tele_slot *slot = &ring->tele[pos & ring->tele_mask];
    uint64_t before = atomic_load_explicit(&slot->seq, memory_order_acquire);
    if (before != 2 * pos + 2) {
        return false;
    }
    uint64_t words[EVQ_WORDS];
    for (size_t i = 0; i < EVQ_WORDS; i++) {
        words[i] = atomic_load_explicit(&slot->words[i], memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&slot->seq, memory_order_relaxed) != before) {
        return false;
    }
    memcpy(out, words, sizeof(*out));
    return true;
}

static size_t drain_telemetry(struct evq *queue, struct evq_ring *ring)
{
    uint64_t head = atomic_load_explicit(&ring->tele_head, memory_order_acquire);
    uint64_t cap = ring->tele_mask + 1;
    uint64_t lost = 0;
    if (head - ring->tele_read > cap) {
        lost = head - ring->tele_read - cap;
        ring->tele_read = head - cap;
    }
    size_t n = 0;
    struct sw_event event;
    for (; ring->tele_read < head && n < EVQ_BATCH; ring->tele_read++, n++) {
        if (tele_read(ring, ring->tele_read, &event)) {
            deliver(queue, &event);
        } else {
            lost++;
        }
    }
    if (lost > 0) {
        atomic_fetch_add_explicit(&queue->dropped, lost, memory_order_relaxed);
    }
    return n + (size_t)lost;
}

static size_t drain_all(struct evq *queue)
{
    size_t n = 0;
    for (unsigned i = 0; i < queue->producer_count; i++) {
        n += drain_reliable(queue, &queue->rings[i]);
    }
    for (unsigned i = 0; i < queue->producer_count; i++) {
        n += drain_telemetry(queue, &queue->rings[i]);
    }
    /* A batch is delivered: the sinks that hold lines back write them now, in one go. */
    for (size_t i = 0; n > 0 && i < queue->sink_count; i++) {
        sw_event_flush(&queue->sinks[i]);
    }
    return n;
}

/* Sleeps idle_wait_ms, or until an event when `is_quiet` (the last sleep found none). */
static void consumer_sleep(struct evq *queue, bool is_quiet)
{
    atomic_store(&queue->is_sleeping, true);
    atomic_store(&queue->is_idle, is_quiet);
    atomic_thread_fence(memory_order_seq_cst);
    if (drain_all(queue) == 0 && atomic_load(&queue->is_running)) {
        struct pollfd pfd = { .fd = queue->wake_fd, .events = POLLIN };
        /* EINTR or a timeout just mean: look again. */
        (void)poll(&pfd, 1, is_quiet ? -1 : (int)queue->idle_wait_ms);
        if ((pfd.revents & POLLIN) != 0) { /* a timed-out poll leaves nothing to read */
            uint64_t count;
            (void)!read(queue->wake_fd, &count, sizeof(count));
        }
        atomic_fetch_add_explicit(&queue->wakeups, 1, memory_order_relaxed);
    }
    atomic_store(&queue->is_idle, false);
    atomic_store(&queue->is_sleeping, false);
}

static void *consumer_main(void *arg)
{
    struct evq *queue = arg;
    bool is_quiet = false;
    while (atomic_load(&queue->is_running)) {
        size_t n = drain_all(queue);
        if (n == 0) {
            consumer_sleep(queue, is_quiet);
        }
        /* Quiet: a whole timed sleep went by and found nothing. */
        is_quiet = n == 0;
    }
    /* Deliver what the producers queued before the stop; bounded by the ring sizes. */
    for (unsigned round = 0; round < EVQ_MAX_CAP / EVQ_BATCH + 1; round++) {
        if (drain_all(queue) == 0) {
            break;
        }
    }
    return NULL;
}

int evq_start(struct evq *queue)
{
    SW_ASSERT(!queue->is_started);
    atomic_store(&queue->is_running, true);
    int err = pthread_create(&queue->thread, NULL, consumer_main, queue);
    if (err != 0) {
        atomic_store(&queue->is_running, false);
        return -err;
    }
    queue->is_started = true;
    return 0;
}

void evq_stop(struct evq *queue)
{
    if (!queue->is_started) {
        return;
    }
    atomic_store(&queue->is_running, false);
    uint64_t one = 1;
    (void)!write(queue->wake_fd, &one, sizeof(one));
    int err = pthread_join(queue->thread, NULL);
    SW_ASSERT(err == 0);
    queue->is_started = false;
}

void evq_free(struct evq *queue)
{
    if (queue == NULL) {
        return;
    }
    evq_stop(queue);
    for (unsigned i = 0; i < queue->producer_count && queue->rings != NULL; i++) {
        sw_free(queue->rings[i].tele);
        queue->rings[i].tele = NULL;
        sw_free(queue->rings[i].rel);
        queue->rings[i].rel = NULL;
    }
    sw_free(queue->rings);
    queue->rings = NULL;
    if (queue->wake_fd >= 0) {
        (void)close(queue->wake_fd);
        queue->wake_fd = -1;
    }
    sw_free(queue);
}

void evq_stats_get(const struct evq *queue, struct evq_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < queue->producer_count; i++) {
        const struct evq_ring *ring = &queue->rings[i];
        out->pushed += atomic_load_explicit(&ring->pushed, memory_order_relaxed);
        out->reliable_rejected +=
            atomic_load_explicit(&ring->reliable_rejected, memory_order_relaxed);
    }
    out->delivered = atomic_load_explicit(&queue->delivered, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&queue->dropped, memory_order_relaxed);
    out->wakeups = atomic_load_explicit(&queue->wakeups, memory_order_relaxed);
}

bool evq_wait_idle(const struct evq *queue, unsigned timeout_ms)
{
    struct evq_stats stats;
    evq_stats_get(queue, &stats);
    uint64_t target = stats.pushed;
    for (unsigned waited = 0; waited <= timeout_ms; waited++) {
        evq_stats_get(queue, &stats);
        if (stats.delivered + stats.dropped >= target) {
            return true;
        }
        struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };
        (void)nanosleep(&ms, NULL);
    }
    return false;
}
