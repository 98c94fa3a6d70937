/*
 * Worker groups with two threads: UDP spread over SO_REUSEPORT sockets, replies sent by a
 * worker, cross-worker tasks (and their bound), and stream sends handed to the owning
 * worker. Also the test that runs under ThreadSanitizer (-DSW_SANITIZE=thread).
 */
#include <stdatomic.h>

#include "support/unit.h"
#include "unit/net/fixture.h"

#define UDP_CLIENTS 32
#define PING        "OPTIONS sip:gw SIP/2.0\r\nContent-Length: 0\r\n\r\n"

static int udp_client(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage any;
    if (fd == -1 || !sw_sockaddr_parse(SV("127.0.0.1:0"), 0, &any) ||
        bind(fd, (const struct sockaddr *)&any, sw_sockaddr_len(&any)) == -1) {
        return -1;
    }
    struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void start_two_workers(struct fx *fx, enum sw_transport transport)
{
    struct net_listener l = fx_listener(transport, "127.0.0.1");
    assert_int_equal(fx_start(fx, &l, 1, &(struct net_settings){ .worker_count = 2 }), 0);
    assert_int_equal(net_group_worker_count(fx->group), 2);
}

static void test_udp_spread_over_two_workers(void **state)
{
    (void)state;
    struct fx fx;
    start_two_workers(&fx, SW_TRANSPORT_UDP);
    int clients[UDP_CLIENTS];
    for (int i = 0; i < UDP_CLIENTS; i++) {
        clients[i] = udp_client();
        assert_true(clients[i] >= 0);
        const struct sockaddr_storage *dst = fx_addr(&fx, 0);
        assert_int_equal(sendto(clients[i], PING, strlen(PING), 0, (const struct sockaddr *)dst,
                                sw_sockaddr_len(dst)),
                         (ssize_t)strlen(PING));
    }
    assert_int_equal(fx_wait_msgs(&fx, UDP_CLIENTS, FX_WAIT_MS), UDP_CLIENTS);
    unsigned per_worker[2] = { 0, 0 };
    for (size_t i = 0; i < UDP_CLIENTS; i++) {
        struct fx_msg m = fx_msg_at(&fx, i);
        assert_int_equal(m.transport, SW_TRANSPORT_UDP);
        assert_int_equal(m.conn_id, 0);
        assert_int_equal(m.len, strlen(PING));
        assert_true(m.worker < 2);
        per_worker[m.worker]++;
    }
    /* The kernel hashes the 4-tuple: 32 sources all on one socket has odds 2^-31. */
    assert_true(per_worker[0] > 0 && per_worker[1] > 0);
    for (int i = 0; i < UDP_CLIENTS; i++) {
        (void)close(clients[i]);
    }
    fx_stop(&fx);
}

static void test_udp_reply_from_each_worker(void **state)
{
    (void)state;
    struct fx fx;
    start_two_workers(&fx, SW_TRANSPORT_UDP);
    int client = udp_client();
    assert_true(client >= 0);
    struct sockaddr_storage client_addr;
    socklen_t len = sizeof(client_addr);
    assert_int_equal(getsockname(client, (struct sockaddr *)&client_addr, &len), 0);
    struct net_dest dst = {
        .transport = SW_TRANSPORT_UDP,
        .addr = client_addr,
        .listener = SIZE_MAX,
    };
    for (unsigned w = 0; w < 2; w++) {
        assert_int_equal(fx_send_from(&fx, w, &dst, "SIP/2.0 200 OK\r\n\r\n"), 0);
        char buf[64];
        struct sockaddr_storage src;
        socklen_t src_len = sizeof(src);
        ssize_t n = recvfrom(client, buf, sizeof(buf), 0, (struct sockaddr *)&src, &src_len);
        assert_int_equal(n, 18);
        /* From the listener's port, whichever worker sent it. */
        assert_int_equal(sw_sockaddr_port(&src), sw_sockaddr_port(fx_addr(&fx, 0)));
    }
    (void)close(client);
    fx_stop(&fx);
}

struct counter {
    atomic_int runs;
};

static void count_task(struct worker *worker, void *arg)
{
    (void)worker;
    struct counter *c = arg;
    atomic_fetch_add(&c->runs, 1);
}

struct poster {
    struct net_group *group;
    struct counter *counter;
    int posted;
};

static void *post_many(void *arg)
{
    struct poster *p = arg;
    for (int i = 0; i < 2000; i++) {
        struct worker *w = net_group_worker(p->group, (unsigned)i % 2);
        /* Bounded retries: a full queue is drained by the worker meanwhile. */
        for (int attempt = 0; attempt < 10000; attempt++) {
            if (worker_post(w, count_task, p->counter) == 0) {
                p->posted++;
                break;
            }
            fx_sleep_ms(1);
        }
    }
    return NULL;
}

static void test_posts_from_many_threads(void **state)
{
    (void)state;
    struct fx fx;
    struct net_listener l = fx_listener(SW_TRANSPORT_UDP, "127.0.0.1");
    struct net_settings s = { .worker_count = 2, .post_queue_cap = 64 };
    assert_int_equal(fx_start(&fx, &l, 1, &s), 0);
    struct counter counter;
    atomic_init(&counter.runs, 0);
    struct poster posters[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        posters[i] = (struct poster){ .group = fx.group, .counter = &counter };
        assert_int_equal(pthread_create(&threads[i], NULL, post_many, &posters[i]), 0);
    }
    int posted = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        posted += posters[i].posted;
    }
    assert_int_equal(posted, 8000);
    for (int i = 0; i < 300 && atomic_load(&counter.runs) < posted; i++) {
        fx_sleep_ms(10);
    }
    assert_int_equal(atomic_load(&counter.runs), posted);
    fx_stop(&fx);
}

static void free_task(struct worker *worker, void *arg)
{
    (void)worker;
    sw_free(arg);
}

static void test_post_queue_is_bounded(void **state)
{
    (void)state;
    (void)sw_hash_init();
    struct net_listener l = fx_listener(SW_TRANSPORT_UDP, "127.0.0.1");
    struct net_settings s = { .worker_count = 1, .post_queue_cap = 4 };
    struct net_handlers h = { .on_message = fx_on_message };
    struct net_group *group = NULL;
    char errbuf[128];
    assert_int_equal(net_group_new(&l, 1, &s, &h, NULL, &group, errbuf, sizeof(errbuf)), 0);
    /* Not started: nothing drains the queue. */
    struct worker *w = net_group_worker(group, 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(worker_post(w, free_task, sw_malloc(8)), 0);
    }
    void *extra = sw_malloc(8);
    assert_int_equal(worker_post(w, free_task, extra), -SW_EFULL);
    sw_free(extra);        /* refused: still ours */
    net_group_free(group); /* frees the queued arguments */
}

static void test_stream_send_handed_to_owner(void **state)
{
    (void)state;
    struct fx fx;
    start_two_workers(&fx, SW_TRANSPORT_TCP);
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    assert_true(fx_send_all(fd, PING, strlen(PING)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    struct fx_msg m = fx_msg_at(&fx, 0);
    assert_int_equal(stream_conn_owner(m.conn_id), m.worker);
    struct net_dest dst = { .transport = SW_TRANSPORT_TCP, .addr = m.src, .conn_id = m.conn_id };
    const char *reply = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    size_t want = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(fx_send_from(&fx, (unsigned)i % 2, &dst, reply), 0);
        want += strlen(reply);
    }
    char buf[2048];
    size_t got = 0;
    while (got < want) {
        ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(got, want);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_spread_over_two_workers),
        cmocka_unit_test(test_udp_reply_from_each_worker),
        cmocka_unit_test(test_posts_from_many_threads),
        cmocka_unit_test(test_post_queue_is_bounded),
        cmocka_unit_test(test_stream_send_handed_to_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
