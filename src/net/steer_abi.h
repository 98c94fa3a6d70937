/*
 * The layout and the hash shared by the kernel's UDP steering program
 * (net/bpf/steer.bpf.c) and its user-space twin (net/steer.c): both must pick the same
 * worker for a Call-ID, or the worker the kernel chose hands the message on.
 *
 *   sw_steer_cfg    array, 1 entry of struct steer_cfg: the hash key and the workers
 *   sw_steer_buf    per-CPU array, 1 entry of STEER_SCAN_MAX bytes: the scanned payload
 *   sw_steer_counts per-CPU array of STEER_COUNTERS __u64: datagrams, by how they were
 *                   steered
 *
 * The owner of a Call-ID: "sw" and two hex digits naming a worker below the count (the
 * Call-IDs the gateway gives its own legs) is that worker; any other Call-ID goes to
 * fmix32(FNV-1a(bytes) seeded with the key) modulo the workers. The key is secret so
 * that a caller cannot choose Call-IDs that all land on one worker.
 */
#ifndef SW_NET_STEER_ABI_H
#define SW_NET_STEER_ABI_H

#include <linux/types.h>

#define STEER_SCAN_MAX  2048u /* bytes of a datagram searched for its Call-ID */
#define STEER_FNV_PRIME 16777619u

#define STEER_BY_OWNER  0 /* a Call-ID naming its worker */
#define STEER_BY_HASH   1 /* any other Call-ID */
#define STEER_UNMATCHED 2 /* no Call-ID in the scanned bytes: the kernel's own choice */
#define STEER_COUNTERS  3

struct steer_cfg {
    __u32 key;
    __u32 workers;
};

static inline __u32 steer_fnv_step(__u32 hash, __u8 byte)
{
    return (hash ^ byte) * STEER_FNV_PRIME;
}

/* MurmurHash3's finalizer: FNV's low bits alone follow the bytes' low bits. */
static inline __u32 steer_finish(__u32 hash)
{
    hash ^= hash >> 16;
    hash *= 0x85ebca6bu;
    hash ^= hash >> 13;
    hash *= 0xc2b2ae35u;
    hash ^= hash >> 16;
    return hash;
}

static inline int steer_hex_digit(__u8 c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

/* The worker a Call-ID of `len` bytes starting with first[0..3] names, or -1. */
static inline int steer_named_owner(const __u8 first[4], __u32 len, __u32 workers)
{
    if (len < 4 || first[0] != 's' || first[1] != 'w') {
        return -1;
    }
    int high = steer_hex_digit(first[2]);
    int low = steer_hex_digit(first[3]);
    if (high < 0 || low < 0 || (__u32)(high * 16 + low) >= workers) {
        return -1;
    }
    return high * 16 + low;
}

#endif
