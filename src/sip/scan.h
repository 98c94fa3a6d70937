/*
 * Byte searches of the parser's hot loops, sixteen bytes at a time with SSE2 where the
 * compiler targets it (every x86-64) and one byte at a time elsewhere. They read only
 * [p, end): a short span is searched byte by byte, the tail of a long one with an
 * overlapping load that ends at `end`. Pure inline functions, thread-safe.
 */
#ifndef SW_SIP_SCAN_H
#define SW_SIP_SCAN_H

#include <stddef.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__SSE2__)
/* The bytes of the 16 at `p` equal to `a` or `b`, as a bit mask (bit i = p[i]). */
static inline unsigned sip_scan_mask2(const char *p, char a, char b)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hits =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(a)), _mm_cmpeq_epi8(v, _mm_set1_epi8(b)));
    return (unsigned)_mm_movemask_epi8(hits);
}
#endif

#if defined(__SSE2__)
/* The 16 bytes at `p` as two bit masks: the CR or LF bytes and the ':' bytes. */
static inline void sip_scan_line_masks(const char *p, unsigned *eol, unsigned *colon)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i ends = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                                _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
    *eol = (unsigned)_mm_movemask_epi8(ends);
    *colon = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')));
}
#endif

/* The first byte of [p, end) equal to `a` or `b`, or `end`. */
static inline const char *sip_scan_either(const char *p, const char *end, char a, char b)
{
#if defined(__SSE2__)
    if (end - p >= 16) {
        for (; end - p >= 16; p += 16) {
            unsigned mask = sip_scan_mask2(p, a, b);
            if (mask != 0) {
                return p + __builtin_ctz(mask);
            }
        }
        if (p == end) {
            return end;
        }
        /* The last sixteen bytes, without the ones already searched. */
        size_t seen = (size_t)(16 - (end - p));
        unsigned mask = sip_scan_mask2(end - 16, a, b) >> seen;
        return mask != 0 ? p + __builtin_ctz(mask) : end;
    }
#endif
    while (p < end && *p != a && *p != b) {
        p++;
    }
    return p;
}

#if defined(__SSE2__)
/* The bytes of the 16 at `p` that are 0x0D or below (CR, LF, HTAB and other controls),
 * as a vector: one unsigned minimum and one compare instead of a compare per byte. */
static inline __m128i sip_scan_low16(const char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    return _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8('\r')), v);
}
#endif

/*
 * The first CR or LF of [p, end), or `end`: the line end of a long header line. Thirty
 * two bytes per step look for any byte up to 0x0D; one that is not CR or LF (an HTAB
 * inside a value, a control byte) is stepped over.
 */
static inline const char *sip_scan_eol(const char *p, const char *end)
{
#if defined(__SSE2__)
    while (end - p >= 32) {
        unsigned low = (unsigned)_mm_movemask_epi8(sip_scan_low16(p)) |
                       (unsigned)_mm_movemask_epi8(sip_scan_low16(p + 16)) << 16;
        if (low == 0) {
            p += 32;
            continue;
        }
        p += __builtin_ctz(low);
        if (*p == '\r' || *p == '\n') {
            return p;
        }
        p++;
    }
#endif
    return sip_scan_either(p, end, '\r', '\n');
}

/* The first byte of [p, end) equal to `c`, or `end`. */
static inline const char *sip_scan_byte(const char *p, const char *end, char c)
{
    return sip_scan_either(p, end, c, c);
}

#endif
