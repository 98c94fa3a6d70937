/*
 * Test certificates and keys: what `sipwarden stir keygen` writes and what the tests use
 * to build STI-CA -> intermediate -> leaf chains. They carry a TNAuthList (RFC 8226) only
 * when the spec gives one, and are for lab use; production certificates come from an
 * STI-CA.
 * Thread-safe (no shared state).
 */
#ifndef SW_STIR_CERTGEN_H
#define SW_STIR_CERTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stir_certgen {
    EVP_PKEY *key;        /* the subject's key (its public half goes in the certificate) */
    EVP_PKEY *issuer_key; /* signs the certificate; NULL = `key` (self-signed) */
    X509 *issuer;         /* the issuer's certificate; NULL = self-signed */
    const char *common_name;
    const char *organization; /* NULL = "sipwarden test" */
    int64_t not_before_s;
    int64_t not_after_s;
    bool is_ca;
    uint64_t serial;
    /* A DER TNAuthorizationList (RFC 8226) for a leaf; NULL = none (lab certificates). */
    const unsigned char *tnauth_der;
    size_t tnauth_der_len;
};

/* A new EC P-256 key, or NULL. */
EVP_PKEY *stir_certgen_key(void);

/* A new certificate (X509_free) signed with SHA-256 as `spec` says, or NULL. */
X509 *stir_certgen_issue(const struct stir_certgen *spec);

/*
 * Writes the private key as PKCS#8 PEM to a new file `path` created with mode 0600
 * (an existing file is refused, so a key is never silently replaced). 0 or -errno /
 * -SW_ECRYPTO.
 */
int stir_certgen_write_key(const char *path, EVP_PKEY *key);

/* Writes `count` certificates as one PEM bundle (mode 0644, replaced if present). */
int stir_certgen_write_certs(const char *path, X509 *const *certs, size_t count);

/* The PEM bundle of `count` certificates in a new heap buffer (sw_free), or NULL. */
char *stir_certgen_pem(X509 *const *certs, size_t count, size_t *len);

#endif
