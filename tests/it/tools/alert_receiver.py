#!/usr/bin/env python3
"""A webhook receiver for the alert tests: accepts HTTP POSTs on 127.0.0.1 and appends one
line per request to OUT: the receive time in microseconds (wall clock), a space, the
body on one line. Answers 200, or 500 to the first --fail-first requests (to exercise
retries). Serves until killed (tests stop it by PID) or --seconds pass (at most 600).

With --cert and --key it serves HTTPS (a webhook that verifies certificates).

usage: alert_receiver.py PORT OUT [--fail-first N] [--seconds S] [--cert PEM --key PEM]
"""
import argparse
import http.server
import ssl
import threading
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("out")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--seconds", type=float, default=300.0)
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    state = {"failed": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received_us = time.time_ns() // 1000
            length = min(int(self.headers.get("Content-Length", "0")), 65536)
            body = self.rfile.read(length).decode("utf-8", "replace").replace("\n", " ")
            with lock:
                fail = state["failed"] < a.fail_first
                if fail:
                    state["failed"] += 1
                else:
                    with open(a.out, "a") as f:
                        f.write(f"{received_us} {body}\n")
            self.send_response(500 if fail else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    if a.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.cert, a.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    timer = threading.Timer(min(a.seconds, 600.0), server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
