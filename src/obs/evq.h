/*
 * Event queues: the second path of DESIGN.md. Each producer (a worker thread, the
 * housekeeping thread...) owns a pair of single-producer single-consumer rings; one
 * consumer thread drains all of them and hands every event to the sinks (security log,
 * metrics, later call records) in order, off the hot path.
 *
 * Two classes of events:
 *  - Telemetry (evq_push): never blocks and never fails. A full ring overwrites its
 *    oldest event; the consumer notices the gap and counts the loss (evq_stats.dropped).
 *    Bans are decided inline by the caller, so losing telemetry never loses a ban.
 *  - Must deliver (evq_push_reliable), for call records: a separate ring that is never
 *    overwritten. When it is full the push returns false and counts it; the producer
 *    keeps the record and retries on its next loop iteration (it must not spin). The
 *    consumer drains these rings first.
 * The consumer drains every `idle_wait_ms`; a producer wakes it earlier (through an
 * eventfd, and only when it said it was going to sleep) each time a ring fills to an
 * eighth of its capacity. An event thus reaches the sinks within idle_wait_ms. After a
 * whole idle_wait_ms without any event the consumer sleeps until the next event wakes it
 * (an idle gateway wakes no thread for its queue); under load it stays on its timer.
 *
 * Memory, allocated by evq_new: per producer, telemetry_cap slots of 1,096 bytes and
 * reliable_cap events of 1,088 bytes (x86-64): 1.4 MiB per producer with the defaults.
 *
 * Threads: evq_new, evq_add_sink, evq_start, evq_stop and evq_free belong to the main
 * thread; evq_push and evq_push_reliable for producer p only to p's thread; sinks run in
 * the consumer thread; evq_stats_get and evq_wait_idle from any thread.
 */
#ifndef SW_OBS_EVQ_H
#define SW_OBS_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/event.h"

#define EVQ_SINKS_MAX 8

struct evq_config {
    unsigned producer_count; /* at least 1 */
    size_t telemetry_cap;    /* per producer, rounded up to a power of two; 0 = 1024 */
    size_t reliable_cap;     /* per producer, rounded up to a power of two; 0 = 256 */
    unsigned idle_wait_ms;   /* 0 = 20 */
};

struct evq_stats {
    uint64_t pushed;            /* telemetry and reliable events accepted */
    uint64_t delivered;         /* events handed to the sinks */
    uint64_t dropped;           /* telemetry overwritten before it was read */
    uint64_t reliable_rejected; /* evq_push_reliable calls that found the ring full */
    uint64_t wakeups;           /* times the consumer woke from a sleep */
};

struct evq;

/* A producer's handle as an event sink: `ctx` for evq_producer_emit. */
struct evq_producer {
    struct evq *queue;
    unsigned index;
};

/* Creates the queues (no thread yet). Returns 0, -SW_EBADARG, -ENOMEM or -errno. */
int evq_new(const struct evq_config *cfg, struct evq **out);

/* Adds a sink (before evq_start). Returns 0 or -SW_EFULL. */
int evq_add_sink(struct evq *queue, const struct event_sink *sink);

/* Starts the consumer thread. Returns 0 or -errno. */
int evq_start(struct evq *queue);

/* Delivers what is queued, then stops and joins the consumer. Safe when not started. */
void evq_stop(struct evq *queue);

/* Stops if needed and frees; NULL is a no-op. */
void evq_free(struct evq *queue);

/* Queues a telemetry event as producer `producer`; never blocks (see above). */
void evq_push(struct evq *queue, unsigned producer, const struct sw_event *event);

/* Queues a must-deliver event; false (nothing queued) when that ring is full. */
bool evq_push_reliable(struct evq *queue, unsigned producer, const struct sw_event *event);

/* An event_emit_fn that pushes telemetry; `ctx` is a struct evq_producer. */
void evq_producer_emit(void *ctx, const struct sw_event *event);

/* Counters summed over the producers. */
void evq_stats_get(const struct evq *queue, struct evq_stats *out);

/*
 * Waits until every event pushed before the call was delivered or dropped, at most
 * `timeout_ms`. Returns true when it was. For tests and orderly shutdown.
 */
bool evq_wait_idle(const struct evq *queue, unsigned timeout_ms);

#endif
