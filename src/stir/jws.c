#include "stir/jws.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <string.h>

#include "base/err.h"

#define COORD_LEN 32

bool stir_jws_key_is_p256(const EVP_PKEY *key)
{
    char group[32];
    size_t len = 0;
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) {
        return false;
    }
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) != 1) {
        return false;
    }
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

int stir_jws_der_to_raw(const unsigned char *der, size_t der_len,
                        unsigned char raw[STIR_ES256_SIG_LEN])
{
    const unsigned char *p = der;
    if (der_len > STIR_ES256_DER_MAX) {
        return -SW_EBADARG;
    }
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig == NULL) {
        return -SW_EBADARG;
    }
    /* A trailing byte after the SEQUENCE would make two encodings of one signature. */
    int rc = p == der + der_len ? 0 : -SW_EBADARG;
    const BIGNUM *r = ECDSA_SIG_get0_r(sig);
    const BIGNUM *s = ECDSA_SIG_get0_s(sig);
    if (rc == 0 && (BN_bn2binpad(r, raw, COORD_LEN) != COORD_LEN ||
                    BN_bn2binpad(s, raw + COORD_LEN, COORD_LEN) != COORD_LEN)) {
        rc = -SW_EBADARG;
    }
    ECDSA_SIG_free(sig);
    return rc;
}

int stir_jws_raw_to_der(const unsigned char raw[STIR_ES256_SIG_LEN], unsigned char *der,
                        size_t *der_len)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, COORD_LEN, NULL);
    BIGNUM *s = BN_bin2bn(raw + COORD_LEN, COORD_LEN, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        ECDSA_SIG_free(sig);
        BN_free(r);
        BN_free(s);
        return -SW_ECRYPTO;
    }
    /* The signature owns r and s now. */
    int len = i2d_ECDSA_SIG(sig, NULL);
    if (len <= 0 || len > STIR_ES256_DER_MAX) {
        ECDSA_SIG_free(sig);
        return -SW_ECRYPTO;
    }
    unsigned char *out = der;
    len = i2d_ECDSA_SIG(sig, &out);
    ECDSA_SIG_free(sig);
    if (len <= 0) {
        return -SW_ECRYPTO;
    }
    *der_len = (size_t)len;
    return 0;
}

int stir_jws_sign(EVP_PKEY *key, struct sv input, unsigned char sig[STIR_ES256_SIG_LEN])
{
    if (!stir_jws_key_is_p256(key)) {
        return -SW_ECRYPTO;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -SW_ECRYPTO;
    }
    unsigned char der[STIR_ES256_DER_MAX];
    size_t der_len = sizeof(der);
    int rc = -SW_ECRYPTO;
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, der, &der_len, (const unsigned char *)input.ptr, input.len) == 1) {
        rc = stir_jws_der_to_raw(der, der_len, sig) == 0 ? 0 : -SW_ECRYPTO;
    }
    EVP_MD_CTX_free(md);
    return rc;
}

int stir_jws_verify(EVP_PKEY *key, struct sv input, const unsigned char sig[STIR_ES256_SIG_LEN])
{
    if (!stir_jws_key_is_p256(key)) {
        return -SW_ECRYPTO;
    }
    unsigned char der[STIR_ES256_DER_MAX];
    size_t der_len = 0;
    if (stir_jws_raw_to_der(sig, der, &der_len) != 0) {
        return -SW_ECRYPTO;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -SW_ECRYPTO;
    }
    int rc = -SW_ECRYPTO;
    if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1) {
        /* 1 = valid, 0 = invalid, negative = malformed (e.g. R or S zero): all are "no". */
        int ok = EVP_DigestVerify(md, der, der_len, (const unsigned char *)input.ptr, input.len);
        rc = ok == 1 ? 0 : -SW_EIDENTITY;
    }
    EVP_MD_CTX_free(md);
    return rc;
}
