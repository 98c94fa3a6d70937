#!/usr/bin/env bash
# #9 item 10: one address opens 1,100 TCP connections and says nothing, under a
# 1,024-descriptor limit the gateway cannot raise. It gets max_connections_per_unknown_source
# of them, the rest are closed at once, and the silent ones are closed after
# first_byte_timeout; meanwhile TCP calls from the provider reach the PBX and /metrics
# answers. (Before: the connections took every descriptor and TCP service and the admin
# HTTP stopped.)
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"

CALLS=${CALLS:-20}
RATE=${RATE:-20}
FLOOD=1100
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf tcp "$gw_port" "$pbx_port" "$prov_port" \
    "log_level = info
max_connections_per_unknown_source = 16
first_byte_timeout = 8"
cat >> gw.conf <<CONF
[admin]
listen = 127.0.0.1:$admin_port
CONF

# The gateway alone runs under a hard limit of 1,024 descriptors, as in the report.
SIPWARDEN_REAL=$SIPWARDEN
cat > limited.sh <<SH
#!/usr/bin/env bash
ulimit -Hn 1024 -Sn 1024 || exit 97
exec "$SIPWARDEN_REAL" "\$@"
SH
chmod +x limited.sh
SIPWARDEN=$IT_LOGS/limited.sh
it_start_gateway gw.conf
grep -q 'up to .* TCP/TLS connections (descriptor limit 1024)' gateway.log ||
    it_fail "no connection budget logged for a limit of 1024"

# The flood: 127.0.0.3 connects FLOOD times (bounded: 30 s to connect), reports how many
# are still open 0.5 s later and, 12 s later, how many of those the gateway has not closed
# yet, and holds what it got until told to stop or for 60 s at most.
timeout 90 python3 - "$gw_port" "$FLOOD" > flood.out 2> flood.err <<'PY' &
import os, resource, socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
socks, failed = [], 0
start = time.monotonic()
for _ in range(count):
    if time.monotonic() - start > 30:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.3", 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        socks.append(s)
    except OSError:
        failed += 1
        s.close()
print(f"connected={len(socks)} failed={failed} in {time.monotonic() - start:.1f} s", flush=True)

def still_open(group):
    out = []
    for s in group:
        s.setblocking(False)
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                out.append(s)
        except BlockingIOError:
            out.append(s)
        except OSError:
            pass
    return out

connected_at = time.monotonic()
time.sleep(0.5)
held = still_open(socks)
print(f"held={len(held)}", flush=True)
deadline = time.monotonic() + 60
while time.monotonic() < deadline and not os.path.exists("flood.stop"):
    time.sleep(0.2)
    if time.monotonic() - connected_at > 12 and "reported" not in globals():
        reported = True
        print(f"held_later={len(still_open(held))}", flush=True)
PY
flood=$!
IT_PIDS+=("$flood")
for _ in $(seq 1 300); do
    grep -q '^held=' flood.out 2>/dev/null && break
    sleep 0.1
done
cat flood.out
held=$(sed -n 's/^held=//p' flood.out)
[ -n "$held" ] || { cat flood.err >&2; it_fail "the flood did not report"; }
[ "$held" -le 16 ] || it_fail "one address holds $held connections (cap 16)"
[ "$held" -ge 1 ] || it_fail "the flooding address got no connection at all: the test proves nothing"

# While the flood runs: calls over TCP from the provider reach the PBX, /metrics answers.
curl -sf --max-time 5 "http://127.0.0.1:$admin_port/metrics" > metrics.txt ||
    it_fail "GET /metrics failed during the flood"
calls_run inbound 127.0.0.1 "$pbx_port" "127.0.0.1:$gw_port" 127.0.0.2 "$prov_port" t1

# The silent connections are closed by first_byte_timeout (8 s), long before idle_timeout.
for _ in $(seq 1 300); do
    grep -q '^held_later=' flood.out 2>/dev/null && break
    sleep 0.1
done
later=$(sed -n 's/^held_later=//p' flood.out)
it_log "flood: $(head -1 flood.out) held=$held held_after_12s=${later:-?}"
[ "${later:-x}" = 0 ] || it_fail "silent connections still open after 12 s: ${later:-no report}"
touch flood.stop
wait "$flood" || true
if grep -q 'accept failed' gateway.log; then
    it_fail "the gateway ran out of descriptors"
fi
calls_check_stop
it_log "ok"
