#!/usr/bin/env python3
"""Failed digest registrations, one account after the other: for each user USER<n> a
REGISTER, then (after the 401) a REGISTER with a wrong digest response. Each guess is a
failed authentication for the gateway (InvalidAccountID or InvalidPassword).

With --password the digest is right (RFC 7616, MD5 or SHA-256): a registration that
succeeds, from SRC_IP.

usage: reg_guess.py SRC_IP DST_PORT COUNT [--user PREFIX] [--gap-ms N] [--same-user]
                    [--password SECRET] [--ua USER_AGENT]
Loopback only. At most 2,000 guesses; each answer is awaited at most 2 s. Prints
"sent N answered M".
"""
import argparse
import hashlib
import re
import socket
import sys
import time


def request(user, dst, port, src_port, cseq, call_id, auth=None, ua="it-reg-guess"):
    lines = [
        f"REGISTER sip:{dst}:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{src_port};branch=z9hG4bK-{call_id}-{cseq};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{dst}>;tag=rg{cseq}",
        f"To: <sip:{user}@{dst}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{user}@127.0.0.1:{src_port}>",
        "Expires: 60",
        f"User-Agent: {ua}",
    ]
    if auth:
        lines.append(auth)
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def digest(params, user, password, uri, alg, cnonce):
    h = hashlib.sha256 if "256" in alg else hashlib.md5
    ha1 = h(f"{user}:{params.get('realm', '')}:{password}".encode()).hexdigest()
    ha2 = h(f"REGISTER:{uri}".encode()).hexdigest()
    nonce = params.get("nonce", "")
    if "qop" in params:
        return h(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return h(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()


def answer(sock, deadline):
    while time.time() < deadline:
        sock.settimeout(max(0.01, deadline - time.time()))
        try:
            data = sock.recv(65535).decode("utf-8", "replace")
        except socket.timeout:
            return None
        status = data.split(" ", 2)[1] if data.startswith("SIP/2.0 ") else ""
        if status != "100":
            return data
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("port", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--user", default="guess")
    p.add_argument("--gap-ms", type=float, default=20.0)
    p.add_argument("--same-user", action="store_true")
    p.add_argument("--dst-ip", default="127.0.0.1")
    p.add_argument("--password")
    p.add_argument("--ua", default="it-reg-guess")
    a = p.parse_args()
    if not a.src.startswith("127.") or not a.dst_ip.startswith("127."):
        sys.exit("loopback only")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.src, 0))
    sock.connect((a.dst_ip, a.port))
    src_port = sock.getsockname()[1]
    sent = answered = 0
    for n in range(min(a.count, 2000)):
        user = a.user if a.same_user else f"{a.user}{n}"
        call_id = f"rg-{src_port}-{n}"
        sock.send(request(user, a.dst_ip, a.port, src_port, 1, call_id, ua=a.ua))
        challenge = answer(sock, time.time() + 2.0)
        if challenge is None:
            continue
        m = re.search(r'WWW-Authenticate:\s*Digest\s+(.*)', challenge, re.I)
        if not m:
            continue
        params = dict(re.findall(r'(\w+)="?([^",\r\n]*)"?', m.group(1)))
        alg = params.get("algorithm", "MD5")
        size = 64 if "256" in alg else 32
        uri = f"sip:{a.dst_ip}:{a.port}"
        response = "0" * size
        if a.password is not None:
            response = digest(params, user, a.password, uri, alg, f"c{n}")
        auth = (f'Authorization: Digest username="{user}", realm="{params.get("realm", "")}", '
                f'nonce="{params.get("nonce", "")}", uri="{uri}", '
                f'response="{response}", algorithm={alg}')
        if "qop" in params:
            auth += f', qop=auth, nc=00000001, cnonce="c{n}"'
        sock.send(request(user, a.dst_ip, a.port, src_port, 2, call_id, auth, a.ua))
        sent += 1
        if answer(sock, time.time() + 2.0) is not None:
            answered += 1
        time.sleep(a.gap_ms / 1000.0)
    print(f"sent {sent} answered {answered}")


if __name__ == "__main__":
    main()
