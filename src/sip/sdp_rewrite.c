#include "sip/sdp_rewrite.h"

#include <string.h>

#include "base/err.h"

struct rewriter {
    const struct sip_sdp_rewrite *spec;
    struct sw_buf *out;
    size_t media;        /* m= lines seen so far (the current one is media - 1) */
    size_t crypto;       /* a=crypto lines seen in the current m= section */
    uint16_t media_port; /* the relay's port for the current m=, 0 = unchanged */
};

/* The `n`-th (from 0) SP-separated field of `value`, or the absent view. */
static struct sv field_at(struct sv value, size_t n)
{
    struct sv cur = value;
    struct sv field = SV_NULL;
    for (size_t i = 0; i <= n; i++) {
        if (cur.len == 0) {
            return SV_NULL;
        }
        (void)sv_take_until(&cur, ' ', &field); /* the last field has no SP after it */
    }
    return field;
}

/* RFC 2543 hold (RFC 3264 §8.4 still asks to understand it): a zero connection address. */
static bool is_hold_address(struct sv address)
{
    return sv_eq(address, SV("0.0.0.0")) || sv_eq(address, SV("::"));
}

static void put_line(struct rewriter *rw, struct sv line)
{
    sw_buf_sv(rw->out, line);
    sw_buf_str(rw->out, "\r\n");
}

static void put_address(struct rewriter *rw)
{
    sw_buf_str(rw->out, "IN ");
    sw_buf_sv(rw->out, rw->spec->addr_type);
    sw_buf_char(rw->out, ' ');
    sw_buf_sv(rw->out, rw->spec->address);
}

/* c=IN <type> <address>: the relay's, unless this is a hold address. */
static void rewrite_conn(struct rewriter *rw, struct sv line)
{
    struct sv address = field_at(sv_slice(line, 2, line.len), 2);
    long slash = sv_find_char(address, '/');
    if (slash >= 0) {
        address = sv_slice(address, 0, (size_t)slash);
    }
    if (!sv_is_present(rw->spec->addr_type) || is_hold_address(address)) {
        put_line(rw, line);
        return;
    }
    sw_buf_str(rw->out, "c=");
    put_address(rw);
    sw_buf_str(rw->out, "\r\n");
}

/* o=<user> <sess-id> <sess-version> IN <type> <address> */
static void rewrite_origin(struct rewriter *rw, struct sv line)
{
    struct sv value = sv_slice(line, 2, line.len);
    struct sv nettype = field_at(value, 3);
    if (!rw->spec->is_origin_replaced || !sv_is_present(rw->spec->addr_type) ||
        !sv_is_present(nettype)) {
        put_line(rw, line);
        return;
    }
    sw_buf_sv(rw->out, sv_make(line.ptr, (size_t)(nettype.ptr - line.ptr)));
    put_address(rw);
    sw_buf_str(rw->out, "\r\n");
}

/* m=<media> <port>[/<count>] <proto> <fmt>... */
static int rewrite_media(struct rewriter *rw, struct sv line)
{
    if (rw->media >= SIP_SDP_MAX_MEDIA) {
        return -SW_EBADSDP;
    }
    size_t index = rw->media++;
    rw->crypto = 0;
    rw->media_port = index < rw->spec->port_count ? rw->spec->ports[index] : 0;
    struct sv value = sv_slice(line, 2, line.len);
    struct sv media = field_at(value, 0);
    struct sv port = field_at(value, 1);
    uint32_t number = 0;
    long slash = sv_find_char(port, '/');
    struct sv digits = slash >= 0 ? sv_slice(port, 0, (size_t)slash) : port;
    if (!sv_is_present(port) || !sv_to_u32(digits, &number) || number == 0) {
        rw->media_port = 0; /* a disabled or rejected stream stays so (RFC 3264 §6) */
    }
    if (rw->media_port == 0) {
        put_line(rw, line);
        return 0;
    }
    sw_buf_str(rw->out, "m=");
    sw_buf_sv(rw->out, media);
    sw_buf_char(rw->out, ' ');
    sw_buf_u64(rw->out, rw->media_port);
    const char *rest = port.ptr + port.len;
    sw_buf_sv(rw->out, sv_make(rest, (size_t)(line.ptr + line.len - rest)));
    sw_buf_str(rw->out, "\r\n");
    return 0;
}

static bool is_ice_attribute(struct sv name)
{
    return sv_eq(name, SV("candidate")) || sv_eq(name, SV("remote-candidates")) ||
           sv_starts_with(name, SV("ice-"));
}

/* a=rtcp:<port> [IN <type> <address>] (RFC 3605): the relay's port + 1 and address. */
static void rewrite_rtcp(struct rewriter *rw, struct sv line, struct sv arg)
{
    if (rw->media_port == 0 || rw->media_port == UINT16_MAX) {
        put_line(rw, line);
        return;
    }
    sw_buf_str(rw->out, "a=rtcp:");
    sw_buf_u64(rw->out, (uint64_t)rw->media_port + 1);
    struct sv nettype = field_at(arg, 1);
    if (sv_is_present(nettype)) {
        sw_buf_char(rw->out, ' ');
        if (sv_is_present(rw->spec->addr_type)) {
            put_address(rw);
        } else {
            sw_buf_sv(rw->out, sv_make(nettype.ptr, (size_t)(arg.ptr + arg.len - nettype.ptr)));
        }
    }
    sw_buf_str(rw->out, "\r\n");
}

static void rewrite_attribute(struct rewriter *rw, struct sv line)
{
    struct sv value = sv_slice(line, 2, line.len);
    long colon = sv_find_char(value, ':');
    struct sv name = colon >= 0 ? sv_slice(value, 0, (size_t)colon) : value;
    struct sv arg = colon >= 0 ? sv_slice(value, (size_t)colon + 1, value.len) : SV_NULL;
    if (rw->spec->is_ice_removed && is_ice_attribute(name)) {
        return;
    }
    if (sv_eq(name, SV("crypto")) && rw->media > 0) {
        size_t index = rw->crypto++;
        if (index < 32 && (rw->spec->drop_crypto[rw->media - 1] & (1u << index)) != 0) {
            return;
        }
    }
    if (sv_eq(name, SV("rtcp")) && sv_is_present(arg)) {
        rewrite_rtcp(rw, line, arg);
        return;
    }
    put_line(rw, line);
}

int sip_sdp_rewrite(struct sv body, const struct sip_sdp_rewrite *spec, struct sw_buf *out)
{
    struct rewriter rw = { .spec = spec, .out = out };
    struct sv cur = body;
    struct sv line;
    while (sip_sdp_next_line(&cur, &line)) {
        char type = '\0';
        if (line.len >= 2 && line.ptr[1] == '=') {
            type = line.ptr[0];
        }
        int rc = 0;
        switch (type) {
        case 'c':
            rewrite_conn(&rw, line);
            break;
        case 'o':
            rewrite_origin(&rw, line);
            break;
        case 'm':
            rc = rewrite_media(&rw, line);
            break;
        case 'a':
            rewrite_attribute(&rw, line);
            break;
        default:
            put_line(&rw, line);
            break;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return out->is_overflow ? -SW_ETOOBIG : 0;
}

int sip_sdp_rewrite_from_relay(const struct sip_sdp *relay, struct sip_sdp_rewrite *spec)
{
    const struct sip_sdp_conn *conn = relay->conn.is_present ? &relay->conn : NULL;
    if (conn == NULL && relay->media_count > 0 && relay->media[0].conn.is_present) {
        conn = &relay->media[0].conn;
    }
    if (conn == NULL) {
        return -SW_EBADSDP;
    }
    spec->addr_type = conn->addr_type;
    spec->address = conn->address;
    spec->port_count = relay->media_count;
    for (size_t i = 0; i < relay->media_count; i++) {
        spec->ports[i] = relay->media[i].port;
    }
    return 0;
}
