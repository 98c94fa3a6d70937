/*
 * The lazy typed accessors of sip/msg.h: each parses its header on first use and
 * caches the value in msg->cache; failures are not cached, so they are reported
 * again (with `err`) to every caller.
 */
#include <string.h>

#include "base/err.h"
#include "sip/chars.h"
#include "sip/msg.h"

static int absent(struct sip_err *err, const char *reason)
{
    return sip_err_set(err, -SW_ENOTFOUND, 0, reason, 400);
}

/* Makes an error position relative to the whole message instead of the header value. */
static void err_rebase(const struct sip_msg *msg, struct sv value, struct sip_err *err)
{
    if (err != NULL && msg->raw.ptr != NULL && value.ptr >= msg->raw.ptr) {
        err->pos += (size_t)(value.ptr - msg->raw.ptr);
    }
}

static const struct sip_nameaddr *nameaddr_get(struct sip_msg *msg, enum sip_hdr_id id,
                                               uint32_t bit, struct sip_nameaddr *slot,
                                               struct sip_err *err)
{
    if ((msg->cache.done & bit) != 0) {
        return slot;
    }
    const struct sip_hdr *hdr = sip_msg_find(msg, id, NULL);
    if (hdr == NULL) {
        (void)absent(err, id == SIP_HDR_FROM ? "missing From" : "missing To");
        return NULL;
    }
    if (sip_nameaddr_parse(hdr->value, slot, err) != 0) {
        err_rebase(msg, hdr->value, err);
        return NULL;
    }
    msg->cache.done |= bit;
    return slot;
}

const struct sip_nameaddr *sip_msg_from_load(struct sip_msg *msg, struct sip_err *err)
{
    return nameaddr_get(msg, SIP_HDR_FROM, SIP_MSG_CACHE_FROM, &msg->cache.from, err);
}

const struct sip_nameaddr *sip_msg_to_load(struct sip_msg *msg, struct sip_err *err)
{
    return nameaddr_get(msg, SIP_HDR_TO, SIP_MSG_CACHE_TO, &msg->cache.to, err);
}

/* CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16). */
static int cseq_parse(struct sv value, struct sip_cseq *out, struct sip_err *err)
{
    size_t i = (size_t)(sip_char_run(value.ptr, value.ptr + value.len, SIP_C_DIGIT) - value.ptr);
    if (i == 0 || !sip_digits_u32(sip_sv(value.ptr, i), &out->seq)) {
        return sip_err_set(err, -SW_EBADMSG, 0, "bad CSeq number", 400);
    }
    struct sv rest = sip_sv(value.ptr + i, value.len - i);
    if (rest.len == 0 || !sip_char_is(rest.ptr[0], SIP_C_LWS)) {
        return sip_err_set(err, -SW_EBADMSG, i, "bad CSeq", 400);
    }
    sip_lws_skip(&rest);
    const char *end = rest.ptr + rest.len;
    if (rest.len == 0 || sip_char_run(rest.ptr, end, SIP_C_TOKEN) != end) {
        return sip_err_set(err, -SW_EBADMSG, i, "bad CSeq method", 400);
    }
    out->method_name = rest;
    out->method = sip_method_from_sv(out->method_name);
    return 0;
}

const struct sip_cseq *sip_msg_cseq_load(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_CSEQ) != 0) {
        return &msg->cache.cseq;
    }
    const struct sip_hdr *hdr = sip_msg_find(msg, SIP_HDR_CSEQ, NULL);
    if (hdr == NULL) {
        (void)absent(err, "missing CSeq");
        return NULL;
    }
    if (cseq_parse(hdr->value, &msg->cache.cseq, err) != 0) {
        err_rebase(msg, hdr->value, err);
        return NULL;
    }
    msg->cache.done |= SIP_MSG_CACHE_CSEQ;
    return &msg->cache.cseq;
}

const struct sip_via *sip_msg_top_via_load(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_TOP_VIA) != 0) {
        return &msg->cache.top_via;
    }
    const struct sip_hdr *hdr = sip_msg_find(msg, SIP_HDR_VIA, NULL);
    if (hdr == NULL) {
        (void)absent(err, "missing Via");
        return NULL;
    }
    struct sv cur = hdr->value;
    struct sv item = hdr->value;
    /* Most Via lines hold one value: without a comma the (already trimmed) value is the
     * first element, and the list scanner need not walk it. */
    bool is_single = memchr(cur.ptr, ',', cur.len) == NULL && cur.len > 0;
    if (!is_single && !sip_list_next(&cur, &item)) {
        (void)sip_err_set(err, -SW_EBADMSG, 0, "empty Via", 400);
        err_rebase(msg, hdr->value, err);
        return NULL;
    }
    if (sip_via_parse(item, &msg->cache.top_via, err) != 0) {
        err_rebase(msg, item, err);
        return NULL;
    }
    msg->cache.done |= SIP_MSG_CACHE_TOP_VIA;
    return &msg->cache.top_via;
}

const struct sip_uri *sip_msg_ruri_load(struct sip_msg *msg, struct sip_err *err)
{
    if ((msg->cache.done & SIP_MSG_CACHE_RURI) != 0) {
        return &msg->cache.ruri;
    }
    if (!msg->is_request) {
        (void)absent(err, "no Request-URI in a response");
        return NULL;
    }
    if (sip_uri_parse(msg->ruri, &msg->cache.ruri, err) != 0) {
        err_rebase(msg, msg->ruri, err);
        return NULL;
    }
    msg->cache.done |= SIP_MSG_CACHE_RURI;
    return &msg->cache.ruri;
}

int sip_msg_vias(struct sip_msg *msg, struct sip_via *out, size_t cap, size_t *count,
                 struct sip_err *err)
{
    size_t n = 0;
    for (const struct sip_hdr *h = sip_msg_find(msg, SIP_HDR_VIA, NULL); h != NULL;
         h = sip_msg_find(msg, SIP_HDR_VIA, h)) {
        struct sv cur = h->value;
        struct sv item;
        if (cur.len == 0) {
            *count = n;
            return sip_err_set(err, -SW_EBADMSG, 0, "empty Via", 400);
        }
        while (sip_list_next(&cur, &item)) {
            if (n >= cap) {
                *count = n;
                return -SW_EFULL;
            }
            if (sip_via_parse(item, &out[n], err) != 0) {
                err_rebase(msg, item, err);
                *count = n;
                return -SW_EBADMSG;
            }
            n++;
        }
    }
    *count = n;
    return 0;
}

int sip_msg_max_forwards_load(struct sip_msg *msg, uint32_t *out)
{
    if ((msg->cache.done & SIP_MSG_CACHE_MAX_FORWARDS) != 0) {
        *out = msg->cache.max_forwards;
        return 0;
    }
    const struct sip_hdr *hdr = sip_msg_find(msg, SIP_HDR_MAX_FORWARDS, NULL);
    if (hdr == NULL) {
        return -SW_ENOTFOUND;
    }
    uint32_t value = 0;
    if (!sip_digits_u32(hdr->value, &value) || value > 255) {
        return -SW_EBADMSG;
    }
    msg->cache.max_forwards = value;
    msg->cache.done |= SIP_MSG_CACHE_MAX_FORWARDS;
    *out = value;
    return 0;
}

/* State of a walk over every Contact value. */
struct contact_walk {
    struct sip_contact *out;
    size_t cap;
    size_t n;
    size_t values;
    bool *is_star;
};

static int contact_take(struct sip_msg *msg, struct contact_walk *w, struct sv item,
                        struct sip_err *err)
{
    struct sip_contact scratch;
    bool star = false;
    struct sip_contact *slot = w->n < w->cap ? &w->out[w->n] : &scratch;
    if (sip_contact_parse(item, slot, &star, err) != 0) {
        err_rebase(msg, item, err);
        return -SW_EBADMSG;
    }
    w->values++;
    *w->is_star = *w->is_star || star;
    if (*w->is_star && w->values > 1) {
        return sip_err_set(err, -SW_EBADMSG, 0, "Contact '*' mixed with others", 400);
    }
    if (!star) {
        if (w->n >= w->cap) {
            return -SW_EFULL;
        }
        w->n++;
    }
    return 0;
}

/* The answer of sip_msg_contacts() from what sip_msg_validate() cached: false when the
 * cache does not hold it (not validated yet, or several values). */
static bool contacts_cached(const struct sip_msg *msg, struct sip_contact *out, size_t cap,
                            size_t *count, bool *is_star, int *rc)
{
    const struct sip_msg_cache *cache = &msg->cache;
    if ((cache->done & SIP_MSG_CACHE_CONTACTS) == 0 || cache->contact_values > 1) {
        return false;
    }
    *is_star = cache->is_contact_star;
    *count = 0;
    *rc = 0;
    if (cache->contact_values == 1 && !cache->is_contact_star) {
        if (cap == 0) {
            *rc = -SW_EFULL;
            return true;
        }
        out[0] = cache->contact;
        *count = 1;
    }
    return true;
}

int sip_msg_contacts(struct sip_msg *msg, struct sip_contact *out, size_t cap, size_t *count,
                     bool *is_star, struct sip_err *err)
{
    int rc = 0;
    if (contacts_cached(msg, out, cap, count, is_star, &rc)) {
        return rc;
    }
    struct contact_walk w = { .out = out, .cap = cap, .is_star = is_star };
    *is_star = false;
    for (const struct sip_hdr *h = sip_msg_find(msg, SIP_HDR_CONTACT, NULL); h != NULL && rc == 0;
         h = sip_msg_find(msg, SIP_HDR_CONTACT, h)) {
        struct sv cur = h->value;
        struct sv item;
        if (cur.len == 0) {
            rc = sip_err_set(err, -SW_EBADMSG, 0, "empty Contact", 400);
        }
        if (rc == 0 && memchr(cur.ptr, ',', cur.len) == NULL) {
            rc = contact_take(msg, &w, cur, err); /* one value: no list scan needed */
            continue;
        }
        while (rc == 0 && sip_list_next(&cur, &item)) {
            rc = contact_take(msg, &w, item, err);
        }
    }
    *count = w.n;
    return rc;
}

int sip_msg_nameaddrs(struct sip_msg *msg, enum sip_hdr_id id, struct sip_nameaddr *out, size_t cap,
                      size_t *count, struct sip_err *err)
{
    size_t n = 0;
    for (const struct sip_hdr *h = sip_msg_find(msg, id, NULL); h != NULL;
         h = sip_msg_find(msg, id, h)) {
        struct sv cur = h->value;
        struct sv item;
        while (sip_list_next(&cur, &item)) {
            if (n >= cap) {
                *count = n;
                return -SW_EFULL;
            }
            if (sip_nameaddr_parse(item, &out[n], err) != 0) {
                err_rebase(msg, item, err);
                *count = n;
                return -SW_EBADMSG;
            }
            n++;
        }
    }
    *count = n;
    return 0;
}

int sip_msg_option_tags(struct sip_msg *msg, enum sip_hdr_id id, struct sv *out, size_t cap,
                        size_t *count)
{
    size_t n = 0;
    for (const struct sip_hdr *h = sip_msg_find(msg, id, NULL); h != NULL;
         h = sip_msg_find(msg, id, h)) {
        struct sv cur = h->value;
        struct sv item;
        while (sip_list_next(&cur, &item)) {
            struct sv tag;
            struct sv rest = item;
            if (!sip_token_take(&rest, &tag) || rest.len != 0) {
                *count = n;
                return -SW_EBADMSG;
            }
            if (n >= cap) {
                *count = n;
                return -SW_EFULL;
            }
            out[n++] = tag;
        }
    }
    *count = n;
    return 0;
}

int sip_msg_expires(struct sip_msg *msg, uint32_t *out)
{
    const struct sip_hdr *hdr = sip_msg_find(msg, SIP_HDR_EXPIRES, NULL);
    if (hdr == NULL) {
        return -SW_ENOTFOUND;
    }
    struct sv value = hdr->value;
    if (value.len == 0) {
        return -SW_EBADMSG;
    }
    if (sip_digits_u32(value, out)) {
        return 0;
    }
    for (size_t i = 0; i < value.len; i++) {
        if (!sip_char_is(value.ptr[i], SIP_C_DIGIT)) {
            return -SW_EBADMSG;
        }
    }
    *out = 3600; /* RFC 4475 §3.1.2.4: an overlarge value may read as the default. */
    return 0;
}
