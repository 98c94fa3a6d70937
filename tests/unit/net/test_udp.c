/*
 * UDP sockets: SO_REUSEPORT binding (several sockets on one port), ephemeral ports,
 * v6-only sockets, and sending.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "net/udp.h"
#include "support/unit.h"

static struct sockaddr_storage parse(const char *text)
{
    struct sockaddr_storage ss;
    assert_true(sw_sockaddr_parse(sv_from_cstr(text), 0, &ss));
    return ss;
}

static void test_reuseport_and_ephemeral_port(void **state)
{
    (void)state;
    struct sockaddr_storage addr = parse("127.0.0.1:0");
    int a = net_udp_open(&addr);
    assert_true(a >= 0);
    struct sockaddr_storage bound;
    assert_int_equal(net_socket_local_addr(a, &bound), 0);
    assert_int_not_equal(sw_sockaddr_port(&bound), 0);
    /* A second worker binds the same port. */
    int b = net_udp_open(&bound);
    assert_true(b >= 0);
    (void)close(a);
    (void)close(b);
}

static void test_send_and_receive(void **state)
{
    (void)state;
    struct sockaddr_storage addr = parse("127.0.0.1:0");
    int server = net_udp_open(&addr);
    int client = net_udp_open(&addr);
    assert_true(server >= 0 && client >= 0);
    struct sockaddr_storage server_addr;
    struct sockaddr_storage client_addr;
    assert_int_equal(net_socket_local_addr(server, &server_addr), 0);
    assert_int_equal(net_socket_local_addr(client, &client_addr), 0);
    assert_int_equal(net_udp_send(client, &server_addr, SV("OPTIONS")), 0);
    char buf[32];
    struct sockaddr_storage src;
    socklen_t len = sizeof(src);
    ssize_t n = -1;
    for (int i = 0; i < 200 && n < 0; i++) { /* non-blocking socket: poll for up to 2 s */
        n = recvfrom(server, buf, sizeof(buf), 0, (struct sockaddr *)&src, &len);
        if (n < 0) {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            (void)usleep(10000);
        }
    }
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "OPTIONS", 7);
    assert_true(sw_sockaddr_eq(&src, &client_addr));
    (void)close(server);
    (void)close(client);
}

static void test_ipv6_is_v6_only(void **state)
{
    (void)state;
    struct sockaddr_storage addr = parse("[::1]:0");
    int fd = net_udp_open(&addr);
    if (fd == -EADDRNOTAVAIL || fd == -EAFNOSUPPORT) {
        skip(); /* no IPv6 loopback here */
    }
    assert_true(fd >= 0);
    struct sockaddr_storage bound;
    assert_int_equal(net_socket_local_addr(fd, &bound), 0);
    assert_int_equal(bound.ss_family, AF_INET6);
    int v6only = 0;
    socklen_t len = sizeof(v6only);
    assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
    assert_int_equal(v6only, 1);
    (void)close(fd);
}

static void test_bind_failure_is_an_error(void **state)
{
    (void)state;
    struct sockaddr_storage addr = parse("192.0.2.1:5060"); /* not ours (TEST-NET-1) */
    assert_int_equal(net_udp_open(&addr), -EADDRNOTAVAIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuseport_and_ephemeral_port),
        cmocka_unit_test(test_send_and_receive),
        cmocka_unit_test(test_ipv6_is_v6_only),
        cmocka_unit_test(test_bind_failure_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
