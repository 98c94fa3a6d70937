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

static X509 *issue(const struct stir_certgen *spec)
{
    X509 *cert = stir_certgen_issue(spec);
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
    struct stir_certgen spec = { .key = pki->root_key,
                                 .common_name = "Test STI-CA Root",
                                 .is_ca = true,
                                 .not_before_s = valid_from,
                                 .not_after_s = valid_until,
                                 .serial = 1 };
    pki->root = issue(&spec);
    spec.key = pki->inter_key;
    spec.issuer_key = pki->root_key;
    spec.issuer = pki->root;
    spec.common_name = "Test STI-CA Intermediate";
    spec.serial = 2;
    pki->inter = issue(&spec);
    spec.key = pki->leaf_key;
    spec.issuer_key = pki->inter_key;
    spec.issuer = pki->inter;
    spec.common_name = "SHAKEN 1234 test";
    spec.is_ca = false;
    spec.serial = 3;
    /* The SHAKEN profile: one service provider code (RFC 8226, ATIS-1000080). */
    static const unsigned char spc[] = { 0x30, 0x08, 0xa0, 0x06, 0x16, 0x04, '1', '2', '3', '4' };
    spec.tnauth_der = spc;
    spec.tnauth_der_len = sizeof(spc);
    pki->leaf = issue(&spec);
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
