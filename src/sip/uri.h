/*
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966) and any other absoluteURI
 * (RFC 2396, kept opaque). Zero-copy: every view of `struct sip_uri` points into the
 * input; nothing is allocated. Escapes (%XX) stay escaped in the views; compare user
 * parts with sip_uri_unescape(). IPv6 references follow RFC 5118 (the three-colon
 * form of its §4.10 is tolerated). Pure functions, thread-safe.
 */
#ifndef SW_SIP_URI_H
#define SW_SIP_URI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "sip/chars.h"
#include "sip/err.h"

enum sip_uri_scheme {
    SIP_URI_SIP,
    SIP_URI_SIPS,
    SIP_URI_TEL,
    SIP_URI_OTHER,
};

struct sip_uri {
    enum sip_uri_scheme scheme;
    struct sv scheme_text; /* as written, e.g. "SIP" or "soap.beep" */
    struct sv user;        /* absent when there is no userinfo; escapes kept */
    struct sv password;    /* absent without ":" in the userinfo */
    struct sv host;        /* an IPv6 reference keeps its brackets: "[2001:db8::1]" */
    bool is_ipv6_ref;
    uint16_t port;
    bool has_port;
    struct sv params;     /* ";a=b;lr" raw, starting at the first ';' (absent: none) */
    struct sv headers;    /* after '?', without it (absent: none) */
    struct sv tel_number; /* tel: the global or local number, before its parameters */
    struct sv opaque;     /* SIP_URI_OTHER: everything after "scheme:" */
    struct sv raw;        /* the whole URI */
};

/*
 * Parses the URI `in` (no surrounding LWS or <>). Returns 0, or -SW_EBADURI with
 * err->pos set to the offset of the first byte that does not fit the grammar and
 * err->status = 400. For SIP_URI_OTHER only the scheme and the uric characters are
 * checked (RFC 3261 §8.2.2.1 leaves the meaning to 416).
 */
int sip_uri_parse(struct sv in, struct sip_uri *out, struct sip_err *err);

/*
 * The length of the host (hostname, IPv4 address or bracketed IPv6 reference) at the
 * start of `in`, or 0 when `in` does not start with one. `*is_ipv6_ref` tells the
 * bracketed form. Used for URIs and Via sent-by.
 */
size_t sip_host_len(struct sv in, bool *is_ipv6_ref);

/*
 * Looks up parameter `name` (ASCII case-insensitive) in a parameter list such as
 * ";transport=tcp;lr" or " ; tag = 12" (URI params or header params; LWS around ';'
 * and '=' is skipped). Returns true when present: `*value` gets the value (trimmed,
 * quotes kept), or an empty present view for a parameter without "=value".
 */
bool sip_params_find(struct sv params, struct sv name, struct sv *value);

/* Private to sip_params_next(): everything but the plain form (LWS around the
 * separators, quoted values, the end with LWS, errors), out of line. */
int sip_params_next_slow(struct sv *cur, struct sv *name, struct sv *value);

/* The common ";name" or ";name=value" without LWS or quotes, one class run per part;
 * false (cursor unchanged) for anything else. */
static inline bool sip_params_next_plain(struct sv *cur, struct sv *name, struct sv *value)
{
    if (cur->len < 2 || cur->ptr[0] != ';') {
        return false;
    }
    const char *end = cur->ptr + cur->len;
    const char *n = cur->ptr + 1;
    const char *n_end = sip_char_run(n, end, SIP_C_TOKEN);
    if (n_end == n) {
        return false;
    }
    const char *stop = n_end;
    *value = SV_NULL;
    if (n_end < end && *n_end == '=') {
        stop = sip_char_run(n_end + 1, end, SIP_C_GVAL);
        if (stop == n_end + 1) {
            return false;
        }
        *value = (struct sv){ .ptr = n_end + 1, .len = (size_t)(stop - n_end - 1) };
    }
    if (stop < end && *stop != ';') {
        return false;
    }
    *name = (struct sv){ .ptr = n, .len = (size_t)(n_end - n) };
    cur->len -= (size_t)(stop - cur->ptr);
    cur->ptr = stop;
    return true;
}

/*
 * Iterates a parameter list: takes the next ";name[=value]" from `*cur`. Returns 1 with
 * `*name`/`*value` set (value absent when there is no '='), 0 at the end, or -1 when the
 * list is malformed (an empty name as in ";;", a stray byte, an unterminated quote).
 * LWS around ';' and '=' is allowed (header params, RFC 3261 §25.1 SEMI/EQUAL). Values
 * are a token, a host (IPv6 reference included) or a quoted-string (quotes kept).
 * The cursor always advances or the call returns 0/-1. Inline: the parameter loops of
 * Via, name-addr and Contact call it per parameter.
 */
static inline int sip_params_next(struct sv *cur, struct sv *name, struct sv *value)
{
    if (sip_params_next_plain(cur, name, value)) {
        return 1;
    }
    if (cur->len == 0) {
        return 0;
    }
    return sip_params_next_slow(cur, name, value);
}

/*
 * Decodes the %XX escapes of `in` into `out` (capacity `cap`) and stores the decoded
 * length in `*len`. Decoded NULs are kept as bytes (RFC 4475 §3.1.1.4), so the result
 * is a byte string, not a C string. Returns 0, -SW_EBADURI for a malformed escape, or
 * -SW_EFULL when `out` is too small.
 */
int sip_uri_unescape(struct sv in, char *out, size_t cap, size_t *len);

/*
 * Compares two escaped strings as RFC 3261 §19.1.4 compares user parts: escapes are
 * decoded before the comparison, which is byte-exact (case-sensitive).
 */
bool sip_uri_escaped_eq(struct sv a, struct sv b);

#endif
