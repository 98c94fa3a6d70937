#include "sip/digest.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"

/* The most pieces one hash joins with ':' (the response with a qop has six). */
#define DIGEST_MAX_PARTS 6

/*
 * The digests, fetched from the default provider once: EVP_md5() and its kind are only
 * names, which EVP_DigestInit_ex looks up (a fetch, under a lock) on every call, about
 * two thousand instructions of each of a registration's two hashes (callgrind, #13).
 */
static EVP_MD *fetched[3];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
    fetched[SIP_DIGEST_MD5] = EVP_MD_fetch(NULL, "MD5", NULL);
    fetched[SIP_DIGEST_SHA256] = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    fetched[SIP_DIGEST_SHA512_256] = EVP_MD_fetch(NULL, "SHA2-512/256", NULL);
}

static const EVP_MD *alg_md(enum sip_digest_alg alg)
{
    if ((unsigned)alg < sizeof(fetched) / sizeof(fetched[0]) &&
        pthread_once(&fetch_once, fetch_digests) == 0 && fetched[alg] != NULL) {
        return fetched[alg];
    }
    /* Not fetched (a provider without it): the named form, looked up per call. */
    switch (alg) {
    case SIP_DIGEST_MD5:
        return EVP_md5();
    case SIP_DIGEST_SHA256:
        return EVP_sha256();
    case SIP_DIGEST_SHA512_256:
        return EVP_sha512_256();
    }
    return NULL;
}

bool sip_digest_alg_parse(struct sv name, enum sip_digest_alg *out, bool *is_sess)
{
    const struct {
        struct sv token;
        enum sip_digest_alg alg;
    } names[] = {
        { SV("MD5"), SIP_DIGEST_MD5 },
        { SV("SHA-256"), SIP_DIGEST_SHA256 },
        { SV("SHA-512-256"), SIP_DIGEST_SHA512_256 },
    };

    if (!sv_is_present(name)) {
        *out = SIP_DIGEST_MD5;
        *is_sess = false;
        return true;
    }
    bool has_sess = false;
    const struct sv sess = SV("-sess");
    if (name.len > sess.len && sv_eq_nocase(sv_slice(name, name.len - sess.len, sess.len), sess)) {
        has_sess = true;
        name.len -= sess.len;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (sv_eq_nocase(name, names[i].token)) {
            *out = names[i].alg;
            *is_sess = has_sess;
            return true;
        }
    }
    return false;
}

const char *sip_digest_alg_name(enum sip_digest_alg alg)
{
    switch (alg) {
    case SIP_DIGEST_MD5:
        return "MD5";
    case SIP_DIGEST_SHA256:
        return "SHA-256";
    case SIP_DIGEST_SHA512_256:
        return "SHA-512-256";
    }
    return "?";
}

size_t sip_digest_hex_len(enum sip_digest_alg alg)
{
    return alg == SIP_DIGEST_MD5 ? 32 : 64;
}

static void to_hex(const unsigned char *bytes, size_t len, char *hex_out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex_out[2 * i] = digits[bytes[i] >> 4];
        hex_out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    hex_out[2 * len] = '\0';
}

/*
 * hex_out = hex(H(parts[0] ":" parts[1] ":" ...)). Streaming the pieces into the digest
 * avoids building the joined string, so no length limit applies to user input here.
 */
static int hash_joined(enum sip_digest_alg alg, const struct sv *parts, size_t count, char *hex_out)
{
    SW_ASSERT(count > 0 && count <= DIGEST_MAX_PARTS);
    hex_out[0] = '\0';
    const EVP_MD *md = alg_md(alg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (md == NULL || ctx == NULL) {
        EVP_MD_CTX_free(ctx);
        return -SW_ECRYPTO;
    }
    int ok = EVP_DigestInit_ex(ctx, md, NULL);
    for (size_t i = 0; ok == 1 && i < count; i++) {
        if (i > 0) {
            ok = EVP_DigestUpdate(ctx, ":", 1);
        }
        if (ok == 1 && parts[i].len > 0) {
            ok = EVP_DigestUpdate(ctx, parts[i].ptr, parts[i].len);
        }
    }
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned raw_len = 0;
    if (ok == 1) {
        ok = EVP_DigestFinal_ex(ctx, raw, &raw_len);
    }
    EVP_MD_CTX_free(ctx);
    if (ok != 1 || (size_t)raw_len * 2 != sip_digest_hex_len(alg)) {
        return -SW_ECRYPTO;
    }
    to_hex(raw, raw_len, hex_out);
    return 0;
}

int sip_digest_ha1(enum sip_digest_alg alg, struct sv user, struct sv realm, struct sv password,
                   char *hex_out)
{
    const struct sv parts[] = { user, realm, password };
    return hash_joined(alg, parts, 3, hex_out);
}

int sip_digest_userhash(enum sip_digest_alg alg, struct sv user, struct sv realm, char *hex_out)
{
    const struct sv parts[] = { user, realm };
    return hash_joined(alg, parts, 2, hex_out);
}

/*
 * Copies a stored HA1 into `out` in lower case: the formula hashes the hex text, and
 * RFC 7616 §3.4.1 defines it as lower-case, so an upper-case HA1 in a configuration
 * must still give the right response.
 */
static bool ha1_normalize(enum sip_digest_alg alg, struct sv ha1_hex, char *out)
{
    size_t want = sip_digest_hex_len(alg);
    if (ha1_hex.ptr == NULL || ha1_hex.len != want) {
        return false;
    }
    for (size_t i = 0; i < want; i++) {
        char c = ha1_hex.ptr[i];
        if (c >= 'A' && c <= 'F') {
            c = (char)(c - 'A' + 'a');
        }
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
        out[i] = c;
    }
    out[want] = '\0';
    return true;
}

enum qop_kind {
    QOP_NONE,
    QOP_AUTH,
    QOP_AUTH_INT,
    QOP_INVALID,
};

/* Checks the parameter combinations RFC 7616 §3.4 requires; returns the qop kind. */
static enum qop_kind input_qop(const struct sip_digest_input *in)
{
    enum qop_kind kind = QOP_INVALID;
    if (in->qop.len == 0) {
        kind = QOP_NONE;
    } else if (sv_eq_nocase(in->qop, SV("auth"))) {
        kind = QOP_AUTH;
    } else if (sv_eq_nocase(in->qop, SV("auth-int"))) {
        kind = QOP_AUTH_INT;
    }
    bool needs_cnonce = kind == QOP_AUTH || kind == QOP_AUTH_INT || in->is_sess;
    if (needs_cnonce && in->cnonce.len == 0) {
        return QOP_INVALID;
    }
    if ((kind == QOP_AUTH || kind == QOP_AUTH_INT) && in->nc.len == 0) {
        return QOP_INVALID;
    }
    return kind;
}

/* HA2 = H(method:uri) or, for auth-int, H(method:uri:H(body)) (RFC 2617 §3.2.2.3). */
static int compute_ha2(const struct sip_digest_input *in, enum qop_kind kind, char *ha2)
{
    if (kind != QOP_AUTH_INT) {
        const struct sv parts[] = { in->method, in->uri };
        return hash_joined(in->alg, parts, 2, ha2);
    }
    char body_hash[SIP_DIGEST_HEX_CAP];
    const struct sv body[] = { in->body };
    int rc = hash_joined(in->alg, body, 1, body_hash);
    if (rc != 0) {
        return rc;
    }
    const struct sv parts[] = { in->method, in->uri, sv_from_cstr(body_hash) };
    return hash_joined(in->alg, parts, 3, ha2);
}

int sip_digest_response_compute(const struct sip_digest_input *in, char *hex_out)
{
    SW_ASSERT(in != NULL && hex_out != NULL);
    hex_out[0] = '\0';
    char stored[SIP_DIGEST_HEX_CAP];
    enum qop_kind kind = input_qop(in);
    if (kind == QOP_INVALID || !ha1_normalize(in->alg, in->ha1_hex, stored)) {
        return -SW_EBADARG;
    }
    char ha1[SIP_DIGEST_HEX_CAP];
    int rc = 0;
    if (in->is_sess) {
        /* RFC 7616 §3.4.2: the session key is computed from the stored HA1. */
        const struct sv parts[] = { sv_from_cstr(stored), in->nonce, in->cnonce };
        rc = hash_joined(in->alg, parts, 3, ha1);
    } else {
        memcpy(ha1, stored, sizeof(ha1));
    }
    char ha2[SIP_DIGEST_HEX_CAP];
    if (rc == 0) {
        rc = compute_ha2(in, kind, ha2);
    }
    if (rc != 0) {
        return rc;
    }
    if (kind == QOP_NONE) {
        const struct sv parts[] = { sv_from_cstr(ha1), in->nonce, sv_from_cstr(ha2) };
        return hash_joined(in->alg, parts, 3, hex_out);
    }
    const struct sv parts[] = {
        sv_from_cstr(ha1), in->nonce, in->nc, in->cnonce, in->qop, sv_from_cstr(ha2),
    };
    return hash_joined(in->alg, parts, 6, hex_out);
}

/* NOLINTNEXTLINE(readability-function-size): the parameter list agreed in issue #5. */
int sip_digest_response(enum sip_digest_alg alg, bool is_sess, struct sv ha1_hex, struct sv nonce,
                        struct sv nc, struct sv cnonce, struct sv qop, struct sv method,
                        struct sv uri, char *hex_out)
{
    if (sv_eq_nocase(qop, SV("auth-int"))) {
        /* auth-int needs the body: only sip_digest_response_compute() takes one. */
        hex_out[0] = '\0';
        return -SW_EBADARG;
    }
    const struct sip_digest_input in = {
        .alg = alg,
        .is_sess = is_sess,
        .ha1_hex = ha1_hex,
        .nonce = nonce,
        .nc = nc,
        .cnonce = cnonce,
        .qop = qop,
        .method = method,
        .uri = uri,
        .body = SV_NULL,
    };
    return sip_digest_response_compute(&in, hex_out);
}

static unsigned char fold_hex(unsigned char c)
{
    /* Only 'A'-'F' fold; other bytes stay distinct so that no two non-hex bytes match. */
    unsigned char is_upper_hex = (unsigned char)((unsigned char)(c - 'A') < 6);
    return (unsigned char)(c | (unsigned char)(is_upper_hex << 5));
}

bool sip_digest_hex_eq_ct(struct sv a, struct sv b)
{
    if (a.ptr == NULL || b.ptr == NULL || a.len != b.len || a.len == 0) {
        return false;
    }
    /* Accumulate every difference so that the time does not reveal the first mismatch. */
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < a.len; i++) {
        diff |=
            (unsigned char)(fold_hex((unsigned char)a.ptr[i]) ^ fold_hex((unsigned char)b.ptr[i]));
    }
    return diff == 0;
}
