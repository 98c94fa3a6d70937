/*
 * Output buffer for building messages: appends into caller-supplied storage and records
 * overflow instead of failing each call, so a builder checks once at the end
 * (`buf->is_overflow`). Nothing is allocated. One thread per buffer.
 */
#ifndef SW_BASE_BUF_H
#define SW_BASE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/sv.h"

struct sw_buf {
    char *ptr;
    size_t len; /* bytes written */
    size_t cap; /* bytes available at ptr */
    bool is_overflow;
};

/* Starts an empty buffer over `storage` of `cap` bytes. */
void sw_buf_init(struct sw_buf *buf, char *storage, size_t cap);

/*
 * Appends bytes; on overflow nothing is written and is_overflow is set. Inline: the
 * message builders and the security log call these a few hundred times per relayed
 * registration, mostly with constant lengths that then need no call at all (#13).
 */
static inline void sw_buf_put(struct sw_buf *buf, const void *data, size_t len)
{
    if (buf->is_overflow || len > buf->cap - buf->len) {
        buf->is_overflow = true;
        return;
    }
    if (len > 0) {
        memcpy(buf->ptr + buf->len, data, len);
    }
    buf->len += len;
}

static inline void sw_buf_sv(struct sw_buf *buf, struct sv s)
{
    sw_buf_put(buf, s.ptr, s.len);
}

static inline void sw_buf_str(struct sw_buf *buf, const char *s)
{
    sw_buf_put(buf, s, strlen(s));
}

/*
 * Appends `s` up to its first NUL byte, as "%.*s" prints it: a builder that appends the
 * received text this way instead of formatting it sends the same bytes (#13).
 */
static inline void sw_buf_text(struct sw_buf *buf, struct sv s)
{
    const char *nul = s.len > 0 ? memchr(s.ptr, '\0', s.len) : NULL;
    sw_buf_put(buf, s.ptr, nul != NULL ? (size_t)(nul - s.ptr) : s.len);
}

static inline void sw_buf_char(struct sw_buf *buf, char c)
{
    if (buf->is_overflow || buf->len == buf->cap) {
        buf->is_overflow = true;
        return;
    }
    buf->ptr[buf->len++] = c;
}

void sw_buf_u64(struct sw_buf *buf, uint64_t value);
void sw_buf_fmt(struct sw_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * snprintf, exactly (the same text, cut the same way, the same return value), done by
 * sw_buf_fmt's fast path when the format allows and the text fits, by vsnprintf
 * otherwise: for the per-call paths, where glibc's formatting was 5 % of a call.
 */
int sw_snprintf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* sw_buf_fmt with the arguments in `ap` (left indeterminate, as vsnprintf leaves it). */
void sw_buf_vfmt(struct sw_buf *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* The bytes written so far. */
struct sv sw_buf_view(const struct sw_buf *buf);

#endif
