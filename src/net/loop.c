#include "net/loop.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/log.h"
#include "base/time.h"
#include "net/uring.h"

#define LOOP_MAX_EVENTS 64
/* The epoll way of reading datagrams: recvmmsg batches, a few per wake-up so that one
   busy socket cannot starve the timers. */
#define DGRAM_BATCH     32
#define DGRAM_ROUNDS    8
#define DGRAM_MAX_BYTES 65536
/* The ring's tag of the poll on the epoll set; datagram socket i is tagged
   RING_TAG_DGRAM + i. */
#define RING_TAG_EPOLL  1u
#define RING_TAG_DGRAM  2u

struct dgram_batch {
    struct mmsghdr msgs[DGRAM_BATCH];
    struct iovec iovs[DGRAM_BATCH];
    struct sockaddr_storage srcs[DGRAM_BATCH];
    unsigned char bytes[]; /* DGRAM_BATCH buffers of DGRAM_MAX_BYTES */
};

struct loop {
    int epoll_fd;
    struct loop_watch wake_watch;
    loop_wake_fn *on_wake;
    void *wake_ctx;
    atomic_bool is_stopping;
    atomic_bool is_wake_pending;
    uint64_t now_ms;
    struct loop_timer **heap;
    size_t heap_count;
    size_t heap_cap;
    struct loop_timer **wheel; /* LOOP_WHEEL_SLOTS lists of coarse timers, by tick */
    uint64_t wheel_tick;       /* the first tick (now_ms / LOOP_COARSE_MS) not yet run */
    size_t wheel_count;
    struct uring *ring;         /* NULL: epoll_wait waits */
    bool is_epoll_polled;       /* ring: a poll of the epoll set is armed */
    struct dgram_batch *dgrams; /* epoll: recvmmsg's buffers, at the first socket */
    struct loop_dgram *dgram_list[LOOP_MAX_DGRAMS]; /* ring: by tag */
    size_t dgram_count;
};

static void on_wake_fd(struct loop *loop, uint32_t events, void *ctx)
{
    (void)events;
    (void)ctx;
    uint64_t value;
    /* Draining the counter; EAGAIN means another read got it first, which is fine. */
    (void)!read(loop->wake_watch.fd, &value, sizeof(value));
    atomic_store(&loop->is_wake_pending, false);
    if (loop->on_wake != NULL) {
        loop->on_wake(loop, loop->wake_ctx);
    }
}

struct loop *loop_new(size_t max_timers, loop_wake_fn *on_wake, void *wake_ctx)
{
    struct loop *loop = sw_calloc(1, sizeof(*loop));
    if (loop == NULL) {
        return NULL;
    }
    loop->epoll_fd = -1;
    loop->wake_watch.fd = -1;
    /* An array of pointers: the size of one pointer is meant. */
    loop->heap = sw_calloc(max_timers == 0 ? 1 : max_timers,
                           sizeof(*loop->heap)); /* NOLINT(bugprone-sizeof-expression) */
    loop->heap_cap = max_timers;
    /* An array of pointers: the size of one pointer is meant. */
    loop->wheel =
        sw_calloc(LOOP_WHEEL_SLOTS, sizeof(*loop->wheel)); /* NOLINT(bugprone-sizeof-expression) */
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_watch.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->wake_watch.fn = on_wake_fd;
    loop->on_wake = on_wake;
    loop->wake_ctx = wake_ctx;
    loop->now_ms = sw_mono_ms();
    loop->wheel_tick = loop->now_ms / LOOP_COARSE_MS;
    if (loop->heap == NULL || loop->wheel == NULL || loop->epoll_fd == -1 ||
        loop->wake_watch.fd == -1 || loop_watch_add(loop, &loop->wake_watch, EPOLLIN) != 0) {
        loop_free(loop);
        return NULL;
    }
    return loop;
}

void loop_free(struct loop *loop)
{
    if (loop == NULL) {
        return;
    }
    if (loop->epoll_fd >= 0) {
        (void)close(loop->epoll_fd);
    }
    if (loop->wake_watch.fd >= 0) {
        (void)close(loop->wake_watch.fd);
    }
    uring_free(loop->ring);
    sw_free(loop->dgrams);
    sw_free(loop->heap);
    sw_free(loop->wheel);
    sw_free(loop);
}

static int watch_ctl(struct loop *loop, int op, struct loop_watch *watch, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = watch };
    if (epoll_ctl(loop->epoll_fd, op, watch->fd, &ev) == -1) {
        return -errno;
    }
    return 0;
}

int loop_watch_add(struct loop *loop, struct loop_watch *watch, uint32_t events)
{
    return watch_ctl(loop, EPOLL_CTL_ADD, watch, events);
}

int loop_watch_mod(struct loop *loop, struct loop_watch *watch, uint32_t events)
{
    return watch_ctl(loop, EPOLL_CTL_MOD, watch, events);
}

int loop_watch_del(struct loop *loop, struct loop_watch *watch)
{
    return watch_ctl(loop, EPOLL_CTL_DEL, watch, 0);
}

static bool heap_less(const struct loop *loop, size_t a, size_t b)
{
    return loop->heap[a]->deadline_ms < loop->heap[b]->deadline_ms;
}

static void heap_swap(struct loop *loop, size_t a, size_t b)
{
    struct loop_timer *tmp = loop->heap[a];
    loop->heap[a] = loop->heap[b];
    loop->heap[b] = tmp;
    loop->heap[a]->heap_index = a;
    loop->heap[b]->heap_index = b;
}

static void heap_up(struct loop *loop, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(loop, i, parent)) {
            break;
        }
        heap_swap(loop, i, parent);
        i = parent;
    }
}

static void heap_down(struct loop *loop, size_t i)
{
    for (;;) {
        size_t smallest = i;
        size_t left = 2 * i + 1;
        size_t right = left + 1;
        if (left < loop->heap_count && heap_less(loop, left, smallest)) {
            smallest = left;
        }
        if (right < loop->heap_count && heap_less(loop, right, smallest)) {
            smallest = right;
        }
        if (smallest == i) {
            return;
        }
        heap_swap(loop, i, smallest);
        i = smallest;
    }
}

void loop_timer_stop(struct loop *loop, struct loop_timer *timer)
{
    if (!timer->is_active) {
        return;
    }
    timer->is_active = false;
    if (timer->is_coarse) {
        *timer->prev_next = timer->next;
        if (timer->next != NULL) {
            timer->next->prev_next = timer->prev_next;
        }
        timer->next = NULL;
        timer->prev_next = NULL;
        timer->is_coarse = false;
        loop->wheel_count--;
        return;
    }
    size_t i = timer->heap_index;
    SW_ASSERT(i < loop->heap_count && loop->heap[i] == timer);
    loop->heap_count--;
    if (i != loop->heap_count) {
        loop->heap[i] = loop->heap[loop->heap_count];
        loop->heap[i]->heap_index = i;
        heap_down(loop, i);
        heap_up(loop, i);
    }
}

int loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms,
                     loop_timer_fn *fn, void *ctx)
{
    loop_timer_stop(loop, timer);
    if (loop->heap_count == loop->heap_cap) {
        return -SW_EFULL;
    }
    timer->deadline_ms = loop->now_ms + delay_ms;
    timer->fn = fn;
    timer->ctx = ctx;
    timer->is_active = true;
    timer->heap_index = loop->heap_count;
    loop->heap[loop->heap_count++] = timer;
    heap_up(loop, timer->heap_index);
    return 0;
}

int loop_timer_start_coarse(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms,
                            loop_timer_fn *fn, void *ctx)
{
    if (delay_ms == 0) {
        return loop_timer_start(loop, timer, 0, fn, ctx);
    }
    uint64_t tick = (loop->now_ms + delay_ms + LOOP_COARSE_MS - 1) / LOOP_COARSE_MS;
    if (tick - loop->wheel_tick >= LOOP_WHEEL_SLOTS) {
        return loop_timer_start(loop, timer, tick * LOOP_COARSE_MS - loop->now_ms, fn, ctx);
    }
    loop_timer_stop(loop, timer);
    struct loop_timer **slot = &loop->wheel[tick % LOOP_WHEEL_SLOTS];
    timer->deadline_ms = tick * LOOP_COARSE_MS;
    timer->fn = fn;
    timer->ctx = ctx;
    timer->is_active = true;
    timer->is_coarse = true;
    timer->next = *slot;
    timer->prev_next = slot;
    if (*slot != NULL) {
        (*slot)->prev_next = &timer->next;
    }
    *slot = timer;
    loop->wheel_count++;
    return 0;
}

size_t loop_timer_count(const struct loop *loop)
{
    return loop->heap_count + loop->wheel_count;
}

uint64_t loop_now_ms(const struct loop *loop)
{
    return loop->now_ms;
}

/* Every coarse timer of the ticks that have passed; a callback that re-arms one lands in
 * a later tick, since a coarse deadline is always after now. */
static void run_due_wheel(struct loop *loop)
{
    uint64_t now_tick = loop->now_ms / LOOP_COARSE_MS;
    if (loop->wheel_count == 0) {
        loop->wheel_tick = now_tick + 1;
        return;
    }
    for (; loop->wheel_tick <= now_tick; loop->wheel_tick++) {
        struct loop_timer **slot = &loop->wheel[loop->wheel_tick % LOOP_WHEEL_SLOTS];
        while (*slot != NULL) {
            struct loop_timer *timer = *slot;
            loop_timer_stop(loop, timer);
            timer->fn(loop, timer->ctx);
        }
    }
}

static void run_due_timers(struct loop *loop)
{
    run_due_wheel(loop);
    /* Bounded: a timer callback that re-arms with delay 0 runs again next iteration. */
    size_t budget = loop->heap_count;
    while (budget-- > 0 && loop->heap_count > 0 && loop->heap[0]->deadline_ms <= loop->now_ms) {
        struct loop_timer *timer = loop->heap[0];
        loop_timer_stop(loop, timer);
        timer->fn(loop, timer->ctx);
    }
}

static int next_timeout_ms(const struct loop *loop, int cap_ms)
{
    if (loop->heap_count == 0 && loop->wheel_count == 0) {
        return cap_ms;
    }
    /* With coarse timers pending, wake at the next tick (ten times a second at most). */
    uint64_t deadline = loop->wheel_count > 0 ? loop->wheel_tick * LOOP_COARSE_MS : UINT64_MAX;
    if (loop->heap_count > 0 && loop->heap[0]->deadline_ms < deadline) {
        deadline = loop->heap[0]->deadline_ms;
    }
    if (deadline <= loop->now_ms) {
        return 0;
    }
    uint64_t wait = deadline - loop->now_ms;
    return (cap_ms >= 0 && wait > (uint64_t)cap_ms) ? cap_ms : (int)wait;
}

void loop_advance_ms(struct loop *loop, uint64_t ms)
{
    uint64_t target = loop->now_ms + ms;
    /* Bounded: each round moves the clock forward or ends at the target. */
    while (loop->now_ms < target) {
        uint64_t next = target;
        if (loop->wheel_count > 0 && loop->wheel_tick * LOOP_COARSE_MS < next) {
            next = loop->wheel_tick * LOOP_COARSE_MS;
        }
        if (loop->heap_count > 0 && loop->heap[0]->deadline_ms < next) {
            next = loop->heap[0]->deadline_ms;
        }
        loop->now_ms = next > loop->now_ms ? next : loop->now_ms + 1;
        run_due_timers(loop);
    }
    run_due_timers(loop); /* delay-0 timers armed by the last callbacks */
}

static int epoll_dispatch(struct loop *loop, int timeout_ms)
{
    struct epoll_event events[LOOP_MAX_EVENTS];
    int n = epoll_wait(loop->epoll_fd, events, LOOP_MAX_EVENTS, timeout_ms);
    if (n == -1) {
        return errno == EINTR ? 0 : -errno;
    }
    loop->now_ms = sw_mono_ms();
    for (int i = 0; i < n; i++) {
        struct loop_watch *watch = events[i].data.ptr;
        watch->fn(loop, events[i].events, watch->ctx);
    }
    return n;
}

static void dgram_readable(struct loop *loop, uint32_t events, void *ctx)
{
    (void)events;
    struct loop_dgram *dgram = ctx;
    struct dgram_batch *b = loop->dgrams;
    for (int round = 0; round < DGRAM_ROUNDS; round++) {
        for (unsigned i = 0; i < DGRAM_BATCH; i++) {
            b->msgs[i].msg_hdr.msg_namelen = sizeof(b->srcs[i]);
        }
        int n = recvmmsg(dgram->fd, b->msgs, DGRAM_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            /* Over 64 KiB cannot be SIP (RFC 3261 §18.1.1 caps UDP far lower). */
            if ((b->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) == 0) {
                dgram->fn(loop, dgram->ctx,
                          sv_make((const char *)b->iovs[i].iov_base, b->msgs[i].msg_len),
                          &b->srcs[i]);
            }
        }
        if (n < DGRAM_BATCH) {
            return;
        }
    }
}

static int dgram_watch(struct loop *loop, struct loop_dgram *dgram)
{
    if (loop->dgrams == NULL) {
        struct dgram_batch *b = sw_malloc(sizeof(*b) + (size_t)DGRAM_BATCH * DGRAM_MAX_BYTES);
        if (b == NULL) {
            return -ENOMEM;
        }
        for (unsigned i = 0; i < DGRAM_BATCH; i++) {
            b->iovs[i] = (struct iovec){ .iov_base = b->bytes + (size_t)i * DGRAM_MAX_BYTES,
                                         .iov_len = DGRAM_MAX_BYTES };
            b->msgs[i].msg_hdr = (struct msghdr){ .msg_name = &b->srcs[i],
                                                  .msg_namelen = sizeof(b->srcs[i]),
                                                  .msg_iov = &b->iovs[i],
                                                  .msg_iovlen = 1 };
        }
        loop->dgrams = b;
    }
    dgram->watch = (struct loop_watch){ .fd = dgram->fd, .fn = dgram_readable, .ctx = dgram };
    return loop_watch_add(loop, &dgram->watch, EPOLLIN);
}

int loop_use_ring(struct loop *loop)
{
    SW_ASSERT(loop->ring == NULL && loop->dgrams == NULL);
    return uring_new(&loop->ring);
}

bool loop_has_ring(const struct loop *loop)
{
    return loop->ring != NULL;
}

int loop_dgram_add(struct loop *loop, struct loop_dgram *dgram)
{
    if (loop->dgram_count == LOOP_MAX_DGRAMS) {
        return -SW_EFULL;
    }
    size_t index = loop->dgram_count++;
    loop->dgram_list[index] = dgram;
    dgram->tag = RING_TAG_DGRAM + index;
    dgram->watch = (struct loop_watch){ .fd = -1 }; /* fn NULL: not in the epoll set */
    if (loop->ring != NULL && uring_recv_arm(loop->ring, dgram->fd, dgram->tag) == 0) {
        return 0;
    }
    return dgram_watch(loop, dgram);
}

/* A receive that ended: armed again when it ran out of buffers (they are back by the
   next wait), else epoll takes the socket over, so that a socket the ring cannot serve
   (a kernel without multishot receives, 6.0) still works. */
static void dgram_rearm(struct loop *loop, struct loop_dgram *dgram, int res)
{
    if ((res >= 0 || res == -ENOBUFS) && uring_recv_arm(loop->ring, dgram->fd, dgram->tag) == 0) {
        return;
    }
    log_warn(NULL, "net: io_uring cannot receive on socket %d (%s): epoll reads it", dgram->fd,
             sw_strerror(res < 0 ? res : -EBUSY));
    int rc = dgram_watch(loop, dgram);
    if (rc != 0) {
        log_err(NULL, "net: socket %d: no way left to receive: %s", dgram->fd, sw_strerror(rc));
    }
}

static void on_ring_event(void *ctx, const struct uring_event *event)
{
    struct loop *loop = ctx;
    if (event->tag == RING_TAG_EPOLL) {
        loop->is_epoll_polled = false;
        (void)epoll_dispatch(loop, 0);
        return;
    }
    uint64_t index = event->tag - RING_TAG_DGRAM;
    if (event->tag < RING_TAG_DGRAM || index >= loop->dgram_count) {
        return;
    }
    struct loop_dgram *dgram = loop->dgram_list[index];
    if (event->data.ptr != NULL) {
        dgram->fn(loop, dgram->ctx, event->data, event->src);
    }
    if (!event->is_armed) {
        dgram_rearm(loop, dgram, event->res);
    }
}

/* The ring failed in a way no retry mends: rather than end the worker, epoll takes every
   socket over (those it does not watch yet) for the rest of the loop's life. */
static void ring_abandon(struct loop *loop, int err)
{
    log_err(NULL, "net: a worker's io_uring failed (%s): epoll takes over", sw_strerror(err));
    uring_free(loop->ring);
    loop->ring = NULL;
    loop->is_epoll_polled = false;
    for (size_t i = 0; i < loop->dgram_count; i++) {
        struct loop_dgram *dgram = loop->dgram_list[i];
        int rc = dgram->watch.fn == NULL ? dgram_watch(loop, dgram) : 0;
        if (rc != 0) {
            log_err(NULL, "net: socket %d: no way left to receive: %s", dgram->fd, sw_strerror(rc));
        }
    }
}

static int ring_run_once(struct loop *loop, int timeout_ms)
{
    /* Armed again after each drain of the epoll set: a one-shot poll completes at once
       when something is still ready, where a multishot one waits for news. */
    int rc = loop->is_epoll_polled ? 0 : uring_poll_arm(loop->ring, loop->epoll_fd, RING_TAG_EPOLL);
    loop->is_epoll_polled = rc == 0;
    if (rc == 0) {
        rc = uring_wait(loop->ring, next_timeout_ms(loop, timeout_ms));
    }
    /* EBUSY: completions must be reaped before more are submitted (the drain below). */
    if (rc != 0 && rc != -EBUSY && rc != -EAGAIN) {
        ring_abandon(loop, rc);
        return 0;
    }
    loop->now_ms = sw_mono_ms();
    unsigned n = uring_drain(loop->ring, on_ring_event, loop);
    loop->now_ms = sw_mono_ms();
    run_due_timers(loop);
    return (int)n;
}

int loop_run_once(struct loop *loop, int timeout_ms)
{
    if (loop->ring != NULL) {
        return ring_run_once(loop, timeout_ms);
    }
    int n = epoll_dispatch(loop, next_timeout_ms(loop, timeout_ms));
    if (n < 0) {
        return n;
    }
    loop->now_ms = sw_mono_ms();
    run_due_timers(loop);
    return n;
}

int loop_run(struct loop *loop)
{
    while (!atomic_load(&loop->is_stopping)) {
        int rc = loop_run_once(loop, 1000);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

void loop_wake(struct loop *loop)
{
    if (atomic_exchange(&loop->is_wake_pending, true)) {
        return;
    }
    uint64_t one = 1;
    /* A full eventfd counter still wakes the loop; nothing to do on failure. */
    (void)!write(loop->wake_watch.fd, &one, sizeof(one));
}

void loop_stop(struct loop *loop)
{
    atomic_store(&loop->is_stopping, true);
    uint64_t one = 1;
    (void)!write(loop->wake_watch.fd, &one, sizeof(one));
}
