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

/*
 * The Call-ID scanner, a byte at a time, shared by the kernel program and user space
 * (net_steer_scan_owner) so that both find the same value: a line starting "Call-ID" or
 * "i" (RFC 3261 §7.3.3's compact form), any case, then optional blanks, a colon, blanks,
 * and the value up to the next blank or line end. The first line (a request or status
 * line) is skipped; the blank line ending the headers ends the scan.
 */
enum steer_scan_state {
    STEER_IN_LINE,    /* in a line that is not Call-ID's: wait for its end */
    STEER_LINE_START, /* just after a line feed */
    STEER_IN_NAME,    /* matching "call-id" */
    STEER_AFTER_NAME, /* the name matched: blanks, then a colon */
    STEER_BEFORE_VALUE,
    STEER_IN_VALUE,
    STEER_DONE,
};

struct steer_scan {
    __u32 state;
    __u32 matched; /* bytes of "call-id" matched so far */
    __u32 hash;
    __u32 value_len;
    __u8 first[4];
};

/* "call-id" as little-endian bytes: byte n is the n-th letter. */
#define STEER_CALL_ID_LETTERS 0x64692d6c6c6163ull
#define STEER_CALL_ID_LEN     7u

static inline void steer_scan_init(struct steer_scan *s, __u32 key)
{
    s->state = STEER_IN_LINE;
    s->matched = 0;
    s->hash = key;
    s->value_len = 0;
}

static inline int steer_is_blank(__u8 c)
{
    return c == ' ' || c == '\t';
}

static inline int steer_is_line_end(__u8 c)
{
    return c == '\r' || c == '\n';
}

static inline __u32 steer_other_line(__u8 c)
{
    return c == '\n' ? STEER_LINE_START : STEER_IN_LINE;
}

static inline void steer_take_value_byte(struct steer_scan *s, __u8 c)
{
    s->hash = steer_fnv_step(s->hash, c);
    if (s->value_len < 4) {
        s->first[s->value_len & 3] = c;
    }
    s->value_len++;
}

static inline __u32 steer_at_line_start(struct steer_scan *s, __u8 c)
{
    __u8 lower = c | 0x20;
    s->matched = 1;
    if (steer_is_line_end(c)) {
        return STEER_DONE; /* the blank line: the headers ended without a Call-ID */
    }
    if (lower == 'i') {
        return STEER_AFTER_NAME;
    }
    return lower == 'c' ? STEER_IN_NAME : STEER_IN_LINE;
}

static inline __u32 steer_in_name(struct steer_scan *s, __u8 c)
{
    __u8 want = (__u8)(STEER_CALL_ID_LETTERS >> (8 * (s->matched & 7)));
    if ((c | 0x20) != want) {
        return steer_other_line(c);
    }
    s->matched++;
    return s->matched == STEER_CALL_ID_LEN ? STEER_AFTER_NAME : STEER_IN_NAME;
}

static inline __u32 steer_value_byte(struct steer_scan *s, __u8 c, int is_first)
{
    if (steer_is_blank(c) && is_first) {
        return STEER_BEFORE_VALUE;
    }
    if (steer_is_blank(c) || steer_is_line_end(c)) {
        return STEER_DONE; /* first: empty or folded, left to the kernel's hash */
    }
    steer_take_value_byte(s, c);
    return STEER_IN_VALUE;
}

/* Takes one byte; 1 when the scan is over (found, or known not to be there). */
static inline int steer_scan_step(struct steer_scan *s, __u8 c)
{
    switch (s->state) {
    case STEER_IN_LINE:
        s->state = steer_other_line(c);
        break;
    case STEER_LINE_START:
        s->state = steer_at_line_start(s, c);
        break;
    case STEER_IN_NAME:
        s->state = steer_in_name(s, c);
        break;
    case STEER_AFTER_NAME:
        s->state = steer_is_blank(c) ? STEER_AFTER_NAME
                   : c == ':'        ? STEER_BEFORE_VALUE
                                     : steer_other_line(c);
        break;
    case STEER_BEFORE_VALUE:
        s->state = steer_value_byte(s, c, 1);
        break;
    case STEER_IN_VALUE:
        s->state = steer_value_byte(s, c, 0);
        break;
    default:
        return 1;
    }
    return s->state == STEER_DONE;
}

/* The worker the scanned Call-ID belongs to, or -1 when no Call-ID was found. */
static inline int steer_scan_owner(const struct steer_scan *s, __u32 workers)
{
    if (s->value_len == 0 || (s->state != STEER_DONE && s->state != STEER_IN_VALUE)) {
        return -1;
    }
    int named = steer_named_owner(s->first, s->value_len, workers);
    return named >= 0 ? named : (int)(steer_finish(s->hash) % workers);
}

#endif
