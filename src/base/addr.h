/*
 * Socket addresses and CIDR ranges, IPv4 and IPv6. An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is treated as the IPv4 address, so one rule covers both forms.
 * Pure functions; thread-safe.
 */
#ifndef SW_BASE_ADDR_H
#define SW_BASE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/sv.h"

/* Longest "[v6]:port" text plus NUL. */
#define SW_ADDR_STRLEN 64

/* A host address without port, in a canonical 16-byte form (IPv4 as ::ffff:a.b.c.d). */
struct sw_ip {
    uint8_t bytes[16];
};

/* An address range: the first `prefix_len` bits of `ip` (0..128 in the 16-byte form). */
struct sw_cidr {
    struct sw_ip ip;
    uint8_t prefix_len;
};

/* The IP of a socket address (AF_INET or AF_INET6); false for other families. */
bool sw_ip_from_sockaddr(const struct sockaddr_storage *ss, struct sw_ip *out);

/* The socket address of `ip`, port 0: an IPv4-mapped address as AF_INET (where an IPv6
 * table or database keeps IPv4 networks apart), any other as AF_INET6. */
void sw_ip_to_sockaddr(const struct sw_ip *ip, struct sockaddr_storage *out);

/* True when `ip` is an IPv4 address in the mapped form. */
bool sw_ip_is_v4(const struct sw_ip *ip);

/* Parses a bare IPv4 or IPv6 address (no brackets, no port). */
bool sw_ip_parse(struct sv text, struct sw_ip *out);

/* Formats the IP ("192.0.2.1" or "2001:db8::1") into `buf` of SW_ADDR_STRLEN bytes. */
void sw_ip_format(const struct sw_ip *ip, char *buf, size_t cap);

/* Equality of two IPs. */
bool sw_ip_eq(const struct sw_ip *a, const struct sw_ip *b);

/*
 * The key under which `ip` is counted and banned: an IPv6 address cut to its first
 * `v6_prefix_len` bits (the rest zero), because one holder of a /64 has all of its
 * 2^64 addresses; an IPv4 address unchanged. A length of 0 or 128 or more keeps the
 * full IPv6 address.
 */
struct sw_ip sw_ip_aggregate(const struct sw_ip *ip, unsigned v6_prefix_len);

/* Port of a socket address in host order (0 for unknown families). */
uint16_t sw_sockaddr_port(const struct sockaddr_storage *ss);

/* Length to pass to sendto()/bind() for this address. */
unsigned sw_sockaddr_len(const struct sockaddr_storage *ss);

/* Formats "ip:port" or "[v6]:port" into `buf` (SW_ADDR_STRLEN bytes). */
void sw_sockaddr_format(const struct sockaddr_storage *ss, char *buf, size_t cap);

/* Formats the IP only. */
void sw_sockaddr_format_ip(const struct sockaddr_storage *ss, char *buf, size_t cap);

/*
 * Parses "ip:port", "[v6]:port", "ip" or "[v6]" (port 0 when missing, unless
 * `default_port` is given). Returns false on anything else.
 */
bool sw_sockaddr_parse(struct sv text, uint16_t default_port, struct sockaddr_storage *out);

/* Equality of IP and port. */
bool sw_sockaddr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* Parses "ip/len" or a bare "ip" (a host range). IPv4 lengths are 0..32. */
bool sw_cidr_parse(struct sv text, struct sw_cidr *out);

/* True when `ip` lies inside `range`. */
bool sw_cidr_contains(const struct sw_cidr *range, const struct sw_ip *ip);

/* Formats "ip/len" (the IPv4 length for IPv4 ranges). */
void sw_cidr_format(const struct sw_cidr *range, char *buf, size_t cap);

#endif
