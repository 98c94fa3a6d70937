/*
 * Datagram sockets read by the loop itself, both ways: through the io_uring (multishot
 * receives into provided buffers, a burst larger than the buffers, a datagram of 60 KB)
 * and through epoll with recvmmsg; a descriptor the ring cannot read handed to epoll; and
 * the ring's waiting for the rest: an fd watch, a wake-up from another thread, a timer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/time.h"
#include "net/loop.h"
#include "net/udp.h"
#include "support/unit.h"

/* More than the ring's 64 buffers, so that it runs out and is armed again; few enough
   for the default socket buffer (net.core.rmem_max caps what the socket asks for). */
#define BURST     100
#define BIG_BYTES 60000

struct received {
    size_t count;
    size_t bytes;
    size_t big;
    bool is_content_ok;
    uint16_t src_port;
};

static void on_dgram(struct loop *loop, void *ctx, struct sv data,
                     const struct sockaddr_storage *src)
{
    (void)loop;
    struct received *r = ctx;
    r->count++;
    r->bytes += data.len;
    r->src_port = sw_sockaddr_port(src);
    if (data.len == BIG_BYTES) {
        r->big++;
        r->is_content_ok = data.ptr[0] == 'B' && data.ptr[BIG_BYTES - 1] == 'E';
    }
}

static struct loop *new_loop(bool is_ring)
{
    struct loop *loop = loop_new(8, NULL, NULL);
    assert_non_null(loop);
    if (is_ring && loop_use_ring(loop) != 0) {
        loop_free(loop);
        return NULL;
    }
    return loop;
}

/* A server socket and a client socket on loopback, and the server's address. */
struct pair {
    int server;
    int client;
    struct sockaddr_storage server_addr;
    struct sockaddr_storage client_addr;
};

static void pair_open(struct pair *p)
{
    struct sockaddr_storage any;
    assert_true(sw_sockaddr_parse(SV("127.0.0.1:0"), 0, &any));
    p->server = net_udp_open(&any);
    p->client = net_udp_open(&any);
    assert_true(p->server >= 0 && p->client >= 0);
    assert_int_equal(net_socket_local_addr(p->server, &p->server_addr), 0);
    assert_int_equal(net_socket_local_addr(p->client, &p->client_addr), 0);
}

static void pair_close(struct pair *p)
{
    (void)close(p->server);
    (void)close(p->client);
}

static void run_until(struct loop *loop, const size_t *count, size_t want)
{
    uint64_t until = sw_mono_ms() + 3000;
    while (*count < want && sw_mono_ms() < until) {
        assert_true(loop_run_once(loop, 50) >= 0);
    }
}

static void receive_burst(bool is_ring)
{
    struct loop *loop = new_loop(is_ring);
    if (loop == NULL) {
        skip(); /* the kernel refuses io_uring here */
    }
    assert_int_equal(loop_has_ring(loop), is_ring);
    struct pair p;
    pair_open(&p);
    struct received r = { 0 };
    struct loop_dgram dgram = { .fd = p.server, .fn = on_dgram, .ctx = &r };
    assert_int_equal(loop_dgram_add(loop, &dgram), 0);
    size_t want_bytes = 0;
    for (int i = 0; i < BURST; i++) {
        char line[32];
        int len = snprintf(line, sizeof(line), "datagram %d", i);
        assert_int_equal(net_udp_send(p.client, &p.server_addr, sv_make(line, (size_t)len)), 0);
        want_bytes += (size_t)len;
    }
    run_until(loop, &r.count, BURST);
    assert_int_equal(r.count, BURST);
    char *big = sw_malloc(BIG_BYTES);
    assert_non_null(big);
    memset(big, 'x', BIG_BYTES);
    big[0] = 'B';
    big[BIG_BYTES - 1] = 'E';
    assert_int_equal(net_udp_send(p.client, &p.server_addr, sv_make(big, BIG_BYTES)), 0);
    sw_free(big);
    run_until(loop, &r.count, BURST + 1);
    assert_int_equal(r.count, BURST + 1);
    assert_int_equal(r.bytes, want_bytes + BIG_BYTES);
    assert_int_equal(r.big, 1);
    assert_true(r.is_content_ok);
    assert_int_equal(r.src_port, sw_sockaddr_port(&p.client_addr));
    loop_free(loop);
    pair_close(&p);
}

static void test_datagrams_through_the_ring(void **state)
{
    (void)state;
    receive_burst(true);
}

static void test_datagrams_through_epoll(void **state)
{
    (void)state;
    receive_burst(false);
}

/* A descriptor the ring cannot receive from (a pipe: ENOTSOCK) goes to epoll on its own,
   and the ring goes on serving the other sockets. */
static void test_ring_hands_an_unreadable_socket_to_epoll(void **state)
{
    (void)state;
    struct loop *loop = new_loop(true);
    if (loop == NULL) {
        skip();
    }
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct received nothing = { 0 };
    struct loop_dgram unreadable = { .fd = fds[0], .fn = on_dgram, .ctx = &nothing };
    assert_int_equal(loop_dgram_add(loop, &unreadable), 0);
    assert_null(unreadable.watch.fn); /* in the ring, for now */
    struct pair p;
    pair_open(&p);
    struct received r = { 0 };
    struct loop_dgram dgram = { .fd = p.server, .fn = on_dgram, .ctx = &r };
    assert_int_equal(loop_dgram_add(loop, &dgram), 0);
    for (int i = 0; i < 5 && unreadable.watch.fn == NULL; i++) {
        assert_true(loop_run_once(loop, 50) >= 0);
    }
    assert_non_null(unreadable.watch.fn); /* epoll watches it now */
    assert_null(dgram.watch.fn);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(net_udp_send(p.client, &p.server_addr, SV("still served")), 0);
    }
    run_until(loop, &r.count, 3);
    assert_int_equal(r.count, 3);
    assert_int_equal(nothing.count, 0);
    assert_true(loop_has_ring(loop));
    loop_free(loop);
    (void)close(fds[0]);
    (void)close(fds[1]);
    pair_close(&p);
}

/* The loop reads LOOP_MAX_DGRAMS sockets at most; one more is refused, not overrun. */
static void test_dgram_sockets_are_bounded(void **state)
{
    (void)state;
    struct loop *loop = new_loop(false);
    struct received r = { 0 };
    struct loop_dgram dgrams[LOOP_MAX_DGRAMS + 1];
    int fds[LOOP_MAX_DGRAMS + 1];
    struct sockaddr_storage any;
    assert_true(sw_sockaddr_parse(SV("127.0.0.1:0"), 0, &any));
    for (size_t i = 0; i <= LOOP_MAX_DGRAMS; i++) {
        fds[i] = net_udp_open(&any);
        assert_true(fds[i] >= 0);
        dgrams[i] = (struct loop_dgram){ .fd = fds[i], .fn = on_dgram, .ctx = &r };
        assert_int_equal(loop_dgram_add(loop, &dgrams[i]), i < LOOP_MAX_DGRAMS ? 0 : -SW_EFULL);
    }
    loop_free(loop);
    for (size_t i = 0; i <= LOOP_MAX_DGRAMS; i++) {
        (void)close(fds[i]);
    }
}

struct ring_waits {
    atomic_int wakes;
    int readable;
    int fired;
    struct loop *loop;
};

static void on_wake(struct loop *loop, void *ctx)
{
    (void)loop;
    struct ring_waits *w = ctx;
    atomic_fetch_add(&w->wakes, 1);
}

static void on_readable(struct loop *loop, uint32_t events, void *ctx)
{
    (void)loop;
    struct ring_waits *w = ctx;
    w->readable += (events & EPOLLIN) != 0;
}

static void on_timer(struct loop *loop, void *ctx)
{
    (void)loop;
    struct ring_waits *w = ctx;
    w->fired++;
}

static void *wake_later(void *arg)
{
    struct ring_waits *w = arg;
    struct timespec ts = { .tv_sec = 0, .tv_nsec = 20 * 1000000L };
    (void)nanosleep(&ts, NULL);
    loop_wake(w->loop);
    return NULL;
}

static void test_ring_waits_for_watches_wakes_and_timers(void **state)
{
    (void)state;
    struct ring_waits w = { .readable = 0 };
    atomic_init(&w.wakes, 0);
    w.loop = loop_new(8, on_wake, &w);
    assert_non_null(w.loop);
    if (loop_use_ring(w.loop) != 0) {
        loop_free(w.loop);
        skip();
    }
    /* A watch: a pipe made readable, then left readable (level-triggered: seen again). */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    struct loop_watch watch = { .fd = fds[0], .fn = on_readable, .ctx = &w };
    assert_int_equal(loop_watch_add(w.loop, &watch, EPOLLIN), 0);
    assert_int_equal(loop_run_once(w.loop, 0), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_true(loop_run_once(w.loop, 1000) >= 1);
    assert_int_equal(w.readable, 1);
    assert_true(loop_run_once(w.loop, 1000) >= 1);
    assert_int_equal(w.readable, 2);
    assert_int_equal(loop_watch_del(w.loop, &watch), 0);
    /* A wake-up from another thread ends a long wait early. */
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, wake_later, &w), 0);
    uint64_t start = sw_mono_ms();
    while (atomic_load(&w.wakes) == 0 && sw_mono_ms() - start < 2000) {
        assert_true(loop_run_once(w.loop, 1000) >= 0);
    }
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(atomic_load(&w.wakes), 1);
    assert_true(sw_mono_ms() - start < 900);
    /* A timer: the wait's time-out is the next deadline. */
    struct loop_timer timer = { 0 };
    assert_int_equal(loop_timer_start(w.loop, &timer, 30, on_timer, &w), 0);
    start = sw_mono_ms();
    while (w.fired == 0 && sw_mono_ms() - start < 2000) {
        assert_true(loop_run_once(w.loop, 1000) >= 0);
    }
    assert_int_equal(w.fired, 1);
    assert_true(sw_mono_ms() - start >= 30 && sw_mono_ms() - start < 900);
    (void)close(fds[0]);
    (void)close(fds[1]);
    loop_free(w.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datagrams_through_the_ring),
        cmocka_unit_test(test_datagrams_through_epoll),
        cmocka_unit_test(test_ring_hands_an_unreadable_socket_to_epoll),
        cmocka_unit_test(test_dgram_sockets_are_bounded),
        cmocka_unit_test(test_ring_waits_for_watches_wakes_and_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
