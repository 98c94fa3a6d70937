/*
 * UDP steering by Call-ID: each UDP listener's SO_REUSEPORT group gets a BPF program
 * (net/bpf/steer.bpf.c, embedded in the binary) that hands each datagram to the socket of
 * the worker owning its call, so a call's messages do not wake one worker only to be
 * handed to another (two system calls and a thread wake-up each). net_steer_owner is the
 * same choice in user space: the worker that receives a message checks it and still hands
 * on what the kernel could not steer (no Call-ID in the first STEER_SCAN_MAX bytes,
 * streams, a kernel that refused the program).
 *
 * Privileges: loading needs CAP_BPF (or root); net_steer_new says why it failed and the
 * caller keeps the kernel's hash plus the hand-off.
 *
 * Threads: net_steer_new, _attach and _free from one thread; net_steer_counts and
 * net_steer_owner from any.
 */
#ifndef SW_NET_STEER_H
#define SW_NET_STEER_H

#include <stdint.h>

#include "base/sv.h"
#include "net/steer_abi.h"

struct net_steer;

/* The worker, of `workers`, that owns the call with this Call-ID. */
unsigned net_steer_owner(struct sv call_id, unsigned workers);

/*
 * The worker owning the message in `data`, found by the kernel program's own scan of its
 * first STEER_SCAN_MAX bytes (no parse), or -1 when no Call-ID is found there. Lets a
 * worker hand on a stream's message for another worker's call before parsing it.
 */
int net_steer_scan_owner(struct sv data, unsigned workers);

/* Loads the program for `workers` workers. Returns 0 and *out, or -errno with `why`. */
int net_steer_new(unsigned workers, struct net_steer **out, char *why, size_t cap);

/* Attaches the program to the reuseport group of `fd` (any socket of the group, bound). */
int net_steer_attach(const struct net_steer *steer, int fd);

/* Datagrams steered so far, by STEER_BY_OWNER, STEER_BY_HASH and STEER_UNMATCHED. */
void net_steer_counts(const struct net_steer *steer, uint64_t out[STEER_COUNTERS]);

/* Groups keep the program while their sockets live. NULL is a no-op. */
void net_steer_free(struct net_steer *steer);

#endif
