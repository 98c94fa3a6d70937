#include "stir/sign.h"

#include <errno.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "base/alloc.h"
#include "base/err.h"
#include "stir/b64url.h"
#include "stir/cert.h"
#include "stir/identity.h"
#include "stir/jws.h"

struct stir_signer {
    EVP_PKEY *key;
    char x5u[STIR_X5U_MAX];
};

int stir_uuid_v4(char out[STIR_UUID_CAP])
{
    unsigned char b[16];
    ssize_t n = 0;
    do {
        n = getrandom(b, sizeof(b), 0);
    } while (n == -1 && errno == EINTR);
    if (n != (ssize_t)sizeof(b)) {
        return n == -1 ? -errno : -SW_EIO;
    }
    /* RFC 9562 §5.4: version 4 in the high nibble of byte 6, variant 10 in byte 8. */
    b[6] = (unsigned char)((b[6] & 0x0FU) | 0x40U);
    b[8] = (unsigned char)((b[8] & 0x3FU) | 0x80U);
    (void)snprintf(out, STIR_UUID_CAP,
                   "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                   b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                   b[14], b[15]); /* exactly 36 characters */
    return 0;
}

long stir_sign_passport(EVP_PKEY *key, const struct stir_passport *pp, char *out, size_t cap)
{
    long len = stir_passport_signing_input(pp, out, cap);
    if (len < 0) {
        return len;
    }
    unsigned char sig[STIR_ES256_SIG_LEN];
    int rc = stir_jws_sign(key, sv_make(out, (size_t)len), sig);
    if (rc != 0) {
        return rc;
    }
    if ((size_t)len + 1 >= cap) {
        return -SW_ETOOBIG;
    }
    out[len++] = '.';
    long n = stir_b64url_encode(sig, sizeof(sig), out + len, cap - (size_t)len);
    return n < 0 ? n : len + n;
}

int stir_signer_new_from_key(EVP_PKEY *key, struct sv x5u, struct stir_signer **out)
{
    *out = NULL;
    if (!stir_jws_key_is_p256(key) || !stir_passport_x5u_is_valid(x5u)) {
        return -SW_EBADARG;
    }
    struct stir_signer *signer = sw_calloc(1, sizeof(*signer));
    if (signer == NULL) {
        return -ENOMEM;
    }
    if (EVP_PKEY_up_ref(key) != 1) {
        sw_free(signer);
        return -SW_ECRYPTO;
    }
    signer->key = key;
    memcpy(signer->x5u, x5u.ptr, x5u.len);
    *out = signer;
    return 0;
}

/* The start-up check of issue #4: the certificate served at x5u carries our key. */
static int check_cert_matches(const char *cert_file, EVP_PKEY *key, struct sw_diag *diag)
{
    STACK_OF(X509) *chain = stir_cert_chain_load(cert_file);
    if (chain == NULL) {
        sw_diag_add(diag, DIAG_ERROR, cert_file, 0, NULL, "cannot read the signing certificate");
        return -SW_ECONFIG;
    }
    int rc = stir_cert_key_matches(sk_X509_value(chain, 0), key);
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cert_file, 0, NULL,
                    "the signing certificate does not match the signing key");
    }
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

int stir_signer_new(const struct stir_signer_cfg *cfg, struct stir_signer **out,
                    struct sw_diag *diag)
{
    *out = NULL;
    EVP_PKEY *key = NULL;
    int rc = stir_cert_key_load(cfg->key_file, &key, diag);
    if (rc == 0 && cfg->cert_file != NULL) {
        rc = check_cert_matches(cfg->cert_file, key, diag);
    }
    if (rc == 0 && !stir_passport_x5u_is_valid(sv_from_cstr(cfg->x5u))) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, "x5u",
                    "must be an https URL without spaces, quotes or angle brackets");
        rc = -SW_ECONFIG;
    }
    if (rc == 0) {
        rc = stir_signer_new_from_key(key, sv_from_cstr(cfg->x5u), out);
    }
    EVP_PKEY_free(key);
    return rc;
}

void stir_signer_free(struct stir_signer *signer)
{
    if (signer == NULL) {
        return;
    }
    EVP_PKEY_free(signer->key);
    sw_free(signer);
}

long stir_signer_sign(const struct stir_signer *signer, const struct stir_sign_req *req, char *out,
                      size_t cap)
{
    char uuid[STIR_UUID_CAP];
    struct sv origid = req->origid;
    if (origid.ptr == NULL) {
        int rc = stir_uuid_v4(uuid);
        if (rc != 0) {
            return rc;
        }
        origid = sv_from_cstr(uuid);
    }
    struct stir_passport pp;
    struct stir_shaken_spec spec = {
        .x5u = sv_from_cstr(signer->x5u),
        .attest = req->attest,
        .orig = req->orig,
        .dest = req->dest,
        .iat = req->iat,
        .origid = origid,
    };
    int rc = stir_passport_init_shaken(&pp, &spec);
    if (rc != 0) {
        return rc;
    }
    char token[STIR_TOKEN_MAX];
    long len = stir_sign_passport(signer->key, &pp, token, sizeof(token));
    if (len < 0) {
        return len;
    }
    return stir_identity_format(sv_make(token, (size_t)len), sv_from_cstr(signer->x5u), out, cap);
}
