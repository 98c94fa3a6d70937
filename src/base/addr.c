#include "base/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool sw_ip_from_sockaddr(const struct sockaddr_storage *ss, struct sw_ip *out)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        memcpy(out->bytes, v4_mapped_prefix, 12);
        memcpy(out->bytes + 12, &sin->sin_addr, 4);
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        memcpy(out->bytes, &sin6->sin6_addr, 16);
        return true;
    }
    return false;
}

void sw_ip_to_sockaddr(const struct sw_ip *ip, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (sw_ip_is_v4(ip)) {
        struct sockaddr_in *in = (struct sockaddr_in *)out;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, &ip->bytes[12], 4);
        return;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    in6->sin6_family = AF_INET6;
    memcpy(&in6->sin6_addr, ip->bytes, sizeof(ip->bytes));
}

bool sw_ip_is_v4(const struct sw_ip *ip)
{
    return memcmp(ip->bytes, v4_mapped_prefix, 12) == 0;
}

bool sw_ip_parse(struct sv text, struct sw_ip *out)
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (!sv_copy_cstr(text, buf, sizeof(buf))) {
        return false;
    }
    struct in_addr v4;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        memcpy(out->bytes, v4_mapped_prefix, 12);
        memcpy(out->bytes + 12, &v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out->bytes) == 1;
}

/* Dotted quad, written here: inet_ntop formats IPv4 with sprintf, four calls per address. */
static void format_v4(const uint8_t quad[4], char *buf)
{
    char *p = buf;
    for (int i = 0; i < 4; i++) {
        unsigned v = quad[i];
        if (v >= 100) {
            *p++ = (char)('0' + v / 100);
        }
        if (v >= 10) {
            *p++ = (char)('0' + v / 10 % 10);
        }
        *p++ = (char)('0' + v % 10);
        *p++ = i < 3 ? '.' : '\0';
    }
}

void sw_ip_format(const struct sw_ip *ip, char *buf, size_t cap)
{
    if (sw_ip_is_v4(ip) && cap >= INET_ADDRSTRLEN) {
        format_v4(ip->bytes + 12, buf);
        return;
    }
    const char *ok = sw_ip_is_v4(ip) ? inet_ntop(AF_INET, ip->bytes + 12, buf, (socklen_t)cap)
                                     : inet_ntop(AF_INET6, ip->bytes, buf, (socklen_t)cap);
    if (ok == NULL && cap > 0) {
        buf[0] = '\0';
    }
}

bool sw_ip_eq(const struct sw_ip *a, const struct sw_ip *b)
{
    return memcmp(a->bytes, b->bytes, 16) == 0;
}

struct sw_ip sw_ip_aggregate(const struct sw_ip *ip, unsigned v6_prefix_len)
{
    struct sw_ip key = *ip;
    if (sw_ip_is_v4(ip) || v6_prefix_len == 0 || v6_prefix_len >= 128) {
        return key;
    }
    size_t full = v6_prefix_len / 8;
    unsigned rest = v6_prefix_len % 8;
    if (rest != 0) {
        key.bytes[full] &= (uint8_t)(0xffu << (8 - rest));
        full++;
    }
    memset(key.bytes + full, 0, sizeof(key.bytes) - full);
    return key;
}

uint16_t sw_sockaddr_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    }
    if (ss->ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    }
    return 0;
}

unsigned sw_sockaddr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

void sw_sockaddr_format_ip(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    struct sw_ip ip;
    if (!sw_ip_from_sockaddr(ss, &ip)) {
        (void)sw_snprintf(buf, cap, "?");
        return;
    }
    sw_ip_format(&ip, buf, cap);
}

void sw_sockaddr_format(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    struct sw_ip parsed;
    if (!sw_ip_from_sockaddr(ss, &parsed)) {
        (void)sw_snprintf(buf, cap, "?");
        return;
    }
    sw_ip_format(&parsed, ip, sizeof(ip));
    bool bracket = !sw_ip_is_v4(&parsed);
    (void)sw_snprintf(buf, cap, bracket ? "[%s]:%u" : "%s:%u", ip, sw_sockaddr_port(ss));
}

static bool sockaddr_from_ip(const struct sw_ip *ip, uint16_t port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (sw_ip_is_v4(ip)) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        memcpy(&sin->sin_addr, ip->bytes + 12, 4);
        return true;
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    memcpy(&sin6->sin6_addr, ip->bytes, 16);
    return true;
}

bool sw_sockaddr_parse(struct sv text, uint16_t default_port, struct sockaddr_storage *out)
{
    struct sv host = text;
    struct sv port_text = SV_NULL;
    if (text.len > 0 && text.ptr[0] == '[') {
        long close = sv_find_char(text, ']');
        if (close < 0) {
            return false;
        }
        host = sv_slice(text, 1, (size_t)close - 1);
        struct sv rest = sv_slice(text, (size_t)close + 1, text.len);
        if (rest.len > 0) {
            if (rest.ptr[0] != ':') {
                return false;
            }
            port_text = sv_slice(rest, 1, rest.len);
        }
    } else {
        long colon = sv_find_char(text, ':');
        if (colon >= 0 && sv_find_char(sv_slice(text, (size_t)colon + 1, text.len), ':') < 0) {
            host = sv_slice(text, 0, (size_t)colon);
            port_text = sv_slice(text, (size_t)colon + 1, text.len);
        }
    }
    uint32_t port = default_port;
    if (port_text.ptr != NULL && (!sv_to_u32(port_text, &port) || port > 65535)) {
        return false;
    }
    struct sw_ip ip;
    if (!sw_ip_parse(host, &ip)) {
        return false;
    }
    return sockaddr_from_ip(&ip, (uint16_t)port, out);
}

bool sw_sockaddr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    struct sw_ip ia;
    struct sw_ip ib;
    if (!sw_ip_from_sockaddr(a, &ia) || !sw_ip_from_sockaddr(b, &ib)) {
        return false;
    }
    return sw_ip_eq(&ia, &ib) && sw_sockaddr_port(a) == sw_sockaddr_port(b);
}

bool sw_cidr_parse(struct sv text, struct sw_cidr *out)
{
    struct sv cur = text;
    struct sv ip_text;
    bool has_len = sv_take_until(&cur, '/', &ip_text);
    if (!sw_ip_parse(sv_trim(ip_text), &out->ip)) {
        return false;
    }
    bool is_v4 = sw_ip_is_v4(&out->ip);
    uint32_t len = is_v4 ? 32 : 128;
    if (has_len && (!sv_to_u32(sv_trim(cur), &len) || len > (is_v4 ? 32u : 128u))) {
        return false;
    }
    out->prefix_len = (uint8_t)(is_v4 ? len + 96 : len);
    /* Host bits are cleared so that equal ranges compare equal and contain() stays simple. */
    for (unsigned bit = out->prefix_len; bit < 128; bit++) {
        out->ip.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    }
    return true;
}

bool sw_cidr_contains(const struct sw_cidr *range, const struct sw_ip *ip)
{
    unsigned full = range->prefix_len / 8u;
    if (memcmp(range->ip.bytes, ip->bytes, full) != 0) {
        return false;
    }
    unsigned rest = range->prefix_len % 8u;
    if (rest == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (range->ip.bytes[full] & mask) == (ip->bytes[full] & mask);
}

void sw_cidr_format(const struct sw_cidr *range, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    sw_ip_format(&range->ip, ip, sizeof(ip));
    bool is_v4 = sw_ip_is_v4(&range->ip) && range->prefix_len >= 96;
    (void)sw_snprintf(buf, cap, "%s/%u", ip, is_v4 ? range->prefix_len - 96u : range->prefix_len);
}
