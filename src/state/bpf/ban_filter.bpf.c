/*
 * The kernel half of [ban] kernel_drop: a socket filter attached to every socket the
 * gateway receives on (each worker's UDP socket, each TCP/TLS listener, whose accepted
 * connections inherit it). It runs before the packet is queued on the socket, so a packet
 * from a banned source or a denied range never wakes a worker: it returns 0 (drop); any
 * other packet is kept whole. The maps are filled by state/ban_bpf.c from the ban store
 * (the source of truth) and from [acl] deny; their layout is state/ban_bpf_abi.h.
 *
 * Compiled with clang -target bpf at build time and embedded in the binary.
 */
/* libbpf's headers need the kernel's types declared before them. */
/* clang-format off */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
/* clang-format on */

#include "state/ban_bpf_abi.h"

/* The user-space side sets max_entries from [ban] max_entries before loading. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, struct ban_bpf_key);
    __type(value, __u64);
} sw_bans SEC(".maps");

/* Sized like sw_bans before loading; a trie allocates only the entries it holds. */
struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 65536);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ban_bpf_lpm_key);
    __type(value, __u64);
} sw_ban_nets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 256);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ban_bpf_lpm_key);
    __type(value, __u8);
} sw_deny SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, BAN_BPF_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} sw_drops SEC(".maps");

static __always_inline int drop(__u32 reason)
{
    __u64 *count = bpf_map_lookup_elem(&sw_drops, &reason);
    if (count != 0) {
        /* Per CPU, and a socket filter is not preempted by itself on one CPU. */
        *count += 1;
    }
    return 0;
}

/* The source address in the 16-byte form; 0, or -1 for a packet that is not IP. */
static __always_inline int source_of(struct __sk_buff *skb, struct ban_bpf_lpm_key *key)
{
    if (skb->protocol == bpf_htons(ETH_P_IP)) {
        /* RFC 791: the source address is at offset 12 of the IPv4 header. */
        key->addr[10] = 0xff;
        key->addr[11] = 0xff;
        return bpf_skb_load_bytes_relative(skb, 12, &key->addr[12], 4, BPF_HDR_START_NET);
    }
    if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
        /* RFC 8200: the source address is at offset 8 of the IPv6 header. */
        return bpf_skb_load_bytes_relative(skb, 8, key->addr, 16, BPF_HDR_START_NET);
    }
    return -1;
}

SEC("socket") int sw_ban_filter(struct __sk_buff *skb)
{
    struct ban_bpf_lpm_key key = { 0 };
    if (source_of(skb, &key) != 0) {
        return (int)skb->len;
    }
    const __u64 *end_ns = bpf_map_lookup_elem(&sw_bans, key.addr);
    if (end_ns != 0 && bpf_ktime_get_ns() < *end_ns) {
        return drop(BAN_BPF_DROP_BANNED);
    }
    key.prefix_len = 128;
    end_ns = bpf_map_lookup_elem(&sw_ban_nets, &key);
    if (end_ns != 0 && bpf_ktime_get_ns() < *end_ns) {
        return drop(BAN_BPF_DROP_BANNED);
    }
    if (bpf_map_lookup_elem(&sw_deny, &key) != 0) {
        return drop(BAN_BPF_DROP_DENIED);
    }
    return (int)skb->len;
}

/* Permissive, and compatible with the kernel's GPL-only helpers should one be needed. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";
