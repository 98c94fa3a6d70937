#include "sip/hdr.h"

#include <stdint.h>
#include <string.h>

#include "sip/chars.h"

struct hdr_name {
    const char *lower; /* lower-case name; NULL ends a bucket */
    unsigned char len;
    enum sip_hdr_id id;
};

#define N(text, ident)                                 \
    {                                                  \
        text, (unsigned char)(sizeof(text) - 1), ident \
    }
#define END                    \
    {                          \
        NULL, 0, SIP_HDR_OTHER \
    }

/* One bucket per first letter, the headers of every INVITE first in each bucket, so
 * that a typical message resolves each name with one or two comparisons. */
static const struct hdr_name names_a[] = {
    N("allow", SIP_HDR_ALLOW),
    N("accept", SIP_HDR_ACCEPT),
    N("authorization", SIP_HDR_AUTHORIZATION),
    N("allow-events", SIP_HDR_ALLOW_EVENTS),
    N("accept-contact", SIP_HDR_ACCEPT_CONTACT),
    N("accept-encoding", SIP_HDR_ACCEPT_ENCODING),
    N("accept-language", SIP_HDR_ACCEPT_LANGUAGE),
    N("alert-info", SIP_HDR_ALERT_INFO),
    N("authentication-info", SIP_HDR_AUTHENTICATION_INFO),
    END,
};
static const struct hdr_name names_c[] = {
    N("call-id", SIP_HDR_CALL_ID),
    N("cseq", SIP_HDR_CSEQ),
    N("contact", SIP_HDR_CONTACT),
    N("content-length", SIP_HDR_CONTENT_LENGTH),
    N("content-type", SIP_HDR_CONTENT_TYPE),
    N("content-encoding", SIP_HDR_CONTENT_ENCODING),
    N("call-info", SIP_HDR_CALL_INFO),
    N("content-disposition", SIP_HDR_CONTENT_DISPOSITION),
    N("content-language", SIP_HDR_CONTENT_LANGUAGE),
    END,
};
static const struct hdr_name names_d[] = { N("date", SIP_HDR_DATE), END };
static const struct hdr_name names_e[] = {
    N("expires", SIP_HDR_EXPIRES),
    N("event", SIP_HDR_EVENT),
    N("error-info", SIP_HDR_ERROR_INFO),
    END,
};
static const struct hdr_name names_f[] = { N("from", SIP_HDR_FROM), END };
static const struct hdr_name names_i[] = {
    N("identity", SIP_HDR_IDENTITY),
    N("identity-info", SIP_HDR_IDENTITY_INFO),
    N("in-reply-to", SIP_HDR_IN_REPLY_TO),
    END,
};
static const struct hdr_name names_m[] = {
    N("max-forwards", SIP_HDR_MAX_FORWARDS),
    N("min-se", SIP_HDR_MIN_SE),
    N("min-expires", SIP_HDR_MIN_EXPIRES),
    N("mime-version", SIP_HDR_MIME_VERSION),
    END,
};
static const struct hdr_name names_o[] = { N("organization", SIP_HDR_ORGANIZATION), END };
static const struct hdr_name names_p[] = {
    N("proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION),
    N("p-asserted-identity", SIP_HDR_P_ASSERTED_IDENTITY),
    N("p-preferred-identity", SIP_HDR_P_PREFERRED_IDENTITY),
    N("privacy", SIP_HDR_PRIVACY),
    N("proxy-authenticate", SIP_HDR_PROXY_AUTHENTICATE),
    N("proxy-require", SIP_HDR_PROXY_REQUIRE),
    N("path", SIP_HDR_PATH),
    N("priority", SIP_HDR_PRIORITY),
    END,
};
static const struct hdr_name names_r[] = {
    N("route", SIP_HDR_ROUTE),
    N("record-route", SIP_HDR_RECORD_ROUTE),
    N("require", SIP_HDR_REQUIRE),
    N("rseq", SIP_HDR_RSEQ),
    N("rack", SIP_HDR_RACK),
    N("reason", SIP_HDR_REASON),
    N("refer-to", SIP_HDR_REFER_TO),
    N("referred-by", SIP_HDR_REFERRED_BY),
    N("remote-party-id", SIP_HDR_REMOTE_PARTY_ID),
    N("retry-after", SIP_HDR_RETRY_AFTER),
    N("reply-to", SIP_HDR_REPLY_TO),
    N("reject-contact", SIP_HDR_REJECT_CONTACT),
    N("request-disposition", SIP_HDR_REQUEST_DISPOSITION),
    END,
};
static const struct hdr_name names_s[] = {
    N("supported", SIP_HDR_SUPPORTED),
    N("server", SIP_HDR_SERVER),
    N("subject", SIP_HDR_SUBJECT),
    N("session-expires", SIP_HDR_SESSION_EXPIRES),
    N("subscription-state", SIP_HDR_SUBSCRIPTION_STATE),
    N("service-route", SIP_HDR_SERVICE_ROUTE),
    N("sip-etag", SIP_HDR_SIP_ETAG),
    N("sip-if-match", SIP_HDR_SIP_IF_MATCH),
    END,
};
static const struct hdr_name names_t[] = {
    N("to", SIP_HDR_TO),
    N("timestamp", SIP_HDR_TIMESTAMP),
    END,
};
static const struct hdr_name names_u[] = {
    N("user-agent", SIP_HDR_USER_AGENT),
    N("unsupported", SIP_HDR_UNSUPPORTED),
    END,
};
static const struct hdr_name names_v[] = { N("via", SIP_HDR_VIA), END };
static const struct hdr_name names_w[] = {
    N("www-authenticate", SIP_HDR_WWW_AUTHENTICATE),
    N("warning", SIP_HDR_WARNING),
    END,
};

static const struct hdr_name *const buckets[26] = {
    ['a' - 'a'] = names_a, ['c' - 'a'] = names_c, ['d' - 'a'] = names_d, ['e' - 'a'] = names_e,
    ['f' - 'a'] = names_f, ['i' - 'a'] = names_i, ['m' - 'a'] = names_m, ['o' - 'a'] = names_o,
    ['p' - 'a'] = names_p, ['r' - 'a'] = names_r, ['s' - 'a'] = names_s, ['t' - 'a'] = names_t,
    ['u' - 'a'] = names_u, ['v' - 'a'] = names_v, ['w' - 'a'] = names_w,
};

/* RFC 3261 §7.3.3 and the registered compact forms (RFC 3262, 3265, 3515, 3841, 3892,
 * 4028, 8224). */
static const enum sip_hdr_id compact[26] = {
    ['a' - 'a'] = SIP_HDR_ACCEPT_CONTACT,
    ['b' - 'a'] = SIP_HDR_REFERRED_BY,
    ['c' - 'a'] = SIP_HDR_CONTENT_TYPE,
    ['d' - 'a'] = SIP_HDR_REQUEST_DISPOSITION,
    ['e' - 'a'] = SIP_HDR_CONTENT_ENCODING,
    ['f' - 'a'] = SIP_HDR_FROM,
    ['i' - 'a'] = SIP_HDR_CALL_ID,
    ['j' - 'a'] = SIP_HDR_REJECT_CONTACT,
    ['k' - 'a'] = SIP_HDR_SUPPORTED,
    ['l' - 'a'] = SIP_HDR_CONTENT_LENGTH,
    ['m' - 'a'] = SIP_HDR_CONTACT,
    ['o' - 'a'] = SIP_HDR_EVENT,
    ['r' - 'a'] = SIP_HDR_REFER_TO,
    ['s' - 'a'] = SIP_HDR_SUBJECT,
    ['t' - 'a'] = SIP_HDR_TO,
    ['u' - 'a'] = SIP_HDR_ALLOW_EVENTS,
    ['v' - 'a'] = SIP_HDR_VIA,
    ['x' - 'a'] = SIP_HDR_SESSION_EXPIRES,
    ['y' - 'a'] = SIP_HDR_IDENTITY,
};

/* A constant initializer for a view of a literal (SV() is a compound literal). */
#define C(lit)                                \
    {                                         \
        .ptr = "" lit, .len = sizeof(lit) - 1 \
    }

static const struct sv canonical[SIP_HDR_COUNT] = {
    [SIP_HDR_OTHER] = C(""),
    [SIP_HDR_VIA] = C("Via"),
    [SIP_HDR_FROM] = C("From"),
    [SIP_HDR_TO] = C("To"),
    [SIP_HDR_CALL_ID] = C("Call-ID"),
    [SIP_HDR_CSEQ] = C("CSeq"),
    [SIP_HDR_CONTACT] = C("Contact"),
    [SIP_HDR_MAX_FORWARDS] = C("Max-Forwards"),
    [SIP_HDR_CONTENT_LENGTH] = C("Content-Length"),
    [SIP_HDR_CONTENT_TYPE] = C("Content-Type"),
    [SIP_HDR_ROUTE] = C("Route"),
    [SIP_HDR_RECORD_ROUTE] = C("Record-Route"),
    [SIP_HDR_AUTHORIZATION] = C("Authorization"),
    [SIP_HDR_PROXY_AUTHORIZATION] = C("Proxy-Authorization"),
    [SIP_HDR_WWW_AUTHENTICATE] = C("WWW-Authenticate"),
    [SIP_HDR_PROXY_AUTHENTICATE] = C("Proxy-Authenticate"),
    [SIP_HDR_USER_AGENT] = C("User-Agent"),
    [SIP_HDR_SERVER] = C("Server"),
    [SIP_HDR_EXPIRES] = C("Expires"),
    [SIP_HDR_ALLOW] = C("Allow"),
    [SIP_HDR_SUPPORTED] = C("Supported"),
    [SIP_HDR_REQUIRE] = C("Require"),
    [SIP_HDR_PROXY_REQUIRE] = C("Proxy-Require"),
    [SIP_HDR_RSEQ] = C("RSeq"),
    [SIP_HDR_RACK] = C("RAck"),
    [SIP_HDR_EVENT] = C("Event"),
    [SIP_HDR_SUBJECT] = C("Subject"),
    [SIP_HDR_ACCEPT] = C("Accept"),
    [SIP_HDR_CONTENT_ENCODING] = C("Content-Encoding"),
    [SIP_HDR_P_ASSERTED_IDENTITY] = C("P-Asserted-Identity"),
    [SIP_HDR_P_PREFERRED_IDENTITY] = C("P-Preferred-Identity"),
    [SIP_HDR_REMOTE_PARTY_ID] = C("Remote-Party-ID"),
    [SIP_HDR_IDENTITY] = C("Identity"),
    [SIP_HDR_DATE] = C("Date"),
    [SIP_HDR_RETRY_AFTER] = C("Retry-After"),
    [SIP_HDR_REFER_TO] = C("Refer-To"),
    [SIP_HDR_REFERRED_BY] = C("Referred-By"),
    [SIP_HDR_ORGANIZATION] = C("Organization"),
    [SIP_HDR_WARNING] = C("Warning"),
    [SIP_HDR_PRIVACY] = C("Privacy"),
    [SIP_HDR_SESSION_EXPIRES] = C("Session-Expires"),
    [SIP_HDR_MIN_SE] = C("Min-SE"),
    [SIP_HDR_REASON] = C("Reason"),
    [SIP_HDR_PATH] = C("Path"),
    [SIP_HDR_UNSUPPORTED] = C("Unsupported"),
    [SIP_HDR_TIMESTAMP] = C("Timestamp"),
    [SIP_HDR_ALLOW_EVENTS] = C("Allow-Events"),
    [SIP_HDR_ACCEPT_CONTACT] = C("Accept-Contact"),
    [SIP_HDR_REJECT_CONTACT] = C("Reject-Contact"),
    [SIP_HDR_REQUEST_DISPOSITION] = C("Request-Disposition"),
    [SIP_HDR_ACCEPT_ENCODING] = C("Accept-Encoding"),
    [SIP_HDR_ACCEPT_LANGUAGE] = C("Accept-Language"),
    [SIP_HDR_ALERT_INFO] = C("Alert-Info"),
    [SIP_HDR_CALL_INFO] = C("Call-Info"),
    [SIP_HDR_CONTENT_DISPOSITION] = C("Content-Disposition"),
    [SIP_HDR_CONTENT_LANGUAGE] = C("Content-Language"),
    [SIP_HDR_ERROR_INFO] = C("Error-Info"),
    [SIP_HDR_IN_REPLY_TO] = C("In-Reply-To"),
    [SIP_HDR_MIME_VERSION] = C("MIME-Version"),
    [SIP_HDR_MIN_EXPIRES] = C("Min-Expires"),
    [SIP_HDR_PRIORITY] = C("Priority"),
    [SIP_HDR_REPLY_TO] = C("Reply-To"),
    [SIP_HDR_AUTHENTICATION_INFO] = C("Authentication-Info"),
    [SIP_HDR_SUBSCRIPTION_STATE] = C("Subscription-State"),
    [SIP_HDR_SERVICE_ROUTE] = C("Service-Route"),
    [SIP_HDR_IDENTITY_INFO] = C("Identity-Info"),
    [SIP_HDR_SIP_ETAG] = C("SIP-ETag"),
    [SIP_HDR_SIP_IF_MATCH] = C("SIP-If-Match"),
};

/* Header names are tokens, whose only bytes that OR 0x20 could map onto a lower-case
 * letter or '-' are the upper-case letters themselves (CR would map onto '-', but is no
 * token byte): the fold is exact on this alphabet, eight bytes at a time. */
static inline bool name_eq_lower(const char *text, const char *lower, size_t len)
{
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

bool sip_token_eq_lower(struct sv token, const char *lower, size_t len)
{
    return token.len == len && name_eq_lower(token.ptr, lower, len);
}

enum sip_hdr_id sip_hdr_lookup(struct sv name)
{
    if (name.ptr == NULL || name.len == 0 || name.len > 32) {
        return SIP_HDR_OTHER;
    }
    unsigned letter = (unsigned)((unsigned char)name.ptr[0] | 0x20) - 'a';
    if (letter >= 26) {
        return SIP_HDR_OTHER;
    }
    if (name.len == 1) {
        return compact[letter];
    }
    const struct hdr_name *bucket = buckets[letter];
    if (bucket == NULL) {
        return SIP_HDR_OTHER;
    }
    for (; bucket->lower != NULL; bucket++) {
        if (bucket->len == name.len && name_eq_lower(name.ptr, bucket->lower, name.len)) {
            return bucket->id;
        }
    }
    return SIP_HDR_OTHER;
}

struct sv sip_hdr_name(enum sip_hdr_id id)
{
    if ((unsigned)id >= SIP_HDR_COUNT) {
        return SV("");
    }
    return canonical[id];
}

bool sip_hdr_is_list(enum sip_hdr_id id)
{
    switch (id) {
    case SIP_HDR_VIA:
    case SIP_HDR_CONTACT:
    case SIP_HDR_ROUTE:
    case SIP_HDR_RECORD_ROUTE:
    case SIP_HDR_ALLOW:
    case SIP_HDR_SUPPORTED:
    case SIP_HDR_REQUIRE:
    case SIP_HDR_PROXY_REQUIRE:
    case SIP_HDR_UNSUPPORTED:
    case SIP_HDR_ACCEPT:
    case SIP_HDR_ACCEPT_ENCODING:
    case SIP_HDR_ACCEPT_LANGUAGE:
    case SIP_HDR_CONTENT_ENCODING:
    case SIP_HDR_CONTENT_LANGUAGE:
    case SIP_HDR_PATH:
    case SIP_HDR_SERVICE_ROUTE:
    case SIP_HDR_P_ASSERTED_IDENTITY:
    case SIP_HDR_P_PREFERRED_IDENTITY:
    case SIP_HDR_ALLOW_EVENTS:
    case SIP_HDR_WARNING:
    case SIP_HDR_REASON:
    case SIP_HDR_PRIVACY:
    case SIP_HDR_IN_REPLY_TO:
    case SIP_HDR_ALERT_INFO:
    case SIP_HDR_CALL_INFO:
    case SIP_HDR_ERROR_INFO:
    case SIP_HDR_ACCEPT_CONTACT:
    case SIP_HDR_REJECT_CONTACT:
    case SIP_HDR_REQUEST_DISPOSITION:
        return true;
    default:
        return false;
    }
}

/* Bytes that change the state of a list scan; everything else is skipped in a tight loop. */
static const unsigned char list_special[256] = { [','] = 1, ['"'] = 1, ['<'] = 1 };

/* The offset of the first top-level ',' in `s` (s.len when none). Inside a quoted
 * string a backslash escapes the next byte; inside <...> nothing separates. */
static size_t list_split_at(struct sv s)
{
    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && list_special[(unsigned char)s.ptr[i]] == 0) {
            i++;
        }
        if (i >= s.len || s.ptr[i] == ',') {
            return i;
        }
        if (s.ptr[i] == '<') {
            const char *gt = memchr(s.ptr + i, '>', s.len - i);
            if (gt == NULL) {
                return s.len;
            }
            i = (size_t)(gt - s.ptr) + 1;
            continue;
        }
        for (i++; i < s.len && s.ptr[i] != '"'; i++) {
            i += s.ptr[i] == '\\' ? 1 : 0;
        }
        i++;
    }
    return s.len;
}

bool sip_list_next(struct sv *cur, struct sv *item)
{
    if (cur->ptr == NULL || sip_lws_trim(*cur).len == 0) {
        return false;
    }
    size_t at = list_split_at(*cur);
    *item = sip_lws_trim(sip_sv(cur->ptr, at));
    if (at >= cur->len) {
        cur->ptr += cur->len;
        cur->len = 0;
        return true;
    }
    struct sv rest = sip_sv(cur->ptr + at + 1, cur->len - at - 1);
    if (at > 0 && sip_lws_trim(rest).len == 0) {
        /* A trailing comma announces one more, empty element: keep the comma so that
         * the next call reports it and the caller's grammar can reject it. */
        cur->ptr += at;
        cur->len -= at;
        return true;
    }
    *cur = rest;
    return true;
}

bool sip_token_take(struct sv *cur, struct sv *out)
{
    size_t i = 0;
    while (i < cur->len && sip_char_is(cur->ptr[i], SIP_C_TOKEN)) {
        i++;
    }
    if (i == 0) {
        return false;
    }
    *out = sip_sv(cur->ptr, i);
    cur->ptr += i;
    cur->len -= i;
    return true;
}

bool sip_quoted_take(struct sv *cur, struct sv *out)
{
    if (cur->len == 0 || cur->ptr[0] != '"') {
        return false;
    }
    for (size_t i = 1; i < cur->len; i++) {
        char c = cur->ptr[i];
        if (c == '"') {
            *out = sip_sv(cur->ptr + 1, i - 1);
            cur->ptr += i + 1;
            cur->len -= i + 1;
            return true;
        }
        if (c == '\\') {
            /* quoted-pair: any byte but CR and LF (RFC 3261 §25.1). */
            if (i + 1 >= cur->len || cur->ptr[i + 1] == '\r' || cur->ptr[i + 1] == '\n') {
                return false;
            }
            i++;
        } else if (!sip_char_is(c, SIP_C_QDTEXT)) {
            return false;
        }
    }
    return false;
}
