/*
 * fuzz_stream: the stream framer (net/framer.h) over arbitrary segmentations. The first
 * byte says how many of the following bytes are segment lengths (0 to 15, each 1 to 256
 * bytes, used in turn); the rest is the byte stream. It is fed to the framer the way a
 * connection reads it (appended to a buffer capped at max_msg_bytes + 1, the consumed
 * bytes dropped after each call) once in those segments and once as it comes, and both
 * runs must deliver the same messages, answer the same pings and fail alike: framing may
 * not depend on how TCP cut the bytes. Every delivered message is parsed as a stream
 * message, as the gateway does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "net/framer.h"
#include "sip/msg.h"

/* libFuzzer's entry point: its name is not ours to choose. */
/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small, so that "too large" is reachable within libFuzzer's input sizes. */
#define FUZZ_MAX_MSG 4096

struct outcome {
    uint64_t hash; /* FNV-1a over each delivered message's length and bytes */
    size_t delivered;
    size_t pongs;
    size_t touches;
    bool has_failed;
    size_t left; /* bytes still buffered at the end */
    struct sv rx;
    struct arena *arena;
    const struct sip_limits *limits;
};

static void hash_bytes(uint64_t *h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        *h = (*h ^ p[i]) * 1099511628211ULL;
    }
}

static void on_pong(void *ctx)
{
    struct outcome *o = ctx;
    o->pongs++;
}

static void on_touch(void *ctx)
{
    struct outcome *o = ctx;
    o->touches++;
}

static void on_deliver(void *ctx, struct sv msg)
{
    struct outcome *o = ctx;
    if (msg.len == 0 || msg.ptr < o->rx.ptr || msg.ptr + msg.len > o->rx.ptr + o->rx.len) {
        abort(); /* a message outside the buffer, or an empty one */
    }
    o->delivered++;
    hash_bytes(&o->hash, &msg.len, sizeof(msg.len));
    hash_bytes(&o->hash, msg.ptr, msg.len);
    arena_reset(o->arena);
    struct sip_msg parsed;
    struct sip_err err = { 0 };
    if (sip_msg_parse(msg, true, o->limits, o->arena, &parsed, &err) == 0) {
        (void)sip_msg_validate(&parsed, &err); /* the verdict is not this target's concern */
    }
}

static void on_fail(void *ctx, int code, const char *reason)
{
    struct outcome *o = ctx;
    (void)code;
    (void)reason;
    o->has_failed = true;
}

static bool on_is_closing(void *ctx)
{
    const struct outcome *o = ctx;
    return o->has_failed;
}

static const struct framer_ops ops = {
    .pong = on_pong,
    .touch = on_touch,
    .deliver = on_deliver,
    .fail = on_fail,
    .is_closing = on_is_closing,
};

/* Feeds `in` in segments of seg[i] bytes in turn (none: all at once), read by read. */
static void feed(struct sv in, const uint8_t *seg, size_t seg_count, char *buf, struct outcome *o)
{
    size_t len = 0;
    size_t pos = 0;
    size_t turn = 0;
    /* Bounded: each round reads at least one byte or the loop ends. */
    while (pos < in.len && !o->has_failed) {
        size_t segment = seg_count == 0 ? in.len - pos : (size_t)seg[turn++ % seg_count] + 1;
        size_t room = FUZZ_MAX_MSG + 1 - len;
        size_t take = segment < in.len - pos ? segment : in.len - pos;
        take = take < room ? take : room;
        if (take == 0) {
            abort(); /* a full buffer that the framer neither consumed nor refused */
        }
        memcpy(buf + len, in.ptr + pos, take);
        len += take;
        pos += take;
        o->rx = sv_make(buf, len);
        struct framer_result r = framer_consume(o->rx, o->limits, &ops, o);
        if (r.consumed > len) {
            abort();
        }
        memmove(buf, buf + r.consumed, len - r.consumed);
        len -= r.consumed;
    }
    o->left = len;
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65535) {
        return 0;
    }
    size_t seg_count = data[0] % 16;
    if (size < 1 + seg_count) {
        return 0;
    }
    const uint8_t *seg = data + 1;
    struct sv in = sv_make((const char *)data + 1 + seg_count, size - 1 - seg_count);
    struct sip_limits limits;
    sip_limits_default(&limits);
    limits.max_msg_bytes = FUZZ_MAX_MSG;
    struct arena *arena = arena_new((size_t)256 * 1024);
    char *buf = malloc(FUZZ_MAX_MSG + 1);
    if (arena == NULL || buf == NULL) {
        arena_free(arena);
        free(buf);
        return 0;
    }
    struct outcome cut = { .hash = 14695981039346656037ULL, .arena = arena, .limits = &limits };
    struct outcome whole = cut;
    feed(in, seg, seg_count, buf, &cut);
    feed(in, seg, 0, buf, &whole);
    if (cut.hash != whole.hash || cut.delivered != whole.delivered || cut.pongs != whole.pongs ||
        cut.has_failed != whole.has_failed || (!cut.has_failed && cut.left != whole.left)) {
        abort(); /* framing depends on the segmentation */
    }
    arena_free(arena);
    free(buf);
    return 0;
}
