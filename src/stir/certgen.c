#include "stir/certgen.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"

EVP_PKEY *stir_certgen_key(void)
{
    return EVP_EC_gen("P-256");
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool is_ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return is_ok;
}

static bool set_names(X509 *cert, const struct stir_certgen *spec)
{
    X509_NAME *name = X509_get_subject_name(cert);
    const char *org = spec->organization != NULL ? spec->organization : "sipwarden test";
    if (X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1,
                                   0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)spec->common_name, -1, -1, 0) != 1) {
        return false;
    }
    X509_NAME *issuer = spec->issuer != NULL ? X509_get_subject_name(spec->issuer) : name;
    return X509_set_issuer_name(cert, issuer) == 1;
}

/* The TN Authorization List extension (OID 1.3.6.1.5.5.7.1.26), not critical. */
static bool add_tnauth(X509 *cert, const struct stir_certgen *spec)
{
    if (spec->tnauth_der == NULL) {
        return true;
    }
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.26", 1);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    bool is_ok = oid != NULL && value != NULL &&
                 ASN1_OCTET_STRING_set(value, spec->tnauth_der, (int)spec->tnauth_der_len) == 1;
    X509_EXTENSION *ext = is_ok ? X509_EXTENSION_create_by_OBJ(NULL, oid, 0, value) : NULL;
    is_ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(oid);
    return is_ok;
}

static bool set_extensions(X509 *cert, const struct stir_certgen *spec)
{
    X509 *issuer = spec->issuer != NULL ? spec->issuer : cert;
    bool is_ok = add_ext(cert, issuer, NID_subject_key_identifier, "hash") &&
                 add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always");
    if (spec->is_ca) {
        return is_ok && add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE") &&
               add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    return is_ok && add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
           add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature") &&
           add_tnauth(cert, spec);
}

X509 *stir_certgen_issue(const struct stir_certgen *spec)
{
    X509 *cert = X509_new();
    if (cert == NULL) {
        return NULL;
    }
    EVP_PKEY *signer = spec->issuer_key != NULL ? spec->issuer_key : spec->key;
    bool is_ok = X509_set_version(cert, 2) == 1 &&
                 ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), spec->serial) == 1 &&
                 ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)spec->not_before_s) != NULL &&
                 ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)spec->not_after_s) != NULL &&
                 X509_set_pubkey(cert, spec->key) == 1 && set_names(cert, spec);
    /* The authority key identifier reads the issuer's key identifier, so the key and
     * names are set first. */
    is_ok = is_ok && set_extensions(cert, spec) && X509_sign(cert, signer, EVP_sha256()) > 0;
    if (!is_ok) {
        X509_free(cert);
        ERR_clear_error();
        return NULL;
    }
    return cert;
}

int stir_certgen_write_key(const char *path, EVP_PKEY *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd == -1) {
        return -errno;
    }
    FILE *f = fdopen(fd, "wb");
    if (f == NULL) {
        int rc = -errno;
        (void)close(fd); /* nothing was written */
        return rc;
    }
    int rc = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 ? 0 : -SW_ECRYPTO;
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
    }
    return rc;
}

char *stir_certgen_pem(X509 *const *certs, size_t count, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        return NULL;
    }
    bool is_ok = true;
    for (size_t i = 0; i < count && is_ok; i++) {
        is_ok = PEM_write_bio_X509(bio, certs[i]) == 1;
    }
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = is_ok && n > 0 ? sw_malloc((size_t)n + 1) : NULL;
    if (out != NULL) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
        *len = (size_t)n;
    }
    BIO_free(bio);
    return out;
}

int stir_certgen_write_certs(const char *path, X509 *const *certs, size_t count)
{
    size_t len = 0;
    char *pem = stir_certgen_pem(certs, count, &len);
    if (pem == NULL) {
        return -SW_ECRYPTO;
    }
    FILE *f = fopen(path, "wb");
    int rc = 0;
    if (f == NULL) {
        rc = -errno;
    } else {
        if (fwrite(pem, 1, len, f) != len) {
            rc = -SW_EIO;
        }
        if (fclose(f) != 0 && rc == 0) {
            rc = -errno;
        }
    }
    sw_free(pem);
    return rc;
}
