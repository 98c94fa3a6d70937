"""Sends every file given (or generated garbage) to the gateway, from a chosen source
address, over UDP or TCP, and prints one line per input with the first response line
received (or "-" for silence). Loopback only; every wait is bounded."""
import concurrent.futures
import os
import random
import socket
import sys

WAIT = float(os.environ.get("SEND_WAIT", "0.1"))
PARALLEL = int(os.environ.get("SEND_PARALLEL", "6"))


def responses(sock, wait):
    sock.settimeout(wait)
    lines = []
    try:
        while True:
            data = sock.recv(70000)
            if not data:
                break
            lines.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
    except (socket.timeout, ConnectionResetError):
        pass
    return lines


def send_udp(src_ip, dst, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src_ip, 0))
    try:
        s.sendto(payload, dst)
    except OSError as e:
        return ["send-error:%s" % e.errno]
    got = responses(s, WAIT)
    s.close()
    return got


def send_tcp(src_ip, dst, payload, chunk):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src_ip, 0))
    s.settimeout(2)
    try:
        s.connect(dst)
        for i in range(0, len(payload), chunk):
            s.sendall(payload[i:i + chunk])
    except OSError as e:
        s.close()
        return ["send-error:%s" % e.errno]
    got = responses(s, WAIT * 1.5)
    s.close()
    return got


def garbage():
    rnd = random.Random(4475)
    yield "random-1k", bytes(rnd.getrandbits(8) for _ in range(1024))
    yield "nul-bytes", b"\x00" * 2000
    yield "oversize-65000", b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"a" * 65000 + b"\r\n\r\n"
    yield "many-headers", b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X-A: b\r\n" * 400 + b"\r\n"
    yield "long-line", b"OPTIONS sip:a@b SIP/2.0\r\nSubject: " + b"x" * 9000 + b"\r\n\r\n"
    yield "only-crlf", b"\r\n\r\n"
    yield "truncated", b"INVITE sip:1@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;bra"
    yield "cl-too-big", (b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n"
                         b"Content-Length: 5000\r\n\r\nabc")
    for n in range(20):
        base = bytearray(b"INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5;"
                         b"branch=z9hG4bKq\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
                         b"Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
        for _ in range(5):
            base[rnd.randrange(len(base))] = rnd.getrandbits(8)
        yield "mutant-%d" % n, bytes(base)


def source_for(src_ip, index):
    """A source ending in ".*" takes a fresh address per input (1-254), so that one
    input's ban does not silence the next and every input meets the gateway's first
    answer to a stranger."""
    if not src_ip.endswith(".*"):
        return src_ip
    return "%s.%d" % (src_ip[:-2], 1 + index % 254)


def main():
    transport, src_ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sys.argv[4:]
    dst = ("127.0.0.1", port)
    inputs = [(os.path.basename(f), open(f, "rb").read()) for f in files]
    inputs += list(garbage())

    def one(item):
        index, (name, payload) = item
        src = source_for(src_ip, index)
        if transport == "udp":
            got = send_udp(src, dst, payload)
        else:
            got = send_tcp(src, dst, payload, 7 if len(payload) < 4000 else 1400)
        return "%s\t%s" % (name, got[0] if got else "-")

    # Each input on its own socket (and, for strangers, its own address), so that they may
    # go out a few at a time: the run is bounded by the waits for silence, not the gateway.
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for line in pool.map(one, enumerate(inputs)):
            print(line)


main()
