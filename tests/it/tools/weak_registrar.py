#!/usr/bin/env python3
"""A deliberately weak SIP registrar, the positive control of the attack tests.

usage: weak_registrar.py PORT --user USER:PASSWORD [--user ...] [--seconds S]
Listens on 127.0.0.1:PORT (UDP). REGISTER without credentials, or with a wrong
response, gets 401 with a fresh qop="auth" MD5 challenge (what svcrack needs); the right
response gets 200 OK; an unknown user gets 404 (the leak svwar needs). Other requests get
200 (OPTIONS) or 404. Exits after S seconds (at most 120).
"""
import argparse
import hashlib
import os
import re
import socket
import time


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def header(msg, name):
    m = re.search(r"^" + name + r":\s*(.*?)\r?$", msg, re.I | re.M)
    return m.group(1) if m else ""


def reply(msg, code, reason, extra=""):
    lines = [f"SIP/2.0 {code} {reason}"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        value = header(msg, name)
        if name == "To" and code != 100 and ";tag=" not in value:
            value += ";tag=weak1"
        lines.append(f"{name}: {value}")
    lines.append("Server: weak-registrar")
    if extra:
        lines.append(extra)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def params(value):
    return dict(re.findall(r'(\w+)="?([^",]*)"?', value))


def answer(msg, users, realm):
    first = msg.split("\r\n", 1)[0].split(" ")
    method, ruri = first[0], first[1] if len(first) > 1 else ""
    to_user = re.search(r"sip:([^@>;]+)@", header(msg, "To"))
    user = to_user.group(1) if to_user else ""
    if method == "OPTIONS":
        return reply(msg, 200, "OK")
    if method != "REGISTER":
        return reply(msg, 404, "Not Found")
    if user not in users:
        return reply(msg, 404, "Not Found")
    challenge = (f'WWW-Authenticate: Digest realm="{realm}", nonce="{os.urandom(8).hex()}", '
                 'qop="auth", algorithm=MD5')
    auth = header(msg, "Authorization")
    if not auth:
        return reply(msg, 401, "Unauthorized", challenge)
    p = params(auth)
    ha1 = md5(f"{p.get('username', '')}:{realm}:{users[user]}")
    ha2 = md5(f"REGISTER:{p.get('uri', ruri)}")
    want = md5(f"{ha1}:{p.get('nonce', '')}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")
    plain = md5(f"{ha1}:{p.get('nonce', '')}:{ha2}")
    if p.get("response") in (want, plain):
        return reply(msg, 200, "OK", f"Contact: {header(msg, 'Contact')};expires=60")
    return reply(msg, 401, "Unauthorized", challenge)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--user", action="append", default=[])
    ap.add_argument("--seconds", type=float, default=60)
    a = ap.parse_args()
    users = dict(u.split(":", 1) for u in a.user)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.port))
    s.settimeout(0.2)
    end = time.monotonic() + min(a.seconds, 120)
    while time.monotonic() < end:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        msg = data.decode("utf-8", "replace")
        if msg.startswith("SIP/2.0") or msg.startswith("ACK"):
            continue
        s.sendto(answer(msg, users, "weak"), peer)


if __name__ == "__main__":
    main()
