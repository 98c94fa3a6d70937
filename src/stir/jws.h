/*
 * ES256 for JWS (RFC 7518 §3.4): ECDSA P-256 with SHA-256, signature as the 64-byte
 * R||S concatenation, not the DER SEQUENCE OpenSSL produces. Keys are OpenSSL EVP_PKEYs.
 * Thread-safe: an EVP_PKEY may be shared by threads for signing and verifying, every
 * call makes its own short-lived context.
 */
#ifndef SW_STIR_JWS_H
#define SW_STIR_JWS_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"

#define STIR_ES256_SIG_LEN 64
/* A DER ECDSA-Sig-Value of P-256 is at most 72 bytes. */
#define STIR_ES256_DER_MAX 72

/* True when `key` is an EC key on P-256 (prime256v1). */
bool stir_jws_key_is_p256(const EVP_PKEY *key);

/*
 * Signs `input` (the JWS signing input) with the private key; writes R||S into `sig`.
 * Returns 0 or -SW_ECRYPTO (not a P-256 key, OpenSSL failure).
 */
int stir_jws_sign(EVP_PKEY *key, struct sv input, unsigned char sig[STIR_ES256_SIG_LEN]);

/*
 * Verifies R||S `sig` over `input` with the public key. Returns 0 when it verifies,
 * -SW_EIDENTITY when it does not (including R or S out of range), -SW_ECRYPTO on
 * internal failure or a key that is not P-256.
 */
int stir_jws_verify(EVP_PKEY *key, struct sv input, const unsigned char sig[STIR_ES256_SIG_LEN]);

/*
 * DER ECDSA-Sig-Value -> R||S. Returns 0, or -SW_EBADARG when `der` is not a valid
 * signature encoding or R/S do not fit 32 bytes.
 */
int stir_jws_der_to_raw(const unsigned char *der, size_t der_len,
                        unsigned char raw[STIR_ES256_SIG_LEN]);

/*
 * R||S -> DER into `der` (capacity STIR_ES256_DER_MAX); `*der_len` gets the size.
 * Returns 0 or -SW_ECRYPTO.
 */
int stir_jws_raw_to_der(const unsigned char raw[STIR_ES256_SIG_LEN], unsigned char *der,
                        size_t *der_len);

#endif
