#include "sip/sdp.h"

#include <stddef.h>
#include <string.h>

#include "base/err.h"
#include "sip/chars.h"
#include "sip/hdr.h"

struct sdp_parser {
    struct sv body;
    struct sip_sdp *out;
    struct sip_sdp_media *media; /* the current m= section, NULL at session level */
    struct sip_err *err;
};

static int sdp_fail(const struct sdp_parser *ps, const char *at, const char *reason)
{
    return sip_err_set(ps->err, -SW_EBADSDP, (size_t)(at - ps->body.ptr), reason, 400);
}

/* Takes the next SP-separated field of `*cur` (RFC 4566 uses exactly one SP). */
static bool field_take(struct sv *cur, struct sv *out)
{
    if (cur->len == 0) {
        return false;
    }
    const char *sp = memchr(cur->ptr, ' ', cur->len);
    size_t len = sp == NULL ? cur->len : (size_t)(sp - cur->ptr);
    if (len == 0) {
        return false;
    }
    *out = sip_sv(cur->ptr, len);
    cur->ptr += sp == NULL ? len : len + 1;
    cur->len -= sp == NULL ? len : len + 1;
    return true;
}

/* c=<nettype> <addrtype> <connection-address> */
static int parse_conn(const struct sdp_parser *ps, struct sv value, struct sip_sdp_conn *conn)
{
    struct sv cur = value;
    struct sv address;
    if (!field_take(&cur, &conn->net_type) || !field_take(&cur, &conn->addr_type) ||
        !field_take(&cur, &address) || cur.len != 0) {
        return sdp_fail(ps, value.ptr, "bad c= line");
    }
    const char *slash = memchr(address.ptr, '/', address.len);
    if (slash != NULL) {
        address.len = (size_t)(slash - address.ptr);
    }
    for (size_t i = 0; i < address.len; i++) {
        if (!sip_char_is(address.ptr[i], SIP_C_TOKEN) && address.ptr[i] != ':') {
            return sdp_fail(ps, address.ptr + i, "bad c= address");
        }
    }
    if (address.len == 0) {
        return sdp_fail(ps, value.ptr, "empty c= address");
    }
    conn->address = address;
    conn->is_present = true;
    return 0;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int parse_media(struct sdp_parser *ps, struct sv value)
{
    struct sip_sdp *sdp = ps->out;
    if (sdp->media_count >= SIP_SDP_MAX_MEDIA) {
        return sdp_fail(ps, value.ptr, "too many m= lines");
    }
    struct sip_sdp_media *m = &sdp->media[sdp->media_count];
    *m = (struct sip_sdp_media){ .port_count = 1 };
    struct sv cur = value;
    struct sv port;
    if (!field_take(&cur, &m->media) || !field_take(&cur, &port) || !field_take(&cur, &m->proto)) {
        return sdp_fail(ps, value.ptr, "bad m= line");
    }
    struct sv count = SV_NULL;
    const char *slash = memchr(port.ptr, '/', port.len);
    if (slash != NULL) {
        count = sip_sv(slash + 1, (size_t)(port.ptr + port.len - slash - 1));
        port.len = (size_t)(slash - port.ptr);
    }
    uint32_t number = 0;
    if (!sv_to_u32(port, &number) || number > 65535 ||
        (count.ptr != NULL && (!sv_to_u32(count, &m->port_count) || m->port_count == 0))) {
        return sdp_fail(ps, port.ptr, "bad m= port");
    }
    m->port = (uint16_t)number;
    m->formats = cur;
    struct sv format;
    while (field_take(&cur, &format)) {
        m->format_count++;
    }
    if (cur.len != 0 || m->format_count == 0) {
        return sdp_fail(ps, value.ptr, "bad m= format list");
    }
    sdp->media_count++;
    ps->media = m;
    return 0;
}

/* a=crypto:<tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 §9.1). */
static int parse_crypto(const struct sdp_parser *ps, struct sv value)
{
    if (ps->media == NULL) {
        return 0; /* session-level crypto is not defined by RFC 4568: ignore it */
    }
    struct sip_sdp_media *m = ps->media;
    if (m->crypto_count >= SIP_SDP_MAX_CRYPTO) {
        return sdp_fail(ps, value.ptr, "too many a=crypto lines");
    }
    struct sip_sdp_crypto *c = &m->crypto[m->crypto_count];
    *c = (struct sip_sdp_crypto){ 0 };
    struct sv cur = value;
    struct sv tag;
    if (!field_take(&cur, &tag) || !sv_to_u32(tag, &c->tag) || tag.len > 9 ||
        !field_take(&cur, &c->suite) || !field_take(&cur, &c->key_params)) {
        return sdp_fail(ps, value.ptr, "bad a=crypto line");
    }
    if (cur.len > 0) {
        c->session_params = cur;
    }
    m->crypto_count++;
    return 0;
}

static enum sip_sdp_direction direction_of(struct sv name)
{
    if (sv_eq(name, SV("sendrecv"))) {
        return SIP_SDP_DIR_SENDRECV;
    }
    if (sv_eq(name, SV("sendonly"))) {
        return SIP_SDP_DIR_SENDONLY;
    }
    if (sv_eq(name, SV("recvonly"))) {
        return SIP_SDP_DIR_RECVONLY;
    }
    if (sv_eq(name, SV("inactive"))) {
        return SIP_SDP_DIR_INACTIVE;
    }
    return SIP_SDP_DIR_NONE;
}

static int parse_attribute(const struct sdp_parser *ps, struct sv value)
{
    const char *colon = memchr(value.ptr, ':', value.len);
    struct sv name = colon == NULL ? value : sip_sv(value.ptr, (size_t)(colon - value.ptr));
    struct sv arg =
        colon == NULL ? SV_NULL : sip_sv(colon + 1, (size_t)(value.ptr + value.len - colon - 1));
    struct sip_sdp_media *m = ps->media;
    enum sip_sdp_direction dir = direction_of(name);
    if (dir != SIP_SDP_DIR_NONE) {
        if (m != NULL) {
            m->direction = dir;
        } else {
            ps->out->direction = dir;
        }
    } else if (sv_eq(name, SV("crypto"))) {
        return arg.ptr == NULL ? sdp_fail(ps, value.ptr, "a=crypto without value")
                               : parse_crypto(ps, arg);
    } else if (sv_eq(name, SV("fingerprint")) && arg.ptr != NULL) {
        if (m != NULL) {
            m->fingerprint = arg;
        } else {
            ps->out->fingerprint = arg;
        }
    } else if (sv_eq(name, SV("setup")) && m != NULL && arg.ptr != NULL) {
        m->setup = arg;
    } else if (sv_eq(name, SV("rtcp-mux")) && m != NULL) {
        m->has_rtcp_mux = true;
    }
    return 0;
}

static int parse_line(struct sdp_parser *ps, char type, struct sv value, bool is_first)
{
    if (is_first) {
        if (type != 'v' || !sv_eq(value, SV("0"))) {
            return sdp_fail(ps, value.ptr, "SDP must start with v=0");
        }
        ps->out->version = 0;
        return 0;
    }
    switch (type) {
    case 'o':
        ps->out->origin = value;
        return 0;
    case 's':
        ps->out->session_name = value;
        return 0;
    case 'c':
        return parse_conn(ps, value, ps->media != NULL ? &ps->media->conn : &ps->out->conn);
    case 'm':
        return parse_media(ps, value);
    case 'a':
        return parse_attribute(ps, value);
    default:
        return 0; /* other lines (i, u, e, p, b, t, r, z, k) are not policy inputs */
    }
}

bool sip_sdp_next_line(struct sv *cur, struct sv *line)
{
    /* Each turn consumes at least one byte, so the loop ends within cur->len turns. */
    while (cur->len > 0) {
        const char *lf = memchr(cur->ptr, '\n', cur->len);
        size_t len = lf == NULL ? cur->len : (size_t)(lf - cur->ptr);
        size_t skip = lf == NULL ? len : len + 1;
        *line = sip_sv(cur->ptr, len > 0 && cur->ptr[len - 1] == '\r' ? len - 1 : len);
        cur->ptr += skip;
        cur->len -= skip;
        if (line->len > 0) {
            return true; /* blank lines are tolerated (a trailing CRLF pair is common) */
        }
    }
    return false;
}

int sip_sdp_parse(struct sv body, struct sip_sdp *out, struct sip_err *err)
{
    /* The session fields only: each m= line clears its own entry (parse_media), and readers
     * look at media[0..media_count). Clearing all SIP_SDP_MAX_MEDIA entries (17 KiB) cost
     * about 17,000 instructions per SDP, a sixth of what anchoring adds to a call
     * (callgrind, bench/calls --media). */
    memset(out, 0, offsetof(struct sip_sdp, media));
    out->media_count = 0;
    struct sdp_parser ps = { .body = body, .out = out, .err = err };
    if (body.ptr == NULL || body.len == 0) {
        return sip_err_set(err, -SW_EBADSDP, 0, "empty SDP", 400);
    }
    struct sv cur = body;
    struct sv line;
    bool is_first = true;
    while (sip_sdp_next_line(&cur, &line)) {
        if (line.len < 2 || line.ptr[1] != '=' || line.ptr[0] < 'a' || line.ptr[0] > 'z') {
            return sdp_fail(&ps, line.ptr, "bad SDP line");
        }
        int rc = parse_line(&ps, line.ptr[0], sip_sv(line.ptr + 2, line.len - 2), is_first);
        if (rc != 0) {
            return rc;
        }
        is_first = false;
    }
    if (is_first) {
        return sip_err_set(err, -SW_EBADSDP, 0, "empty SDP", 400);
    }
    return 0;
}

const struct sip_sdp_conn *sip_sdp_media_conn(const struct sip_sdp *sdp,
                                              const struct sip_sdp_media *media)
{
    if (media->conn.is_present) {
        return &media->conn;
    }
    return sdp->conn.is_present ? &sdp->conn : NULL;
}

bool sip_sdp_media_is_srtp(const struct sip_sdp_media *media)
{
    struct sv proto = media->proto;
    return sv_eq(proto, SV("RTP/SAVP")) || sv_eq(proto, SV("RTP/SAVPF")) ||
           sv_eq(proto, SV("UDP/TLS/RTP/SAVP")) || sv_eq(proto, SV("UDP/TLS/RTP/SAVPF")) ||
           sv_eq(proto, SV("TCP/TLS/RTP/SAVP")) || sv_eq(proto, SV("TCP/TLS/RTP/SAVPF"));
}

/* The suites sipwarden accepts and whether their authentication tag is the short one. */
struct crypto_suite {
    struct sv name;
    bool is_short_tag;
};

static const struct crypto_suite known_suites[] = {
    { { "AES_CM_128_HMAC_SHA1_80", 23 }, false }, { { "AES_CM_128_HMAC_SHA1_32", 23 }, true },
    { { "AES_192_CM_HMAC_SHA1_80", 23 }, false }, { { "AES_192_CM_HMAC_SHA1_32", 23 }, true },
    { { "AES_256_CM_HMAC_SHA1_80", 23 }, false }, { { "AES_256_CM_HMAC_SHA1_32", 23 }, true },
    { { "AEAD_AES_128_GCM", 16 }, false },        { { "AEAD_AES_256_GCM", 16 }, false },
};

static const struct crypto_suite *suite_find(struct sv name)
{
    for (size_t i = 0; i < sizeof(known_suites) / sizeof(known_suites[0]); i++) {
        if (sv_eq(known_suites[i].name, name)) {
            return &known_suites[i];
        }
    }
    return NULL;
}

/* RFC 4568 §6.3.1: session parameters that turn protection off. */
static bool has_unprotected_param(struct sv params)
{
    struct sv cur = params;
    struct sv word;
    while (field_take(&cur, &word)) {
        if (sv_eq(word, SV("UNENCRYPTED_SRTP")) || sv_eq(word, SV("UNENCRYPTED_SRTCP")) ||
            sv_eq(word, SV("UNAUTHENTICATED_SRTP"))) {
            return true;
        }
    }
    return false;
}

/* RFC 4568 §9.1: key-params = "inline:" key-info, several joined by ';'. Each needs a key. */
static bool key_params_are_inline(struct sv params)
{
    struct sv cur = params;
    struct sv one;
    size_t count = 0;
    bool is_more = true;
    while (is_more && count < SIP_SDP_MAX_CRYPTO) {
        is_more = sv_take_until(&cur, ';', &one);
        if (!sv_starts_with(one, SV("inline:")) || one.len == sizeof("inline:") - 1 ||
            one.ptr[sizeof("inline:") - 1] == '|') {
            return false;
        }
        count++;
    }
    return !is_more;
}

enum sip_sdp_crypto_rating sip_sdp_crypto_rate(const struct sip_sdp_media *media, size_t index)
{
    const struct sip_sdp_crypto *c = &media->crypto[index];
    const struct crypto_suite *suite = suite_find(c->suite);
    if (suite == NULL) {
        return SIP_SDP_CRYPTO_UNKNOWN_SUITE;
    }
    if (!key_params_are_inline(c->key_params)) {
        return SIP_SDP_CRYPTO_BAD_KEY;
    }
    if (sv_is_present(c->session_params) && has_unprotected_param(c->session_params)) {
        return SIP_SDP_CRYPTO_UNENCRYPTED;
    }
    if (!suite->is_short_tag) {
        return SIP_SDP_CRYPTO_OK;
    }
    for (size_t i = 0; i < media->crypto_count; i++) {
        const struct crypto_suite *other = suite_find(media->crypto[i].suite);
        if (other != NULL && !other->is_short_tag) {
            return SIP_SDP_CRYPTO_SHORT_TAG;
        }
    }
    return SIP_SDP_CRYPTO_OK;
}

bool sip_sdp_media_is_rtp(const struct sip_sdp_media *media)
{
    struct sv proto = media->proto;
    for (size_t i = 0; i + 3 <= proto.len; i++) {
        if (memcmp(proto.ptr + i, "RTP", 3) == 0) {
            return true;
        }
    }
    return false;
}

bool sip_sdp_media_is_dtls(const struct sip_sdp *sdp, const struct sip_sdp_media *media)
{
    bool has_fingerprint = sv_is_present(media->fingerprint) || sv_is_present(sdp->fingerprint);
    return has_fingerprint && (sv_starts_with(media->proto, SV("UDP/TLS/RTP/")) ||
                               sv_starts_with(media->proto, SV("TCP/TLS/RTP/")));
}
