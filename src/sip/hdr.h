/*
 * Header field names and values (RFC 3261 §7.3, §20): the identifiers of the headers
 * the gateway knows, name lookup including the compact forms, and the scanners every
 * typed header parser shares: comma-separated lists that respect quotes and <...>,
 * and LWS that may contain folds (a folded value is a view with the CRLF inside;
 * nothing is ever rewritten in the receive buffer). Pure functions, thread-safe.
 */
#ifndef SW_SIP_HDR_H
#define SW_SIP_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/sv.h"
#include "sip/chars.h"

enum sip_hdr_id {
    SIP_HDR_OTHER,
    SIP_HDR_VIA,
    SIP_HDR_FROM,
    SIP_HDR_TO,
    SIP_HDR_CALL_ID,
    SIP_HDR_CSEQ,
    SIP_HDR_CONTACT,
    SIP_HDR_MAX_FORWARDS,
    SIP_HDR_CONTENT_LENGTH,
    SIP_HDR_CONTENT_TYPE,
    SIP_HDR_ROUTE,
    SIP_HDR_RECORD_ROUTE,
    SIP_HDR_AUTHORIZATION,
    SIP_HDR_PROXY_AUTHORIZATION,
    SIP_HDR_WWW_AUTHENTICATE,
    SIP_HDR_PROXY_AUTHENTICATE,
    SIP_HDR_USER_AGENT,
    SIP_HDR_SERVER,
    SIP_HDR_EXPIRES,
    SIP_HDR_ALLOW,
    SIP_HDR_SUPPORTED,
    SIP_HDR_REQUIRE,
    SIP_HDR_PROXY_REQUIRE,
    SIP_HDR_RSEQ,
    SIP_HDR_RACK,
    SIP_HDR_EVENT,
    SIP_HDR_SUBJECT,
    SIP_HDR_ACCEPT,
    SIP_HDR_CONTENT_ENCODING,
    SIP_HDR_P_ASSERTED_IDENTITY,
    SIP_HDR_P_PREFERRED_IDENTITY,
    SIP_HDR_REMOTE_PARTY_ID,
    SIP_HDR_IDENTITY,
    SIP_HDR_DATE,
    SIP_HDR_RETRY_AFTER,
    SIP_HDR_REFER_TO,
    SIP_HDR_REFERRED_BY,
    SIP_HDR_ORGANIZATION,
    SIP_HDR_WARNING,
    SIP_HDR_PRIVACY,
    SIP_HDR_SESSION_EXPIRES,
    SIP_HDR_MIN_SE,
    SIP_HDR_REASON,
    SIP_HDR_PATH,
    SIP_HDR_UNSUPPORTED,
    SIP_HDR_TIMESTAMP,
    SIP_HDR_ALLOW_EVENTS,
    SIP_HDR_ACCEPT_CONTACT,
    SIP_HDR_REJECT_CONTACT,
    SIP_HDR_REQUEST_DISPOSITION,
    SIP_HDR_ACCEPT_ENCODING,
    SIP_HDR_ACCEPT_LANGUAGE,
    SIP_HDR_ALERT_INFO,
    SIP_HDR_CALL_INFO,
    SIP_HDR_CONTENT_DISPOSITION,
    SIP_HDR_CONTENT_LANGUAGE,
    SIP_HDR_ERROR_INFO,
    SIP_HDR_IN_REPLY_TO,
    SIP_HDR_MIME_VERSION,
    SIP_HDR_MIN_EXPIRES,
    SIP_HDR_PRIORITY,
    SIP_HDR_REPLY_TO,
    SIP_HDR_AUTHENTICATION_INFO,
    SIP_HDR_SUBSCRIPTION_STATE,
    SIP_HDR_SERVICE_ROUTE,
    SIP_HDR_IDENTITY_INFO,
    SIP_HDR_SIP_ETAG,
    SIP_HDR_SIP_IF_MATCH,
    SIP_HDR_COUNT /* not a header: the number of identifiers */
};

/* One header line of the index. Both views point into the message buffer. */
struct sip_hdr {
    enum sip_hdr_id id;
    struct sv name;  /* as written, e.g. "v" or "VIA" */
    struct sv value; /* without leading/trailing LWS; folds (CRLF SP) stay inside */
};

/*
 * The identifier of header name `name` (ASCII case-insensitive, RFC 3261 §7.3.1),
 * including the compact forms of RFC 3261 §7.3.3 and extensions (i m f t v l c k s e o
 * u r b x y j d a). SIP_HDR_OTHER for every other name.
 */
enum sip_hdr_id sip_hdr_lookup(struct sv name);

/*
 * Recognizes the name of the header line [line, end) (not a continuation): the bytes
 * before the first ':' without trailing SP/HTAB. Returns the name's length (0 when the
 * line has no ':' or the name is empty), with `*colon` at the ':' and `*id` as
 * sip_hdr_lookup() would say. The name's bytes are not checked: a known name is made of
 * token bytes by construction, an unknown one (SIP_HDR_OTHER) is the caller's to check.
 */
size_t sip_hdr_name_scan(const char *line, const char *end, const char **colon,
                         enum sip_hdr_id *id);

/* The canonical long name of `id` ("Call-ID", "WWW-Authenticate"...); "" for OTHER. */
struct sv sip_hdr_name(enum sip_hdr_id id);

/*
 * True for headers whose grammar is a comma-separated list (Via, Contact, Route,
 * Record-Route, Allow, Supported, Require...), so several values may share one line
 * (RFC 3261 §7.3.1). Such a header counts once per value for "exactly once" rules.
 */
bool sip_hdr_is_list(enum sip_hdr_id id);

/* A view of `len` bytes at `ptr`; sv_make() without a call, for the scanners' hot loops. */
static inline struct sv sip_sv(const char *ptr, size_t len)
{
    return (struct sv){ .ptr = ptr, .len = len };
}

/* Skips LWS (SP, HTAB and folds) from the front of `*cur`. */
static inline void sip_lws_skip(struct sv *cur)
{
    while (cur->len > 0 && sip_char_is(cur->ptr[0], SIP_C_LWS)) {
        cur->ptr++;
        cur->len--;
    }
}

/* The view without leading and trailing LWS (including folds). */
static inline struct sv sip_lws_trim(struct sv s)
{
    if (s.ptr == NULL) {
        return s;
    }
    sip_lws_skip(&s);
    while (s.len > 0 && sip_char_is(s.ptr[s.len - 1], SIP_C_LWS)) {
        s.len--;
    }
    return s;
}

/*
 * sv_to_u64() / sv_to_u32() (base/sv.h) with the same contract: every byte a digit, not
 * empty, no overflow, leading zeros allowed. Up to 19 (9) digits cannot overflow, so
 * they take one subtraction and one compare per digit; longer views go to base/sv.h.
 */
static inline bool sip_digits_u64(struct sv s, uint64_t *out)
{
    if (s.len == 0 || s.len > 19) {
        return sv_to_u64(s, out);
    }
    uint64_t value = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned digit = (unsigned)(unsigned char)s.ptr[i] - '0';
        if (digit > 9) {
            return false;
        }
        value = value * 10 + digit;
    }
    *out = value;
    return true;
}

static inline bool sip_digits_u32(struct sv s, uint32_t *out)
{
    if (s.len > 9) {
        return sv_to_u32(s, out);
    }
    uint64_t value = 0; /* nine digits always fit 32 bits */
    if (!sip_digits_u64(s, &value)) {
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

/*
 * ASCII case-insensitive equality of a token with a lower-case literal of `len` bytes.
 * Tokens are made of bytes whose only ones that OR 0x20 maps onto a lower-case letter
 * are the upper-case letters themselves, so the fold is exact, eight (four) bytes at a
 * time; an inline function, as the parameter loops call it per parameter.
 */
static inline bool sip_token_eq_lower(struct sv token, const char *lower, size_t len)
{
    if (token.len != len) {
        return false;
    }
    const char *text = token.ptr;
    if (len >= 8) {
        const uint64_t fold = 0x2020202020202020ULL;
        uint64_t a;
        uint64_t b;
        for (size_t i = 0; i + 8 <= len; i += 8) {
            memcpy(&a, text + i, 8);
            memcpy(&b, lower + i, 8);
            if ((a | fold) != b) {
                return false;
            }
        }
        /* The last eight bytes, overlapping the loop's: no byte tail. */
        memcpy(&a, text + len - 8, 8);
        memcpy(&b, lower + len - 8, 8);
        return (a | fold) == b;
    }
    if (len >= 4) {
        const uint32_t fold = 0x20202020U;
        uint32_t a;
        uint32_t b;
        uint32_t c;
        uint32_t d;
        memcpy(&a, text, 4);
        memcpy(&b, lower, 4);
        memcpy(&c, text + len - 4, 4);
        memcpy(&d, lower + len - 4, 4);
        return ((a | fold) == b) & ((c | fold) == d);
    }
    for (size_t i = 0; i < len; i++) {
        if ((char)(text[i] | 0x20) != lower[i]) {
            return false;
        }
    }
    return true;
}

/*
 * Takes the next element of a comma-separated list from `*cur` into `*item` (trimmed
 * of LWS). Commas inside quoted strings (with \-escapes) and inside <...> do not
 * separate. Returns false when `*cur` holds nothing more. An empty element (",,")
 * yields an empty `item`; callers of grammars that forbid it reject it. `*cur` always
 * shrinks, so a loop over this function ends.
 */
bool sip_list_next(struct sv *cur, struct sv *item);

/*
 * Takes a token (RFC 3261 §25.1) from the front of `*cur` into `*out`; false (cursor
 * unchanged) when `*cur` does not start with a token character.
 */
bool sip_token_take(struct sv *cur, struct sv *out);

/*
 * Takes a quoted-string from the front of `*cur` (which must start with '"') into
 * `*out`, without the quotes; quoted-pairs stay escaped in the view. Returns false
 * (cursor unchanged) when it is not terminated or holds a byte qdtext does not allow.
 */
bool sip_quoted_take(struct sv *cur, struct sv *out);

#endif
