/*
 * A fake rtpengine for the ng client tests: a UDP socket on 127.0.0.1 that the test reads
 * and answers by hand while it runs the client's loop.
 */
#ifndef SW_TESTS_CALL_NG_PEER_H
#define SW_TESTS_CALL_NG_PEER_H

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/time.h"
#include "call/bencode.h"
#include "net/loop.h"
#include "support/unit.h"

struct peer {
    int fd;
    struct sockaddr_storage addr;
    struct sockaddr_storage client; /* where the last datagram came from */
    char data[65536];
    size_t len;
    struct sv cookie;
    struct bencode_node nodes[64];
    struct bencode_doc doc;
};

static inline void peer_open(struct peer *p)
{
    memset(p, 0, sizeof(*p));
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(p->fd >= 0);
    assert_true(sw_sockaddr_parse(SV("127.0.0.1"), 0, &p->addr));
    assert_int_equal(bind(p->fd, (struct sockaddr *)&p->addr, sw_sockaddr_len(&p->addr)), 0);
    socklen_t len = sizeof(p->addr);
    assert_int_equal(getsockname(p->fd, (struct sockaddr *)&p->addr, &len), 0);
}

static inline void peer_close(struct peer *p)
{
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
}

/* Runs the loop until the peer got a datagram; decodes "<cookie> <dict>". */
static inline bool peer_recv(struct peer *p, struct loop *loop, int budget_ms)
{
    uint64_t end = sw_mono_ms() + (uint64_t)budget_ms;
    while (sw_mono_ms() < end) {
        socklen_t len = sizeof(p->client);
        ssize_t n =
            recvfrom(p->fd, p->data, sizeof(p->data), 0, (struct sockaddr *)&p->client, &len);
        if (n > 0) {
            p->len = (size_t)n;
            struct sv all = sv_make(p->data, p->len);
            long space = sv_find_char(all, ' ');
            assert_true(space > 0);
            p->cookie = sv_slice(all, 0, (size_t)space);
            p->doc = (struct bencode_doc){ .nodes = p->nodes, .cap = 64 };
            assert_int_equal(
                bencode_decode(sv_slice(all, (size_t)space + 1, all.len), &p->doc, NULL), 0);
            return true;
        }
        assert_true(loop_run_once(loop, 5) >= 0);
    }
    return false;
}

/* Reads and forgets every datagram queued at the peer. */
static inline void peer_drain(struct peer *p)
{
    while (recv(p->fd, p->data, sizeof(p->data), 0) > 0) {
        continue;
    }
}

static inline void peer_answer(const struct peer *p, struct sv cookie, const char *dict)
{
    char out[1024];
    size_t len = cookie.len + 1 + strlen(dict);
    assert_true(len < sizeof(out));
    memcpy(out, cookie.ptr, cookie.len);
    out[cookie.len] = ' ';
    memcpy(out + cookie.len + 1, dict, strlen(dict));
    assert_int_equal(sendto(p->fd, out, len, 0, (const struct sockaddr *)&p->client,
                            sw_sockaddr_len(&p->client)),
                     (ssize_t)len);
}

#endif
