/*
 * A bounded work queue with its own consumer threads: the one way a hot path hands slow
 * work (a database write, a Redis command, a spawned action, an HTTP fetch) to a thread
 * that may block. Items are fixed-size values copied in by workq_push and copied out, up
 * to `batch_max` at a time, into the consumer's own buffer, where `run` handles them.
 *
 *  - A push never blocks and never allocates: a full queue refuses the item (false) and
 *    the producer decides what a loss means (count it, ask for a resync...); or, with
 *    `is_oldest_dropped`, takes it in place of its oldest item (false too: one was lost).
 *  - workq_kick wakes a consumer with no item: `run` sees count 0 (a resync wanted, a
 *    state the producer set before kicking). With `tick_ms`, `run` is also called with
 *    count 0 after tick_ms without work (periodic chores such as a purge).
 *  - A consumer that waits between retries calls workq_pause, which returns early when
 *    stop begins.
 *  - workq_stop sets the stopping flag, wakes the consumers and joins them. With
 *    `is_drained_on_stop` they first run what is queued (and a pending kick); without, they
 *    leave it and workq_take hands it to the owner, who settles each item exactly once.
 *
 * Memory, allocated by workq_new: capacity items plus batch_max items per thread.
 *
 * Threads: workq_new, workq_start, workq_stop, workq_take and workq_free belong to the
 * owner (workq_stop_begin too); workq_push, workq_kick, workq_is_stopping and
 * workq_wait_idle may be called from any thread, workq_pause from `run` only; `run` runs
 * in the consumer threads (several at once when thread_count > 1).
 */
#ifndef SW_BASE_WORKQ_H
#define SW_BASE_WORKQ_H

#include <stdbool.h>
#include <stddef.h>

/* Handles `count` items (0 after a kick or a tick) laid out contiguously at `items`. */
typedef void workq_run_fn(void *ctx, void *items, size_t count);

struct workq_config {
    size_t item_size;        /* bytes per item, > 0 */
    size_t capacity;         /* items, 1 to 2^20 */
    size_t batch_max;        /* items per run call; 0 = 1 */
    unsigned thread_count;   /* consumer threads, 0 = 1, at most 64 */
    unsigned tick_ms;        /* 0 = no tick */
    bool is_drained_on_stop; /* see above */
    bool is_oldest_dropped;  /* see above */
    workq_run_fn *run;
    void *ctx;
};

struct workq;

/* Creates the queue (no thread yet). Returns 0, -SW_EBADARG or -ENOMEM. */
int workq_new(const struct workq_config *cfg, struct workq **out);

/* Starts the consumer threads once. Returns 0 or -errno (then none runs). */
int workq_start(struct workq *queue);

/* Copies `item` into the queue and wakes a consumer. False when an item was lost: this
 * one (full or stopping), or the oldest (full, with is_oldest_dropped). Items pushed
 * before workq_start wait for it. */
bool workq_push(struct workq *queue, const void *item);

/* Wakes one consumer to run with count 0, once however many kicks arrive before it runs. */
void workq_kick(struct workq *queue);

/* True once stop began: a long `run` polls it to give up its retries. */
bool workq_is_stopping(const struct workq *queue);

/* Sleeps `ms` or until stop begins, whichever is first. True when stopping. */
bool workq_pause(struct workq *queue, unsigned ms);

/*
 * Waits until the queue is empty and no consumer is inside `run`, at most `timeout_ms`.
 * Returns true when it was. For tests and orderly shutdown.
 */
bool workq_wait_idle(struct workq *queue, unsigned timeout_ms);

/* Begins the stop without waiting: several queues then stop in parallel. */
void workq_stop_begin(struct workq *queue);

/* Stops and joins the consumers (see above); safe when not started, and more than once. */
void workq_stop(struct workq *queue);

/* After workq_stop: moves up to `max` queued items, oldest first, to `out`; their count. */
size_t workq_take(struct workq *queue, void *out, size_t max);

/* Stops if needed and frees; items still queued are dropped. NULL is a no-op. */
void workq_free(struct workq *queue);

#endif
