/*
 * UDP steering by Call-ID: the user-space owner function, and the kernel program choosing
 * the same socket of a real SO_REUSEPORT group on loopback for every Call-ID form the
 * scanner must find (long and compact names, any case, blanks around the colon), the
 * gateway's own "sw<worker>" Call-IDs, and datagrams it must leave to the kernel.
 * The kernel part needs root or CAP_BPF: where the kernel refuses it is skipped, saying
 * why.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/hash.h"
#include "net/steer.h"
#include "support/unit.h"

#define WORKERS 4

static void test_named_call_ids_go_to_their_worker(void **state)
{
    (void)state;
    assert_int_equal(net_steer_owner(sv_from_cstr("sw03-abc"), WORKERS), 3);
    assert_int_equal(net_steer_owner(sv_from_cstr("sw0A"), 16), 10);
    assert_int_equal(net_steer_owner(sv_from_cstr("anything"), 1), 0);
    /* Past the workers, or not hex: hashed like any Call-ID, still in range. */
    assert_in_range(net_steer_owner(sv_from_cstr("sw07-abc"), WORKERS), 0, WORKERS - 1);
    assert_in_range(net_steer_owner(sv_from_cstr("swzz-abc"), WORKERS), 0, WORKERS - 1);
    assert_int_equal(net_steer_owner(sv_from_cstr("abc@host"), WORKERS),
                     net_steer_owner(sv_from_cstr("abc@host"), WORKERS));
}

/* Call-IDs that differ only in one bit of the last byte still spread over the workers:
 * the hash's low bits depend on every bit, not on the bytes' parity alone. */
static void test_hashed_call_ids_spread(void **state)
{
    (void)state;
    unsigned per_worker[WORKERS] = { 0 };
    char id[32];
    for (unsigned i = 0; i < 4000; i++) {
        (void)snprintf(id, sizeof(id), "%u-%c@10.0.0.1", i / 2, (i % 2) != 0 ? 'a' : 'c');
        per_worker[net_steer_owner(sv_from_cstr(id), WORKERS)]++;
    }
    for (unsigned w = 0; w < WORKERS; w++) {
        assert_in_range(per_worker[w], 800, 1200);
    }
}

struct group {
    struct net_steer *steer;
    int socks[WORKERS];
    int client;
    struct sockaddr_in addr;
};

static int open_member(struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)addr, sizeof(*addr)), 0);
    socklen_t len = sizeof(*addr);
    assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
    return fd;
}

static void group_open_or_skip(struct group *g)
{
    char why[192] = "";
    if (net_steer_new(WORKERS, &g->steer, why, sizeof(why)) != 0) {
        (void)fprintf(stderr, "SKIP: BPF refused here (%s): kernel steering untested\n", why);
        skip();
    }
    g->addr =
        (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    for (unsigned w = 0; w < WORKERS; w++) {
        g->socks[w] = open_member(&g->addr); /* the first learns the port, the rest share it */
    }
    assert_int_equal(net_steer_attach(g->steer, g->socks[0]), 0);
    g->client = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(g->client >= 0);
}

static void group_close(struct group *g)
{
    for (unsigned w = 0; w < WORKERS; w++) {
        (void)close(g->socks[w]);
    }
    (void)close(g->client);
    net_steer_free(g->steer);
}

/* The member that received the datagram just sent (each waits at most 2 s). */
static int receiver_of(struct group *g, const char *datagram, size_t len)
{
    assert_int_equal(
        sendto(g->client, datagram, len, 0, (struct sockaddr *)&g->addr, sizeof(g->addr)),
        (ssize_t)len);
    struct pollfd fds[WORKERS];
    for (unsigned w = 0; w < WORKERS; w++) {
        fds[w] = (struct pollfd){ .fd = g->socks[w], .events = POLLIN };
    }
    assert_true(poll(fds, WORKERS, 2000) > 0);
    for (unsigned w = 0; w < WORKERS; w++) {
        char sink[4096];
        if ((fds[w].revents & POLLIN) != 0 && recv(g->socks[w], sink, sizeof(sink), 0) > 0) {
            return (int)w;
        }
    }
    fail_msg("no member received the datagram");
    return -1;
}

static size_t request_with(char *out, size_t cap, const char *call_id_line, size_t padding)
{
    int n = snprintf(out, cap,
                     "INVITE sip:100@127.0.0.1 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n"
                     "X-Pad: %*s\r\n"
                     "%s\r\n"
                     "CSeq: 1 INVITE\r\n"
                     "Content-Length: 0\r\n\r\n",
                     (int)padding, "", call_id_line);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static void test_kernel_picks_the_owner(void **state)
{
    (void)state;
    struct group g;
    group_open_or_skip(&g);
    /* The name and blanks before the value, and what follows it on the line. */
    static const char *const forms[][2] = {
        { "Call-ID: ", "" }, { "call-id:", "" }, { "CALL-ID \t: \t", " " },
        { "i: ", "" },       { "I:", "" },
    };
    char value[64];
    char line[96];
    char datagram[4096];
    for (unsigned i = 0; i < 200; i++) {
        if (i % 10 == 0) {
            (void)snprintf(value, sizeof(value), "sw%02xb2bua-%u", i % WORKERS, i);
        } else {
            (void)snprintf(value, sizeof(value), "%u-%u@192.0.2.%u", i * 7919u, i, i % 250);
        }
        (void)snprintf(line, sizeof(line), "%s%s%s", forms[i % 5][0], value, forms[i % 5][1]);
        size_t len = request_with(datagram, sizeof(datagram), line, i % 40);
        assert_int_equal(receiver_of(&g, datagram, len),
                         (int)net_steer_owner(sv_from_cstr(value), WORKERS));
    }
    uint64_t counts[STEER_COUNTERS];
    net_steer_counts(g.steer, counts);
    assert_int_equal(counts[STEER_BY_OWNER], 20);
    assert_int_equal(counts[STEER_BY_HASH], 180);
    assert_int_equal(counts[STEER_UNMATCHED], 0);
    group_close(&g);
}

/* No Call-ID, one past the scanned bytes, a name that only starts like it, an empty
 * value: the kernel's own choice (counted as unmatched), never a wrong "owner". */
static void test_what_the_kernel_leaves_alone(void **state)
{
    (void)state;
    struct group g;
    group_open_or_skip(&g);
    char datagram[4096];
    const char *const lines[] = { "X-Call-ID: sw01", "Call-IDs: sw01", "Call-ID:  ", "Ix: 1" };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t len = request_with(datagram, sizeof(datagram), lines[i], 0);
        (void)receiver_of(&g, datagram, len);
    }
    size_t len = request_with(datagram, sizeof(datagram), "Call-ID: sw01", STEER_SCAN_MAX);
    (void)receiver_of(&g, datagram, len);
    uint64_t counts[STEER_COUNTERS];
    net_steer_counts(g.steer, counts);
    assert_int_equal(counts[STEER_BY_OWNER] + counts[STEER_BY_HASH], 0);
    assert_int_equal(counts[STEER_UNMATCHED], 5);
    group_close(&g);
}

/* A socket outside any reuseport group cannot take the program: the error the gateway
 * turns into "steering off" at start (net/worker.c group_steer). */
static void test_attach_outside_a_group_fails(void **state)
{
    (void)state;
    struct group g;
    group_open_or_skip(&g);
    int lone = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_true(lone >= 0);
    assert_int_equal(bind(lone, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_true(net_steer_attach(g.steer, lone) < 0);
    (void)close(lone);
    group_close(&g);
}

/* The user-space scan (for messages the kernel did not steer) finds the same owner as the
 * parsed Call-ID in every form, and nothing where the kernel finds nothing. */
static void test_scan_finds_what_the_kernel_finds(void **state)
{
    (void)state;
    static const char *const forms[][2] = {
        { "Call-ID: ", "" }, { "call-id:", "" }, { "CALL-ID \t: \t", " " },
        { "i: ", "" },       { "I:", "" },
    };
    char value[64];
    char line[96];
    char message[4096];
    for (unsigned i = 0; i < 100; i++) {
        (void)snprintf(value, sizeof(value), i % 10 == 0 ? "sw%02xb2bua-%u" : "%x-%u@192.0.2.1",
                       i % WORKERS, i);
        (void)snprintf(line, sizeof(line), "%s%s%s", forms[i % 5][0], value, forms[i % 5][1]);
        size_t len = request_with(message, sizeof(message), line, i % 40);
        assert_int_equal(net_steer_scan_owner(sv_make(message, len), WORKERS),
                         (int)net_steer_owner(sv_from_cstr(value), WORKERS));
    }
    const char *const absent[] = { "X-Call-ID: sw01", "Call-IDs: sw01", "Call-ID:  ", "Ix: 1" };
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        size_t len = request_with(message, sizeof(message), absent[i], 0);
        assert_int_equal(net_steer_scan_owner(sv_make(message, len), WORKERS), -1);
    }
    size_t len = request_with(message, sizeof(message), "Call-ID: sw01", STEER_SCAN_MAX);
    assert_int_equal(net_steer_scan_owner(sv_make(message, len), WORKERS), -1);
}

int main(void)
{
    if (sw_hash_init() != 0) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_call_ids_go_to_their_worker),
        cmocka_unit_test(test_hashed_call_ids_spread),
        cmocka_unit_test(test_scan_finds_what_the_kernel_finds),
        cmocka_unit_test(test_attach_outside_a_group_fails),
        cmocka_unit_test(test_kernel_picks_the_owner),
        cmocka_unit_test(test_what_the_kernel_leaves_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
