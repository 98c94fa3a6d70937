/*
 * Helpers for the stir unit tests: a temporary directory, files in it, and a small PKI
 * (STI-CA root -> intermediate -> leaf, all P-256) valid around a chosen time.
 * Single-threaded; every object is released by its _free/_cleanup function.
 */
#ifndef SW_TESTS_STIR_TESTUTIL_H
#define SW_TESTS_STIR_TESTUTIL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

struct tu_pki {
    EVP_PKEY *root_key;
    EVP_PKEY *inter_key;
    EVP_PKEY *leaf_key;
    X509 *root;
    X509 *inter;
    X509 *leaf;
    char dir[64];        /* temporary directory */
    char root_path[128]; /* root certificate (the trust anchor) */
    char *chain_pem;     /* leaf + intermediate, as an x5u URL serves them */
    size_t chain_len;
};

/* Builds the PKI with validity [valid_from, valid_until]; aborts the test on failure. */
void tu_pki_init(struct tu_pki *pki, int64_t valid_from, int64_t valid_until);

/* Frees everything and removes the directory. */
void tu_pki_fini(struct tu_pki *pki);

/* Writes `data` to `dir`/`name` with `mode`; returns the path in `path` (cap 192). */
void tu_write_file(const char *dir, const char *name, const char *data, size_t len, unsigned mode,
                   char *path);

/* Loads a PEM private key file (no permission check); aborts on failure. */
EVP_PKEY *tu_load_key(const char *path);

/* Path of a file in testdata/stir (static buffer, valid until the next call). */
const char *tu_stir_data(const char *name);

#endif
