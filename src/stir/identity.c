#include "stir/identity.h"

#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "stir/passport.h"

/* SIP LWS as it may remain in a header value after unfolding (RFC 3261 §25.1). */
static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct sv skip_lws(struct sv cur)
{
    size_t i = 0;
    while (i < cur.len && is_lws(cur.ptr[i])) {
        i++;
    }
    return sv_slice(cur, i, cur.len - i);
}

/* RFC 3261 §25.1 token characters. */
static bool is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-.!%*_+`'~", c) != NULL);
}

static bool is_b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool stir_identity_name_matches(struct sv name)
{
    return sv_eq_nocase(name, SV("Identity")) || sv_eq_nocase(name, SV("y"));
}

struct sv stir_identity_strip_name(struct sv line)
{
    struct sv trimmed = sv_trim(line);
    long colon = sv_find_char(trimmed, ':');
    if (colon > 0) {
        struct sv name = sv_trim(sv_slice(trimmed, 0, (size_t)colon));
        if (stir_identity_name_matches(name)) {
            return sv_trim(sv_slice(trimmed, (size_t)colon + 1, trimmed.len));
        }
    }
    return trimmed;
}

/* Splits the token into its three parts; false unless exactly two dots. */
static bool split_token(struct sv token, struct stir_identity *out)
{
    struct sv cur = token;
    struct sv parts[3];
    for (size_t i = 0; i < 2; i++) {
        if (!sv_take_until(&cur, '.', &parts[i])) {
            return false;
        }
    }
    parts[2] = cur;
    if (sv_find_char(parts[2], '.') >= 0 || parts[2].len == 0) {
        return false;
    }
    if ((parts[0].len == 0) != (parts[1].len == 0)) {
        return false;
    }
    out->header = parts[0];
    out->claims = parts[1];
    out->signature = parts[2];
    out->is_compact = parts[0].len == 0;
    return true;
}

/* Reads the token at the start of `*cur`; moves the cursor past it. */
static bool take_token(struct sv *cur, struct stir_identity *out)
{
    size_t i = 0;
    while (i < cur->len && (is_b64url_char(cur->ptr[i]) || cur->ptr[i] == '.')) {
        i++;
    }
    if (i == 0 || i > STIR_TOKEN_MAX) {
        return false;
    }
    out->token = sv_slice(*cur, 0, i);
    *cur = sv_slice(*cur, i, cur->len - i);
    return split_token(out->token, out);
}

/* A parameter value: <uri> (printable, no '>' or white space inside) or a token. */
static bool take_param_value(struct sv *cur, struct sv *value, bool *is_bracketed)
{
    size_t i = 0;
    *is_bracketed = cur->len > 0 && cur->ptr[0] == '<';
    if (*is_bracketed) {
        i = 1;
        while (i < cur->len && cur->ptr[i] != '>' && (unsigned char)cur->ptr[i] > 0x20 &&
               (unsigned char)cur->ptr[i] < 0x7f) {
            i++;
        }
        if (i >= cur->len || cur->ptr[i] != '>' || i == 1) {
            return false;
        }
        *value = sv_slice(*cur, 1, i - 1);
        *cur = sv_slice(*cur, i + 1, cur->len - i - 1);
        return true;
    }
    while (i < cur->len && is_token_char(cur->ptr[i])) {
        i++;
    }
    if (i == 0) {
        return false;
    }
    *value = sv_slice(*cur, 0, i);
    *cur = sv_slice(*cur, i, cur->len - i);
    return true;
}

/* Stores a known parameter; false on a duplicate or a value of the wrong shape. */
static bool store_param(struct sv name, struct sv value, bool is_bracketed,
                        struct stir_identity *out)
{
    struct sv *slot = NULL;
    if (sv_eq_nocase(name, SV("info"))) {
        if (!is_bracketed) {
            return false;
        }
        slot = &out->info;
    } else if (sv_eq_nocase(name, SV("alg"))) {
        slot = &out->alg;
    } else if (sv_eq_nocase(name, SV("ppt"))) {
        slot = &out->ppt;
    } else {
        return true;
    }
    if (slot->ptr != NULL || (is_bracketed && slot != &out->info)) {
        return false;
    }
    *slot = value;
    return true;
}

/* One ";name[=value]" at the cursor. */
static bool take_param(struct sv *cur, struct stir_identity *out)
{
    *cur = skip_lws(*cur);
    if (cur->len == 0 || cur->ptr[0] != ';') {
        return false;
    }
    *cur = skip_lws(sv_slice(*cur, 1, cur->len - 1));
    struct sv name = SV_NULL;
    bool is_bracketed = false;
    if (!take_param_value(cur, &name, &is_bracketed) || is_bracketed) {
        return false;
    }
    *cur = skip_lws(*cur);
    struct sv value = sv_make(cur->ptr, 0);
    if (cur->len > 0 && cur->ptr[0] == '=') {
        *cur = skip_lws(sv_slice(*cur, 1, cur->len - 1));
        if (!take_param_value(cur, &value, &is_bracketed)) {
            return false;
        }
    }
    return store_param(name, value, is_bracketed, out);
}

enum stir_reason stir_identity_parse(struct sv value, struct stir_identity *out)
{
    memset(out, 0, sizeof(*out));
    if (value.ptr == NULL) {
        return STIR_NO_IDENTITY;
    }
    struct sv cur = skip_lws(value);
    if (!take_token(&cur, out)) {
        memset(out, 0, sizeof(*out));
        return STIR_BAD_SYNTAX;
    }
    /* Each parameter consumes at least two bytes, so the loop ends within value.len. */
    for (cur = skip_lws(cur); cur.len > 0; cur = skip_lws(cur)) {
        if (!take_param(&cur, out)) {
            memset(out, 0, sizeof(*out));
            return STIR_BAD_SYNTAX;
        }
    }
    if (out->info.ptr == NULL) {
        memset(out, 0, sizeof(*out));
        return STIR_BAD_SYNTAX;
    }
    return STIR_OK;
}

long stir_identity_format(struct sv token, struct sv x5u, char *out, size_t cap)
{
    struct sw_buf buf;
    if (cap == 0) {
        return -SW_ETOOBIG;
    }
    sw_buf_init(&buf, out, cap - 1);
    sw_buf_sv(&buf, token);
    sw_buf_str(&buf, ";info=<");
    sw_buf_sv(&buf, x5u);
    sw_buf_str(&buf, ">;alg=ES256;ppt=shaken");
    if (buf.is_overflow) {
        return -SW_ETOOBIG;
    }
    out[buf.len] = '\0';
    return (long)buf.len;
}
