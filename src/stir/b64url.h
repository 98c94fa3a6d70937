/*
 * base64url without padding (RFC 7515 §2, RFC 4648 §5), the encoding of every part of a
 * JWS compact serialization. The base64 arithmetic is OpenSSL's (EVP_EncodeBlock /
 * EVP_DecodeBlock); this module only maps the URL alphabet and enforces the strict form:
 * a decoder for attacker-supplied tokens accepts exactly one spelling of each value.
 * Pure functions on caller storage; thread-safe.
 */
#ifndef SW_STIR_B64URL_H
#define SW_STIR_B64URL_H

#include <stddef.h>

#include "base/sv.h"

/* Bytes needed to encode `len` bytes (without a NUL). */
#define STIR_B64URL_ENCODED_LEN(len) ((((len) + 2) / 3) * 4)

/* Upper bound of the decoded size of `len` encoded characters. */
#define STIR_B64URL_DECODED_MAX(len) ((((len) + 3) / 4) * 3)

/*
 * Encodes `len` bytes at `data` into `out` (capacity `cap`), unpadded, NUL-terminated.
 * Returns the encoded length, or -SW_ETOOBIG when `cap` is too small (out unchanged in
 * meaning, possibly partially written).
 */
long stir_b64url_encode(const void *data, size_t len, char *out, size_t cap);

/*
 * Decodes `in` strictly: only A-Z a-z 0-9 - _ are accepted (no padding, no white space,
 * no '+' or '/'), a length of 4n+1 is refused, and the unused low bits of the last
 * character must be zero, so each byte string has exactly one accepted encoding.
 * Writes into `out` (capacity `cap`, at least STIR_B64URL_DECODED_MAX(in.len)) and
 * returns the decoded length, or -SW_EBADARG for a bad encoding, -SW_ETOOBIG when
 * `cap` is too small.
 */
long stir_b64url_decode(struct sv in, unsigned char *out, size_t cap);

#endif
