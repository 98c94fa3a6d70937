#include "base/buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

void sw_buf_init(struct sw_buf *buf, char *storage, size_t cap)
{
    buf->ptr = storage;
    buf->len = 0;
    buf->cap = cap;
    buf->is_overflow = false;
}

/*
 * Counts the digits first, then writes them in place from the last: no copy through a
 * scratch array and memcpy, which made a three-digit status or CSeq cost about a hundred
 * instructions (callgrind, #13).
 */
void sw_buf_u64(struct sw_buf *buf, uint64_t value)
{
    size_t n = 1;
    for (uint64_t bound = 10; n < 20 && value >= bound; bound *= 10) {
        n++;
    }
    if (buf->is_overflow || n > buf->cap - buf->len) {
        buf->is_overflow = true;
        return;
    }
    char *end = buf->ptr + buf->len + n;
    do {
        *--end = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    buf->len += n;
}

/*
 * The conversions the SIP message builders use (%s, %.*s, %c, %d, %u and their l, ll and z
 * sizes, %%) are done here: vsnprintf costs about a thousand instructions a call and the
 * builders make some sixty calls per relayed call. A format with anything else (widths,
 * flags, other conversions) goes to vsnprintf whole.
 */
enum conv_size { SIZE_INT, SIZE_LONG, SIZE_LLONG, SIZE_SIZE };

/* Length of the conversion at `spec` (after its '%') if this file handles it, else 0. */
static size_t simple_conversion(const char *spec, enum conv_size *size)
{
    *size = SIZE_INT;
    size_t n = 0;
    if (spec[0] == '.' && spec[1] == '*' && spec[2] == 's') {
        return 3;
    }
    if (spec[0] == 'z') {
        *size = SIZE_SIZE;
        n = 1;
    } else if (spec[0] == 'l') {
        *size = spec[1] == 'l' ? SIZE_LLONG : SIZE_LONG;
        n = spec[1] == 'l' ? 2 : 1;
    }
    char c = spec[n];
    bool is_integer = c == 'd' || c == 'u';
    bool is_other = n == 0 && (c == 's' || c == 'c' || c == '%');
    return is_integer || is_other ? n + 1 : 0;
}

static void put_signed(struct sw_buf *buf, long long value)
{
    if (value < 0) {
        sw_buf_char(buf, '-');
        sw_buf_u64(buf, (uint64_t)0 - (uint64_t)value);
        return;
    }
    sw_buf_u64(buf, (uint64_t)value);
}

static void put_unsigned(struct sw_buf *buf, enum conv_size size, va_list *ap)
{
    switch (size) {
    case SIZE_LONG:
        sw_buf_u64(buf, va_arg(*ap, unsigned long));
        break;
    case SIZE_LLONG:
        sw_buf_u64(buf, va_arg(*ap, unsigned long long));
        break;
    case SIZE_SIZE:
        sw_buf_u64(buf, va_arg(*ap, size_t));
        break;
    default:
        sw_buf_u64(buf, va_arg(*ap, unsigned int));
        break;
    }
}

static void put_int(struct sw_buf *buf, enum conv_size size, va_list *ap)
{
    switch (size) {
    case SIZE_LONG:
        put_signed(buf, va_arg(*ap, long));
        break;
    case SIZE_LLONG:
        put_signed(buf, va_arg(*ap, long long));
        break;
    case SIZE_SIZE:
        put_signed(buf, (long long)va_arg(*ap, ssize_t));
        break;
    default:
        put_signed(buf, va_arg(*ap, int));
        break;
    }
}

/* As printf does: a null string prints "(null)" unless the precision is below 6. */
static void put_string(struct sw_buf *buf, const char *s, int precision)
{
    if (s == NULL) {
        s = precision >= 0 && precision < 6 ? "" : "(null)";
    }
    sw_buf_put(buf, s, precision < 0 ? strlen(s) : strnlen(s, (size_t)precision));
}

/* The conversion of `n` bytes at `spec` (simple_conversion's answer). */
static void put_conversion(struct sw_buf *buf, const char *spec, size_t n, enum conv_size size,
                           va_list *ap)
{
    char c = spec[n - 1];
    if (spec[0] == '.') {
        int precision = va_arg(*ap, int);
        put_string(buf, va_arg(*ap, const char *), precision);
    } else if (c == 's') {
        put_string(buf, va_arg(*ap, const char *), -1);
    } else if (c == 'c') {
        sw_buf_char(buf, (char)va_arg(*ap, int));
    } else if (c == '%') {
        sw_buf_char(buf, '%');
    } else if (c == 'u') {
        put_unsigned(buf, size, ap);
    } else {
        put_int(buf, size, ap);
    }
}

/*
 * The format into `buf` while its conversions are ones this file handles; false at the
 * first other one, with `buf` part-written (the caller starts again with vsnprintf). One
 * pass: a check of the whole format first cost as much again (callgrind, #13).
 */
static bool fmt_simple(struct sw_buf *buf, const char *fmt, va_list *ap)
{
    const char *p = fmt;
    for (;;) {
        const char *pct = strchr(p, '%');
        size_t literal = pct != NULL ? (size_t)(pct - p) : strlen(p);
        sw_buf_put(buf, p, literal);
        if (pct == NULL) {
            return true;
        }
        enum conv_size size;
        size_t n = simple_conversion(pct + 1, &size);
        if (n == 0) {
            return false;
        }
        put_conversion(buf, pct + 1, n, size, ap);
        p = pct + 1 + n;
    }
}

void sw_buf_vfmt(struct sw_buf *buf, const char *fmt, va_list ap)
{
    if (buf->is_overflow) {
        return;
    }
    size_t start = buf->len;
    va_list args;
    va_copy(args, ap);
    bool is_simple = fmt_simple(buf, fmt, &args);
    va_end(args);
    if (is_simple) {
        /* Like vsnprintf: the text is followed by a NUL inside the buffer, and a text
         * that does not fit leaves nothing behind. */
        if (buf->is_overflow || buf->len == buf->cap) {
            buf->len = start;
            buf->is_overflow = true;
            return;
        }
        buf->ptr[buf->len] = '\0';
        return;
    }
    buf->len = start;
    buf->is_overflow = false;
    size_t room = buf->cap - buf->len;
    int written = vsnprintf(buf->ptr + buf->len, room, fmt, ap);
    if (written < 0 || (size_t)written >= room) {
        buf->is_overflow = true;
        return;
    }
    buf->len += (size_t)written;
}

void sw_buf_fmt(struct sw_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    sw_buf_vfmt(buf, fmt, ap);
    va_end(ap);
}

int sw_snprintf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cap > 0) {
        struct sw_buf buf;
        sw_buf_init(&buf, out, cap);
        va_list args;
        va_copy(args, ap);
        bool is_simple = fmt_simple(&buf, fmt, &args);
        va_end(args);
        if (is_simple && !buf.is_overflow && buf.len < cap) {
            out[buf.len] = '\0';
            va_end(ap);
            return (int)buf.len;
        }
    }
    /* Cut, or beyond the fast path: vsnprintf says how, and what the length would be. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

struct sv sw_buf_view(const struct sw_buf *buf)
{
    return sv_make(buf->ptr, buf->len);
}
