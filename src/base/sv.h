/*
 * String views: a pointer and a length into memory someone else owns.
 *
 * A view never owns its bytes; it borrows them (usually the receive buffer of one
 * message) and is valid only while that memory is. `ptr == NULL` means absent, which
 * is different from present and empty (`len == 0`). Views are not NUL-terminated:
 * never pass `.ptr` to str*() or ato*(). All functions are pure and thread-safe.
 */
#ifndef SW_BASE_SV_H
#define SW_BASE_SV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sv {
    const char *ptr; /* NULL = absent; else len bytes, not NUL-terminated */
    size_t len;
};

#define SV(lit)   ((struct sv){ .ptr = "" lit, .len = sizeof(lit) - 1 })
#define SV_NULL   ((struct sv){ .ptr = NULL, .len = 0 })
#define SV_FMT    "%.*s"
#define SV_ARG(s) (int)(s).len, (s).ptr /* safe: lengths are capped by the max message size */

/* A view of `len` bytes at `ptr`. */
struct sv sv_make(const char *ptr, size_t len);

/* A view of the NUL-terminated string `s` (NULL gives the absent view). */
struct sv sv_from_cstr(const char *s);

/* True when the view is present (it may still be empty). */
bool sv_is_present(struct sv s);

/* Byte-wise equality; two absent views are equal, absent and empty are not. */
bool sv_eq(struct sv a, struct sv b);

/* ASCII case-insensitive equality (RFC 3261 §7.3.1 header names, methods are not). */
bool sv_eq_nocase(struct sv a, struct sv b);

/* True when `s` begins with `prefix` (case-sensitive / ASCII case-insensitive). */
bool sv_starts_with(struct sv s, struct sv prefix);
bool sv_starts_with_nocase(struct sv s, struct sv prefix);

/* The view without leading and trailing SP, HTAB, CR and LF. */
struct sv sv_trim(struct sv s);

/* Bytes [from, from+len) of `s`, clamped to the view. */
struct sv sv_slice(struct sv s, size_t from, size_t len);

/* Offset of the first `c` in `s`, or -1. */
long sv_find_char(struct sv s, char c);

/*
 * Moves the cursor `cur` past the next `delim`: `out` gets the bytes before it. Returns
 * false (and `out` = the whole rest, `cur` emptied) when there is no `delim`.
 */
bool sv_take_until(struct sv *cur, char delim, struct sv *out);

/*
 * Parses a decimal number that fills the whole view. Rejects an empty view, a sign,
 * any non-digit and overflow. Leading zeros are allowed (RFC 4475 §3.1.1.1).
 */
bool sv_to_u32(struct sv s, uint32_t *out);
bool sv_to_u64(struct sv s, uint64_t *out);

/* The value of one hexadecimal digit (either case), or -1. */
int sv_hex_digit(char c);

/* The byte the two hexadecimal digits at `p` spell, or -1 when either is not one. */
int sv_hex_byte(const char *p);

/* Copies the view into a new NUL-terminated heap string (base/alloc.h); NULL on failure. */
char *sv_dup_cstr(struct sv s);

/* Copies the view into `buf` (capacity `cap`) with a NUL; false when it does not fit. */
bool sv_copy_cstr(struct sv s, char *buf, size_t cap);

#endif
