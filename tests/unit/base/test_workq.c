#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/workq.h"
#include "support/unit.h"

#define PRODUCERS    4u
#define PER_PRODUCER 5000u
#define ORDER_MAX    (PRODUCERS * PER_PRODUCER)

struct item {
    uint32_t producer;
    uint32_t seq;
};

/* What the consumers saw; `run` may run in several threads at once. */
struct seen {
    atomic_uint items;
    atomic_uint empty_runs; /* kicks and ticks */
    atomic_uint batches;
    atomic_uint max_batch;
    atomic_uint order_errors;
    uint32_t next_seq[PRODUCERS]; /* checked only with one consumer */
    bool is_ordered;
    atomic_bool is_blocked; /* run spins while set */
    atomic_bool is_inside;
};

static void record(void *ctx, void *items, size_t count)
{
    struct seen *seen = ctx;
    atomic_store(&seen->is_inside, true);
    while (atomic_load(&seen->is_blocked)) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000000L };
        (void)nanosleep(&pause, NULL);
    }
    if (count == 0) {
        atomic_fetch_add(&seen->empty_runs, 1);
    }
    atomic_fetch_add(&seen->batches, count > 0 ? 1u : 0u);
    unsigned prev = atomic_load(&seen->max_batch);
    while (count > prev &&
           !atomic_compare_exchange_weak(&seen->max_batch, &prev, (unsigned)count)) {
    }
    const struct item *it = items;
    for (size_t i = 0; i < count; i++) {
        if (seen->is_ordered && it[i].seq != seen->next_seq[it[i].producer]++) {
            atomic_fetch_add(&seen->order_errors, 1);
        }
    }
    atomic_fetch_add(&seen->items, (unsigned)count);
}

static struct workq *make(struct seen *seen, const struct workq_config *extra)
{
    struct workq_config cfg = *extra;
    cfg.item_size = sizeof(struct item);
    cfg.run = record;
    cfg.ctx = seen;
    struct workq *q = NULL;
    assert_int_equal(workq_new(&cfg, &q), 0);
    return q;
}

static void test_workq_rejects_bad_config(void **state)
{
    (void)state;
    struct workq *q = NULL;
    struct workq_config cfg = { .item_size = 8, .capacity = 4, .run = record };
    cfg.item_size = 0;
    assert_int_equal(workq_new(&cfg, &q), -SW_EBADARG);
    cfg.item_size = 8;
    cfg.capacity = 0;
    assert_int_equal(workq_new(&cfg, &q), -SW_EBADARG);
    cfg.capacity = 4;
    cfg.run = NULL;
    assert_int_equal(workq_new(&cfg, &q), -SW_EBADARG);
    cfg.run = record;
    cfg.thread_count = 65;
    assert_int_equal(workq_new(&cfg, &q), -SW_EBADARG);
    assert_null(q);
    workq_free(NULL);
}

/* Full means refused, in order, batches bounded; what waited before start runs after. */
static void test_workq_bounded_ordered_batched(void **state)
{
    (void)state;
    struct seen seen = { .is_ordered = true };
    struct workq *q = make(&seen, &(struct workq_config){ .capacity = 8, .batch_max = 3 });
    for (uint32_t i = 0; i < 8; i++) {
        assert_true(workq_push(q, &(struct item){ .producer = 0, .seq = i }));
    }
    assert_false(workq_push(q, &(struct item){ .producer = 0, .seq = 8 }));
    assert_int_equal(workq_start(q), 0);
    assert_true(workq_wait_idle(q, 10000));
    assert_int_equal(atomic_load(&seen.items), 8);
    assert_int_equal(atomic_load(&seen.max_batch), 3);
    assert_true(atomic_load(&seen.batches) >= 3);
    assert_true(workq_push(q, &(struct item){ .producer = 0, .seq = 8 }));
    assert_true(workq_wait_idle(q, 10000));
    assert_int_equal(atomic_load(&seen.items), 9);
    assert_int_equal(atomic_load(&seen.order_errors), 0);
    assert_int_equal(atomic_load(&seen.empty_runs), 0);
    workq_free(q);
}

/* Kicks coalesce into one empty run while the consumer is busy; a tick runs when idle. */
static void test_workq_kick_and_tick(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct workq *q = make(&seen, &(struct workq_config){ .capacity = 4 });
    assert_int_equal(workq_start(q), 0);
    atomic_store(&seen.is_blocked, true);
    assert_true(workq_push(q, &(struct item){ 0 }));
    while (!atomic_load(&seen.is_inside)) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000000L };
        (void)nanosleep(&pause, NULL);
    }
    assert_false(workq_wait_idle(q, 20)); /* inside run: not idle */
    workq_kick(q);
    workq_kick(q);
    workq_kick(q);
    atomic_store(&seen.is_blocked, false);
    assert_true(workq_wait_idle(q, 10000));
    assert_int_equal(atomic_load(&seen.empty_runs), 1);
    workq_free(q);

    struct seen ticked = { 0 };
    q = make(&ticked, &(struct workq_config){ .capacity = 4, .tick_ms = 5 });
    assert_int_equal(workq_start(q), 0);
    for (int i = 0; i < 2000 && atomic_load(&ticked.empty_runs) < 2; i++) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 5000000L };
        (void)nanosleep(&pause, NULL);
    }
    assert_true(atomic_load(&ticked.empty_runs) >= 2);
    workq_free(q);
}

/* Drained on stop: everything queued runs. Not drained: workq_take hands it back. */
static void test_workq_stop_drains_or_hands_back(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct workq *q =
        make(&seen, &(struct workq_config){ .capacity = 16, .is_drained_on_stop = true });
    for (uint32_t i = 0; i < 16; i++) {
        assert_true(workq_push(q, &(struct item){ .seq = i }));
    }
    workq_kick(q);
    assert_int_equal(workq_start(q), 0);
    workq_stop(q);
    assert_int_equal(atomic_load(&seen.items), 16);
    assert_false(workq_push(q, &(struct item){ 0 })); /* stopping refuses */
    assert_true(workq_is_stopping(q));
    workq_stop(q); /* twice is fine */
    workq_free(q);

    struct seen kept = { 0 };
    q = make(&kept, &(struct workq_config){ .capacity = 16 });
    for (uint32_t i = 0; i < 5; i++) {
        assert_true(workq_push(q, &(struct item){ .seq = i }));
    }
    workq_stop(q); /* never started */
    struct item back[8];
    assert_int_equal(workq_take(q, back, 2), 2);
    assert_int_equal(back[0].seq, 0);
    assert_int_equal(back[1].seq, 1);
    assert_int_equal(workq_take(q, back, 8), 3);
    assert_int_equal(back[2].seq, 4);
    assert_int_equal(workq_take(q, back, 8), 0);
    assert_int_equal(atomic_load(&kept.items), 0);
    workq_free(q);
}

/* With is_oldest_dropped a full queue keeps the newest items and says one was lost. */
static void test_workq_drops_oldest_when_asked(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct workq *q =
        make(&seen, &(struct workq_config){ .capacity = 3, .is_oldest_dropped = true });
    for (uint32_t i = 0; i < 5; i++) {
        assert_true(workq_push(q, &(struct item){ .seq = i }) == (i < 3));
    }
    workq_stop(q);
    struct item back[4];
    assert_int_equal(workq_take(q, back, 4), 3);
    assert_int_equal(back[0].seq, 2);
    assert_int_equal(back[2].seq, 4);
    workq_free(q);
}

struct pauser {
    struct workq *queue;
    atomic_bool is_inside;
    atomic_bool was_stopping;
};

static void pause_long(void *ctx, void *items, size_t count)
{
    (void)items;
    (void)count;
    struct pauser *p = ctx;
    atomic_store(&p->is_inside, true);
    atomic_store(&p->was_stopping, workq_pause(p->queue, 600000));
}

/* A consumer pausing between retries wakes when stop begins, not after its pause. */
static void test_workq_pause_ends_on_stop(void **state)
{
    (void)state;
    struct pauser p = { 0 };
    struct workq_config cfg = {
        .item_size = sizeof(struct item), .capacity = 2, .run = pause_long, .ctx = &p
    };
    assert_int_equal(workq_new(&cfg, &p.queue), 0);
    assert_false(workq_pause(p.queue, 1)); /* not stopping: the whole pause */
    assert_int_equal(workq_start(p.queue), 0);
    assert_true(workq_push(p.queue, &(struct item){ 0 }));
    while (!atomic_load(&p.is_inside)) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000000L };
        (void)nanosleep(&pause, NULL);
    }
    workq_stop(p.queue);
    assert_true(atomic_load(&p.was_stopping));
    workq_free(p.queue);
}

struct producer {
    struct workq *queue;
    uint32_t index;
    unsigned refused;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (uint32_t seq = 0; seq < PER_PRODUCER; seq++) {
        if (!workq_push(p->queue, &(struct item){ .producer = p->index, .seq = seq })) {
            p->refused++;
        }
        if (seq % 97 == 0) {
            workq_kick(p->queue);
        }
    }
    return NULL;
}

/* Producers on several threads, consumers on several threads: every item is accounted
 * for (run or refused), exactly once. This is the test the TSan build runs. */
static void test_workq_threads_account_for_every_item(void **state)
{
    (void)state;
    struct seen seen = { 0 };
    struct workq *q = make(&seen, &(struct workq_config){ .capacity = 64,
                                                          .batch_max = 8,
                                                          .thread_count = 3,
                                                          .tick_ms = 1,
                                                          .is_drained_on_stop = true });
    assert_int_equal(workq_start(q), 0);
    pthread_t threads[PRODUCERS];
    struct producer producers[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        producers[i] = (struct producer){ .queue = q, .index = i };
        assert_int_equal(pthread_create(&threads[i], NULL, produce, &producers[i]), 0);
    }
    unsigned refused = 0;
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        refused += producers[i].refused;
    }
    workq_stop(q);
    assert_int_equal(atomic_load(&seen.items) + refused, ORDER_MAX);
    assert_true(atomic_load(&seen.max_batch) <= 8);
    workq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workq_rejects_bad_config),
        cmocka_unit_test(test_workq_bounded_ordered_batched),
        cmocka_unit_test(test_workq_kick_and_tick),
        cmocka_unit_test(test_workq_stop_drains_or_hands_back),
        cmocka_unit_test(test_workq_drops_oldest_when_asked),
        cmocka_unit_test(test_workq_pause_ends_on_stop),
        cmocka_unit_test(test_workq_threads_account_for_every_item),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
