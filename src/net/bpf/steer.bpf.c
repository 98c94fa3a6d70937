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
    __u32 state;
    __u32 matched; /* bytes of "call-id" matched so far */
    __u32 hash;
    __u32 value_len;
    __u8 first[4];
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

enum scan_state {
    IN_LINE,    /* in a line that is not Call-ID's: wait for its end */
    LINE_START, /* just after a line feed */
    IN_NAME,    /* matching "call-id" */
    AFTER_NAME, /* the name matched: blanks, then a colon */
    BEFORE_VALUE,
    IN_VALUE,
    DONE,
};

struct scan_ctx {
    struct scan *scan;
};

/* "call-id" as little-endian bytes: byte n is the n-th letter. */
#define CALL_ID_LETTERS 0x64692d6c6c6163ull
#define CALL_ID_LEN     7u

static __always_inline int is_blank(__u8 c)
{
    return c == ' ' || c == '\t';
}

static __always_inline int is_line_end(__u8 c)
{
    return c == '\r' || c == '\n';
}

static __always_inline void take_value_byte(struct scan *s, __u8 c)
{
    s->hash = steer_fnv_step(s->hash, c);
    if (s->value_len < 4) {
        s->first[s->value_len & 3] = c;
    }
    s->value_len++;
}

static __always_inline __u32 at_line_start(__u8 c)
{
    __u8 lower = c | 0x20;
    if (is_line_end(c)) {
        return DONE; /* the blank line: the headers ended without a Call-ID */
    }
    if (lower == 'i') {
        return AFTER_NAME;
    }
    return lower == 'c' ? IN_NAME : IN_LINE;
}

static __always_inline __u32 in_name(struct scan *s, __u8 c)
{
    __u8 want = (__u8)(CALL_ID_LETTERS >> (8 * (s->matched & 7)));
    if ((c | 0x20) != want) {
        return c == '\n' ? LINE_START : IN_LINE;
    }
    s->matched++;
    return s->matched == CALL_ID_LEN ? AFTER_NAME : IN_NAME;
}

static __always_inline __u32 after_name(__u8 c)
{
    if (is_blank(c)) {
        return AFTER_NAME;
    }
    if (c == ':') {
        return BEFORE_VALUE;
    }
    return c == '\n' ? LINE_START : IN_LINE;
}

static __always_inline __u32 before_value(struct scan *s, __u8 c)
{
    if (is_blank(c)) {
        return BEFORE_VALUE;
    }
    if (is_line_end(c)) {
        return DONE; /* empty or folded: leave it to the kernel's hash */
    }
    take_value_byte(s, c);
    return IN_VALUE;
}

static __always_inline __u32 in_value(struct scan *s, __u8 c)
{
    if (is_blank(c) || is_line_end(c)) {
        return DONE;
    }
    take_value_byte(s, c);
    return IN_VALUE;
}

static long scan_byte(__u32 index, void *ctx)
{
    struct scan *s = ((struct scan_ctx *)ctx)->scan;
    if (index >= s->len) {
        return 1;
    }
    __u8 c = s->bytes[index & (STEER_SCAN_MAX - 1)];
    switch (s->state) {
    case IN_LINE:
        s->state = c == '\n' ? LINE_START : IN_LINE;
        break;
    case LINE_START:
        s->matched = 1;
        s->state = at_line_start(c);
        break;
    case IN_NAME:
        s->state = in_name(s, c);
        break;
    case AFTER_NAME:
        s->state = after_name(c);
        break;
    case BEFORE_VALUE:
        s->state = before_value(s, c);
        break;
    case IN_VALUE:
        s->state = in_value(s, c);
        break;
    default:
        return 1;
    }
    return s->state == DONE ? 1 : 0;
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
    s->state = IN_LINE;
    s->hash = cfg->key;
    s->value_len = 0;
    struct scan_ctx ctx = { .scan = s };
    (void)bpf_loop(len, scan_byte, &ctx, 0);
    if (s->value_len == 0 || (s->state != DONE && s->state != IN_VALUE)) {
        return (int)count(STEER_UNMATCHED, ~0u);
    }
    int named = steer_named_owner(s->first, s->value_len, cfg->workers);
    if (named >= 0) {
        return (int)count(STEER_BY_OWNER, (__u32)named);
    }
    return (int)count(STEER_BY_HASH, steer_finish(s->hash) % cfg->workers);
}

/* Permissive, and compatible with the kernel's GPL-only helpers should one be needed. */
char LICENSE[] SEC("license") = "Dual MIT/GPL";
