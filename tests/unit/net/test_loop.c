/*
 * The event loop: timer order, cancel, re-arm, the fixed timer capacity, fd watches, and
 * wake-up from another thread. Runs the loop in the test thread with loop_run_once().
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/err.h"
#include "base/time.h"
#include "net/loop.h"
#include "support/unit.h"

#define MAX_FIRED 16

struct record {
    int fired[MAX_FIRED];
    size_t count;
};

struct tagged_timer {
    struct loop_timer timer;
    struct record *rec;
    int tag;
};

static void on_timer(struct loop *loop, void *ctx)
{
    (void)loop;
    struct tagged_timer *t = ctx;
    if (t->rec->count < MAX_FIRED) {
        t->rec->fired[t->rec->count++] = t->tag;
    }
}

/* Runs the loop until `count` timers fired or `budget_ms` passed. */
static void run_until(struct loop *loop, const struct record *rec, size_t count, int budget_ms)
{
    uint64_t end = sw_mono_ms() + (uint64_t)budget_ms;
    while (rec->count < count && sw_mono_ms() < end) {
        assert_true(loop_run_once(loop, 10) >= 0);
    }
}

static void test_timers_fire_in_deadline_order(void **state)
{
    (void)state;
    struct loop *loop = loop_new(8, NULL, NULL);
    assert_non_null(loop);
    struct record rec = { 0 };
    struct tagged_timer t[4];
    const uint64_t delays[] = { 40, 10, 30, 20 };
    for (int i = 0; i < 4; i++) {
        t[i] = (struct tagged_timer){ .rec = &rec, .tag = i };
        assert_int_equal(loop_timer_start(loop, &t[i].timer, delays[i], on_timer, &t[i]), 0);
    }
    assert_int_equal(loop_timer_count(loop), 4);
    run_until(loop, &rec, 4, 2000);
    assert_int_equal(rec.count, 4);
    assert_int_equal(rec.fired[0], 1);
    assert_int_equal(rec.fired[1], 3);
    assert_int_equal(rec.fired[2], 2);
    assert_int_equal(rec.fired[3], 0);
    assert_int_equal(loop_timer_count(loop), 0);
    assert_false(t[0].timer.is_active);
    loop_free(loop);
}

/* The manual clock: timers fire at their own moments while time is moved by hand. */
static void test_manual_clock_runs_timers_on_the_way(void **state)
{
    (void)state;
    struct loop *loop = loop_new(8, NULL, NULL);
    assert_non_null(loop);
    struct record rec = { 0 };
    struct tagged_timer t[3];
    uint64_t start = loop_now_ms(loop);
    for (int i = 0; i < 3; i++) {
        t[i] = (struct tagged_timer){ .rec = &rec, .tag = i };
    }
    assert_int_equal(loop_timer_start(loop, &t[0].timer, 5000, on_timer, &t[0]), 0);
    assert_int_equal(loop_timer_start(loop, &t[1].timer, 700, on_timer, &t[1]), 0);
    assert_int_equal(loop_timer_start_coarse(loop, &t[2].timer, 2000, on_timer, &t[2]), 0);
    loop_advance_ms(loop, 699);
    assert_int_equal(rec.count, 0);
    assert_int_equal(loop_now_ms(loop), start + 699);
    loop_advance_ms(loop, 1);
    assert_int_equal(rec.count, 1);
    loop_advance_ms(loop, 60000); /* far beyond: both others, in deadline order */
    assert_int_equal(rec.count, 3);
    assert_int_equal(rec.fired[1], 2);
    assert_int_equal(rec.fired[2], 0);
    assert_int_equal(loop_now_ms(loop), start + 60700);
    assert_int_equal(loop_timer_count(loop), 0);
    loop_free(loop);
}

/* Coarse timers share a deadline on the LOOP_COARSE_MS grid, never fire early, and a
 * zero delay stays immediate. */
static void test_coarse_timers_share_a_grid_deadline(void **state)
{
    (void)state;
    struct loop *loop = loop_new(8, NULL, NULL);
    assert_non_null(loop);
    struct record rec = { 0 };
    struct tagged_timer t[3];
    const uint64_t delays[] = { 1, 37, 0 };
    uint64_t now = loop_now_ms(loop);
    for (int i = 0; i < 3; i++) {
        t[i] = (struct tagged_timer){ .rec = &rec, .tag = i };
        assert_int_equal(loop_timer_start_coarse(loop, &t[i].timer, delays[i], on_timer, &t[i]), 0);
    }
    assert_int_equal(t[2].timer.deadline_ms, now);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(t[i].timer.deadline_ms % LOOP_COARSE_MS, 0);
        assert_true(t[i].timer.deadline_ms >= now + delays[i]);
        assert_true(t[i].timer.deadline_ms < now + delays[i] + LOOP_COARSE_MS);
    }
    uint64_t expected = (now + 37 + LOOP_COARSE_MS - 1) / LOOP_COARSE_MS * LOOP_COARSE_MS;
    assert_int_equal(t[1].timer.deadline_ms, expected);
    run_until(loop, &rec, 3, 2000);
    assert_int_equal(rec.count, 3);
    assert_int_equal(rec.fired[0], 2);
    loop_free(loop);
}

/* Coarse timers stop in any order, beyond the wheel's horizon go to the heap, and a
 * callback may stop another timer of the same tick. */
static struct loop_timer *victim;

static void on_timer_stopping_victim(struct loop *loop, void *ctx)
{
    on_timer(loop, ctx);
    loop_timer_stop(loop, victim);
}

static void test_coarse_timers_stop_and_overflow(void **state)
{
    (void)state;
    struct loop *loop = loop_new(4, NULL, NULL);
    assert_non_null(loop);
    struct record rec = { 0 };
    struct tagged_timer t[6];
    for (int i = 0; i < 6; i++) {
        t[i] = (struct tagged_timer){ .rec = &rec, .tag = i };
        assert_int_equal(loop_timer_start_coarse(loop, &t[i].timer, 1, on_timer, &t[i]), 0);
    }
    assert_int_equal(loop_timer_count(loop), 6);
    loop_timer_stop(loop, &t[2].timer); /* middle of the slot's list */
    loop_timer_stop(loop, &t[5].timer); /* its head */
    loop_timer_stop(loop, &t[5].timer); /* twice is a no-op */
    assert_int_equal(loop_timer_count(loop), 4);
    /* Re-arming moves the timer: t[0] now fires after t[1], t[3], t[4]. */
    assert_int_equal(loop_timer_start_coarse(loop, &t[0].timer, 150, on_timer, &t[0]), 0);
    /* t[1]'s callback stops t[4], armed for the same tick. */
    victim = &t[4].timer;
    assert_int_equal(loop_timer_start_coarse(loop, &t[1].timer, 1, on_timer_stopping_victim, &t[1]),
                     0);
    struct tagged_timer far = { .rec = &rec, .tag = 9 };
    uint64_t beyond = (uint64_t)LOOP_WHEEL_SLOTS * LOOP_COARSE_MS + 5000;
    assert_int_equal(loop_timer_start_coarse(loop, &far.timer, beyond, on_timer, &far), 0);
    assert_false(far.timer.is_coarse); /* in the heap */
    assert_int_equal(far.timer.deadline_ms % LOOP_COARSE_MS, 0);
    run_until(loop, &rec, 3, 2000);
    assert_int_equal(rec.count, 3);
    assert_int_equal(rec.fired[2], 0);
    assert_true((rec.fired[0] == 1 && rec.fired[1] == 3) ||
                (rec.fired[0] == 3 && (rec.fired[1] == 1 || rec.fired[1] == 4)));
    loop_timer_stop(loop, &far.timer);
    assert_int_equal(loop_timer_count(loop), 0);
    loop_free(loop);
}

static void test_timer_cancel_and_rearm(void **state)
{
    (void)state;
    struct loop *loop = loop_new(8, NULL, NULL);
    assert_non_null(loop);
    struct record rec = { 0 };
    struct tagged_timer a = { .rec = &rec, .tag = 1 };
    struct tagged_timer b = { .rec = &rec, .tag = 2 };
    struct tagged_timer c = { .rec = &rec, .tag = 3 };
    assert_int_equal(loop_timer_start(loop, &a.timer, 10, on_timer, &a), 0);
    assert_int_equal(loop_timer_start(loop, &b.timer, 20, on_timer, &b), 0);
    assert_int_equal(loop_timer_start(loop, &c.timer, 30, on_timer, &c), 0);
    loop_timer_stop(loop, &b.timer);
    loop_timer_stop(loop, &b.timer); /* a second stop is a no-op */
    /* Re-arming moves the timer: `a` now fires after `c`. */
    assert_int_equal(loop_timer_start(loop, &a.timer, 60, on_timer, &a), 0);
    assert_int_equal(loop_timer_count(loop), 2);
    run_until(loop, &rec, 2, 2000);
    assert_int_equal(rec.count, 2);
    assert_int_equal(rec.fired[0], 3);
    assert_int_equal(rec.fired[1], 1);
    assert_false(b.timer.is_active);
    loop_free(loop);
}

static void test_timer_capacity_is_fixed(void **state)
{
    (void)state;
    struct loop *loop = loop_new(2, NULL, NULL);
    assert_non_null(loop);
    struct record rec = { 0 };
    struct tagged_timer t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = (struct tagged_timer){ .rec = &rec, .tag = i };
    }
    assert_int_equal(loop_timer_start(loop, &t[0].timer, 1000, on_timer, &t[0]), 0);
    assert_int_equal(loop_timer_start(loop, &t[1].timer, 1000, on_timer, &t[1]), 0);
    assert_int_equal(loop_timer_start(loop, &t[2].timer, 1000, on_timer, &t[2]), -SW_EFULL);
    assert_false(t[2].timer.is_active);
    /* Re-arming an active timer does not need a free place. */
    assert_int_equal(loop_timer_start(loop, &t[1].timer, 5, on_timer, &t[1]), 0);
    loop_timer_stop(loop, &t[0].timer);
    assert_int_equal(loop_timer_start(loop, &t[2].timer, 5, on_timer, &t[2]), 0);
    run_until(loop, &rec, 2, 2000);
    assert_int_equal(rec.count, 2);
    loop_free(loop);
}

struct rearming {
    struct loop_timer timer;
    int runs;
};

static void on_rearm(struct loop *loop, void *ctx)
{
    struct rearming *r = ctx;
    r->runs++;
    /* Delay 0 from its own callback: must run on a later iteration, not loop forever. */
    assert_int_equal(loop_timer_start(loop, &r->timer, 0, on_rearm, r), 0);
}

static void test_timer_rearmed_from_callback_is_bounded(void **state)
{
    (void)state;
    struct loop *loop = loop_new(4, NULL, NULL);
    assert_non_null(loop);
    struct rearming r = { .runs = 0 };
    assert_int_equal(loop_timer_start(loop, &r.timer, 0, on_rearm, &r), 0);
    assert_true(loop_run_once(loop, 0) >= 0);
    assert_int_equal(r.runs, 1);
    assert_true(loop_run_once(loop, 0) >= 0);
    assert_int_equal(r.runs, 2);
    loop_timer_stop(loop, &r.timer);
    loop_free(loop);
}

static void on_readable(struct loop *loop, uint32_t events, void *ctx)
{
    (void)loop;
    int *count = ctx;
    if ((events & EPOLLIN) != 0) {
        (*count)++;
    }
}

static void test_fd_watch(void **state)
{
    (void)state;
    struct loop *loop = loop_new(4, NULL, NULL);
    assert_non_null(loop);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int count = 0;
    struct loop_watch watch = { .fd = fds[0], .fn = on_readable, .ctx = &count };
    assert_int_equal(loop_watch_add(loop, &watch, EPOLLIN), 0);
    assert_int_equal(loop_run_once(loop, 0), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(loop_run_once(loop, 1000), 1);
    assert_int_equal(count, 1);
    assert_int_equal(loop_watch_mod(loop, &watch, 0), 0);
    assert_int_equal(loop_run_once(loop, 0), 0); /* still readable, but not watched */
    assert_int_equal(loop_watch_del(loop, &watch), 0);
    assert_int_equal(loop_watch_add(loop, &watch, EPOLLIN), 0);
    assert_int_equal(loop_watch_add(loop, &watch, EPOLLIN), -EEXIST);
    assert_int_equal(loop_watch_del(loop, &watch), 0);
    (void)close(fds[0]);
    (void)close(fds[1]);
    loop_free(loop);
}

struct waker {
    struct loop *loop;
    atomic_int wakes;
};

static void on_wake(struct loop *loop, void *ctx)
{
    struct waker *w = ctx;
    atomic_fetch_add(&w->wakes, 1);
    loop_stop(loop);
}

static void *wake_thread(void *arg)
{
    struct waker *w = arg;
    struct timespec ts = { .tv_sec = 0, .tv_nsec = 20 * 1000000L };
    (void)nanosleep(&ts, NULL);
    for (int i = 0; i < 100; i++) {
        loop_wake(w->loop); /* coalesced: one or a few callbacks */
    }
    return NULL;
}

static void test_wake_from_another_thread(void **state)
{
    (void)state;
    struct waker w;
    atomic_init(&w.wakes, 0);
    w.loop = loop_new(4, on_wake, &w);
    assert_non_null(w.loop);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, wake_thread, &w), 0);
    uint64_t start = sw_mono_ms();
    /* loop_run() blocks up to a second per iteration; the wake-up ends it early. */
    assert_int_equal(loop_run(w.loop), 0);
    assert_true(sw_mono_ms() - start < 900);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_true(atomic_load(&w.wakes) >= 1);
    loop_free(w.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_in_deadline_order),
        cmocka_unit_test(test_manual_clock_runs_timers_on_the_way),
        cmocka_unit_test(test_coarse_timers_share_a_grid_deadline),
        cmocka_unit_test(test_coarse_timers_stop_and_overflow),
        cmocka_unit_test(test_timer_cancel_and_rearm),
        cmocka_unit_test(test_timer_capacity_is_fixed),
        cmocka_unit_test(test_timer_rearmed_from_callback_is_bounded),
        cmocka_unit_test(test_fd_watch),
        cmocka_unit_test(test_wake_from_another_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
