#!/usr/bin/env python3
"""A stateless PBX stand-in for the soak: answers REGISTER with 200 and INVITE with 100,
180 and 200 (with SDP), BYE/CANCEL/OPTIONS with 200, ignores ACK. Retransmissions get
the same answers. Loopback only; stops after --seconds.

usage: pbx.py IP PORT --seconds S
"""
import argparse
import socket
import sys
import time

SDP = ("v=0\r\no=pbx 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def headers_of(msg):
    head = msg.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return head[0], head[1:]


def reply(status, request_headers, ip, port, to_tag, body=""):
    out = ["SIP/2.0 " + status]
    for h in request_headers:
        name = h.split(":", 1)[0].strip().lower()
        if name in ("via", "v", "from", "f", "call-id", "i", "cseq", "record-route"):
            out.append(h)
        elif name in ("to", "t"):
            out.append(h if ";tag=" in h or not to_tag else h + ";tag=" + to_tag)
    out.append("Contact: <sip:pbx@%s:%d>" % (ip, port))
    if body:
        out.append("Content-Type: application/sdp")
    out.append("Content-Length: %d" % len(body))
    return ("\r\n".join(out) + "\r\n\r\n" + body).encode("latin-1")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ip")
    p.add_argument("port", type=int)
    p.add_argument("--seconds", type=float, required=True)
    a = p.parse_args()
    if not a.ip.startswith("127."):
        sys.exit("loopback only")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.ip, a.port))
    s.settimeout(0.5)
    deadline = time.monotonic() + a.seconds
    counts = {}
    while time.monotonic() < deadline:
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            continue
        if data.startswith(b"SIP/2.0") or len(data) < 20:
            continue
        start, hdrs = headers_of(data)
        method = start.split(" ", 1)[0]
        counts[method] = counts.get(method, 0) + 1
        call_id = next((h.split(":", 1)[1].strip() for h in hdrs
                        if h.lower().startswith(("call-id:", "i:"))), "x")
        tag = "p%08x" % (hash(call_id) & 0xffffffff)
        if method == "INVITE":
            s.sendto(reply("100 Trying", hdrs, a.ip, a.port, ""), src)
            s.sendto(reply("180 Ringing", hdrs, a.ip, a.port, tag), src)
            s.sendto(reply("200 OK", hdrs, a.ip, a.port, tag, SDP.format(ip=a.ip)), src)
        elif method != "ACK":
            s.sendto(reply("200 OK", hdrs, a.ip, a.port, tag), src)
    print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))


main()
