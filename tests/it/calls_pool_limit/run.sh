#!/usr/bin/env bash
# The call pool through the daemon: with [general] max_calls_per_worker = 5 and one worker,
# the provider side may hold 3 calls (its 60 % share). Three ringing calls are let through,
# the fourth gets 503, and as soon as one is cancelled a new call is let through again.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "max_calls_per_worker = 5"
sed -i 's/^workers = 2$/workers = 1/' gw.conf
it_start_gateway gw.conf

# The PBX rings until each call is cancelled (four calls reach it: 1, 2, 3 and 5).
timeout 60 sipp -sf "$IT_DIR/../calls_cancel_busy/uas-cancel.xml" -i 127.0.0.1 -p "$pbx_port" \
    -m 4 -nostdin -timeout 50s -trace_err -error_file uas.err > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3

# The provider: raw INVITEs and CANCELs from 127.0.0.2, the answers counted per call.
timeout 60 python3 - "$gw_port" "$prov_port" > provider.out 2>&1 <<'PY' || it_fail "provider: $(tail -3 provider.out)"
import socket, sys, time
gw = ("127.0.0.1", int(sys.argv[1]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", int(sys.argv[2])))
s.settimeout(0.2)
port = sys.argv[2]

def request(method, n, to_tag=""):
    return (f"{method} sip:+15551230001@127.0.0.1:{gw[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.2:{port};branch=z9hG4bK-pool-{n}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:+15557770000@127.0.0.2>;tag=p{n}\r\n"
            f"To: <sip:+15551230001@127.0.0.1>{to_tag}\r\nCall-ID: pool-{n}@127.0.0.2\r\n"
            f"CSeq: 1 {method}\r\nContact: <sip:+15557770000@127.0.0.2:{port}>\r\n"
            f"Content-Length: 0\r\n\r\n").encode()

seen = {}  # call number -> {(status, method): the To header}
def collect(seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            data = s.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        lines = data.split("\r\n")
        if not lines[0].startswith("SIP/2.0 "):
            continue
        status = int(lines[0].split()[1])
        hdr = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        n = int(hdr["call-id"].split("@")[0].split("-")[1])
        seen.setdefault(n, {})[(status, hdr["cseq"].split()[1])] = hdr["to"]

def wait_for(n, status, method, seconds=5):
    end = time.time() + seconds
    while (status, method) not in seen.get(n, {}) and time.time() < end:
        collect(0.2)
    if (status, method) not in seen.get(n, {}):
        sys.exit(f"call {n}: no {status} to {method}; seen {seen.get(n)}")

def cancel(n):
    s.sendto(request("CANCEL", n), gw)
    wait_for(n, 487, "INVITE")
    to = seen[n][(487, "INVITE")]
    s.sendto(request("ACK", n, to[to.index(">") + 1:]), gw)

for n in (1, 2, 3):
    s.sendto(request("INVITE", n), gw)
    wait_for(n, 180, "INVITE")
s.sendto(request("INVITE", 4), gw)
wait_for(4, 503, "INVITE")
cancel(1)
s.sendto(request("INVITE", 5), gw)
wait_for(5, 180, "INVITE")
for n in (2, 3, 5):
    cancel(n)
collect(1)
if any(k[0] == 503 for n in (1, 2, 3, 5) for k in seen.get(n, {})):
    sys.exit(f"a 503 to a call that had room: {seen}")
print("calls", sorted(seen), "call 4:", sorted(seen[4]))
PY
it_log "provider: $(tail -1 provider.out)"
uas_rc=0
wait "$uas" || uas_rc=$?
[ "$uas_rc" = 0 ] || it_fail "the PBX's sipp failed (rc=$uas_rc)"
it_gateway_alive
it_stop_gateway
grep -q 'trunk provider: calls_in_progress=0 at stop' gateway.log || it_fail "trunk call count not 0"
it_log "ok"
