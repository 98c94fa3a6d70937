#!/usr/bin/env python3
"""Sends SIP requests over UDP from a chosen loopback source, without waiting for answers.

usage: sip_send.py SRC_IP DST_PORT COUNT [--method M] [--user U] [--ua TEXT] [--call-id ID]
                   [--dst-ip IP] [--gap-ms N] [--header "Name: value"] [--sweep]
With --sweep the user of request n is USER + n (an extension sweep).
Every request gets its own Call-ID (ID-<n>) unless --call-id is given with --same-call-id.
Loopback only: the source and destination must lie in 127.0.0.0/8.
"""
import argparse
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--method", default="OPTIONS")
    p.add_argument("--user", default="100")
    p.add_argument("--ua", default="it-sender")
    p.add_argument("--call-id", default="it-send")
    p.add_argument("--dst-ip", default="127.0.0.1")
    p.add_argument("--gap-ms", type=float, default=2.0)
    p.add_argument("--header", action="append", default=[])
    p.add_argument("--sweep", action="store_true")
    a = p.parse_args()
    if not a.src.startswith("127.") or not a.dst_ip.startswith("127."):
        sys.exit("loopback only")
    if a.count > 10000:
        sys.exit("at most 10000 requests")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.src, 0))
    sport = s.getsockname()[1]
    for n in range(a.count):
        user = str(int(a.user) + n) if a.sweep else a.user
        msg = (
            f"{a.method} sip:{user}@{a.dst_ip}:{a.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {a.src}:{sport};branch=z9hG4bK-it{n}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{user}@{a.src}>;tag=it{n}\r\n"
            f"To: <sip:{user}@{a.dst_ip}>\r\n"
            f"Call-ID: {a.call_id}-{n}\r\n"
            f"CSeq: 1 {a.method}\r\n"
            f"User-Agent: {a.ua}\r\n"
            + "".join(h + "\r\n" for h in a.header)
            + "Content-Length: 0\r\n\r\n"
        )
        s.sendto(msg.encode("utf-8", "surrogateescape"), (a.dst_ip, a.port))
        time.sleep(a.gap_ms / 1000.0)


if __name__ == "__main__":
    main()
