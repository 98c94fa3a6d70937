#!/usr/bin/env python3
"""A bounded SIP OPTIONS flood from many loopback source addresses.

usage: flood.py DST_PORT [--sources N] [--rate PPS] [--seconds S] [--max-packets N]
Sources are 127.10.x.y (N of them, each its own socket); requests go to 127.0.0.1.
Hard limits: at most 10 s, at most 200,000 packets, at most 5,000 sources. Prints the
number of packets sent.
"""
import argparse
import socket
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--sources", type=int, default=1000)
    p.add_argument("--rate", type=int, default=20000)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--max-packets", type=int, default=200000)
    a = p.parse_args()
    seconds = min(a.seconds, 10.0)
    max_packets = min(a.max_packets, 200000)
    count = min(a.sources, 5000)
    socks = []
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        s.bind((f"127.10.{i // 250}.{i % 250 + 1}", 0))
        socks.append(s)
    templates = []
    for i, s in enumerate(socks):
        ip, port = s.getsockname()
        templates.append(
            (
                f"OPTIONS sip:100@127.0.0.1:{a.port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK-fl{{n}}\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:flood@{ip}>;tag=f{i}\r\n"
                f"To: <sip:100@127.0.0.1>\r\n"
                f"Call-ID: flood-{i}-{{n}}\r\n"
                "CSeq: 1 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n"
            )
        )
    dst = ("127.0.0.1", a.port)
    start = time.monotonic()
    sent = 0
    tick = 0.01
    per_tick = max(1, int(a.rate * tick))
    n = 0
    while sent < max_packets:
        now = time.monotonic()
        if now - start >= seconds:
            break
        for _ in range(min(per_tick, max_packets - sent)):
            i = n % count
            try:
                socks[i].sendto(templates[i].format(n=n).encode(), dst)
                sent += 1
            except BlockingIOError:
                pass
            n += 1
        # Pace to the rate: sleep until the next tick's due time.
        due = start + (sent / a.rate)
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    elapsed = time.monotonic() - start
    print(f"sent={sent} seconds={elapsed:.2f} sources={count}")
    for s in socks:
        s.close()


if __name__ == "__main__":
    sys.exit(main())
