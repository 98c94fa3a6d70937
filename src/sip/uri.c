#include "sip/uri.h"

#include <string.h>

#include "base/err.h"
#include "sip/chars.h"
#include "sip/hdr.h"

static int uri_fail(struct sip_err *err, struct sv in, const char *at, const char *reason)
{
    return sip_err_set(err, -SW_EBADURI, (size_t)(at - in.ptr), reason, 400);
}

/* Length of the run of bytes at `p` (up to `end`) in class `mask` or %XX escapes;
 * *bad_escape is set to the position of a malformed escape. */
static size_t escaped_run(const char *p, const char *end, unsigned mask, const char **bad_escape)
{
    const char *start = p;
    for (;;) {
        p = sip_char_run(p, end, mask);
        if (p >= end || *p != '%') {
            break;
        }
        if (end - p < 3 || !sip_char_is(p[1], SIP_C_HEX) || !sip_char_is(p[2], SIP_C_HEX)) {
            *bad_escape = p;
            break;
        }
        p += 3;
    }
    return (size_t)(p - start);
}

/* Parses "scheme:" and returns the position after ':' or NULL. */
static const char *parse_scheme(struct sv in, struct sip_uri *out)
{
    /* "sip:" in any case first, with one load: the fold (OR 0x20) of the first three
     * bytes maps only 'S', 'I', 'P' onto 's', 'i', 'p', and ':' is compared as is. */
    if (in.len >= 4) {
        uint32_t word;
        uint32_t want;
        uint32_t fold;
        memcpy(&word, in.ptr, 4);
        memcpy(&want, "sip:", 4);
        memcpy(&fold, "\x20\x20\x20", 4);
        if ((word | fold) == want) {
            out->scheme_text = sip_sv(in.ptr, 3);
            out->scheme = SIP_URI_SIP;
            return in.ptr + 4;
        }
    }
    if (in.len == 0 || !sip_char_is(in.ptr[0], SIP_C_ALPHA)) {
        return NULL;
    }
    size_t i = 1;
    while (i < in.len && sip_char_is(in.ptr[i], SIP_C_SCHEME)) {
        i++;
    }
    if (i >= in.len || in.ptr[i] != ':') {
        return NULL;
    }
    out->scheme_text = sip_sv(in.ptr, i);
    out->scheme = SIP_URI_OTHER;
    /* RFC 3261 §19.1.1: schemes are case-insensitive; the bytes are SCHEME class here, so
     * folding 0x20 maps only letters onto the lower-case ones compared with. */
    const unsigned char *s = (const unsigned char *)in.ptr;
    bool is_sip = i >= 3 && (s[0] | 0x20) == 's' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'p';
    if (is_sip && i == 3) {
        out->scheme = SIP_URI_SIP;
    } else if (is_sip && i == 4 && (s[3] | 0x20) == 's') {
        out->scheme = SIP_URI_SIPS;
    } else if (i == 3 && (s[0] | 0x20) == 't' && (s[1] | 0x20) == 'e' && (s[2] | 0x20) == 'l') {
        out->scheme = SIP_URI_TEL;
    }
    return in.ptr + i + 1;
}

/* host = hostname / IPv4address / IPv6reference. Returns the end of the host or NULL. */
static const char *host_end(const char *p, const char *end, bool *is_ipv6_ref)
{
    *is_ipv6_ref = false;
    if (p < end && *p == '[') {
        p++;
        bool has_colon = false;
        while (p < end && sip_char_is(*p, SIP_C_IPV6)) {
            has_colon = has_colon || *p == ':';
            p++;
        }
        /* RFC 5118 §4.10: the three-colon form is tolerated, so only the alphabet
         * and at least one colon are required here. */
        if (p >= end || *p != ']' || !has_colon) {
            return NULL;
        }
        *is_ipv6_ref = true;
        return p + 1;
    }
    if (p >= end || !sip_char_is(*p, SIP_C_HOST) || *p == '-' || *p == '.') {
        return NULL;
    }
    return sip_char_run(p, end, SIP_C_HOST);
}

static const char *parse_host(const char *p, const char *end, struct sip_uri *out)
{
    const char *stop = host_end(p, end, &out->is_ipv6_ref);
    if (stop != NULL) {
        out->host = sip_sv(p, (size_t)(stop - p));
    }
    return stop;
}

/* ":" port, 1 to 5 digits up to 65535. Returns the end or NULL. */
static const char *parse_port(const char *p, const char *end, uint16_t *port)
{
    uint32_t value = 0;
    const char *start = p;
    const char *stop = end - p > 6 ? p + 6 : end;
    unsigned digit = 0;
    while (p < stop && (digit = (unsigned)(unsigned char)*p - '0') <= 9) {
        value = value * 10 + digit;
        p++;
    }
    if (p == start || value > 65535 || (p < end && sip_char_is(*p, SIP_C_DIGIT))) {
        return NULL;
    }
    *port = (uint16_t)value;
    return p;
}

/* uri-parameters: *( ";" pname [ "=" pvalue ] ), both 1*paramchar. Returns the end. */
static const char *parse_uri_params(const char *p, const char *end, const char **bad)
{
    while (p < end && *p == ';') {
        p++;
        size_t name_len = escaped_run(p, end, SIP_C_PARAM, bad);
        if (name_len == 0) {
            *bad = p;
            return NULL;
        }
        p += name_len;
        if (p < end && *p == '=') {
            p++;
            size_t value_len = escaped_run(p, end, SIP_C_PARAM, bad);
            if (value_len == 0) {
                *bad = p;
                return NULL;
            }
            p += value_len;
        }
    }
    return p;
}

/* headers: hname "=" hvalue *( "&" hname "=" hvalue ); hvalue may be empty. */
static const char *parse_uri_headers(const char *p, const char *end, const char **bad)
{
    for (;;) {
        size_t name_len = escaped_run(p, end, SIP_C_HNV, bad);
        if (name_len == 0 || p + name_len >= end || p[name_len] != '=') {
            *bad = p + name_len;
            return NULL;
        }
        p += name_len + 1;
        p += escaped_run(p, end, SIP_C_HNV, bad);
        if (p >= end || *p != '&') {
            return p;
        }
        p++;
    }
}

/* userinfo = user [ ":" password ] "@". `at` is the '@'. Returns false on a bad byte. */
static bool parse_userinfo(const char *p, const char *at, struct sip_uri *out, const char **bad)
{
    size_t user_len = escaped_run(p, at, SIP_C_USER, bad);
    if (user_len == 0) {
        *bad = p;
        return false;
    }
    out->user = sip_sv(p, user_len);
    p += user_len;
    if (p < at && *p == ':') {
        p++;
        size_t pass_len = escaped_run(p, at, SIP_C_PASSWORD, bad);
        out->password = sip_sv(p, pass_len);
        p += pass_len;
    }
    if (p != at) {
        *bad = p;
        return false;
    }
    return true;
}

/* Kept out of line (as parse_tel() and parse_other()) so that the common call of
 * sip_uri_parse() does not pay for their registers. */
static __attribute__((noinline)) int parse_sip(struct sv in, const char *p, struct sip_uri *out,
                                               struct sip_err *err)
{
    const char *end = in.ptr + in.len;
    const char *bad = NULL;
    /* user may hold ';' and '?' but never an unescaped '@', and neither may what
     * follows the host, so the first '@' ends the userinfo. */
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL) {
        if (!parse_userinfo(p, at, out, &bad)) {
            return uri_fail(err, in, bad, "bad user part in URI");
        }
        p = at + 1;
    }
    const char *host_end = parse_host(p, end, out);
    if (host_end == NULL) {
        return uri_fail(err, in, p, "bad host in URI");
    }
    p = host_end;
    if (p < end && *p == ':') {
        p = parse_port(p + 1, end, &out->port);
        if (p == NULL) {
            return uri_fail(err, in, host_end + 1, "bad port in URI");
        }
        out->has_port = true;
    }
    if (p < end && *p == ';') {
        const char *params_end = parse_uri_params(p, end, &bad);
        if (params_end == NULL) {
            return uri_fail(err, in, bad, "bad URI parameter");
        }
        out->params = sip_sv(p, (size_t)(params_end - p));
        p = params_end;
    }
    if (p < end && *p == '?') {
        const char *headers_end = parse_uri_headers(p + 1, end, &bad);
        if (headers_end == NULL) {
            return uri_fail(err, in, bad, "bad URI header");
        }
        out->headers = sip_sv(p + 1, (size_t)(headers_end - p - 1));
        p = headers_end;
    }
    if (p != end) {
        return uri_fail(err, in, bad != NULL ? bad : p, "unexpected byte in URI");
    }
    return 0;
}

/* RFC 3966: global-number "+" digits or local-number, with visual separators. */
static __attribute__((noinline)) int parse_tel(struct sv in, const char *p, struct sip_uri *out,
                                               struct sip_err *err)
{
    static const char tel_chars[] = "0123456789abcdefABCDEF*#+-.()pwPW";
    const char *end = in.ptr + in.len;
    const char *start = p;
    while (p < end && *p != '\0' && strchr(tel_chars, *p) != NULL) {
        p++;
    }
    if (p == start) {
        return uri_fail(err, in, p, "bad tel number");
    }
    out->tel_number = sip_sv(start, (size_t)(p - start));
    const char *bad = NULL;
    const char *params_end = parse_uri_params(p, end, &bad);
    if (params_end == NULL || params_end != end) {
        return uri_fail(err, in, bad != NULL ? bad : params_end, "bad tel parameter");
    }
    if (p < end) {
        out->params = sip_sv(p, (size_t)(end - p));
    }
    return 0;
}

size_t sip_host_len(struct sv in, bool *is_ipv6_ref)
{
    *is_ipv6_ref = false;
    if (in.ptr == NULL) {
        return 0;
    }
    const char *stop = host_end(in.ptr, in.ptr + in.len, is_ipv6_ref);
    return stop == NULL ? 0 : (size_t)(stop - in.ptr);
}

/* ";" pname [ "=" pvalue ] runs without escapes, for parse_sip_fast(). Returns the end
 * of the parameters, or NULL for anything parse_uri_params() must judge. */
static inline const char *uri_params_plain(const char *p, const char *end)
{
    while (p < end && *p == ';') {
        const char *name_end = sip_char_run(p + 1, end, SIP_C_PARAM);
        if (name_end == p + 1) {
            return NULL;
        }
        p = name_end;
        if (p < end && *p == '=') {
            const char *value_end = sip_char_run(p + 1, end, SIP_C_PARAM);
            if (value_end == p + 1) {
                return NULL;
            }
            p = value_end;
        }
    }
    return p;
}

/*
 * The common SIP URI in one pass: [user@]host[:port][;params] without password,
 * escapes, IPv6 reference or headers. The run of host bytes is taken first: a host
 * ends at ':', ';', '?' or the end, anything else (an '@', or a user byte like '+')
 * makes it a user, which then must end at an '@'. No search for '@' is needed: no
 * class taken here holds '@', so a user run ends at the first one, where parse_sip()
 * splits, and a URI that parses to its end without taking an '@' has none. False
 * (fields untouched) for anything else, which parse_sip() then takes apart.
 */
static bool parse_sip_fast(const char *p, const char *end, struct sip_uri *out)
{
    struct sv user = SV_NULL;
    const char *q = sip_char_run(p, end, SIP_C_HOST);
    if (q < end && *q != ';' && *q != ':' && *q != '?') {
        const char *at = *q == '@' ? q : sip_char_run(q, end, SIP_C_USER);
        if (at == end || *at != '@' || at == p) {
            return false;
        }
        user = sip_sv(p, (size_t)(at - p));
        p = at + 1;
        q = sip_char_run(p, end, SIP_C_HOST);
    }
    if (q == p || *p == '-' || *p == '.') {
        return false;
    }
    struct sv host = sip_sv(p, (size_t)(q - p));
    uint16_t port = 0;
    bool has_port = q < end && *q == ':';
    if (has_port) {
        q = parse_port(q + 1, end, &port);
        if (q == NULL) {
            return false;
        }
    }
    const char *params = q;
    q = uri_params_plain(q, end);
    if (q != end) {
        return false;
    }
    out->user = user;
    out->host = host;
    out->port = port;
    out->has_port = has_port;
    if (params < end) {
        out->params = sip_sv(params, (size_t)(end - params));
    }
    return true;
}

/* absoluteURI (RFC 2396): the opaque rest must be 1*uric. */
static __attribute__((noinline)) int parse_other(struct sv in, const char *p, struct sip_uri *out,
                                                 struct sip_err *err)
{
    const char *end = in.ptr + in.len;
    const char *bad = NULL;
    size_t len = escaped_run(p, end, SIP_C_URIC, &bad);
    if (len == 0 || p + len != end) {
        return uri_fail(err, in, p + len, "bad absolute URI");
    }
    out->opaque = sip_sv(p, len);
    return 0;
}

int sip_uri_parse(struct sv in, struct sip_uri *out, struct sip_err *err)
{
    /* Field by field: a struct literal compiles to a rep stos here, which costs an
     * instruction per eight bytes. */
    out->scheme = SIP_URI_SIP;
    out->scheme_text = SV_NULL;
    out->user = SV_NULL;
    out->password = SV_NULL;
    out->host = SV_NULL;
    out->is_ipv6_ref = false;
    out->port = 0;
    out->has_port = false;
    out->params = SV_NULL;
    out->headers = SV_NULL;
    out->tel_number = SV_NULL;
    out->opaque = SV_NULL;
    out->raw = in;
    if (in.ptr == NULL) {
        return sip_err_set(err, -SW_EBADURI, 0, "missing URI", 400);
    }
    const char *p = parse_scheme(in, out);
    if (p == NULL) {
        return uri_fail(err, in, in.ptr, "bad URI scheme");
    }
    const char *end = in.ptr + in.len;
    switch (out->scheme) {
    case SIP_URI_SIP:
    case SIP_URI_SIPS:
        return parse_sip_fast(p, end, out) ? 0 : parse_sip(in, p, out, err);
    case SIP_URI_TEL:
        return parse_tel(in, p, out, err);
    default:
        return parse_other(in, p, out, err);
    }
}

/* Takes a parameter value up to the next ';' outside quotes, trimmed of LWS. */
static struct sv lenient_value_take(struct sv *cur)
{
    size_t j = 0;
    bool is_quoted = false;
    while (j < cur->len && (is_quoted || cur->ptr[j] != ';')) {
        if (cur->ptr[j] == '"') {
            is_quoted = !is_quoted;
        } else if (is_quoted && cur->ptr[j] == '\\') {
            j++;
        }
        j++;
    }
    j = j > cur->len ? cur->len : j;
    struct sv value = sip_lws_trim(sip_sv(cur->ptr, j));
    cur->ptr += j;
    cur->len -= j;
    return value;
}

/* Takes the next ";name[=value]" with LWS allowed around the separators; the name is
 * a run of non-separator bytes so that URI params (paramchar) and header params
 * (token) both work. Returns false at the end. */
static bool params_next_lenient(struct sv *cur, struct sv *name, struct sv *value)
{
    for (;;) {
        sip_lws_skip(cur);
        if (cur->len == 0 || cur->ptr[0] != ';') {
            return false;
        }
        cur->ptr++;
        cur->len--;
        sip_lws_skip(cur);
        size_t i = 0;
        while (i < cur->len && cur->ptr[i] != '=' && cur->ptr[i] != ';' &&
               !sip_char_is(cur->ptr[i], SIP_C_LWS)) {
            i++;
        }
        *name = sip_sv(cur->ptr, i);
        cur->ptr += i;
        cur->len -= i;
        sip_lws_skip(cur);
        *value = sip_sv(cur->ptr, 0);
        if (cur->len > 0 && cur->ptr[0] == '=') {
            cur->ptr++;
            cur->len--;
            sip_lws_skip(cur);
            *value = lenient_value_take(cur);
        }
        if (name->len > 0) {
            return true;
        }
    }
}

bool sip_params_find(struct sv params, struct sv name, struct sv *value)
{
    struct sv cur = params;
    struct sv param_name;
    struct sv param_value;
    if (cur.ptr == NULL) {
        return false;
    }
    while (params_next_lenient(&cur, &param_name, &param_value)) {
        if (sv_eq_nocase(param_name, name)) {
            *value = param_value;
            return true;
        }
    }
    return false;
}

/* gen-value without quotes: token / host / IPv6reference. */
static bool gen_value_take(struct sv *cur, struct sv *value)
{
    if (cur->len > 0 && cur->ptr[0] == '"') {
        const char *start = cur->ptr;
        struct sv inner;
        if (!sip_quoted_take(cur, &inner)) {
            return false;
        }
        *value = sip_sv(start, (size_t)(cur->ptr - start));
        return true;
    }
    size_t i = (size_t)(sip_char_run(cur->ptr, cur->ptr + cur->len, SIP_C_GVAL) - cur->ptr);
    if (i == 0) {
        return false;
    }
    *value = sip_sv(cur->ptr, i);
    cur->ptr += i;
    cur->len -= i;
    return true;
}

int sip_params_next_slow(struct sv *cur, struct sv *name, struct sv *value)
{
    sip_lws_skip(cur);
    if (cur->ptr == NULL || cur->len == 0) {
        return 0;
    }
    if (cur->ptr[0] != ';') {
        return -1;
    }
    cur->ptr++;
    cur->len--;
    sip_lws_skip(cur);
    if (!sip_token_take(cur, name)) {
        return -1;
    }
    *value = SV_NULL;
    struct sv look = *cur;
    sip_lws_skip(&look);
    if (look.len > 0 && look.ptr[0] == '=') {
        look.ptr++;
        look.len--;
        sip_lws_skip(&look);
        if (!gen_value_take(&look, value)) {
            return -1;
        }
        *cur = look;
    }
    return 1;
}

int sip_uri_unescape(struct sv in, char *out, size_t cap, size_t *len)
{
    size_t used = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (c == '%') {
            if (in.len - i < 3) {
                return -SW_EBADURI;
            }
            int byte = sv_hex_byte(in.ptr + i + 1);
            if (byte < 0) {
                return -SW_EBADURI;
            }
            c = (char)byte;
            i += 2;
        }
        if (used >= cap) {
            return -SW_EFULL;
        }
        out[used++] = c;
    }
    *len = used;
    return 0;
}

/* The next decoded byte of `s` at *i, or -1 at the end or on a malformed escape. */
static int next_decoded(struct sv s, size_t *i)
{
    if (*i >= s.len) {
        return -1;
    }
    char c = s.ptr[*i];
    if (c != '%') {
        (*i)++;
        return (unsigned char)c;
    }
    if (s.len - *i < 3) {
        return -2;
    }
    int byte = sv_hex_byte(s.ptr + *i + 1);
    if (byte < 0) {
        return -2;
    }
    *i += 3;
    return byte;
}

bool sip_uri_escaped_eq(struct sv a, struct sv b)
{
    size_t i = 0;
    size_t j = 0;
    for (;;) {
        int ca = next_decoded(a, &i);
        int cb = next_decoded(b, &j);
        if (ca == -2 || cb == -2) {
            return false;
        }
        if (ca != cb) {
            return false;
        }
        if (ca == -1) {
            return true;
        }
    }
}
