/*
 * The event loop of one worker: epoll for file descriptors, a binary heap of timers, and
 * an eventfd to be woken from other threads. With loop_use_ring(), an io_uring waits
 * instead and receives the datagram sockets' datagrams itself (net/uring.h). Everything
 * except loop_wake() and loop_stop() must be called from the loop's own thread.
 *
 * Watches and timers are embedded in their owners (libuv's way): the loop keeps pointers
 * and never allocates after loop_new() (but for the buffers of its first datagram socket),
 * so the timer capacity is fixed at start.
 */
#ifndef SW_NET_LOOP_H
#define SW_NET_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

struct loop;
struct sockaddr_storage;

typedef void loop_io_fn(struct loop *loop, uint32_t events, void *ctx);
typedef void loop_timer_fn(struct loop *loop, void *ctx);
typedef void loop_wake_fn(struct loop *loop, void *ctx);
/* One datagram; `data` and `src` are valid during the call only. */
typedef void loop_dgram_fn(struct loop *loop, void *ctx, struct sv data,
                           const struct sockaddr_storage *src);

/* An fd registered with the loop; owned by the caller, must outlive its registration. */
struct loop_watch {
    int fd;
    loop_io_fn *fn;
    void *ctx;
};

/* A datagram socket the loop reads itself; owned by the caller like a watch. */
struct loop_dgram {
    int fd;
    loop_dgram_fn *fn;
    void *ctx;
    struct loop_watch watch; /* the loop's, when epoll watches the socket */
    uint64_t tag;            /* the loop's, when its ring receives */
};

/* A one-shot timer; owned by the caller. Zero-initialized or after it fired: inactive. */
struct loop_timer {
    uint64_t deadline_ms;
    size_t heap_index;       /* exact timers: place in the loop's heap */
    struct loop_timer *next; /* coarse timers: the wheel slot's list */
    struct loop_timer **prev_next;
    loop_timer_fn *fn;
    void *ctx;
    bool is_active;
    bool is_coarse;
};

/*
 * A loop holding at most `max_timers` active exact timers (coarse ones are not limited).
 * `on_wake` runs in the loop thread
 * after loop_wake() from any thread (coalesced). NULL on failure (errno-less: out of
 * memory or no epoll/eventfd).
 */
struct loop *loop_new(size_t max_timers, loop_wake_fn *on_wake, void *wake_ctx);

/* Frees the loop; the caller has removed or abandoned its watches. NULL is a no-op. */
void loop_free(struct loop *loop);

/*
 * Makes an io_uring the loop's way to wait and to receive datagrams: one system call per
 * wake-up where epoll takes two (epoll_wait, then recvmmsg). Call before loop_dgram_add.
 * Returns 0, or -errno when the kernel refuses (the loop then keeps epoll).
 */
int loop_use_ring(struct loop *loop);

/* Whether the loop waits in an io_uring (loop_use_ring). */
bool loop_has_ring(const struct loop *loop);

/*
 * Receives every datagram of `dgram->fd` (non-blocking) and calls dgram->fn for each;
 * datagrams too large to be whole are dropped. At most LOOP_MAX_DGRAMS sockets. Returns
 * 0, -SW_EFULL or -errno.
 */
#define LOOP_MAX_DGRAMS 16
int loop_dgram_add(struct loop *loop, struct loop_dgram *dgram);

/* Registers `watch` for EPOLLIN/EPOLLOUT/... `events`. Returns 0 or -errno. */
int loop_watch_add(struct loop *loop, struct loop_watch *watch, uint32_t events);
int loop_watch_mod(struct loop *loop, struct loop_watch *watch, uint32_t events);
int loop_watch_del(struct loop *loop, struct loop_watch *watch);

/*
 * Arms `timer` to call fn(ctx) after `delay_ms` (re-arming an active timer moves it).
 * Returns 0, or -SW_EFULL when max_timers are active.
 */
int loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms,
                     loop_timer_fn *fn, void *ctx);

/*
 * For timers whose exact moment does not matter (transaction clean-up, time-outs of
 * seconds): the deadline is rounded up to a multiple of LOOP_COARSE_MS of the loop's
 * clock, so that all such timers of a period expire in one wake-up. One wake-up per
 * timer was a quarter of a worker's wake-ups in the call benchmark. They live in a timing
 * wheel (LOOP_WHEEL_SLOTS ticks ahead; later ones in the heap): starting and stopping
 * one costs O(1), where the heap of 100,000 lingering transactions cost a cache miss per
 * level. Delay 0 stays 0. Returns 0 or -SW_EFULL (only for delays beyond the wheel).
 */
#define LOOP_WHEEL_SLOTS 4096u
#define LOOP_COARSE_MS   100u
int loop_timer_start_coarse(struct loop *loop, struct loop_timer *timer, uint64_t delay_ms,
                            loop_timer_fn *fn, void *ctx);

/* Disarms `timer`; a no-op when it is not active. */
void loop_timer_stop(struct loop *loop, struct loop_timer *timer);

/* Number of active timers. */
size_t loop_timer_count(const struct loop *loop);

/* The loop's cached monotonic time in ms, refreshed every iteration. */
uint64_t loop_now_ms(const struct loop *loop);

/*
 * A manual clock for tests: moves the loop's time `ms` forward without polling, running
 * every timer that falls due on the way at its own moment (in deadline order, re-armed
 * timers included). A loop driven this way is not also run with loop_run*(), which would
 * read the real clock again.
 */
void loop_advance_ms(struct loop *loop, uint64_t ms);

/* Runs until loop_stop(); returns 0 or -errno on an epoll failure. */
int loop_run(struct loop *loop);

/* Runs one iteration waiting at most `timeout_ms` (tests). Returns events handled or -errno. */
int loop_run_once(struct loop *loop, int timeout_ms);

/* Thread-safe: wakes the loop so it runs on_wake. */
void loop_wake(struct loop *loop);

/* Thread-safe: makes loop_run() return after the current iteration. */
void loop_stop(struct loop *loop);

#endif
