#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sw_buf_init(struct sw_buf *buf, char *storage, size_t cap)
{
    buf->ptr = storage;
    buf->len = 0;
    buf->cap = cap;
    buf->is_overflow = false;
}

void sw_buf_put(struct sw_buf *buf, const void *data, size_t len)
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

void sw_buf_sv(struct sw_buf *buf, struct sv s)
{
    sw_buf_put(buf, s.ptr, s.len);
}

void sw_buf_str(struct sw_buf *buf, const char *s)
{
    sw_buf_put(buf, s, strlen(s));
}

void sw_buf_char(struct sw_buf *buf, char c)
{
    sw_buf_put(buf, &c, 1);
}

void sw_buf_u64(struct sw_buf *buf, uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n] = (char)('0' + value % 10);
        value /= 10;
        n++;
    } while (value != 0 && n < sizeof(digits));
    sw_buf_put(buf, digits + sizeof(digits) - n, n);
}

void sw_buf_fmt(struct sw_buf *buf, const char *fmt, ...)
{
    if (buf->is_overflow) {
        return;
    }
    size_t room = buf->cap - buf->len;
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    int written = vsnprintf(buf->ptr + buf->len, room, fmt, ap);
    va_end(ap);
    if (written < 0 || (size_t)written >= room) {
        buf->is_overflow = true;
        return;
    }
    buf->len += (size_t)written;
}

struct sv sw_buf_view(const struct sw_buf *buf)
{
    return sv_make(buf->ptr, buf->len);
}
