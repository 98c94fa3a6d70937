#include "call/uac_auth.h"

#include <string.h>

#include "base/random.h"
#include "sip/auth.h"
#include "sip/digest.h"
#include "sip/msg.h"

/* True when a qop list (e.g. "auth,auth-int") offers "auth". */
static bool qop_offers_auth(struct sv qop)
{
    struct sv cur = qop;
    struct sv item;
    bool more = true;
    while (more) {
        more = sv_take_until(&cur, ',', &item);
        if (sv_eq_nocase(sv_trim(item), SV("auth"))) {
            return true;
        }
    }
    return false;
}

/* Strength order of algorithms we can use; -1 when we cannot answer this one. */
static int usable_rank(const struct uac_credentials *creds, const struct sip_auth *c,
                       enum sip_digest_alg *alg, bool *is_sess)
{
    struct sv name = sv_is_present(c->algorithm) ? c->algorithm : SV("MD5");
    if (!c->is_digest || !sip_digest_alg_parse(name, alg, is_sess)) {
        return -1;
    }
    if (sv_is_present(c->qop) && !qop_offers_auth(c->qop)) {
        return -1;
    }
    bool has_ha1 = (*alg == SIP_DIGEST_MD5 && creds->ha1_md5 != NULL) ||
                   (*alg == SIP_DIGEST_SHA256 && creds->ha1_sha256 != NULL);
    if (creds->secret == NULL && !has_ha1) {
        return -1;
    }
    return *alg == SIP_DIGEST_MD5 ? 1 : 2;
}

static bool compute_ha1(const struct uac_credentials *creds, enum sip_digest_alg alg,
                        struct sv realm, char *ha1)
{
    if (creds->secret != NULL) {
        return sip_digest_ha1(alg, sv_from_cstr(creds->username), realm,
                              sv_from_cstr(creds->secret), ha1) == 0;
    }
    const char *given = alg == SIP_DIGEST_MD5 ? creds->ha1_md5 : creds->ha1_sha256;
    size_t len = strlen(given);
    if (len >= SIP_DIGEST_HEX_CAP) {
        return false;
    }
    memcpy(ha1, given, len + 1);
    return true;
}

static bool best_challenge(const struct uac_credentials *creds, struct sip_msg *msg,
                           enum sip_hdr_id id, struct sip_auth *best, enum sip_digest_alg *alg,
                           bool *is_sess)
{
    int best_rank = -1;
    for (const struct sip_hdr *h = sip_msg_find(msg, id, NULL); h != NULL;
         h = sip_msg_find(msg, id, h)) {
        struct sip_auth c;
        struct sip_err err = { 0 };
        enum sip_digest_alg a;
        bool sess = false;
        if (sip_auth_parse(h->value, &c, &err) != 0) {
            continue;
        }
        int rank = usable_rank(creds, &c, &a, &sess);
        if (rank > best_rank) {
            best_rank = rank;
            *best = c;
            *alg = a;
            *is_sess = sess;
        }
    }
    return best_rank >= 0;
}

bool uac_auth_answer(const struct uac_credentials *creds, struct sip_msg *challenge,
                     struct sv method, struct sv uri, struct sw_buf *out)
{
    bool is_proxy = challenge->status == 407;
    struct sip_auth c;
    enum sip_digest_alg alg = SIP_DIGEST_MD5;
    bool is_sess = false;
    if (creds == NULL || creds->username == NULL ||
        !best_challenge(creds, challenge,
                        is_proxy ? SIP_HDR_PROXY_AUTHENTICATE : SIP_HDR_WWW_AUTHENTICATE, &c, &alg,
                        &is_sess)) {
        return false;
    }
    char ha1[SIP_DIGEST_HEX_CAP];
    char response[SIP_DIGEST_HEX_CAP];
    char cnonce[17];
    sw_random_hex(cnonce, 16);
    cnonce[16] = '\0';
    bool use_qop = sv_is_present(c.qop);
    struct sv nc = use_qop ? SV("00000001") : SV_NULL;
    struct sv cn = use_qop ? sv_from_cstr(cnonce) : SV_NULL;
    if (!compute_ha1(creds, alg, c.realm, ha1) ||
        sip_digest_response(alg, is_sess, sv_from_cstr(ha1), c.nonce, nc, cn,
                            use_qop ? SV("auth") : SV(""), method, uri, response) != 0) {
        return false;
    }
    sw_buf_fmt(out,
               "%s: Digest username=\"%s\", realm=\"" SV_FMT "\", nonce=\"" SV_FMT
               "\", uri=\"" SV_FMT "\", response=\"%s\", algorithm=%s%s",
               is_proxy ? "Proxy-Authorization" : "Authorization", creds->username, SV_ARG(c.realm),
               SV_ARG(c.nonce), SV_ARG(uri), response, sip_digest_alg_name(alg),
               is_sess ? "-sess" : "");
    if (use_qop) {
        sw_buf_fmt(out, ", qop=auth, nc=00000001, cnonce=\"%s\"", cnonce);
    }
    if (sv_is_present(c.opaque)) {
        sw_buf_fmt(out, ", opaque=\"" SV_FMT "\"", SV_ARG(c.opaque));
    }
    sw_buf_str(out, "\r\n");
    /* The HA1 is as good as the secret: wipe it from the stack. */
    explicit_bzero(ha1, sizeof(ha1));
    return !out->is_overflow;
}

bool uac_auth_answer_once(const struct uac_credentials *creds, bool *is_tried,
                          struct sip_msg *response, struct sv method, struct sv uri,
                          struct sw_buf *out)
{
    if ((response->status != 401 && response->status != 407) || creds == NULL || *is_tried) {
        return false;
    }
    *is_tried = true;
    return uac_auth_answer(creds, response, method, uri, out);
}

static bool copy_field(char *dst, size_t cap, const char *src, const char **view)
{
    if (src == NULL) {
        *view = NULL;
        return true;
    }
    size_t len = strlen(src);
    if (len >= cap) {
        return false;
    }
    memcpy(dst, src, len + 1);
    *view = dst;
    return true;
}

bool uac_credentials_copy_set(struct uac_credentials_copy *dst, const struct uac_credentials *src)
{
    uac_credentials_copy_wipe(dst);
    if (src == NULL || src->username == NULL) {
        return true;
    }
    struct uac_credentials *v = &dst->view;
    bool is_ok =
        copy_field(dst->username, sizeof(dst->username), src->username, &v->username) &&
        copy_field(dst->secret, sizeof(dst->secret), src->secret, &v->secret) &&
        copy_field(dst->ha1_md5, sizeof(dst->ha1_md5), src->ha1_md5, &v->ha1_md5) &&
        copy_field(dst->ha1_sha256, sizeof(dst->ha1_sha256), src->ha1_sha256, &v->ha1_sha256);
    if (!is_ok) {
        uac_credentials_copy_wipe(dst);
        return false;
    }
    dst->is_set = true;
    return true;
}

const struct uac_credentials *uac_credentials_copy_get(const struct uac_credentials_copy *copy)
{
    return copy->is_set ? &copy->view : NULL;
}

void uac_credentials_copy_wipe(struct uac_credentials_copy *copy)
{
    explicit_bzero(copy, sizeof(*copy));
}
