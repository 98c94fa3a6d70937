#include "sip/hdr.h"

#include <stdint.h>
#include <string.h>

#include "sip/chars.h"
#include "sip/hdr_hash.h"
#include "sip/scan.h"

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

enum sip_hdr_id sip_hdr_lookup(struct sv name)
{
    if (name.ptr == NULL) {
        return SIP_HDR_OTHER;
    }
    return hdr_hash_lookup(name.ptr, name.len);
}

size_t sip_hdr_name_scan(const char *line, const char *end, const char **colon, enum sip_hdr_id *id)
{
    const char *c = sip_scan_byte(line, end, ':');
    if (c == end) {
        return 0;
    }
    const char *q = c;
    while (q > line && sip_char_is(q[-1], SIP_C_WS)) {
        q--;
    }
    size_t len = (size_t)(q - line);
    *colon = c;
    *id = hdr_hash_lookup(line, len);
    return len;
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
    if (cur->len == 0) {
        return false;
    }
    size_t i = (size_t)(sip_char_run(cur->ptr, cur->ptr + cur->len, SIP_C_TOKEN) - cur->ptr);
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
    /* qdtext holds neither '"' nor '\\', so a run of it stops at the closing quote, at a
     * quoted-pair or at a byte qdtext does not allow. */
    const char *end = cur->ptr + cur->len;
    const char *p = cur->ptr + 1;
    for (;;) {
        p = sip_char_run(p, end, SIP_C_QDTEXT);
        if (p == end) {
            return false;
        }
        if (*p == '"') {
            break;
        }
        /* quoted-pair: any byte but CR and LF (RFC 3261 §25.1). */
        if (*p != '\\' || end - p < 2 || p[1] == '\r' || p[1] == '\n') {
            return false;
        }
        p += 2;
    }
    *out = sip_sv(cur->ptr + 1, (size_t)(p - cur->ptr - 1));
    cur->len -= (size_t)(p + 1 - cur->ptr);
    cur->ptr = p + 1;
    return true;
}
