#include "base/sv.h"

#include <string.h>

#include "base/alloc.h"

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

struct sv sv_make(const char *ptr, size_t len)
{
    return (struct sv){ .ptr = ptr, .len = len };
}

struct sv sv_from_cstr(const char *s)
{
    if (s == NULL) {
        return SV_NULL;
    }
    return (struct sv){ .ptr = s, .len = strlen(s) };
}

bool sv_is_present(struct sv s)
{
    return s.ptr != NULL;
}

bool sv_eq(struct sv a, struct sv b)
{
    if (a.ptr == NULL || b.ptr == NULL) {
        return a.ptr == b.ptr;
    }
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool sv_eq_nocase(struct sv a, struct sv b)
{
    if (a.ptr == NULL || b.ptr == NULL) {
        return a.ptr == b.ptr;
    }
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (ascii_lower((unsigned char)a.ptr[i]) != ascii_lower((unsigned char)b.ptr[i])) {
            return false;
        }
    }
    return true;
}

bool sv_starts_with(struct sv s, struct sv prefix)
{
    return s.ptr != NULL && s.len >= prefix.len && sv_eq(sv_make(s.ptr, prefix.len), prefix);
}

bool sv_starts_with_nocase(struct sv s, struct sv prefix)
{
    return s.ptr != NULL && s.len >= prefix.len && sv_eq_nocase(sv_make(s.ptr, prefix.len), prefix);
}

static bool is_trim_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct sv sv_trim(struct sv s)
{
    if (s.ptr == NULL) {
        return s;
    }
    while (s.len > 0 && is_trim_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_trim_space(s.ptr[s.len - 1])) {
        s.len--;
    }
    return s;
}

struct sv sv_slice(struct sv s, size_t from, size_t len)
{
    if (s.ptr == NULL) {
        return s;
    }
    if (from > s.len) {
        from = s.len;
    }
    if (len > s.len - from) {
        len = s.len - from;
    }
    return sv_make(s.ptr + from, len);
}

long sv_find_char(struct sv s, char c)
{
    if (s.ptr == NULL || s.len == 0) {
        return -1;
    }
    const char *hit = memchr(s.ptr, c, s.len);
    return hit == NULL ? -1 : (long)(hit - s.ptr);
}

bool sv_take_until(struct sv *cur, char delim, struct sv *out)
{
    long at = sv_find_char(*cur, delim);
    if (at < 0) {
        *out = *cur;
        cur->ptr = cur->ptr == NULL ? NULL : cur->ptr + cur->len;
        cur->len = 0;
        return false;
    }
    *out = sv_make(cur->ptr, (size_t)at);
    cur->ptr += at + 1;
    cur->len -= (size_t)at + 1;
    return true;
}

bool sv_to_u64(struct sv s, uint64_t *out)
{
    if (s.ptr == NULL || s.len == 0) {
        return false;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < '0' || c > '9') {
            return false;
        }
        uint64_t digit = (uint64_t)(c - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            return false;
        }
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

bool sv_to_u32(struct sv s, uint32_t *out)
{
    uint64_t wide = 0;
    if (!sv_to_u64(s, &wide) || wide > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)wide;
    return true;
}

char *sv_dup_cstr(struct sv s)
{
    char *copy = sw_malloc(s.len + 1);
    if (copy == NULL) {
        return NULL;
    }
    if (s.len > 0) {
        memcpy(copy, s.ptr, s.len);
    }
    copy[s.len] = '\0';
    return copy;
}

bool sv_copy_cstr(struct sv s, char *buf, size_t cap)
{
    if (cap == 0 || s.len >= cap) {
        return false;
    }
    if (s.len > 0) {
        memcpy(buf, s.ptr, s.len);
    }
    buf[s.len] = '\0';
    return true;
}

int sv_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int sv_hex_byte(const char *p)
{
    int high = sv_hex_digit(p[0]);
    int low = sv_hex_digit(p[1]);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
}
