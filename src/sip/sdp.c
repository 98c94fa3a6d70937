#include "sip/sdp.h"

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

int sip_sdp_parse(struct sv body, struct sip_sdp *out, struct sip_err *err)
{
    memset(out, 0, sizeof(*out));
    struct sdp_parser ps = { .body = body, .out = out, .err = err };
    if (body.ptr == NULL || body.len == 0) {
        return sip_err_set(err, -SW_EBADSDP, 0, "empty SDP", 400);
    }
    const char *p = body.ptr;
    const char *end = body.ptr + body.len;
    bool is_first = true;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = lf == NULL ? end : lf;
        const char *next = lf == NULL ? end : lf + 1;
        if (line_end > p && line_end[-1] == '\r') {
            line_end--;
        }
        size_t len = (size_t)(line_end - p);
        if (len == 0) {
            p = next; /* tolerate blank lines (a trailing CRLF pair is common) */
            continue;
        }
        if (len < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
            return sdp_fail(&ps, p, "bad SDP line");
        }
        int rc = parse_line(&ps, p[0], sip_sv(p + 2, len - 2), is_first);
        if (rc != 0) {
            return rc;
        }
        is_first = false;
        p = next;
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
