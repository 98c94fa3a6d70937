#include "sip/nameaddr.h"

#include <string.h>

#include "base/err.h"
#include "sip/chars.h"
#include "sip/hdr.h"
#include "sip/scan.h"

static int na_fail(struct sip_err *err, struct sv in, const char *at, const char *reason)
{
    return sip_err_set(err, -SW_EBADMSG, (size_t)(at - in.ptr), reason, 400);
}

/* The steps of a name-addr are forced inline (always_inline below): GCC keeps them
 * out of line for their size, and each call costs more than the step on the common
 * short value (bench/parser/run.sh). */

/* Checks the header parameters in `params` and extracts the tag, and for a Contact
 * (`contact` not NULL) its expires and q, in the same walk. */
static inline __attribute__((always_inline)) int parse_header_params(struct sv in, struct sv params,
                                                                     struct sip_nameaddr *out,
                                                                     struct sip_contact *contact,
                                                                     struct sip_err *err)
{
    struct sv cur = params;
    struct sv name;
    struct sv value;
    int rc;
    while ((rc = sip_params_next(&cur, &name, &value)) == 1) {
        /* The length picks the one candidate name to compare. */
        if (name.len == 3 && sip_token_eq_lower(name, "tag", 3)) {
            if (out->tag.ptr != NULL || value.ptr == NULL || value.len == 0) {
                return na_fail(err, in, name.ptr, "bad or repeated tag parameter");
            }
            out->tag = value;
        } else if (contact == NULL) {
            continue;
        } else if (name.len == 7 && sip_token_eq_lower(name, "expires", 7)) {
            contact->expires = value.ptr == NULL ? sip_sv(name.ptr + name.len, 0) : value;
        } else if (name.len == 1 && (name.ptr[0] | 0x20) == 'q') {
            contact->q = value.ptr == NULL ? sip_sv(name.ptr + name.len, 0) : value;
        }
    }
    if (rc < 0) {
        return na_fail(err, in, cur.ptr, "bad header parameter");
    }
    return 0;
}

/* Splits a name-addr: display name (quoted or tokens) then <URI>. `lt` is the '<'. */
static inline __attribute__((always_inline)) int
parse_angle(struct sv in, struct sv cur, const char *lt, struct sip_nameaddr *out,
            struct sip_contact *contact, struct sip_err *err)
{
    const char *end = cur.ptr + cur.len;
    const char *gt = sip_scan_byte(lt + 1, end, '>');
    if (gt == end) {
        return na_fail(err, in, lt, "missing '>'");
    }
    out->uri_text = sip_sv(lt + 1, (size_t)(gt - lt - 1));
    int rc = sip_uri_parse(out->uri_text, &out->uri, err);
    if (rc != 0) {
        if (err != NULL) {
            err->pos += (size_t)(lt + 1 - in.ptr);
        }
        return rc;
    }
    struct sv rest = sip_sv(gt + 1, (size_t)(end - gt - 1));
    sip_lws_skip(&rest);
    if (rest.len == 0) {
        return 0;
    }
    out->params = rest;
    return parse_header_params(in, rest, out, contact, err);
}

/* addr-spec: the URI ends at the first ';' (header params follow) or LWS. */
static int parse_addr_spec(struct sv in, struct sv cur, struct sip_nameaddr *out,
                           struct sip_contact *contact, struct sip_err *err)
{
    size_t i = 0;
    while (i < cur.len && cur.ptr[i] != ';' && !sip_char_is(cur.ptr[i], SIP_C_LWS)) {
        i++;
    }
    out->uri_text = sip_sv(cur.ptr, i);
    /* RFC 3261 §20: a URI with ',', '?' or ';' must use the name-addr form, otherwise
     * its header part would be read as header parameters (RFC 4475 §3.1.2.13). */
    if (memchr(cur.ptr, '?', i) != NULL || memchr(cur.ptr, ',', i) != NULL) {
        return na_fail(err, in, cur.ptr, "URI with '?' or ',' outside <>");
    }
    int rc = sip_uri_parse(out->uri_text, &out->uri, err);
    if (rc != 0) {
        if (err != NULL) {
            err->pos += (size_t)(cur.ptr - in.ptr);
        }
        return rc;
    }
    struct sv rest = sip_sv(cur.ptr + i, cur.len - i);
    sip_lws_skip(&rest);
    if (rest.len > 0) {
        out->params = rest;
    }
    return parse_header_params(in, rest, out, contact, err);
}

static inline __attribute__((always_inline)) int nameaddr_split(struct sv in,
                                                                struct sip_nameaddr *out,
                                                                struct sip_contact *contact,
                                                                struct sip_err *err)
{
    struct sv cur = sip_lws_trim(in);
    if (cur.ptr == NULL || cur.len == 0) {
        return sip_err_set(err, -SW_EBADMSG, 0, "empty address", 400);
    }
    if (cur.ptr[0] == '"') {
        struct sv display;
        if (!sip_quoted_take(&cur, &display)) {
            return na_fail(err, in, cur.ptr, "unterminated quoted display name");
        }
        out->display = display;
        sip_lws_skip(&cur);
        if (cur.len == 0 || cur.ptr[0] != '<') {
            return na_fail(err, in, cur.ptr, "missing '<' after display name");
        }
        return parse_angle(in, cur, cur.ptr, out, contact, err);
    }
    /* display-name = *(token LWS): scan tokens and LWS; stopping at '<' makes it a
     * name-addr, anything else an addr-spec. */
    size_t i =
        (size_t)(sip_char_run(cur.ptr, cur.ptr + cur.len, SIP_C_TOKEN | SIP_C_LWS) - cur.ptr);
    if (i < cur.len && cur.ptr[i] == '<') {
        struct sv display = sip_lws_trim(sip_sv(cur.ptr, i));
        if (display.len > 0) {
            out->display = display;
        }
        return parse_angle(in, cur, cur.ptr + i, out, contact, err);
    }
    return parse_addr_spec(in, cur, out, contact, err);
}

/* Fills `out` field by field: sip_uri_parse() sets every field of the URI, so the
 * whole struct is cleared only when the parse fails (then it is all zero). */
static inline __attribute__((always_inline)) int nameaddr_parse(struct sv in,
                                                                struct sip_nameaddr *out,
                                                                struct sip_contact *contact,
                                                                struct sip_err *err)
{
    out->display = SV_NULL;
    out->uri_text = SV_NULL;
    out->params = SV_NULL;
    out->tag = SV_NULL;
    int rc = nameaddr_split(in, out, contact, err);
    if (rc != 0) {
        *out = (struct sip_nameaddr){ 0 };
    }
    return rc;
}

int sip_nameaddr_parse(struct sv in, struct sip_nameaddr *out, struct sip_err *err)
{
    return nameaddr_parse(in, out, NULL, err);
}

int sip_contact_parse(struct sv in, struct sip_contact *out, bool *is_star, struct sip_err *err)
{
    out->expires = SV_NULL;
    out->q = SV_NULL;
    *is_star = false;
    struct sv cur = sip_lws_trim(in);
    if (cur.len == 1 && cur.ptr[0] == '*') {
        out->addr = (struct sip_nameaddr){ 0 };
        *is_star = true;
        return 0;
    }
    return nameaddr_parse(in, &out->addr, out, err);
}
