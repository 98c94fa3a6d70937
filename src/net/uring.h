/*
 * A worker's io_uring (liburing): one system call per wake-up both waits and receives.
 * Under epoll a wake-up costs epoll_wait and then recvmmsg, twice the system calls of a
 * proxy blocking in recvfrom, and at SIP call rates most wake-ups carry one datagram
 * (issue #13). Here every UDP socket has a multishot recvmsg armed into a ring of
 * provided buffers, so the datagrams are already read when the wait returns; the epoll
 * set of everything else (streams, the wake-up eventfd) is one more poll in the ring.
 *
 * Only the loop (net/loop.c) uses this. Made (and its receives armed) in one thread, it
 * is the loop's thread's from its first wait on (a single issuer, Linux 6.1).
 */
#ifndef SW_NET_URING_H
#define SW_NET_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/sv.h"

struct uring;

/* One completion. */
struct uring_event {
    uint64_t tag; /* what the request was armed with */
    int res;      /* < 0: -errno, the request failed */
    /* The request stays armed (a multishot receive that goes on); when false the owner
       arms it again if it still wants it. */
    bool is_armed;
    /* A received datagram (data.ptr != NULL): valid during the callback only. */
    struct sv data;
    const struct sockaddr_storage *src;
};

typedef void uring_event_fn(void *ctx, const struct uring_event *event);

/* A ring, its buffers registered. Returns 0 or -errno where the kernel (or a seccomp
   policy) refuses io_uring or one of the features used. */
int uring_new(struct uring **out);

/* NULL is a no-op. Cancels whatever is armed. */
void uring_free(struct uring *uring);

/* Arms a multishot receive on the datagram socket `fd`: each datagram completes with
   `tag`. Submitted with the next uring_wait. Returns 0 or -errno. */
int uring_recv_arm(struct uring *uring, int fd, uint64_t tag);

/* Arms a one-shot poll for input on `fd` (completing at once if `fd` is readable when
   the next uring_wait submits it). Returns 0 or -errno. */
int uring_poll_arm(struct uring *uring, int fd, uint64_t tag);

/* Submits what is armed and waits at most `timeout_ms` (< 0: no limit) for a completion.
   Returns 0 (completions or the time-out) or -errno. */
int uring_wait(struct uring *uring, int timeout_ms);

/* Calls fn for each completion there is (bounded), in order; returns how many. */
unsigned uring_drain(struct uring *uring, uring_event_fn *fn, void *ctx);

#endif
