#!/usr/bin/env bash
# #9 item 14: local clients that open connections to the admin server and say nothing
# (from the scraper's own 127.0.0.1 and from twenty other loopback addresses, opening a
# new one whenever one is closed) no longer keep GET /metrics from being answered: a new
# connection pushes out an idle one, and idle ones end after 2 s. (Before: sixteen idle
# connections took every slot.)
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
admin_port=$(it_free_port)
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 1
[pbx]
address = udp:127.0.0.1:$(it_free_port)
[admin]
listen = 127.0.0.1:$admin_port
CONF
it_start_gateway gw.conf
curl -sf --max-time 5 "http://127.0.0.1:$admin_port/metrics" > /dev/null ||
    it_fail "GET /metrics failed before the test"

# The idle clients: at most 90 connections at once, for 25 s at most (or until told to
# stop); they count how many of theirs the server closed.
timeout 40 python3 - "$admin_port" > idle.out 2> idle.err <<'PY' &
import os, socket, sys, time
port = int(sys.argv[1])
sources = ["127.0.0.1"] * 10 + [f"127.0.0.{10 + i // 4}" for i in range(80)]
conns = [None] * len(sources)
closed = 0
start = time.monotonic()
def connect(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s
reported = False
while time.monotonic() - start < 25 and not os.path.exists("idle.stop"):
    for i, src in enumerate(sources):
        s = conns[i]
        if s is not None:
            try:
                if s.recv(64) == b"":
                    raise ConnectionResetError
                continue
            except BlockingIOError:
                continue
            except OSError:
                s.close()
                closed += 1
        conns[i] = connect(src)
    if not reported and time.monotonic() - start > 1:
        print("holding", flush=True)
        reported = True
    time.sleep(0.05)
print(f"closed={closed}", flush=True)
PY
idle=$!
IT_PIDS+=("$idle")
for _ in $(seq 1 100); do
    grep -q holding idle.out 2>/dev/null && break
    sleep 0.1
done
grep -q holding idle.out || { cat idle.err >&2; it_fail "the idle clients did not start"; }

ok=0
for i in $(seq 1 5); do
    rc=0
    curl -sSf --max-time 3 "http://127.0.0.1:$admin_port/metrics" > "metrics-$i.txt" \
        2> "curl-$i.err" || rc=$?
    if [ "$rc" = 0 ]; then
        ok=$((ok + 1))
    else
        it_log "scrape $i: curl rc=$rc: $(head -c 200 "curl-$i.err")"
    fi
    sleep 0.5
done
touch idle.stop
wait "$idle" || true
closed=$(sed -n 's/^closed=//p' idle.out)
it_log "scrapes answered: $ok of 5; idle connections closed by the server: ${closed:-?}"
# One scrape in five may be lost on a machine loaded enough to delay curl between its
# connect and its request (seen once in 8 runs under two busy loops); before: 0 of 5.
[ "$ok" -ge 4 ] || it_fail "only $ok of 5 GET /metrics answered while idle clients held connections"
grep -q '^sipwarden_' metrics-5.txt || it_fail "the last scrape has no metrics"
[ "${closed:-0}" -gt 0 ] || it_fail "the server closed none of the idle connections"
it_gateway_alive
it_stop_gateway
it_log "ok"
