#include "stir/b64url.h"

#include <openssl/evp.h>
#include <string.h>

#include "base/err.h"

/* Decoding works in stack chunks so no allocation is needed for tokens of any size. */
#define CHUNK_CHARS 512

static bool is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* The 6-bit value of a checked base64url character. */
static unsigned b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned)(c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (unsigned)(c - 'a') + 26U;
    }
    if (c >= '0' && c <= '9') {
        return (unsigned)(c - '0') + 52U;
    }
    return c == '-' ? 62U : 63U;
}

long stir_b64url_encode(const void *data, size_t len, char *out, size_t cap)
{
    size_t need = STIR_B64URL_ENCODED_LEN(len);
    if (need + 1 > cap || len > (size_t)INT32_MAX / 2) {
        return -SW_ETOOBIG;
    }
    int written = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    if (written < 0 || (size_t)written != need) {
        return -SW_ECRYPTO;
    }
    size_t n = need;
    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        } else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    return (long)n;
}

/* Checks the alphabet, the length and the canonical zero bits of the last character. */
static bool b64url_is_strict(struct sv in)
{
    if (in.len % 4 == 1) {
        return false;
    }
    for (size_t i = 0; i < in.len; i++) {
        if (!is_b64url_char(in.ptr[i])) {
            return false;
        }
    }
    if (in.len % 4 == 0) {
        return true;
    }
    /* 2 chars carry 1 byte (4 spare bits), 3 chars carry 2 bytes (2 spare bits). */
    unsigned spare_mask = in.len % 4 == 2 ? 0x0FU : 0x03U;
    return (b64url_value(in.ptr[in.len - 1]) & spare_mask) == 0;
}

/* Decodes one chunk of at most CHUNK_CHARS characters, translated and padded. */
static long b64url_decode_chunk(struct sv in, unsigned char *out)
{
    char tmp[CHUNK_CHARS + 4];
    size_t pad = (4 - in.len % 4) % 4;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '-') {
            c = '+';
        } else if (c == '_') {
            c = '/';
        }
        tmp[i] = c;
    }
    memset(tmp + in.len, '=', pad);
    int n = EVP_DecodeBlock(out, (const unsigned char *)tmp, (int)(in.len + pad));
    if (n < 0 || (size_t)n < pad) {
        return -SW_EBADARG;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes; drop them. */
    return (long)((size_t)n - pad);
}

long stir_b64url_decode(struct sv in, unsigned char *out, size_t cap)
{
    if (in.ptr == NULL || !b64url_is_strict(in)) {
        return -SW_EBADARG;
    }
    if (cap < STIR_B64URL_DECODED_MAX(in.len)) {
        return -SW_ETOOBIG;
    }
    size_t done = 0;
    size_t written = 0;
    while (done < in.len) {
        size_t take = in.len - done < CHUNK_CHARS ? in.len - done : CHUNK_CHARS;
        long n = b64url_decode_chunk(sv_make(in.ptr + done, take), out + written);
        if (n < 0) {
            return n;
        }
        done += take;
        written += (size_t)n;
    }
    return (long)written;
}
