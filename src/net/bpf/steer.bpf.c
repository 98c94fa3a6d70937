/*
 * The kernel half of UDP steering by Call-ID: attached to each UDP listener's
 * SO_REUSEPORT group (SO_ATTACH_REUSEPORT_EBPF), it picks the socket, and so the worker,
 * that owns the datagram's call, so that a call's requests and responses reach its
 * worker directly instead of waking another worker that would hand them on. It returns
 * the socket's index in the group (the workers open their sockets in index order); an
 * index past the group (no Call-ID found) lets the kernel pick by its own hash, and the
 * worker that gets the datagram hands it on as before.
 *
 * The kernel runs it with the datagram's payload at offset 0. The first STEER_SCAN_MAX
 * bytes are copied to a per-CPU buffer and scanned byte by byte with bpf_loop for a line
 * starting "Call-ID" or "i" (RFC 3261 §7.3.3's compact form), any case, then optional
 * blanks, a colon, blanks, and the value up to the next blank or line end.
 *
 * Compiled with clang -target bpf at build time and embedded in the binary.
 */
/* clang-format off */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
/* clang-format on */

#include "net/steer_abi.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct steer_cfg);
} sw_steer_cfg SEC(".maps");

/*
 * The scan's state lives in the per-CPU map value beside the bytes, not on the stack: the
 * verifier tracks constants stored on the stack, and the many combinations of them the
 * scan goes through would never let its check of the loop's body converge; a map value's
 * contents are unknown numbers to it.
 */
struct scan {
    __u32 len;
    struct steer_scan state;
    __u8 bytes[STEER_SCAN_MAX];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct scan);
} sw_steer_buf SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, STEER_COUNTERS);
    __type(key, __u32);
    __type(value, __u64);
} sw_steer_counts SEC(".maps");

struct scan_ctx {
    struct scan *scan;
};

static long scan_byte(__u32 index, void *ctx)
{
    struct scan *s = ((struct scan_ctx *)ctx)->scan;
    if (index >= s->len) {
        return 1;
    }
    return steer_scan_step(&s->state, s->bytes[index & (STEER_SCAN_MAX - 1)]);
}

static __always_inline __u32 count(__u32 how, __u32 index)
{
    __u64 *counter = bpf_map_lookup_elem(&sw_steer_counts, &how);
    if (counter != 0) {
        *counter += 1; /* per CPU: a socket program is not preempted by itself */
    }
    return index;
}

SEC("socket") int sw_steer(struct __sk_buff *skb)
{
    const __u32 zero = 0;
    const struct steer_cfg *cfg = bpf_map_lookup_elem(&sw_steer_cfg, &zero);
    struct scan *s = bpf_map_lookup_elem(&sw_steer_buf, &zero);
    if (cfg == 0 || s == 0 || cfg->workers == 0) {
        return -1;
    }
    __u32 len = skb->len < STEER_SCAN_MAX ? skb->len : STEER_SCAN_MAX;
    if (len == 0 || bpf_skb_load_bytes(skb, 0, s->bytes, len) != 0) {
        return (int)count(STEER_UNMATCHED, ~0u);
    }
    s->len = len;
    steer_scan_init(&s->state, cfg->key);
    struct scan_ctx ctx = { .scan = s };
    (void)bpf_loop(len, scan_byte, &ctx, 0);
    int owner = steer_scan_owner(&s->state, cfg->workers);
    if (owner < 0) {
        return (int)count(STEER_UNMATCHED, ~0u);
    }
    int is_named = steer_named_owner(s->state.first, s->state.value_len, cfg->workers) >= 0;
    return (int)count(is_named ? STEER_BY_OWNER : STEER_BY_HASH, (__u32)owner);
}

/* Permissive, and compatible with the kernel's GPL-only helpers should one be needed. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";
