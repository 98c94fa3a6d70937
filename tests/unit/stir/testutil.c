#include "testutil.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "stir/certgen.h"
#include "support/testdata.h"

static void die(const char *what)
{
    (void)fprintf(stderr, "testutil: %s\n", what);
    abort();
}

static X509 *issue(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn, bool is_ca,
                   int64_t from, int64_t until, uint64_t serial)
{
    struct stir_certgen spec = {
        .key = key,
        .issuer_key = issuer_key,
        .issuer = issuer,
        .common_name = cn,
        .not_before_s = from,
        .not_after_s = until,
        .is_ca = is_ca,
        .serial = serial,
    };
    X509 *cert = stir_certgen_issue(&spec);
    if (cert == NULL) {
        die("cannot issue a certificate");
    }
    return cert;
}

void tu_pki_init(struct tu_pki *pki, int64_t valid_from, int64_t valid_until)
{
    memset(pki, 0, sizeof(*pki));
    (void)snprintf(pki->dir, sizeof(pki->dir), "/tmp/sw-stir-test-XXXXXX");
    if (mkdtemp(pki->dir) == NULL) {
        die("mkdtemp");
    }
    pki->root_key = stir_certgen_key();
    pki->inter_key = stir_certgen_key();
    pki->leaf_key = stir_certgen_key();
    if (pki->root_key == NULL || pki->inter_key == NULL || pki->leaf_key == NULL) {
        die("key generation");
    }
    pki->root =
        issue(pki->root_key, NULL, NULL, "Test STI-CA Root", true, valid_from, valid_until, 1);
    pki->inter = issue(pki->inter_key, pki->root_key, pki->root, "Test STI-CA Intermediate", true,
                       valid_from, valid_until, 2);
    pki->leaf = issue(pki->leaf_key, pki->inter_key, pki->inter, "SHAKEN 1234 test", false,
                      valid_from, valid_until, 3);
    size_t len = 0;
    char *pem = stir_certgen_pem(&pki->root, 1, &len);
    tu_write_file(pki->dir, "root.pem", pem, len, 0644, pki->root_path);
    sw_free(pem);
    X509 *chain[2] = { pki->leaf, pki->inter };
    pki->chain_pem = stir_certgen_pem(chain, 2, &pki->chain_len);
    if (pki->chain_pem == NULL) {
        die("pem");
    }
}

void tu_pki_fini(struct tu_pki *pki)
{
    EVP_PKEY_free(pki->root_key);
    EVP_PKEY_free(pki->inter_key);
    EVP_PKEY_free(pki->leaf_key);
    X509_free(pki->root);
    X509_free(pki->inter);
    X509_free(pki->leaf);
    sw_free(pki->chain_pem);
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki->dir);
    if (system(cmd) != 0) { /* NOLINT(concurrency-mt-unsafe,cert-env33-c): test cleanup */
        (void)fprintf(stderr, "testutil: cannot remove %s\n", pki->dir);
    }
    memset(pki, 0, sizeof(*pki));
}

void tu_write_file(const char *dir, const char *name, const char *data, size_t len, unsigned mode,
                   char *path)
{
    (void)snprintf(path, 192, "%s/%s", dir, name);
    (void)unlink(path); /* absent is fine */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, (mode_t)mode);
    if (fd == -1 || write(fd, data, len) != (ssize_t)len || fchmod(fd, (mode_t)mode) != 0) {
        die("write file");
    }
    (void)close(fd);
}

EVP_PKEY *tu_load_key(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        die(path);
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    (void)fclose(f);
    if (key == NULL) {
        die("not a key");
    }
    return key;
}

const char *tu_stir_data(const char *name)
{
    static char path[512];
    const char *dir = testdata_dir();
    if (dir == NULL) {
        die("SW_TESTDATA not set");
    }
    (void)snprintf(path, sizeof(path), "%s/stir/%s", dir, name);
    return path;
}
