#include "sip/via.h"

#include <string.h>

#include "base/err.h"
#include "sip/chars.h"
#include "sip/hdr.h"
#include "sip/uri.h"

static int via_fail(struct sip_err *err, struct sv in, const char *at, const char *reason)
{
    return sip_err_set(err, -SW_EBADMSG, (size_t)(at - in.ptr), reason, 400);
}

/* SWS "/" SWS between the parts of sent-protocol. */
static bool slash_take(struct sv *cur)
{
    sip_lws_skip(cur);
    if (cur->len == 0 || cur->ptr[0] != '/') {
        return false;
    }
    cur->ptr++;
    cur->len--;
    sip_lws_skip(cur);
    return true;
}

/* sent-protocol = protocol-name SLASH protocol-version SLASH transport */
static int parse_protocol(struct sv in, struct sv *cur, struct sip_via *out, struct sip_err *err)
{
    struct sv name;
    struct sv version;
    if (!sip_token_take(cur, &name) || !slash_take(cur) || !sip_token_take(cur, &version)) {
        return via_fail(err, in, cur->ptr, "bad Via protocol");
    }
    out->protocol = sip_sv(name.ptr, (size_t)(version.ptr + version.len - name.ptr));
    if (!slash_take(cur) || !sip_token_take(cur, &out->transport)) {
        return via_fail(err, in, cur->ptr, "bad Via transport");
    }
    return 0;
}

/* sent-by = host [ COLON port ] */
static int parse_sent_by(struct sv in, struct sv *cur, struct sip_via *out, struct sip_err *err)
{
    bool is_ipv6_ref = false;
    size_t i = sip_host_len(*cur, &is_ipv6_ref);
    if (i == 0) {
        return via_fail(err, in, cur->ptr, "bad Via sent-by");
    }
    out->host = sip_sv(cur->ptr, i);
    cur->ptr += i;
    cur->len -= i;
    struct sv look = *cur;
    sip_lws_skip(&look);
    if (look.len > 0 && look.ptr[0] == ':') {
        look.ptr++;
        look.len--;
        sip_lws_skip(&look);
        size_t digits = 0;
        uint32_t port = 0;
        while (digits < look.len && sip_char_is(look.ptr[digits], SIP_C_DIGIT) && port <= 65535) {
            port = port * 10 + (uint32_t)(look.ptr[digits] - '0');
            digits++;
        }
        if (digits == 0 || port > 65535) {
            return via_fail(err, in, look.ptr, "bad Via port");
        }
        out->port = (uint16_t)port;
        out->has_port = true;
        look.ptr += digits;
        look.len -= digits;
        *cur = look;
    }
    return 0;
}

/* The one-pass path is forced inline (always_inline below), so the common Via pays
 * no call between its steps. */

static inline __attribute__((always_inline)) void via_param_store(struct sip_via *out,
                                                                  struct sv name, struct sv value)
{
    /* The length picks the candidate, so each parameter costs one comparison. */
    switch (name.len) {
    case 6:
        if (sip_token_eq_lower(name, "branch", 6)) {
            out->branch = value;
        }
        break;
    case 8:
        if (sip_token_eq_lower(name, "received", 8)) {
            out->received = value;
        }
        break;
    case 5:
        if (sip_token_eq_lower(name, "rport", 5)) {
            out->has_rport = true;
            out->rport = value.ptr == NULL ? sip_sv(name.ptr + name.len, 0) : value;
        } else if (sip_token_eq_lower(name, "maddr", 5)) {
            out->maddr = value;
        }
        break;
    case 3:
        if (sip_token_eq_lower(name, "ttl", 3)) {
            out->ttl = value;
        }
        break;
    default:
        break;
    }
}

/* True when `p` (8 readable bytes) starts with "SIP/2.0/", "SIP" in any case: the fold
 * (OR 0x20) of the first three bytes maps only 'S', 'I', 'P' onto 's', 'i', 'p'. */
static inline bool starts_with_sip20(const char *p)
{
    uint64_t word;
    memcpy(&word, p, 8);
    uint64_t want;
    memcpy(&want, "sip/2.0/", 8);
    uint64_t fold = 0;
    memcpy(&fold, "\x20\x20\x20\0\0\0\0\0", 8);
    return (word | fold) == want;
}

/* The common ";name[=value]" parameters of a Via, stored as sip_via_parse() stores
 * them; false for anything params_next_plain() would not take. */
static inline __attribute__((always_inline)) bool via_params_fast(struct sv cur,
                                                                  struct sip_via *out)
{
    while (cur.len > 0) {
        struct sv name;
        struct sv value;
        if (sip_params_next(&cur, &name, &value) != 1 || name.ptr == NULL) {
            return false;
        }
        via_param_store(out, name, value);
    }
    return true;
}

/*
 * The common via-parm in one pass: "SIP/2.0/" transport SP host [":" port] params,
 * with no LWS inside sent-protocol or around ':', no IPv6 reference and plain
 * parameters. Fills `out` as the general parse would; false for anything else (then
 * `out` is to be reset and parsed again by the general path, which reports errors).
 */
static inline __attribute__((always_inline)) bool via_parse_fast(struct sv cur, struct sip_via *out)
{
    const char *p = cur.ptr;
    const char *end = cur.ptr + cur.len;
    if (cur.len < 10 || !starts_with_sip20(p)) {
        return false;
    }
    const char *transport_end = sip_char_run(p + 8, end, SIP_C_TOKEN);
    if (transport_end == p + 8 || transport_end == end || *transport_end != ' ') {
        return false;
    }
    out->protocol = sip_sv(p, 7);
    out->transport = sip_sv(p + 8, (size_t)(transport_end - p - 8));
    const char *host = transport_end + 1;
    if (host == end || !sip_char_is(*host, SIP_C_HOST) || *host == '-' || *host == '.') {
        return false;
    }
    const char *q = sip_char_run(host, end, SIP_C_HOST);
    out->host = sip_sv(host, (size_t)(q - host));
    if (q < end && *q == ':') {
        const char *digits = ++q;
        uint32_t port = 0;
        unsigned digit = 0;
        while (q < end && (digit = (unsigned)(unsigned char)*q - '0') <= 9 && port <= 65535) {
            port = port * 10 + digit;
            q++;
        }
        if (q == digits || port > 65535) {
            return false;
        }
        out->port = (uint16_t)port;
        out->has_port = true;
    }
    if (q == end) {
        return true;
    }
    if (*q != ';') {
        return false;
    }
    out->params = sip_sv(q, (size_t)(end - q));
    return via_params_fast(out->params, out);
}

/* The empty via-parm of `in`, field by field: a struct literal compiles to a rep stos,
 * an instruction per eight bytes. */
static inline void via_clear(struct sip_via *out, struct sv in)
{
    out->protocol = SV_NULL;
    out->transport = SV_NULL;
    out->host = SV_NULL;
    out->branch = SV_NULL;
    out->received = SV_NULL;
    out->maddr = SV_NULL;
    out->ttl = SV_NULL;
    out->rport = SV_NULL;
    out->params = SV_NULL;
    out->raw = in;
    out->port = 0;
    out->has_port = false;
    out->has_rport = false;
}

int sip_via_parse(struct sv in, struct sip_via *out, struct sip_err *err)
{
    via_clear(out, in);
    struct sv cur = sip_lws_trim(in);
    if (cur.ptr == NULL || cur.len == 0) {
        return sip_err_set(err, -SW_EBADMSG, 0, "empty Via", 400);
    }
    if (via_parse_fast(cur, out)) {
        return 0;
    }
    via_clear(out, in);
    int rc = parse_protocol(in, &cur, out, err);
    if (rc != 0) {
        return rc;
    }
    if (cur.len == 0 || !sip_char_is(cur.ptr[0], SIP_C_LWS)) {
        return via_fail(err, in, cur.ptr, "missing LWS before Via sent-by");
    }
    sip_lws_skip(&cur);
    rc = parse_sent_by(in, &cur, out, err);
    if (rc != 0) {
        return rc;
    }
    struct sv rest = cur;
    sip_lws_skip(&rest);
    if (rest.len > 0) {
        out->params = rest;
    }
    struct sv name;
    struct sv value;
    while ((rc = sip_params_next(&cur, &name, &value)) == 1) {
        via_param_store(out, name, value);
    }
    if (rc < 0) {
        return via_fail(err, in, cur.ptr, "bad Via parameter");
    }
    if (out->branch.ptr != NULL && out->branch.len == 0) {
        return via_fail(err, in, out->branch.ptr, "empty Via branch");
    }
    return 0;
}

bool sip_via_has_rfc3261_branch(const struct sip_via *via)
{
    return via->branch.len > sizeof(SIP_BRANCH_COOKIE) - 1 &&
           memcmp(via->branch.ptr, SIP_BRANCH_COOKIE, sizeof(SIP_BRANCH_COOKIE) - 1) == 0;
}
