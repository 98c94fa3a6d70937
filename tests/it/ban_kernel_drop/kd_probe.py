#!/usr/bin/env python3
"""Probes the gateway from a chosen loopback source and says what came back.

usage: kd_probe.py udp SRC_IP DST_PORT COUNT [--gap-ms N] [--wait-s S]
           sends COUNT OPTIONS (at most 20000), then prints the number of answers
           received until WAIT_S seconds passed without one.
       kd_probe.py tcp SRC_IP DST_PORT [--wait-s S]
           prints "connected", "refused" or "timeout" (no SYN-ACK within WAIT_S).
Loopback only: the source and destination lie in 127.0.0.0/8.
"""
import argparse
import socket
import sys
import time


def udp(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.src, 0))
    sport = s.getsockname()[1]
    s.setblocking(False)
    answers = 0
    for n in range(a.count):
        msg = (
            f"OPTIONS sip:probe@127.0.0.1:{a.port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {a.src}:{sport};branch=z9hG4bK-kd-{n}\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:probe@{a.src}>;tag=kd{n}\r\n"
            f"To: <sip:probe@127.0.0.1>\r\n"
            f"Call-ID: kd-{a.src}-{n}-{time.time_ns()}\r\n"
            f"CSeq: 1 OPTIONS\r\n"
            f"Content-Length: 0\r\n\r\n"
        ).encode()
        s.sendto(msg, ("127.0.0.1", a.port))
        answers += drain(s)
        if a.gap_ms > 0:
            time.sleep(a.gap_ms / 1000.0)
    s.settimeout(a.wait_s)
    while True:
        try:
            s.recv(65536)
            answers += 1
        except (socket.timeout, BlockingIOError):
            break
    print(answers)


def drain(s):
    got = 0
    while True:
        try:
            s.recv(65536)
            got += 1
        except BlockingIOError:
            return got


def tcp(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((a.src, 0))
    s.settimeout(a.wait_s)
    try:
        s.connect(("127.0.0.1", a.port))
        print("connected")
    except ConnectionRefusedError:
        print("refused")
    except socket.timeout:
        print("timeout")
    finally:
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["udp", "tcp"])
    p.add_argument("src")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int, nargs="?", default=1)
    p.add_argument("--gap-ms", type=float, default=0.0)
    p.add_argument("--wait-s", type=float, default=1.0)
    a = p.parse_args()
    if not a.src.startswith("127."):
        sys.exit("loopback only")
    if a.count > 20000:
        sys.exit("at most 20000 requests")
    udp(a) if a.kind == "udp" else tcp(a)


if __name__ == "__main__":
    main()
