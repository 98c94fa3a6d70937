#include "obs/filehash.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>

bool filehash_sha256(const char *path, char *hex)
{
    FILE *f = fopen(path, "re");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool is_ok = f != NULL && md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    unsigned char chunk[8192];
    size_t n;
    while (is_ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        is_ok = EVP_DigestUpdate(md, chunk, n) == 1;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    is_ok = is_ok && ferror(f) == 0 && EVP_DigestFinal_ex(md, digest, &len) == 1 && len == 32;
    for (unsigned i = 0; is_ok && i < len; i++) {
        (void)snprintf(hex + (size_t)2 * i, 3, "%02x", digest[i]);
    }
    EVP_MD_CTX_free(md);
    if (!is_ok) {
        hex[0] = '\0';
    }
    if (f != NULL) {
        (void)fclose(f); /* read-only */
    }
    return is_ok;
}
