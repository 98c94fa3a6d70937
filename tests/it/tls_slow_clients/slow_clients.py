"""Holds many TLS-port connections open in the ways a slow-client attack does, from many
loopback addresses, and reports what the gateway did with them. Loopback only; every
loop is bounded by --seconds.

Kinds, in turn per connection:
  silent     connects and sends nothing (no ClientHello);
  drip-hello sends a real ClientHello one byte per second;
  idle-tls   completes the TLS handshake, then sends nothing;
  drip-sip   completes the handshake, then sends a SIP request one byte per second.
A connection the gateway closes is opened again (the attacker keeps the pressure up), so
the figures are: peak open at once, closed by the gateway per kind, and handshakes done.

usage: slow_clients.py PORT --count N --net 127.0.3 --per-source K --seconds S
"""
import argparse
import errno
import selectors
import socket
import ssl
import sys
import time

KINDS = ("silent", "drip-hello", "idle-tls", "drip-sip")
SIP = (b"OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKslow\r\n"
       b"From: <sip:slow@127.0.0.1>;tag=1\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: slow\r\n"
       b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")


class Conn:
    def __init__(self, kind, src):
        self.kind, self.src = kind, src
        self.sock = None
        self.tls = None
        self.hello = b""
        self.sent = 0
        self.handshaken = False
        self.next_drip = 0.0


def client_hello(ctx):
    """The first flight of a real handshake, as bytes (drip-hello sends it by hand)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=None)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--net", default="127.0.3")
    p.add_argument("--per-source", type=int, default=8)
    p.add_argument("--seconds", type=float, default=20)
    a = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    hello = client_hello(ctx)
    sel = selectors.DefaultSelector()
    conns = []
    for i in range(a.count):
        src = "%s.%d" % (a.net, 1 + (i // a.per_source) % 254)
        conns.append(Conn(KINDS[i % len(KINDS)], src))
    closed = {k: 0 for k in KINDS}
    handshakes = 0
    connect_errors = 0
    peak = 0
    samples = []
    deadline = time.monotonic() + a.seconds

    def open_conn(c):
        nonlocal connect_errors
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((c.src, 0))
            s.connect_ex(("127.0.0.1", a.port))
        except OSError:
            connect_errors += 1
            s.close()
            c.sock = None
            return
        c.sock, c.tls, c.sent, c.handshaken = s, None, 0, False
        c.hello = hello
        c.next_drip = time.monotonic()
        sel.register(s, selectors.EVENT_READ, c)

    def drop(c, by_gateway):
        if c.sock is None:
            return
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        (c.tls or c.sock).close()
        c.sock = c.tls = None
        if by_gateway:
            closed[c.kind] += 1

    for c in conns:
        open_conn(c)
    last_sample = 0.0
    while time.monotonic() < deadline:
        now = time.monotonic()
        for key, _ in sel.select(timeout=0.05):
            c = key.data
            if c.tls is not None and not c.handshaken:
                continue  # handled below
            try:
                data = c.sock.recv(4096) if c.tls is None else c.tls.recv(4096)
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except (OSError, ssl.SSLError):
                data = b""
            if not data:
                drop(c, True)
        for c in conns:
            if c.sock is None:
                if now < deadline - 1:
                    open_conn(c)
                continue
            try:
                if c.kind == "drip-hello" and now >= c.next_drip and c.sent < len(c.hello):
                    c.sock.send(c.hello[c.sent:c.sent + 1])
                    c.sent += 1
                    c.next_drip = now + 1
                elif c.kind in ("idle-tls", "drip-sip") and not c.handshaken:
                    if c.tls is None:
                        sel.unregister(c.sock)
                        c.tls = ctx.wrap_socket(c.sock, do_handshake_on_connect=False)
                        c.sock = c.tls
                        sel.register(c.sock, selectors.EVENT_READ, c)
                    try:
                        c.tls.do_handshake()
                        c.handshaken = True
                        handshakes += 1
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        pass
                elif c.kind == "drip-sip" and c.handshaken and now >= c.next_drip:
                    if c.sent < len(SIP):
                        c.tls.send(SIP[c.sent:c.sent + 1])
                        c.sent += 1
                    c.next_drip = now + 1
            except (OSError, ssl.SSLError) as e:
                if getattr(e, "errno", None) in (errno.EAGAIN, errno.EINPROGRESS, errno.ENOTCONN):
                    continue
                drop(c, True)
        open_now = sum(1 for c in conns if c.sock is not None)
        peak = max(peak, open_now)
        if now - last_sample >= 1:
            samples.append(open_now)
            last_sample = now
    for c in conns:
        drop(c, False)
    print("peak_open=%d" % peak)
    print("handshakes=%d" % handshakes)
    print("connect_errors=%d" % connect_errors)
    for k in KINDS:
        print("closed_%s=%d" % (k.replace("-", "_"), closed[k]))
    print("open_per_second=%s" % ",".join(str(n) for n in samples))
    sys.stdout.flush()


main()
