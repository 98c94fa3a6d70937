#include "sip/auth.h"

#include <stddef.h>

#include "base/err.h"
#include "sip/chars.h"
#include "sip/hdr.h"

static int auth_fail(struct sip_err *err, struct sv in, const char *at, const char *reason)
{
    return sip_err_set(err, -SW_EBADMSG, (size_t)(at - in.ptr), reason, 400);
}

struct auth_field {
    struct sv name;
    size_t offset; /* of the struct sv in struct sip_auth */
};

#define F(field)                                                                       \
    {                                                                                  \
        { .ptr = #field, .len = sizeof(#field) - 1 }, offsetof(struct sip_auth, field) \
    }

static const struct auth_field fields[] = {
    F(username), F(realm), F(nonce), F(uri),   F(response), F(algorithm), F(cnonce),
    F(opaque),   F(qop),   F(nc),    F(stale), F(domain),   F(userhash),
};

/* The slot of a known parameter, or NULL. The lengths are compared first: most names
 * differ in length, and a credentials header has ten parameters (callgrind, #13). */
static struct sv *auth_slot(struct sip_auth *out, struct sv name)
{
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i].name.len == name.len && sv_eq_nocase(name, fields[i].name)) {
            return (struct sv *)(void *)((char *)out + fields[i].offset);
        }
    }
    return NULL;
}

/* auth-param = token EQUAL ( token / quoted-string ). */
static int param_take(struct sv in, struct sv *cur, struct sip_auth *out, struct sip_err *err)
{
    struct sv name;
    if (!sip_token_take(cur, &name)) {
        return auth_fail(err, in, cur->ptr, "bad auth parameter name");
    }
    sip_lws_skip(cur);
    if (cur->len == 0 || cur->ptr[0] != '=') {
        return auth_fail(err, in, cur->ptr, "missing '=' in auth parameter");
    }
    cur->ptr++;
    cur->len--;
    sip_lws_skip(cur);
    struct sv value;
    if (cur->len > 0 && cur->ptr[0] == '"') {
        if (!sip_quoted_take(cur, &value)) {
            return auth_fail(err, in, cur->ptr, "unterminated quoted auth value");
        }
    } else if (!sip_token_take(cur, &value)) {
        return auth_fail(err, in, cur->ptr, "bad auth parameter value");
    }
    struct sv *slot = auth_slot(out, name);
    if (slot != NULL) {
        if (slot->ptr != NULL) {
            return auth_fail(err, in, name.ptr, "repeated auth parameter");
        }
        *slot = value;
    }
    return 0;
}

static int digest_params(struct sv in, struct sv cur, struct sip_auth *out, struct sip_err *err)
{
    for (;;) {
        sip_lws_skip(&cur);
        while (cur.len > 0 && cur.ptr[0] == ',') {
            cur.ptr++;
            cur.len--;
            sip_lws_skip(&cur);
        }
        if (cur.len == 0) {
            return 0;
        }
        int rc = param_take(in, &cur, out, err);
        if (rc != 0) {
            return rc;
        }
        sip_lws_skip(&cur);
        if (cur.len > 0 && cur.ptr[0] != ',') {
            return auth_fail(err, in, cur.ptr, "missing ',' between auth parameters");
        }
    }
}

int sip_auth_parse(struct sv value, struct sip_auth *out, struct sip_err *err)
{
    *out = (struct sip_auth){ 0 };
    struct sv cur = sip_lws_trim(value);
    if (cur.ptr == NULL || !sip_token_take(&cur, &out->scheme)) {
        return auth_fail(err, value, value.ptr, "missing auth scheme");
    }
    out->is_digest = sv_eq_nocase(out->scheme, SV("Digest"));
    if (cur.len > 0 && !sip_char_is(cur.ptr[0], SIP_C_LWS)) {
        return auth_fail(err, value, cur.ptr, "bad auth scheme");
    }
    sip_lws_skip(&cur);
    out->params = cur;
    if (!out->is_digest) {
        /* Other schemes (RFC 4475 §3.3.7) are forwarded untouched: their parameters
         * may be a token68 that is not name=value. */
        return 0;
    }
    return digest_params(value, cur, out, err);
}
