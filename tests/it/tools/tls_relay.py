"""A TLS <-> TCP byte relay for the integration tests, because Debian's sipp is built
without TLS. Loopback only; it serves until killed (tests stop it by PID) and every
connection ends when either side closes.

  tls_relay.py server LISTEN_IP LISTEN_PORT CERT KEY TARGET_IP TARGET_PORT
      accepts TLS, forwards the plain bytes to TARGET over TCP (a sipp UAS behind TLS)
  tls_relay.py client LISTEN_IP LISTEN_PORT CAFILE TARGET_IP TARGET_PORT SOURCE_IP
      accepts TCP, forwards over TLS to TARGET from SOURCE_IP, verifying the server's
      certificate against CAFILE and the name TARGET_IP (a sipp UAC in front of TLS)
"""
import socket
import ssl
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def bridge(a, b):
    threading.Thread(target=pump, args=(a, b), daemon=True).start()
    threading.Thread(target=pump, args=(b, a), daemon=True).start()


def listen(ip, port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ip, port))
    srv.listen(64)
    return srv


def serve_tls(ip, port, cert, key, target):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    srv = listen(ip, port)
    print("ready", flush=True)
    while True:
        raw, _ = srv.accept()
        try:
            tls = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            continue
        plain = socket.create_connection(target)
        bridge(tls, plain)


def serve_plain(ip, port, cafile, target, source_ip):
    ctx = ssl.create_default_context(cafile=cafile)
    srv = listen(ip, port)
    print("ready", flush=True)
    while True:
        plain, _ = srv.accept()
        raw = socket.create_connection(target, source_address=(source_ip, 0))
        tls = ctx.wrap_socket(raw, server_hostname=target[0])
        bridge(plain, tls)


def main():
    mode = sys.argv[1]
    if mode == "server":
        ip, port, cert, key, tip, tport = sys.argv[2:8]
        serve_tls(ip, int(port), cert, key, (tip, int(tport)))
    else:
        ip, port, cafile, tip, tport, source = sys.argv[2:8]
        serve_plain(ip, int(port), cafile, (tip, int(tport)), source)


main()
