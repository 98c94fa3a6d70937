#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "obs/evq.h"
#include "support/unit.h"

#define PRODUCERS  4
#define PER_THREAD 100000u
#define RECORD_MAX (PRODUCERS * PER_THREAD + 16)

/* What the sink saw: producer (module[0]) and sequence (count) of each event. */
struct record {
    size_t count;
    uint8_t producer[RECORD_MAX];
    uint32_t seq[RECORD_MAX];
    enum sw_event_kind kind[RECORD_MAX];
    bool is_out_of_order;
    uint32_t last_seq[PRODUCERS];
    bool has_last[PRODUCERS];
};

static struct record rec;

static void record_emit(void *ctx, const struct sw_event *event)
{
    struct record *r = ctx;
    uint8_t p = (uint8_t)event->module[0];
    if (p < PRODUCERS && event->kind != EV_CALL_ENDED) {
        if (r->has_last[p] && event->count <= r->last_seq[p]) {
            r->is_out_of_order = true;
        }
        r->has_last[p] = true;
        r->last_seq[p] = event->count;
    }
    if (r->count < RECORD_MAX) {
        r->producer[r->count] = p;
        r->seq[r->count] = event->count;
        r->kind[r->count] = event->kind;
        r->count++;
    }
}

static struct evq *queue_new(unsigned producers, size_t tele_cap, size_t rel_cap)
{
    memset(&rec, 0, sizeof(rec));
    struct evq *q = NULL;
    struct evq_config cfg = { .producer_count = producers,
                              .telemetry_cap = tele_cap,
                              .reliable_cap = rel_cap,
                              .idle_wait_ms = 5 };
    assert_int_equal(evq_new(&cfg, &q), 0);
    struct event_sink sink = { .emit = record_emit, .ctx = &rec };
    assert_int_equal(evq_add_sink(q, &sink), 0);
    return q;
}

static struct sw_event event_seq(unsigned producer, uint32_t seq, enum sw_event_kind kind)
{
    struct sw_event ev;
    sw_event_init(&ev, kind);
    ev.module[0] = (char)producer;
    ev.count = seq;
    return ev;
}

/* A sleeping consumer is not woken per event, but once a ring holds an eighth of its
 * capacity: with a minute of idle wait, 7 of 64 events stay queued and the 8th wakes it. */
static void test_evq_wakes_consumer_at_fill_mark(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof(rec));
    struct evq *q = NULL;
    struct evq_config cfg = { .producer_count = 1, .telemetry_cap = 64, .idle_wait_ms = 60000 };
    assert_int_equal(evq_new(&cfg, &q), 0);
    struct event_sink sink = { .emit = record_emit, .ctx = &rec };
    assert_int_equal(evq_add_sink(q, &sink), 0);
    assert_int_equal(evq_start(q), 0);
    (void)usleep(50 * 1000); /* the consumer finds nothing and goes to sleep */
    for (uint32_t i = 1; i <= 7; i++) {
        struct sw_event ev = event_seq(0, i, EV_FAILED_ACL);
        evq_push(q, 0, &ev);
    }
    assert_false(evq_wait_idle(q, 300));
    struct sw_event ev = event_seq(0, 8, EV_FAILED_ACL);
    evq_push(q, 0, &ev);
    assert_true(evq_wait_idle(q, 5000));
    evq_stop(q);
    assert_int_equal(rec.count, 8);
    evq_free(q);
}

/* A quiet queue stops polling on its timer: after one empty idle_wait_ms the consumer
 * sleeps until the next event, which it then delivers without waiting for the timer. */
static void test_evq_quiet_consumer_sleeps_until_an_event(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof(rec));
    struct evq *q = NULL;
    struct evq_config cfg = { .producer_count = 1, .telemetry_cap = 64, .idle_wait_ms = 10 };
    assert_int_equal(evq_new(&cfg, &q), 0);
    struct event_sink sink = { .emit = record_emit, .ctx = &rec };
    assert_int_equal(evq_add_sink(q, &sink), 0);
    assert_int_equal(evq_start(q), 0);
    (void)usleep(500 * 1000); /* 50 timer periods */
    struct evq_stats stats;
    evq_stats_get(q, &stats);
    /* On its timer it would have woken about 50 times. */
    assert_true(stats.wakeups <= 3);
    for (uint32_t i = 1; i <= 3; i++) {
        struct sw_event ev = event_seq(0, i, EV_FAILED_ACL);
        evq_push(q, 0, &ev);
        assert_true(evq_wait_idle(q, 5000));
        (void)usleep(100 * 1000); /* quiet again */
    }
    evq_stats_get(q, &stats);
    assert_true(stats.wakeups <= 3 + 3 * 3);
    evq_stop(q);
    assert_int_equal(rec.count, 3);
    evq_free(q);
}

static void test_evq_delivers_in_order(void **state)
{
    (void)state;
    struct evq *q = queue_new(1, 0, 0);
    assert_int_equal(evq_start(q), 0);
    struct evq_producer producer = { .queue = q, .index = 0 };
    struct event_sink sink = { .emit = evq_producer_emit, .ctx = &producer };
    for (uint32_t i = 1; i <= 1000; i++) {
        struct sw_event ev = event_seq(0, i, EV_FAILED_ACL);
        sw_event_emit(&sink, &ev);
    }
    assert_true(evq_wait_idle(q, 5000));
    evq_stop(q);
    assert_int_equal(rec.count, 1000);
    assert_false(rec.is_out_of_order);
    struct evq_stats stats;
    evq_stats_get(q, &stats);
    assert_int_equal(stats.pushed, 1000);
    assert_int_equal(stats.delivered, 1000);
    assert_int_equal(stats.dropped, 0);
    evq_free(q);
}

/* A sink that holds what it gets until its flush. */
struct holder {
    size_t held;
    size_t flushed;
    size_t flushes;
};

static void holder_emit(void *ctx, const struct sw_event *event)
{
    (void)event;
    struct holder *h = ctx;
    h->held++;
}

static void holder_flush(void *ctx)
{
    struct holder *h = ctx;
    h->flushed += h->held;
    h->held = 0;
    h->flushes++;
}

/* After each batch it delivers the consumer flushes the sinks (#13: the security log
 * writes a batch's lines at once), and only when it delivered something. */
static void test_evq_flushes_sinks_after_a_batch(void **state)
{
    (void)state;
    struct evq *q = queue_new(1, 0, 0);
    struct holder h = { 0 };
    struct event_sink held = { .emit = holder_emit, .ctx = &h, .flush = holder_flush };
    assert_int_equal(evq_add_sink(q, &held), 0);
    assert_int_equal(evq_start(q), 0);
    usleep(30 * 1000); /* a few idle drains: nothing delivered, nothing flushed */
    assert_int_equal(h.flushes, 0);
    struct evq_producer producer = { .queue = q, .index = 0 };
    struct event_sink sink = { .emit = evq_producer_emit, .ctx = &producer };
    for (uint32_t i = 1; i <= 1000; i++) {
        struct sw_event ev = event_seq(0, i, EV_FAILED_ACL);
        sw_event_emit(&sink, &ev);
    }
    assert_true(evq_wait_idle(q, 5000));
    evq_stop(q); /* joins the consumer: its last flush is done */
    assert_int_equal(rec.count, 1000);
    assert_int_equal(h.flushed, 1000);
    assert_int_equal(h.held, 0);
    assert_true(h.flushes >= 1 && h.flushes <= 1000);
    evq_free(q);
}

/* A full ring drops the oldest: with no consumer, 48 pushes into 16 slots keep the last 16. */
static void test_evq_full_ring_drops_oldest(void **state)
{
    (void)state;
    struct evq *q = queue_new(1, 16, 4);
    for (uint32_t i = 1; i <= 48; i++) {
        struct sw_event ev = event_seq(0, i, EV_RATE_EXCEEDED);
        evq_push(q, 0, &ev);
    }
    assert_int_equal(evq_start(q), 0);
    assert_true(evq_wait_idle(q, 5000));
    evq_stop(q);
    assert_int_equal(rec.count, 16);
    for (size_t i = 0; i < 16; i++) {
        assert_int_equal(rec.seq[i], 33 + i);
    }
    struct evq_stats stats;
    evq_stats_get(q, &stats);
    assert_int_equal(stats.dropped, 32);
    assert_int_equal(stats.delivered, 16);
    evq_free(q);
}

/* Must-deliver events are never overwritten: a full ring refuses, and they come first. */
static void test_evq_reliable_never_dropped(void **state)
{
    (void)state;
    struct evq *q = queue_new(1, 16, 8);
    struct sw_event tele = event_seq(0, 1, EV_FAILED_ACL);
    evq_push(q, 0, &tele);
    unsigned accepted = 0;
    for (uint32_t i = 0; i < 20; i++) {
        struct sw_event ev = event_seq(0, 100 + i, EV_CALL_ENDED);
        accepted += evq_push_reliable(q, 0, &ev);
    }
    assert_int_equal(accepted, 8);
    struct evq_stats stats;
    evq_stats_get(q, &stats);
    assert_int_equal(stats.reliable_rejected, 12);
    assert_int_equal(evq_start(q), 0);
    assert_true(evq_wait_idle(q, 5000));
    evq_stop(q);
    assert_int_equal(rec.count, 9);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(rec.kind[i], EV_CALL_ENDED);
        assert_int_equal(rec.seq[i], 100 + i);
    }
    assert_int_equal(rec.kind[8], EV_FAILED_ACL);
    evq_free(q);
}

struct producer_arg {
    struct evq *queue;
    unsigned index;
};

static void *producer_main(void *arg)
{
    const struct producer_arg *p = arg;
    for (uint32_t i = 1; i <= PER_THREAD; i++) {
        struct sw_event ev = event_seq(p->index, i, EV_INVALID_PASSWORD);
        evq_push(p->queue, p->index, &ev);
    }
    return NULL;
}

/*
 * Producers on their own threads push as fast as they can while the consumer drains:
 * per producer the delivered events stay in order, and every event is delivered or
 * counted as dropped. Run under TSan too.
 */
static void test_evq_concurrent_producers(void **state)
{
    (void)state;
    struct evq *q = queue_new(PRODUCERS, 1024, 16);
    assert_int_equal(evq_start(q), 0);
    pthread_t threads[PRODUCERS];
    struct producer_arg args[PRODUCERS];
    for (unsigned i = 0; i < PRODUCERS; i++) {
        args[i] = (struct producer_arg){ .queue = q, .index = i };
        assert_int_equal(pthread_create(&threads[i], NULL, producer_main, &args[i]), 0);
    }
    for (unsigned i = 0; i < PRODUCERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    }
    assert_true(evq_wait_idle(q, 10000));
    evq_stop(q);
    struct evq_stats stats;
    evq_stats_get(q, &stats);
    assert_int_equal(stats.pushed, PRODUCERS * PER_THREAD);
    assert_int_equal(stats.delivered + stats.dropped, stats.pushed);
    assert_int_equal(stats.delivered, rec.count);
    assert_false(rec.is_out_of_order);
    print_message("evq: %u producers x %u events: %llu delivered, %llu dropped\n", PRODUCERS,
                  PER_THREAD, (unsigned long long)stats.delivered,
                  (unsigned long long)stats.dropped);
    evq_free(q);
}

static void test_evq_bad_config(void **state)
{
    (void)state;
    struct evq *q = NULL;
    assert_int_not_equal(evq_new(&(struct evq_config){ .producer_count = 0 }, &q), 0);
    assert_int_not_equal(
        evq_new(&(struct evq_config){ .producer_count = 1, .telemetry_cap = 1u << 21 }, &q), 0);
    /* Stop without start is harmless. */
    assert_int_equal(evq_new(&(struct evq_config){ .producer_count = 1 }, &q), 0);
    evq_stop(q);
    evq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evq_delivers_in_order),
        cmocka_unit_test(test_evq_flushes_sinks_after_a_batch),
        cmocka_unit_test(test_evq_wakes_consumer_at_fill_mark),
        cmocka_unit_test(test_evq_quiet_consumer_sleeps_until_an_event),
        cmocka_unit_test(test_evq_full_ring_drops_oldest),
        cmocka_unit_test(test_evq_reliable_never_dropped),
        cmocka_unit_test(test_evq_concurrent_producers),
        cmocka_unit_test(test_evq_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
