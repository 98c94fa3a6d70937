#include "stir/cert.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/err.h"
#include "stir/jws.h"

STACK_OF(X509) * stir_cert_chain_parse(const char *pem, size_t len)
{
    if (pem == NULL || len == 0 || len > INT32_MAX) {
        return NULL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    STACK_OF(X509) *chain = sk_X509_new_null();
    if (bio == NULL || chain == NULL) {
        BIO_free(bio);
        sk_X509_free(chain);
        return NULL;
    }
    bool is_bad = false;
    for (int i = 0; i <= STIR_CHAIN_MAX; i++) {
        X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (cert == NULL) {
            break;
        }
        if (i == STIR_CHAIN_MAX || sk_X509_push(chain, cert) <= 0) {
            X509_free(cert);
            is_bad = true;
            break;
        }
    }
    /* The reader stops at the end of input (no further PEM start line) or at a damaged
     * certificate; only the first is a success. */
    unsigned long last = ERR_peek_last_error();
    if (!is_bad &&
        (ERR_GET_LIB(last) != ERR_LIB_PEM || ERR_GET_REASON(last) != PEM_R_NO_START_LINE)) {
        is_bad = true;
    }
    char rest[64];
    if (!is_bad && BIO_read(bio, rest, sizeof(rest)) > 0) {
        is_bad = true;
    }
    ERR_clear_error();
    BIO_free(bio);
    if (is_bad || sk_X509_num(chain) == 0) {
        sk_X509_pop_free(chain, X509_free);
        return NULL;
    }
    return chain;
}

STACK_OF(X509) * stir_cert_chain_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char buf[65536];
    size_t len = fread(buf, 1, sizeof(buf), f);
    bool is_whole = feof(f) != 0 && ferror(f) == 0;
    (void)fclose(f); /* read-only: nothing to flush */
    if (!is_whole) {
        return NULL;
    }
    return stir_cert_chain_parse(buf, len);
}

X509_STORE *stir_cert_trust_load(const char *ca_file, const char *ca_dir, bool is_partial_chain,
                                 struct sw_diag *diag)
{
    X509_STORE *store = X509_STORE_new();
    if (store == NULL) {
        return NULL;
    }
    if ((ca_file == NULL && ca_dir == NULL) ||
        X509_STORE_load_locations(store, ca_file, ca_dir) != 1) {
        if (diag != NULL) {
            sw_diag_add(diag, DIAG_ERROR, ca_file != NULL ? ca_file : ca_dir, 0, NULL,
                        "cannot load STIR trust anchors");
        }
        ERR_clear_error();
        X509_STORE_free(store);
        return NULL;
    }
    if (is_partial_chain) {
        (void)X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN); /* only fails on NULL */
    }
    return store;
}

X509_STORE *stir_cert_trust_from_pem(const char *pem, size_t len, bool is_partial_chain)
{
    STACK_OF(X509) *certs = stir_cert_chain_parse(pem, len);
    X509_STORE *store = certs != NULL ? X509_STORE_new() : NULL;
    bool is_ok = store != NULL;
    for (int i = 0; is_ok && i < sk_X509_num(certs); i++) {
        is_ok = X509_STORE_add_cert(store, sk_X509_value(certs, i)) == 1;
    }
    sk_X509_pop_free(certs, X509_free);
    if (!is_ok) {
        X509_STORE_free(store);
        ERR_clear_error();
        return NULL;
    }
    if (is_partial_chain) {
        (void)X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN); /* only fails on NULL */
    }
    return store;
}

bool stir_cert_time_to_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return false;
    }
    time_t value = timegm(&tm);
    if (value == (time_t)-1) {
        return false;
    }
    *out = (int64_t)value;
    return true;
}

/* The latest notBefore and earliest notAfter over the verified chain. */
static bool chain_bounds(STACK_OF(X509) * built, int64_t *from, int64_t *until)
{
    *from = INT64_MIN;
    *until = INT64_MAX;
    for (int i = 0; i < sk_X509_num(built); i++) {
        X509 *cert = sk_X509_value(built, i);
        int64_t nb = 0;
        int64_t na = 0;
        if (!stir_cert_time_to_epoch(X509_get0_notBefore(cert), &nb) ||
            !stir_cert_time_to_epoch(X509_get0_notAfter(cert), &na)) {
            return false;
        }
        *from = nb > *from ? nb : *from;
        *until = na < *until ? na : *until;
    }
    return true;
}

static enum stir_reason reason_of_x509_error(int err)
{
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return STIR_CERT_EXPIRED;
    default:
        return STIR_CERT_UNTRUSTED;
    }
}

enum stir_reason stir_cert_chain_verify(X509_STORE *trust, STACK_OF(X509) * chain, int64_t now_s,
                                        int64_t *valid_from_s, int64_t *valid_until_s)
{
    X509 *leaf = sk_X509_value(chain, 0);
    if (leaf == NULL || !stir_jws_key_is_p256(X509_get0_pubkey(leaf))) {
        return STIR_CERT_BAD;
    }
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL) {
        return STIR_INTERNAL;
    }
    enum stir_reason reason = STIR_INTERNAL;
    if (X509_STORE_CTX_init(ctx, trust, leaf, chain) == 1 &&
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY) == 1) {
        X509_STORE_CTX_set_time(ctx, 0, (time_t)now_s);
        if (X509_verify_cert(ctx) == 1) {
            reason = chain_bounds(X509_STORE_CTX_get0_chain(ctx), valid_from_s, valid_until_s)
                         ? STIR_OK
                         : STIR_CERT_BAD;
        } else {
            reason = reason_of_x509_error(X509_STORE_CTX_get_error(ctx));
        }
    }
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return reason;
}

static int key_file_check_mode(const char *path, struct sw_diag *diag)
{
    struct stat st;
    if (stat(path, &st) == -1) {
        int err = -errno;
        if (diag != NULL) {
            sw_diag_add(diag, DIAG_ERROR, path, 0, NULL, "cannot read the signing key: %s",
                        sw_strerror(err));
        }
        return err;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        if (diag != NULL) {
            sw_diag_add(
                diag, DIAG_ERROR, path, 0, NULL,
                "signing key is accessible by group or others (mode %03o); run: chmod 600 %s",
                (unsigned)(st.st_mode & 0777), path);
        }
        return -SW_EPERM_FILE;
    }
    return 0;
}

int stir_cert_key_load(const char *path, EVP_PKEY **out, struct sw_diag *diag)
{
    *out = NULL;
    int rc = key_file_check_mode(path, diag);
    if (rc != 0) {
        return rc;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        rc = -errno;
        if (diag != NULL) {
            sw_diag_add(diag, DIAG_ERROR, path, 0, NULL, "cannot open the signing key: %s",
                        sw_strerror(rc));
        }
        return rc;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    (void)fclose(f); /* read-only */
    ERR_clear_error();
    if (key == NULL || !stir_jws_key_is_p256(key)) {
        if (diag != NULL) {
            sw_diag_add(diag, DIAG_ERROR, path, 0, NULL,
                        "not a PEM EC P-256 private key (ES256 needs prime256v1)");
        }
        EVP_PKEY_free(key);
        return -SW_ECONFIG;
    }
    *out = key;
    return 0;
}

int stir_cert_key_matches(X509 *cert, EVP_PKEY *key)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert);
    int rc = pub != NULL && EVP_PKEY_eq(pub, key) == 1 ? 0 : -SW_ECONFIG;
    ERR_clear_error();
    return rc;
}
