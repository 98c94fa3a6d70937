#!/usr/bin/env python3
"""A PBX stand-in that answers every INVITE at once and counts calls in progress.

usage: pbx_counter.py IP PORT --seconds S [--out FILE]

UDP only. An INVITE gets 200 with a small SDP answer (a retransmission gets the same 200
and is not counted again), a BYE or CANCEL gets 200 and ends its call, ACK is absorbed,
OPTIONS gets 200. Every second and at the end it writes (to --out, else stdout):
"answered=N", "max_concurrent=N" (answered calls not yet ended, the most at any moment),
"now=N" and "answered_from_IP=N" per sending address. Loopback only; stops after S s, or
at SIGTERM (writing its counts first).
"""
import argparse
import os
import re
import signal
import socket
import sys
import time


def header(text, name):
    m = re.search(rf"(?im)^{name}:\s*(.*)$", text)
    return m.group(1).strip() if m else ""


def reply(text, code, reason, body=""):
    lines = [f"SIP/2.0 {code} {reason}"]
    for name in ("Via", "From", "Call-ID", "CSeq"):
        for m in re.finditer(rf"(?im)^{name}:\s*(.*)$", text):
            lines.append(f"{name}: {m.group(1).strip()}")
    to = header(text, "To")
    if ";tag=" not in to:
        to += ";tag=pbx" + str(abs(hash(header(text, "Call-ID"))) % 100000)
    lines.append(f"To: {to}")
    if code == 200 and body:
        lines.append("Contact: <sip:pbx@127.0.0.5>")
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP = ("v=0\r\no=pbx 1 1 IN IP4 127.0.0.5\r\ns=-\r\nc=IN IP4 127.0.0.5\r\nt=0 0\r\n"
       "m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ip")
    p.add_argument("port", type=int)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--out")
    a = p.parse_args()
    if not a.ip.startswith("127."):
        sys.exit("loopback only")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.ip, a.port))
    s.settimeout(0.1)
    active, seen = set(), set()
    per_source = {}
    best = 0
    end = time.monotonic() + a.seconds
    next_write = 0.0

    def write():
        lines = [f"answered={len(seen)}", f"max_concurrent={best}", f"now={len(active)}"]
        lines += [f"answered_from_{ip}={n}" for ip, n in sorted(per_source.items())]
        text = "\n".join(lines) + "\n"
        if a.out:
            with open(a.out + ".tmp", "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(a.out + ".tmp", a.out)
        else:
            print(text, flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    while time.monotonic() < end and not stop:
        if time.monotonic() >= next_write:
            write()
            next_write = time.monotonic() + 1
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        text = data.decode("utf-8", "replace")
        method = text.split(" ", 1)[0]
        call_id = header(text, "Call-ID")
        if method == "INVITE":
            if call_id not in seen:
                seen.add(call_id)
                active.add(call_id)
                per_source[src[0]] = per_source.get(src[0], 0) + 1
                best = max(best, len(active))
            s.sendto(reply(text, 200, "OK", SDP), src)
        elif method in ("BYE", "CANCEL"):
            active.discard(call_id)
            s.sendto(reply(text, 200, "OK"), src)
        elif method == "OPTIONS":
            s.sendto(reply(text, 200, "OK"), src)
    write()


if __name__ == "__main__":
    main()
