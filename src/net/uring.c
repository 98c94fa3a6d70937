#include "net/uring.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"

#define URING_ENTRIES      256
/* Datagrams in flight between two waits. When they run out the receive ends with ENOBUFS,
   the rest wait in the socket's buffer, and the loop arms the receive again. */
#define URING_BUFFERS      64
/* The kernel writes a header and the source address before each payload: room for the
   largest UDP payload after them, so that no datagram is truncated. */
#define URING_BUFFER_BYTES (65536u + 256u)
#define URING_GROUP        0
/* A drain ends after this many completions even when more keep arriving (a flood): the
   loop's timers get their turn. */
#define URING_DRAIN_MAX    256u

struct uring {
    struct io_uring ring;
    bool is_ring_open;
    bool is_disabled; /* until the first wait, in the thread that waits (uring_wait) */
    struct io_uring_buf_ring *buffer_ring;
    size_t buffer_ring_bytes;
    unsigned char *buffers;
    /* What the kernel fills before each payload: the source address, no control data. */
    struct msghdr recv_shape;
    struct sockaddr_storage src; /* the current datagram's source, zero-padded */
};

static void *map_anonymous(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void buffer_give(struct uring *uring, unsigned id, int offset)
{
    io_uring_buf_ring_add(uring->buffer_ring, uring->buffers + (size_t)id * URING_BUFFER_BYTES,
                          URING_BUFFER_BYTES, (unsigned short)id,
                          io_uring_buf_ring_mask(URING_BUFFERS), offset);
}

static int ring_open(struct uring *uring)
{
    /* DEFER_TASKRUN (Linux 6.1): the kernel's part of a receive runs when the worker waits,
     * all of a wake-up's at once, and the worker is woken once for them, not once each
     * (measured: epoll's CPU per call where COOP_TASKRUN alone cost 5 % more). It needs a
     * single issuer, the worker's thread, which enables the ring at its first wait: the
     * ring is made disabled here, in the thread that opens the sockets. COOP_TASKRUN alone
     * where 6.1's flags are refused, then none. */
    static const unsigned tries[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    struct io_uring_params params;
    int rc = -EINVAL;
    for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]) && rc == -EINVAL; i++) {
        memset(&params, 0, sizeof(params));
        params.flags = tries[i];
        rc = io_uring_queue_init_params(URING_ENTRIES, &uring->ring, &params);
    }
    if (rc != 0) {
        return rc;
    }
    uring->is_ring_open = true;
    uring->is_disabled = (params.flags & IORING_SETUP_R_DISABLED) != 0;
    /* A wait with a time-out in one system call (Linux 5.11). */
    return (params.features & IORING_FEAT_EXT_ARG) != 0 ? 0 : -EOPNOTSUPP;
}

static int buffers_open(struct uring *uring)
{
    uring->buffer_ring_bytes = URING_BUFFERS * sizeof(struct io_uring_buf);
    uring->buffer_ring = map_anonymous(uring->buffer_ring_bytes);
    uring->buffers = map_anonymous((size_t)URING_BUFFERS * URING_BUFFER_BYTES);
    if (uring->buffer_ring == NULL || uring->buffers == NULL) {
        return -ENOMEM;
    }
    struct io_uring_buf_reg reg = {
        .ring_addr = (uintptr_t)uring->buffer_ring,
        .ring_entries = URING_BUFFERS,
        .bgid = URING_GROUP,
    };
    /* Provided-buffer rings: Linux 5.19. */
    int rc = io_uring_register_buf_ring(&uring->ring, &reg, 0);
    if (rc != 0) {
        return rc;
    }
    io_uring_buf_ring_init(uring->buffer_ring);
    for (unsigned i = 0; i < URING_BUFFERS; i++) {
        buffer_give(uring, i, (int)i);
    }
    io_uring_buf_ring_advance(uring->buffer_ring, URING_BUFFERS);
    uring->recv_shape.msg_namelen = sizeof(struct sockaddr_storage);
    return 0;
}

int uring_new(struct uring **out)
{
    struct uring *uring = sw_calloc(1, sizeof(*uring));
    if (uring == NULL) {
        return -ENOMEM;
    }
    int rc = ring_open(uring);
    if (rc == 0) {
        rc = buffers_open(uring);
    }
    if (rc != 0) {
        uring_free(uring);
        return rc;
    }
    *out = uring;
    return 0;
}

void uring_free(struct uring *uring)
{
    if (uring == NULL) {
        return;
    }
    if (uring->is_ring_open) {
        io_uring_queue_exit(&uring->ring);
    }
    if (uring->buffers != NULL) {
        (void)munmap(uring->buffers, (size_t)URING_BUFFERS * URING_BUFFER_BYTES);
    }
    if (uring->buffer_ring != NULL) {
        (void)munmap(uring->buffer_ring, uring->buffer_ring_bytes);
    }
    sw_free(uring);
}

/* A free submission entry; a full queue is submitted first to make room. */
static struct io_uring_sqe *sqe_get(struct uring *uring)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&uring->ring);
    if (sqe == NULL && io_uring_submit(&uring->ring) >= 0) {
        sqe = io_uring_get_sqe(&uring->ring);
    }
    return sqe;
}

int uring_recv_arm(struct uring *uring, int fd, uint64_t tag)
{
    struct io_uring_sqe *sqe = sqe_get(uring);
    if (sqe == NULL) {
        return -EBUSY;
    }
    io_uring_prep_recvmsg_multishot(sqe, fd, &uring->recv_shape, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = URING_GROUP;
    io_uring_sqe_set_data64(sqe, tag);
    return 0;
}

int uring_poll_arm(struct uring *uring, int fd, uint64_t tag)
{
    struct io_uring_sqe *sqe = sqe_get(uring);
    if (sqe == NULL) {
        return -EBUSY;
    }
    io_uring_prep_poll_add(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, tag);
    return 0;
}

int uring_wait(struct uring *uring, int timeout_ms)
{
    if (uring->is_disabled) {
        /* liburing 2.3 declares io_uring_enable_rings but does not export it. */
        if (syscall(__NR_io_uring_register, uring->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
                    0) != 0) {
            return -errno;
        }
        uring->is_disabled = false;
    }
    struct __kernel_timespec ts = {
        .tv_sec = timeout_ms / 1000,
        .tv_nsec = (long long)(timeout_ms % 1000) * 1000000LL,
    };
    struct io_uring_cqe *cqe = NULL;
    int rc =
        io_uring_submit_and_wait_timeout(&uring->ring, &cqe, 1, timeout_ms >= 0 ? &ts : NULL, NULL);
    return rc == -ETIME || rc == -EINTR ? 0 : (rc < 0 ? rc : 0);
}

/* The datagram in a completed buffer, or an empty sv when it is unusable (its source
   address or payload cut short). */
static struct sv datagram_of(struct uring *uring, const struct io_uring_cqe *cqe, void *buffer)
{
    struct io_uring_recvmsg_out *out =
        io_uring_recvmsg_validate(buffer, cqe->res, &uring->recv_shape);
    if (out == NULL || out->namelen > sizeof(uring->src) || (out->flags & MSG_TRUNC) != 0) {
        return sv_make(NULL, 0);
    }
    memset(&uring->src, 0, sizeof(uring->src));
    memcpy(&uring->src, io_uring_recvmsg_name(out), out->namelen);
    return sv_make(io_uring_recvmsg_payload(out, &uring->recv_shape),
                   io_uring_recvmsg_payload_length(out, cqe->res, &uring->recv_shape));
}

unsigned uring_drain(struct uring *uring, uring_event_fn *fn, void *ctx)
{
    unsigned head = 0;
    unsigned seen = 0;
    unsigned buffers_back = 0;
    struct io_uring_cqe *cqe = NULL;
    io_uring_for_each_cqe(&uring->ring, head, cqe)
    {
        struct uring_event event = {
            .tag = cqe->user_data,
            .res = cqe->res,
            .is_armed = (cqe->flags & IORING_CQE_F_MORE) != 0,
            .src = &uring->src,
        };
        bool has_buffer = (cqe->flags & IORING_CQE_F_BUFFER) != 0;
        unsigned id = (cqe->flags >> IORING_CQE_BUFFER_SHIFT) % URING_BUFFERS;
        if (has_buffer && cqe->res > 0) {
            event.data = datagram_of(uring, cqe, uring->buffers + (size_t)id * URING_BUFFER_BYTES);
        }
        /* A datagram cut short completes like none: the receive goes on. */
        if (event.res < 0 || event.data.ptr != NULL || !event.is_armed) {
            fn(ctx, &event);
        }
        if (has_buffer) {
            /* The kernel sees it again at the advance below, after the callback. */
            buffer_give(uring, id, (int)buffers_back++);
        }
        if (++seen == URING_DRAIN_MAX) {
            break;
        }
    }
    io_uring_cq_advance(&uring->ring, seen);
    io_uring_buf_ring_advance(uring->buffer_ring, (int)buffers_back);
    return seen;
}
