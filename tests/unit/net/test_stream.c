/*
 * TCP stream transport: framing on real loopback sockets (one message, split, coalesced,
 * oversize, missing Content-Length), CRLF keep-alives, timeouts, the connection limit,
 * outbound connections and connection reuse.
 */
#include "base/err.h"
#include "support/unit.h"
#include "unit/net/fixture.h"

#define OPTIONS_MSG                                        \
    "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n"                 \
    "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" \
    "Max-Forwards: 70\r\n"                                 \
    "From: <sip:probe@127.0.0.1>;tag=1\r\n"                \
    "To: <sip:gw@127.0.0.1>\r\n"                           \
    "Call-ID: c1@127.0.0.1\r\n"                            \
    "CSeq: 1 OPTIONS\r\n"                                  \
    "Content-Length: 0\r\n"                                \
    "\r\n"

#define MESSAGE_MSG                                        \
    "MESSAGE sip:gw@127.0.0.1 SIP/2.0\r\n"                 \
    "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-2\r\n" \
    "Max-Forwards: 70\r\n"                                 \
    "From: <sip:probe@127.0.0.1>;tag=1\r\n"                \
    "To: <sip:gw@127.0.0.1>\r\n"                           \
    "Call-ID: c2@127.0.0.1\r\n"                            \
    "CSeq: 2 MESSAGE\r\n"                                  \
    "Content-Type: text/plain\r\n"                         \
    "Content-Length: 5\r\n"                                \
    "\r\n"                                                 \
    "hello"

#define RESPONSE_MSG                                       \
    "SIP/2.0 200 OK\r\n"                                   \
    "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" \
    "From: <sip:probe@127.0.0.1>;tag=1\r\n"                \
    "To: <sip:gw@127.0.0.1>;tag=2\r\n"                     \
    "Call-ID: c1@127.0.0.1\r\n"                            \
    "CSeq: 1 OPTIONS\r\n"                                  \
    "Content-Length: 0\r\n"                                \
    "\r\n"

static bool msg_is(struct fx *fx, size_t i, const char *text)
{
    struct fx_msg m = fx_msg_at(fx, i);
    return m.len == strlen(text) && memcmp(m.data, text, m.len) == 0;
}

/* One worker with a TCP listener on 127.0.0.1 and the given settings. */
static void start_tcp(struct fx *fx, const struct net_settings *settings)
{
    struct net_listener l = fx_listener(SW_TRANSPORT_TCP, "127.0.0.1");
    struct net_settings s = *settings;
    if (s.worker_count == 0) {
        s.worker_count = 1;
    }
    assert_int_equal(fx_start(fx, &l, 1, &s), 0);
}

static void test_one_message(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    assert_true(fx_send_all(fd, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(msg_is(&fx, 0, OPTIONS_MSG));
    struct fx_msg m = fx_msg_at(&fx, 0);
    assert_int_equal(m.transport, SW_TRANSPORT_TCP);
    assert_false(m.is_outbound);
    assert_int_not_equal(m.conn_id, 0);
    assert_int_equal(stream_conn_owner(m.conn_id), 0);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_message_split_byte_by_byte(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    const char *text = MESSAGE_MSG;
    for (size_t i = 0; text[i] != '\0'; i++) {
        assert_true(fx_send_all(fd, text + i, 1));
        if (i % 16 == 0) {
            fx_sleep_ms(1); /* let the worker see partial headers and a partial body */
        }
    }
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(msg_is(&fx, 0, MESSAGE_MSG));
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

/*
 * The same byte stream (pings, a pong, two messages) cut at pseudo-random points into
 * segments must give the same messages and pongs, whatever the cuts.
 */
static void test_random_segmentation(void **state)
{
    (void)state;
    const char *stream = "\r\n\r\n" MESSAGE_MSG "\r\n" OPTIONS_MSG "\r\n\r\n" MESSAGE_MSG;
    size_t len = strlen(stream);
    uint32_t seed = 12345;
    for (int round = 0; round < 6; round++) {
        struct fx fx;
        start_tcp(&fx, &(struct net_settings){ 0 });
        int fd = fx_connect(fx_addr(&fx, 0));
        assert_true(fd >= 0);
        for (size_t off = 0; off < len;) {
            seed = seed * 1103515245u + 12345u; /* a fixed LCG: reproducible cuts */
            size_t cut = 1 + (seed >> 16) % 40;
            cut = cut < len - off ? cut : len - off;
            assert_true(fx_send_all(fd, stream + off, cut));
            off += cut;
            fx_sleep_ms(1);
        }
        assert_int_equal(fx_wait_msgs(&fx, 3, FX_WAIT_MS), 3);
        assert_true(msg_is(&fx, 0, MESSAGE_MSG));
        assert_true(msg_is(&fx, 1, OPTIONS_MSG));
        assert_true(msg_is(&fx, 2, MESSAGE_MSG));
        char pongs[8];
        size_t got = 0;
        while (got < 4) {
            ssize_t n = recv(fd, pongs + got, sizeof(pongs) - got, 0);
            assert_true(n > 0);
            got += (size_t)n;
        }
        assert_memory_equal(pongs, "\r\n\r\n", 4);
        assert_int_equal(fx_wait_errors(&fx, 1, 10), 0);
        (void)close(fd);
        assert_true(fx_wait_no_conns(&fx));
        fx_stop(&fx);
    }
}

static void test_two_messages_coalesced(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    const char *both = MESSAGE_MSG OPTIONS_MSG;
    assert_true(fx_send_all(fd, both, strlen(both)));
    assert_int_equal(fx_wait_msgs(&fx, 2, FX_WAIT_MS), 2);
    assert_true(msg_is(&fx, 0, MESSAGE_MSG));
    assert_true(msg_is(&fx, 1, OPTIONS_MSG));
    assert_int_equal(fx_msg_at(&fx, 0).conn_id, fx_msg_at(&fx, 1).conn_id);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_oversize_closes_connection(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    /* Headers that never end: 70 000 bytes of one header value. */
    const char prefix[] = "INVITE sip:a@b SIP/2.0\r\nSubject: ";
    char *big = sw_malloc(70000);
    assert_non_null(big);
    memset(big, 'x', 70000);
    (void)fx_send_all(fd, prefix, sizeof(prefix) - 1);
    /* May fail once the worker closed the connection. */
    (void)fx_send_all(fd, big, 70000);
    sw_free(big);
    assert_true(fx_wait_closed(fd));
    assert_int_equal(fx_wait_errors(&fx, 1, FX_WAIT_MS), 1);
    int code = fx_error_at(&fx, 0);
    assert_true(code == -SW_ETOOBIG || code == -SW_EBADMSG);
    assert_int_equal(fx_wait_msgs(&fx, 1, 50), 0);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_oversize_body_closes_connection(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    const char *text = "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\nabc";
    assert_true(fx_send_all(fd, text, strlen(text)));
    assert_true(fx_wait_closed(fd));
    assert_int_equal(fx_wait_errors(&fx, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_error_at(&fx, 0), -SW_ETOOBIG);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_missing_content_length_closes_connection(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    const char *text = "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n";
    assert_true(fx_send_all(fd, text, strlen(text)));
    assert_true(fx_wait_closed(fd));
    assert_int_equal(fx_wait_errors(&fx, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_error_at(&fx, 0), -SW_EBADMSG);
    assert_int_equal(fx_wait_msgs(&fx, 1, 50), 0);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_keepalive_ping_gets_pong(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    assert_true(fx_send_all(fd, "\r\n\r\n", 4));
    char buf[16];
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "\r\n", 2);
    /* A ping split in two, then a pong from the peer, then a message: one more pong. */
    assert_true(fx_send_all(fd, "\r\n", 2));
    fx_sleep_ms(20);
    assert_true(fx_send_all(fd, "\r\n", 2));
    assert_int_equal(recv(fd, buf, sizeof(buf), 0), 2);
    const char *text = "\r\n" OPTIONS_MSG;
    assert_true(fx_send_all(fd, text, strlen(text)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(msg_is(&fx, 0, OPTIONS_MSG));
    assert_int_equal(fx_wait_errors(&fx, 1, 50), 0);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_idle_timeout_closes_quietly(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ .idle_timeout_ms = 200 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    assert_true(fx_send_all(fd, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(fx_wait_closed(fd));
    assert_int_equal(fx_wait_errors(&fx, 1, 50), 0); /* idling is not misbehaviour */
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_slow_message_times_out(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ .message_timeout_ms = 200 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    /* Slowloris: a header line now and then, never the end of the headers. */
    assert_true(fx_send_all(fd, "OPTIONS sip:gw SIP/2.0\r\n", 24));
    fx_sleep_ms(100);
    (void)fx_send_all(fd, "X-A: 1\r\n", 8);
    assert_true(fx_wait_closed(fd));
    assert_int_equal(fx_wait_errors(&fx, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_error_at(&fx, 0), -ETIMEDOUT);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_connection_limit_refuses_extra(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ .max_connections = 2 });
    int a = fx_connect(fx_addr(&fx, 0));
    int b = fx_connect(fx_addr(&fx, 0));
    assert_true(a >= 0 && b >= 0);
    assert_true(fx_send_all(a, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_true(fx_send_all(b, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 2, FX_WAIT_MS), 2);
    int c = fx_connect(fx_addr(&fx, 0)); /* the kernel completes it; the worker closes it */
    assert_true(c >= 0);
    assert_true(fx_wait_closed(c));
    /* The first two still work. */
    assert_true(fx_send_all(a, MESSAGE_MSG, strlen(MESSAGE_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 3, FX_WAIT_MS), 3);
    (void)close(a);
    (void)close(b);
    (void)close(c);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_reply_on_inbound_connection_by_id(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ .worker_count = 2 });
    int fd = fx_connect(fx_addr(&fx, 0));
    assert_true(fd >= 0);
    assert_true(fx_send_all(fd, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    struct fx_msg m = fx_msg_at(&fx, 0);
    struct net_dest dst = { .transport = SW_TRANSPORT_TCP, .addr = m.src, .conn_id = m.conn_id };
    /* From the other worker too: the send is handed to the owner. */
    assert_int_equal(fx_send_from(&fx, m.worker, &dst, RESPONSE_MSG), 0);
    assert_int_equal(fx_send_from(&fx, 1 - m.worker, &dst, RESPONSE_MSG), 0);
    size_t want = 2 * strlen(RESPONSE_MSG);
    char buf[1024];
    size_t got = 0;
    while (got < want) {
        ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(buf, RESPONSE_MSG RESPONSE_MSG, want);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_outbound_connect_send_and_reuse(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    struct sockaddr_storage server_addr;
    int lfd = fx_listen("127.0.0.1", &server_addr);
    assert_true(lfd >= 0);
    struct net_dest dst = { .transport = SW_TRANSPORT_TCP, .addr = server_addr };
    /* Queued while connecting, then sent; the second send reuses the connection. */
    assert_int_equal(fx_send_from(&fx, 0, &dst, OPTIONS_MSG), 0);
    assert_int_equal(fx_send_from(&fx, 0, &dst, MESSAGE_MSG), 0);
    int peer = fx_accept(lfd);
    assert_true(peer >= 0);
    size_t want = strlen(OPTIONS_MSG MESSAGE_MSG);
    char buf[2048];
    size_t got = 0;
    while (got < want) {
        ssize_t n = recv(peer, buf + got, sizeof(buf) - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(buf, OPTIONS_MSG MESSAGE_MSG, want);
    /* No second connection was opened. */
    struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
    (void)setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(accept(lfd, NULL, NULL), -1);
    /* The peer answers on the same connection: delivered as outbound. */
    assert_true(fx_send_all(peer, RESPONSE_MSG, strlen(RESPONSE_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(msg_is(&fx, 0, RESPONSE_MSG));
    assert_true(fx_msg_at(&fx, 0).is_outbound);
    (void)close(peer);
    (void)close(lfd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_outbound_connect_refused(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ 0 });
    struct sockaddr_storage addr;
    int lfd = fx_listen("127.0.0.1", &addr);
    assert_true(lfd >= 0);
    (void)close(lfd); /* nobody listens there any more */
    struct net_dest dst = { .transport = SW_TRANSPORT_TCP, .addr = addr };
    int rc = fx_send_from(&fx, 0, &dst, OPTIONS_MSG);
    assert_true(rc == 0 || rc == -ECONNREFUSED);
    /* The failed connection is dropped: the next send tries again and fails the same way. */
    rc = fx_send_from(&fx, 0, &dst, OPTIONS_MSG);
    assert_true(rc == 0 || rc == -ECONNREFUSED);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_ipv6_listener(void **state)
{
    (void)state;
    struct fx fx;
    struct net_listener ls[2] = {
        fx_listener(SW_TRANSPORT_TCP, "127.0.0.1"),
        fx_listener(SW_TRANSPORT_TCP, "[::1]"),
    };
    int rc = fx_start(&fx, ls, 2, &(struct net_settings){ .worker_count = 2 });
    if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT) {
        fx_stop(&fx);
        skip(); /* no IPv6 loopback in this sandbox */
    }
    assert_int_equal(rc, 0);
    int fd = fx_connect(fx_addr(&fx, 1));
    assert_true(fd >= 0);
    assert_true(fx_send_all(fd, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_int_equal(fx_msg_at(&fx, 0).src.ss_family, AF_INET6);
    (void)close(fd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_queue_limit(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ .max_queued_bytes = 4096 });
    struct sockaddr_storage server_addr;
    int lfd = fx_listen("127.0.0.1", &server_addr);
    assert_true(lfd >= 0);
    struct net_dest dst = { .transport = SW_TRANSPORT_TCP, .addr = server_addr };
    /* The peer never reads: the kernel buffers fill, then the bounded queue refuses. */
    int rc = 0;
    char big[FX_MSG_CAP];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    for (int i = 0; i < 4096 && rc == 0; i++) {
        rc = fx_send_from(&fx, 0, &dst, big);
    }
    assert_int_equal(rc, -SW_EFULL);
    /* That connection was closed (its peer does not read): the next send opens another. */
    assert_int_equal(fx_send_from(&fx, 0, &dst, OPTIONS_MSG), 0);
    (void)close(lfd);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

static void test_outbound_evicts_least_recently_active(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ .max_connections = 2 });
    int older = fx_connect(fx_addr(&fx, 0));
    int newer = fx_connect(fx_addr(&fx, 0));
    assert_true(older >= 0 && newer >= 0);
    assert_true(fx_send_all(older, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(fx_send_all(newer, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 2, FX_WAIT_MS), 2);
    /* Full: an outbound connection is needed, so the least recently active one goes. */
    struct sockaddr_storage server_addr;
    int lfd = fx_listen("127.0.0.1", &server_addr);
    assert_true(lfd >= 0);
    struct net_dest dst = { .transport = SW_TRANSPORT_TCP, .addr = server_addr };
    assert_int_equal(fx_send_from(&fx, 0, &dst, OPTIONS_MSG), 0);
    assert_true(fx_wait_closed(older));
    int peer = fx_accept(lfd);
    assert_true(peer >= 0);
    char buf[1024];
    assert_true(recv(peer, buf, sizeof(buf), 0) > 0);
    assert_true(fx_send_all(newer, MESSAGE_MSG, strlen(MESSAGE_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 3, FX_WAIT_MS), 3);
    (void)close(peer);
    (void)close(lfd);
    (void)close(older);
    (void)close(newer);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

/* A blocking client from `src_ip` (any 127/8 address on loopback) to `addr`. */
static int connect_from(const char *src_ip, const struct sockaddr_storage *addr)
{
    struct sockaddr_storage src;
    assert_true(sw_sockaddr_parse(sv_from_cstr(src_ip), 0, &src));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = { .tv_sec = 2, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(bind(fd, (const struct sockaddr *)&src, sw_sockaddr_len(&src)), 0);
    assert_int_equal(connect(fd, (const struct sockaddr *)addr, sw_sockaddr_len(addr)), 0);
    return fd;
}

/* True when the gateway answers a keep-alive ping on `fd`: it kept the connection. */
static bool is_served(int fd)
{
    char pong[2];
    return fx_send_all(fd, "\r\n\r\n", 4) && recv(fd, pong, sizeof(pong), MSG_WAITALL) == 2;
}

/* #9 item 10: one address cannot hold every connection; others still get in. */
static void test_per_source_cap(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx, &(struct net_settings){ .worker_count = 2,
                                           .max_connections_per_source = 50,
                                           .max_connections_per_unknown_source = 3 });
    int held[3];
    for (size_t i = 0; i < 3; i++) {
        held[i] = connect_from("127.0.0.1", fx_addr(&fx, 0));
        assert_true(is_served(held[i]));
    }
    /* The fourth from the same address is closed at once, whichever worker takes it. */
    int extra = connect_from("127.0.0.1", fx_addr(&fx, 0));
    assert_true(fx_wait_closed(extra));
    (void)close(extra);
    /* Another address has its own budget. */
    int other = connect_from("127.0.0.2", fx_addr(&fx, 0));
    assert_true(is_served(other));
    assert_int_equal(fx_wait_errors(&fx, 1, 50), 0); /* a refusal is not a peer's error */
    /* A closed connection gives its place back (once its worker has seen the close). */
    (void)close(held[0]);
    bool is_back = false;
    for (int round = 0; round < 100 && !is_back; round++) {
        int again = connect_from("127.0.0.1", fx_addr(&fx, 0));
        is_back = is_served(again);
        if (is_back) {
            held[0] = again;
        } else {
            (void)close(again);
            fx_sleep_ms(20);
        }
    }
    assert_true(is_back);
    for (size_t i = 0; i < 3; i++) {
        (void)close(held[i]);
    }
    (void)close(other);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

/* #9 item 10: a connection that never says anything goes long before the idle timeout. */
static void test_silent_connection_closes_at_first_byte_timeout(void **state)
{
    (void)state;
    struct fx fx;
    start_tcp(&fx,
              &(struct net_settings){ .idle_timeout_ms = 60000, .first_byte_timeout_ms = 200 });
    int talker = fx_connect(fx_addr(&fx, 0));
    int silent = fx_connect(fx_addr(&fx, 0));
    assert_true(talker >= 0 && silent >= 0);
    assert_true(fx_send_all(talker, OPTIONS_MSG, strlen(OPTIONS_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 1, FX_WAIT_MS), 1);
    assert_true(fx_wait_closed(silent)); /* within the 2 s receive timeout */
    assert_int_equal(fx_wait_errors(&fx, 1, 50), 0);
    /* The one that spoke is past its first-byte deadline and still open. */
    fx_sleep_ms(300);
    assert_true(fx_send_all(talker, MESSAGE_MSG, strlen(MESSAGE_MSG)));
    assert_int_equal(fx_wait_msgs(&fx, 2, FX_WAIT_MS), 2);
    (void)close(talker);
    (void)close(silent);
    assert_true(fx_wait_no_conns(&fx));
    fx_stop(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_message),
        cmocka_unit_test(test_message_split_byte_by_byte),
        cmocka_unit_test(test_random_segmentation),
        cmocka_unit_test(test_two_messages_coalesced),
        cmocka_unit_test(test_oversize_closes_connection),
        cmocka_unit_test(test_oversize_body_closes_connection),
        cmocka_unit_test(test_missing_content_length_closes_connection),
        cmocka_unit_test(test_keepalive_ping_gets_pong),
        cmocka_unit_test(test_idle_timeout_closes_quietly),
        cmocka_unit_test(test_slow_message_times_out),
        cmocka_unit_test(test_connection_limit_refuses_extra),
        cmocka_unit_test(test_reply_on_inbound_connection_by_id),
        cmocka_unit_test(test_outbound_connect_send_and_reuse),
        cmocka_unit_test(test_outbound_connect_refused),
        cmocka_unit_test(test_ipv6_listener),
        cmocka_unit_test(test_queue_limit),
        cmocka_unit_test(test_outbound_evicts_least_recently_active),
        cmocka_unit_test(test_per_source_cap),
        cmocka_unit_test(test_silent_connection_closes_at_first_byte_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
