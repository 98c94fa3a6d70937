/*
 * sip_msg_validate() of sip/msg.h: the RFC 3261 §8.2 / §16.3 checks that decide
 * whether a parsed message may be processed at all.
 */
#include <string.h>

#include "base/err.h"
#include "sip/chars.h"
#include "sip/msg.h"
#include "sip/scan.h"

struct checker {
    struct sip_msg *msg;
    struct sip_err *err;
    uint16_t bad; /* 400 for requests, 0 (drop) for responses */
};

static int check_fail(const struct checker *c, struct sv at, const char *reason)
{
    size_t pos = 0;
    if (at.ptr != NULL && c->msg->raw.ptr != NULL && at.ptr >= c->msg->raw.ptr) {
        pos = (size_t)(at.ptr - c->msg->raw.ptr);
    }
    return sip_err_set(c->err, -SW_EBADMSG, pos, reason, c->bad);
}

/* Keeps the error of a typed parser but applies the response rule (drop). */
static int check_keep(const struct checker *c)
{
    if (c->err != NULL) {
        c->err->status = c->bad;
    }
    return -SW_EBADMSG;
}

/* The Via/Contact walk and the once-only checks are forced inline (always_inline
 * below): they run on every message, and GCC keeps them out of line for their size. */

static inline __attribute__((always_inline)) int
check_once(const struct checker *c, enum sip_hdr_id id, const char *missing, const char *repeated)
{
    size_t lines = sip_msg_hdr_lines(c->msg, id);
    if (lines == 0) {
        return check_fail(c, SV_NULL, missing);
    }
    if (lines > 1) {
        return check_fail(c, sip_msg_find(c->msg, id, NULL)->value, repeated);
    }
    return 0;
}

static int check_required(const struct checker *c)
{
    int rc = check_once(c, SIP_HDR_FROM, "missing From", "multiple From headers");
    if (rc == 0) {
        rc = check_once(c, SIP_HDR_TO, "missing To", "multiple To headers");
    }
    if (rc == 0) {
        rc = check_once(c, SIP_HDR_CALL_ID, "missing Call-ID", "multiple Call-ID headers");
    }
    if (rc == 0) {
        rc = check_once(c, SIP_HDR_CSEQ, "missing CSeq", "multiple CSeq headers");
    }
    if (rc == 0 && sip_msg_hdr_lines(c->msg, SIP_HDR_VIA) == 0) {
        rc = check_fail(c, SV_NULL, "missing Via");
    }
    if (rc == 0 && sip_msg_hdr_lines(c->msg, SIP_HDR_MAX_FORWARDS) > 1) {
        rc = check_fail(c, SV_NULL, "multiple Max-Forwards headers");
    }
    return rc;
}

/* callid = word [ "@" word ] (RFC 3261 §25.1): no LWS, no separators like ',' or ';'. */
static int check_call_id(const struct checker *c)
{
    /* word = 1*(token bytes / these), RFC 3261 §25.1; a table, not a strchr per byte. */
    static const bool word_extra[256] = {
        ['('] = true,  [')'] = true, ['<'] = true, ['>'] = true, [':'] = true,
        ['\\'] = true, ['"'] = true, ['/'] = true, ['['] = true, [']'] = true,
        ['?'] = true,  ['{'] = true, ['}'] = true, ['@'] = true,
    };
    struct sv id = sip_msg_call_id(c->msg);
    if (id.len == 0) {
        return check_fail(c, id, "empty Call-ID");
    }
    const char *end = id.ptr + id.len;
    for (const char *p = sip_char_run(id.ptr, end, SIP_C_TOKEN); p < end;
         p = sip_char_run(p + 1, end, SIP_C_TOKEN)) {
        if (!word_extra[(unsigned char)*p]) {
            return check_fail(c, id, "bad Call-ID");
        }
    }
    return 0;
}

static int check_cseq(const struct checker *c)
{
    const struct sip_cseq *cseq = sip_msg_cseq(c->msg, c->err);
    if (cseq == NULL) {
        return check_keep(c);
    }
    /* Two known methods are equal names exactly when they are the same method (the
     * lookup matches the canonical bytes); only unknown ones need the bytes compared. */
    bool is_same =
        cseq->method == c->msg->method &&
        (cseq->method != SIP_METHOD_UNKNOWN || sv_eq(cseq->method_name, c->msg->method_name));
    if (c->msg->is_request && !is_same) {
        /* RFC 4475 §3.1.2.18: for an unknown method 501 is the future-proof answer. */
        int rc = check_fail(c, cseq->method_name, "CSeq method does not match the request");
        if (c->err != NULL && c->msg->method == SIP_METHOD_UNKNOWN) {
            c->err->status = 501;
        }
        return rc;
    }
    return 0;
}

/* A walk over every value of the Via or the Contact lines. */
struct list_walk {
    enum sip_hdr_id id;
    size_t values;
    bool has_star;
};

/* Parses one Via or Contact element, the first one into the message's cache (the top
 * Via and the first Contact are what the accessors return later, so they are not
 * parsed twice); counts Contact values to refuse a mixed '*'. */
static inline __attribute__((always_inline)) int check_item(const struct checker *c,
                                                            struct list_walk *w, struct sv item)
{
    struct sip_msg_cache *cache = &c->msg->cache;
    int rc = 0;
    if (w->id == SIP_HDR_VIA) {
        struct sip_via scratch;
        rc = sip_via_parse(item, w->values == 0 ? &cache->top_via : &scratch, c->err);
    } else {
        struct sip_contact scratch;
        bool is_star = false;
        rc = sip_contact_parse(item, w->values == 0 ? &cache->contact : &scratch, &is_star, c->err);
        w->has_star = w->has_star || is_star;
        if (rc == 0 && w->has_star && w->values > 0) {
            /* RFC 3261 §10.2.2: "*" is only allowed alone. */
            return check_fail(c, item, "Contact '*' mixed with others");
        }
    }
    if (rc != 0) {
        if (c->err != NULL) {
            c->err->pos += (size_t)(item.ptr - c->msg->raw.ptr);
        }
        return check_keep(c);
    }
    w->values++;
    return 0;
}

/* Every value of one line; a line without a comma is one value (the index trimmed it),
 * which memchr proves faster than the list scanner walks it. */
static inline __attribute__((always_inline)) int
check_line(const struct checker *c, struct list_walk *w, const struct sip_hdr *h)
{
    struct sv cur = h->value;
    struct sv item;
    if (sip_lws_trim(cur).len == 0) {
        return check_fail(c, h->value, "empty list header");
    }
    if (sip_scan_byte(cur.ptr, cur.ptr + cur.len, ',') == cur.ptr + cur.len) {
        return check_item(c, w, cur);
    }
    while (sip_list_next(&cur, &item)) {
        int rc = check_item(c, w, item);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static inline __attribute__((always_inline)) int check_list(const struct checker *c,
                                                            enum sip_hdr_id id)
{
    struct list_walk w = { .id = id };
    /* The line count stops the walk at the last line, not at the end of the index. */
    size_t lines = sip_msg_hdr_lines(c->msg, id);
    const struct sip_hdr *h = NULL;
    for (size_t i = 0; i < lines; i++) {
        h = sip_msg_find(c->msg, id, h);
        if (h == NULL) {
            break;
        }
        int rc = check_line(c, &w, h);
        if (rc != 0) {
            return rc;
        }
    }
    struct sip_msg_cache *cache = &c->msg->cache;
    if (id == SIP_HDR_VIA) {
        cache->done |= w.values > 0 ? (uint32_t)SIP_MSG_CACHE_TOP_VIA : 0;
    } else {
        cache->contact_values = w.values;
        cache->is_contact_star = w.has_star;
        cache->done |= SIP_MSG_CACHE_CONTACTS;
    }
    return 0;
}

static int check_addresses(const struct checker *c)
{
    if (sip_msg_from(c->msg, c->err) == NULL || sip_msg_to(c->msg, c->err) == NULL) {
        return check_keep(c);
    }
    int rc = check_list(c, SIP_HDR_VIA);
    if (rc == 0) {
        rc = check_list(c, SIP_HDR_CONTACT);
    }
    if (rc == 0 && c->msg->is_request) {
        const struct sip_uri *ruri = sip_msg_ruri(c->msg, c->err);
        if (ruri == NULL) {
            return check_keep(c);
        }
        if (ruri->headers.ptr != NULL) {
            /* RFC 3261 §19.1.5: headers are not allowed in a Request-URI. */
            return check_fail(c, ruri->headers, "headers in the Request-URI");
        }
    }
    return rc;
}

/* rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 §20.17). */
static bool date_is_valid(struct sv v)
{
    static const char *const pattern = "Aaa, 00 Aaa 0000 00:00:00 GMT";
    size_t len = strlen(pattern);
    if (v.len != len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char p = pattern[i];
        char ch = v.ptr[i];
        bool is_ok = (p == 'A' || p == 'a') ? sip_char_is(ch, SIP_C_ALPHA)
                     : p == '0'             ? sip_char_is(ch, SIP_C_DIGIT)
                                            : ch == p;
        if (!is_ok) {
            return false;
        }
    }
    return true;
}

/* Leading delta-seconds of Retry-After (RFC 3261 §20.33) and warn-codes (§20.43). */
static int check_scalars(const struct checker *c)
{
    uint32_t value = 0;
    if (sip_msg_max_forwards(c->msg, &value) == -SW_EBADMSG) {
        return check_fail(c, sip_msg_find(c->msg, SIP_HDR_MAX_FORWARDS, NULL)->value,
                          "bad Max-Forwards");
    }
    if (sip_msg_expires(c->msg, &value) == -SW_EBADMSG) {
        return check_fail(c, sip_msg_find(c->msg, SIP_HDR_EXPIRES, NULL)->value, "bad Expires");
    }
    const struct sip_hdr *h = sip_msg_find(c->msg, SIP_HDR_RETRY_AFTER, NULL);
    if (h != NULL) {
        size_t i = 0;
        while (i < h->value.len && sip_char_is(h->value.ptr[i], SIP_C_DIGIT)) {
            i++;
        }
        if (!sip_digits_u32(sip_sv(h->value.ptr, i), &value)) {
            return check_fail(c, h->value, "bad Retry-After");
        }
    }
    for (h = sip_msg_find(c->msg, SIP_HDR_WARNING, NULL); h != NULL;
         h = sip_msg_find(c->msg, SIP_HDR_WARNING, h)) {
        struct sv cur = h->value;
        struct sv item;
        while (sip_list_next(&cur, &item)) {
            if (item.len < 4 || !sip_char_is(item.ptr[0], SIP_C_DIGIT) ||
                !sip_char_is(item.ptr[1], SIP_C_DIGIT) || !sip_char_is(item.ptr[2], SIP_C_DIGIT) ||
                !sip_char_is(item.ptr[3], SIP_C_LWS)) {
                return check_fail(c, h->value, "bad Warning code");
            }
        }
    }
    h = sip_msg_find(c->msg, SIP_HDR_DATE, NULL);
    if (h != NULL && !date_is_valid(h->value)) {
        return check_fail(c, h->value, "bad Date (RFC 1123 date in GMT required)");
    }
    return 0;
}

/* "SIP/2.0", "SIP" in any case (RFC 3261 §7.1), with two loads: the fold (OR 0x20) of
 * the first three bytes maps only 'S', 'I', 'P' onto 's', 'i', 'p'. */
static bool version_is_20(struct sv v)
{
    if (v.len != 7) {
        return false;
    }
    uint32_t head;
    uint32_t tail;
    uint32_t want_head;
    uint32_t want_tail;
    uint32_t fold;
    memcpy(&head, v.ptr, 4);
    memcpy(&tail, v.ptr + 3, 4);
    memcpy(&want_head, "sip/", 4);
    memcpy(&want_tail, "/2.0", 4);
    memcpy(&fold, "\x20\x20\x20", 4);
    return (head | fold) == want_head && tail == want_tail;
}

int sip_msg_validate(struct sip_msg *msg, struct sip_err *err)
{
    struct checker c = { .msg = msg, .err = err, .bad = msg->is_request ? 400 : 0 };
    if (!version_is_20(msg->version)) {
        int rc = check_fail(&c, msg->version, "SIP version not supported");
        if (err != NULL && msg->is_request) {
            err->status = 505;
        }
        return rc;
    }
    int rc = check_required(&c);
    if (rc == 0) {
        rc = check_call_id(&c);
    }
    if (rc == 0) {
        rc = check_cseq(&c);
    }
    if (rc == 0) {
        rc = check_addresses(&c);
    }
    if (rc == 0) {
        rc = check_scalars(&c);
    }
    return rc;
}
