/*
 * Certificates and keys for STIR: reading PEM bundles (leaf first, then its chain, as an
 * x5u URL serves them), verifying a chain against STI-CA trust anchors, loading the
 * signing key with the permission check, and the start-up key/certificate match.
 * OpenSSL objects are reference counted; each function says what it takes or returns.
 * Thread-safe: no shared state; an X509_STORE may be used by several threads once built.
 */
#ifndef SW_STIR_CERT_H
#define SW_STIR_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "stir/reason.h"

/* At most this many certificates are read from one bundle; more is refused. */
#define STIR_CHAIN_MAX 8

/*
 * Parses every CERTIFICATE block of a PEM bundle of `len` bytes, in order. As with
 * OpenSSL's reader, text outside PEM blocks and blocks of other types are skipped; a
 * damaged CERTIFICATE block makes it fail. Returns a new stack with the leaf first
 * (caller frees with sk_X509_pop_free(chain, X509_free)), or NULL when none could be
 * read or there are more than STIR_CHAIN_MAX.
 */
STACK_OF(X509) * stir_cert_chain_parse(const char *pem, size_t len);

/* Reads a PEM bundle file with stir_cert_chain_parse; NULL on failure. */
STACK_OF(X509) * stir_cert_chain_load(const char *path);

/*
 * Builds a trust store from a CA file and/or directory (either may be NULL, not both).
 * With `is_partial_chain`, a certificate of the store is a trust anchor even when it is
 * not self-signed (used to pin one certificate). Returns a new store or NULL; errors
 * are added to `diag` when it is not NULL.
 */
X509_STORE *stir_cert_trust_load(const char *ca_file, const char *ca_dir, bool is_partial_chain,
                                 struct sw_diag *diag);

/*
 * Builds a trust store from the certificates of a PEM bundle in memory (as
 * stir_cert_chain_parse reads them). Returns a new store or NULL.
 */
X509_STORE *stir_cert_trust_from_pem(const char *pem, size_t len, bool is_partial_chain);

/*
 * Verifies `chain` (leaf first, the rest untrusted intermediates) against `trust` at
 * time `now_s` with X509_verify_cert (purpose any, validity dates checked). On STIR_OK,
 * `*valid_from_s` / `*valid_until_s` get the latest notBefore and earliest notAfter of
 * the built chain, so a cached verdict can be re-checked against a later time.
 * Returns STIR_OK, STIR_CERT_EXPIRED, STIR_CERT_UNTRUSTED, STIR_CERT_BAD (the leaf key
 * is not P-256) or STIR_INTERNAL.
 */
enum stir_reason stir_cert_chain_verify(X509_STORE *trust, STACK_OF(X509) * chain, int64_t now_s,
                                        int64_t *valid_from_s, int64_t *valid_until_s);

/*
 * Loads the signing key: refuses a file that group or others may access (the message
 * names the chmod), a file that is not a PEM private key, and a key that is not EC
 * P-256. Returns 0 with a new key in *out (EVP_PKEY_free), or -SW_EPERM_FILE,
 * -SW_ECONFIG, -errno; problems are added to `diag` when it is not NULL.
 */
int stir_cert_key_load(const char *path, EVP_PKEY **out, struct sw_diag *diag);

/* Returns 0 when `cert`'s public key is the public half of `key`, else -SW_ECONFIG. */
int stir_cert_key_matches(X509 *cert, EVP_PKEY *key);

/* Seconds since the epoch of an ASN1_TIME; false when it cannot be converted. */
bool stir_cert_time_to_epoch(const ASN1_TIME *t, int64_t *out);

#endif
