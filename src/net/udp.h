/*
 * UDP sockets: one per listener per worker, all bound to the same address with
 * SO_REUSEPORT so the kernel spreads datagrams over the workers. Called from the
 * owning worker's thread only (sendto on the fd is safe from any thread).
 */
#ifndef SW_NET_UDP_H
#define SW_NET_UDP_H

#include <stddef.h>
#include <sys/socket.h>

#include "base/sv.h"

/* Opens a non-blocking UDP socket bound to `addr` with SO_REUSEPORT; returns fd or -errno. */
int net_udp_open(const struct sockaddr_storage *addr);

/*
 * Sends one datagram. Returns 0, or -errno (EAGAIN counts as a drop for the caller:
 * UDP is lossy and the transaction layer retransmits).
 */
int net_udp_send(int fd, const struct sockaddr_storage *dst, struct sv data);

/* The address a socket is bound to (to learn an ephemeral port). Returns 0 or -errno. */
int net_socket_local_addr(int fd, struct sockaddr_storage *out);

#endif
