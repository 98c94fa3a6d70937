#!/usr/bin/env python3
"""Sends COUNT INVITEs (each its own Call-ID) over UDP from SRC to the gateway within
about SECONDS, then reads answers for 2 s more, and prints how many of each status came.
Loopback only; at most 20000 INVITEs.

usage: flood_invite.py SRC GW_PORT COUNT SECONDS DIALLED
"""
import collections
import socket
import sys
import time


def main():
    src, port, count, seconds, dialled = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
        float(sys.argv[4]), sys.argv[5]
    if not src.startswith("127.") or count > 20000:
        sys.exit("loopback only, at most 20000 INVITEs")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((src, 0))
    s.setblocking(False)
    sport = s.getsockname()[1]
    statuses = collections.Counter()

    def drain():
        while True:
            try:
                data = s.recv(65535)
            except BlockingIOError:
                return
            line = data.split(b"\r\n", 1)[0].split(b" ")
            if len(line) > 1 and line[0] == b"SIP/2.0":
                statuses[line[1].decode()] += 1

    gap = seconds / max(count, 1)
    start = time.monotonic()
    for n in range(count):
        msg = (f"INVITE sip:{dialled}@127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {src}:{sport};branch=z9hG4bK-fl{n}\r\n"
               "Max-Forwards: 70\r\n"
               f"From: <sip:+15559990000@{src}>;tag=fl{n}\r\n"
               f"To: <sip:{dialled}@127.0.0.1>\r\n"
               f"Call-ID: flood-{sport}-{n}\r\n"
               "CSeq: 1 INVITE\r\n"
               f"Contact: <sip:caller@{src}:{sport}>\r\n"
               "Content-Length: 0\r\n\r\n")
        s.sendto(msg.encode(), ("127.0.0.1", port))
        drain()
        delay = start + (n + 1) * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        drain()
        time.sleep(0.01)
    for status, n in sorted(statuses.items()):
        print(f"{status} {n}")


if __name__ == "__main__":
    main()
