/*
 * The layout shared by the kernel's socket filter (state/bpf/ban_filter.bpf.c) and the
 * user-space side that fills its maps (state/ban_bpf.c). Addresses are in sw_ip's 16-byte
 * form (IPv4 as ::ffff:a.b.c.d), network byte order.
 *
 *   sw_bans   hash, struct ban_bpf_key -> __u64: CLOCK_MONOTONIC nanoseconds at which the
 *             ban ends (BAN_BPF_FOREVER: never); the filter drops while now < end
 *   sw_ban_nets  longest-prefix-match trie, struct ban_bpf_lpm_key -> __u64 end as above:
 *             the bans that cover a prefix ([ban] ipv6_prefix), looked up when the
 *             source's own address is not in sw_bans
 *   sw_deny   longest-prefix-match trie, struct ban_bpf_lpm_key -> __u8 (1): [acl] deny
 *   sw_drops  per-CPU array of BAN_BPF_COUNTERS __u64: packets dropped, by reason
 */
#ifndef SW_STATE_BAN_BPF_ABI_H
#define SW_STATE_BAN_BPF_ABI_H

#include <linux/types.h>

#define BAN_BPF_DROP_BANNED 0
#define BAN_BPF_DROP_DENIED 1
#define BAN_BPF_COUNTERS    2
#define BAN_BPF_FOREVER     (~(__u64)0)

struct ban_bpf_key {
    __u8 addr[16];
};

struct ban_bpf_lpm_key {
    __u32 prefix_len; /* bits of addr that count: 96 + n for an IPv4 /n */
    __u8 addr[16];
};

#endif
