#include "net/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"

int net_udp_open(const struct sockaddr_storage *addr)
{
    int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -errno;
    }
    int one = 1;
    /* Bigger socket buffers absorb bursts (a REGISTER storm after an outage) without drops. */
    int rcvbuf = 4 * 1024 * 1024;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1) {
        int err = -errno;
        (void)close(fd);
        return err;
    }
    /* The buffer size is a best effort: the kernel caps it at rmem_max. */
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (addr->ss_family == AF_INET6) {
        /* One listener per family: a v6 socket must not also swallow v4 traffic. */
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (bind(fd, (const struct sockaddr *)addr, sw_sockaddr_len(addr)) == -1) {
        int err = -errno;
        (void)close(fd);
        return err;
    }
    return fd;
}

int net_udp_send(int fd, const struct sockaddr_storage *dst, struct sv data)
{
    for (;;) {
        ssize_t sent = sendto(fd, data.ptr, data.len, MSG_DONTWAIT, (const struct sockaddr *)dst,
                              sw_sockaddr_len(dst));
        if (sent >= 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
}

int net_socket_local_addr(int fd, struct sockaddr_storage *out)
{
    socklen_t len = sizeof(*out);
    memset(out, 0, sizeof(*out));
    if (getsockname(fd, (struct sockaddr *)out, &len) == -1) {
        return -errno;
    }
    return 0;
}
