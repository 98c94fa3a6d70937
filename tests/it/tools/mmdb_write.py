#!/usr/bin/env python3
"""Writes a small MaxMind DB (format 2.0) country database for the tests.

    mmdb_write.py OUT PREFIX=CC [PREFIX=CC ...]

Each PREFIX is an IPv4 or IPv6 network ("127.0.0.16/28", "2001:db8::/32") and CC its ISO
3166 country code; an address inside several prefixes takes the longest. The records
have the layout of the country databases in use (GeoLite2-Country, DB-IP country):
{"country": {"iso_code": CC}}. The tree is an IPv6 tree of 24-bit records; IPv4
networks sit under ::/96, where readers look IPv4 addresses up.

Written from the MaxMind DB File Format Specification, standard library only, so that
the tests never download a database.
"""
import ipaddress
import struct
import sys
import time

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
RECORD_BITS = 24

# Data section types (the control byte's top three bits, or 7 + the extended byte).
T_POINTER, T_STRING, T_MAP, T_UINT16, T_UINT32 = 1, 2, 7, 5, 6
T_UINT64, T_ARRAY = 9, 11


def control(kind, size):
    """The control byte(s) of a field of `kind` whose payload size is `size`."""
    if size < 29:
        first, extra = size, b""
    elif size < 285:
        first, extra = 29, bytes([size - 29])
    elif size < 65821:
        first, extra = 30, struct.pack(">H", size - 285)
    else:
        first, extra = 31, struct.pack(">I", size - 65821)[1:]
    if kind <= 7:
        return bytes([(kind << 5) | first]) + extra
    return bytes([first, kind - 7]) + extra


def encode(value, kind=None):
    """Encodes str, dict, list and int (uint16/32/64 by `kind`, default uint32)."""
    if isinstance(value, str):
        raw = value.encode()
        return control(T_STRING, len(raw)) + raw
    if isinstance(value, dict):
        out = control(T_MAP, len(value))
        for key, item in value.items():
            out += encode(key) + (encode(*item) if isinstance(item, tuple) else encode(item))
        return out
    if isinstance(value, list):
        return control(T_ARRAY, len(value)) + b"".join(encode(item) for item in value)
    kind = kind or T_UINT32
    raw = value.to_bytes(8, "big").lstrip(b"\0")
    return control(kind, len(raw)) + raw


class Node:
    def __init__(self):
        self.children = [None, None]  # a Node, a country code (str) or None (no data)


def insert(root, network, country):
    """Marks every address of `network` (an IPv6Network) as `country`."""
    bits = int(network.network_address)
    node = root
    for depth in range(network.prefixlen):
        bit = (bits >> (127 - depth)) & 1
        if depth == network.prefixlen - 1:
            node.children[bit] = country
            return
        child = node.children[bit]
        if not isinstance(child, Node):
            # A shorter prefix already here: its country covers both halves below.
            fresh = Node()
            fresh.children = [child, child]
            node.children[bit] = child = fresh
        node = child


def as_v6(text):
    network = ipaddress.ip_network(text, strict=False)
    if network.version == 4:
        base = int(network.network_address)
        return ipaddress.IPv6Network((base, 96 + network.prefixlen))
    return network


def build(pairs):
    root = Node()
    for text, country in sorted(pairs, key=lambda p: as_v6(p[0]).prefixlen):
        insert(root, as_v6(text), country)
    nodes = [root]
    for node in nodes:  # breadth first: the list grows while it is walked
        nodes.extend(c for c in node.children if isinstance(c, Node))
    index = {id(n): i for i, n in enumerate(nodes)}
    data, offsets = b"", {}
    for country in sorted({c for _, c in pairs}):
        offsets[country] = len(data)
        data += encode({"country": {"iso_code": country}})
    count = len(nodes)
    tree = b""
    for node in nodes:
        for child in node.children:
            if isinstance(child, Node):
                record = index[id(child)]
            elif child is None:
                record = count  # no data
            else:
                record = count + 16 + offsets[child]
            tree += record.to_bytes(RECORD_BITS // 8, "big")
    metadata = encode({
        "binary_format_major_version": (2, T_UINT16),
        "binary_format_minor_version": (0, T_UINT16),
        "build_epoch": (int(time.time()), T_UINT64),
        "database_type": "sipwarden-test-country",
        "description": {"en": "sipwarden test country database"},
        "ip_version": (6, T_UINT16),
        "languages": ["en"],
        "node_count": (count, T_UINT32),
        "record_size": (RECORD_BITS, T_UINT16),
    })
    return tree + b"\0" * 16 + data + METADATA_MARKER + metadata


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: mmdb_write.py OUT PREFIX=CC [PREFIX=CC ...]")
    pairs = []
    for arg in argv[2:]:
        prefix, _, country = arg.partition("=")
        if len(country) != 2:
            sys.exit(f"mmdb_write.py: {arg}: expected PREFIX=CC")
        pairs.append((prefix, country))
    with open(argv[1], "wb") as out:
        out.write(build(pairs))


if __name__ == "__main__":
    main(sys.argv)
