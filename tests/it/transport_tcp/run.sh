#!/usr/bin/env bash
# The stream limits of a running gateway: raw TCP peers that ping with CRLF keep-alives,
# send garbage or announce an oversize body get what RFC 5626 and our limits say, and the
# gateway keeps serving calls over TCP in both directions afterwards (it accepts the
# callers' connections and opens its own towards the PBX and the provider). The volume
# test of TCP calls is calls_tcp.
source "$(dirname "$0")/../lib.sh"

CALLS=${CALLS:-20}
RATE=${RATE:-50}
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)

cat > gw.conf <<CONF
[general]
listen = tcp:127.0.0.1:$gw_port
workers = 2
log_level = notice
[pbx]
address = tcp:127.0.0.1:$pbx_port
[provider]
type = trunk
max_call_rate = 1000
max_calls = 1000
provider = tcp:127.0.0.2:$prov_port
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
CONF
it_start_gateway gw.conf

# run_calls DIR UAS_IP UAS_PORT UAC_IP: CALLS calls over TCP from UAC_IP to the UAS.
run_calls() {
    local dir=$1 uas_ip=$2 uas_port=$3 uac_ip=$4
    timeout 120 sipp -sn uas -t t1 -i "$uas_ip" -p "$uas_port" -m "$CALLS" -nostdin \
        -timeout 100s -trace_err -error_file "uas-$dir.err" > "uas-$dir.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout 120 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230010 -t t1 -i "$uac_ip" -p "$(it_free_port)" \
        -m "$CALLS" -r "$RATE" -d 100 -nostdin -timeout 100s -timeout_error \
        -trace_err -error_file "uac-$dir.err" > "uac-$dir.out" 2>&1 || rc=$?
    local uas_rc=0
    wait "$uas" || uas_rc=$?
    local ok failed
    ok=$(it_sipp_stat "uac-$dir.out" 'Successful call')
    failed=$(it_sipp_stat "uac-$dir.out" 'Failed call')
    it_log "$dir: caller rc=$rc callee rc=$uas_rc successful=$ok failed=$failed"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "$dir: sipp failed"
    [ "$ok" = "$CALLS" ] && [ "$failed" = 0 ] || it_fail "$dir: $ok of $CALLS calls, $failed failed"
}

# probe KIND: one raw TCP client; prints what happened to it (see the cases below).
probe() {
    timeout 20 python3 - "$gw_port" "$1" <<'PY'
import socket, sys, time
port, kind = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
def closed_within(seconds):
    s.settimeout(seconds)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
if kind == "ping":
    # RFC 5626 §3.5.1: a double CRLF is answered with one CRLF, and the connection stays.
    s.sendall(b"\r\n\r\n")
    print("pong" if s.recv(16) == b"\r\n" else "no-pong")
elif kind == "garbage":
    # Not SIP at all (no Content-Length, no SIP version): the stream is closed at once.
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    print("closed" if closed_within(3) else "open")
elif kind == "oversize":
    s.sendall(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 900000\r\n\r\n")
    print("closed" if closed_within(3) else "open")
PY
}

[ "$(probe ping)" = pong ] || it_fail "no pong to a CRLF keep-alive"
[ "$(probe garbage)" = closed ] || it_fail "a connection sending garbage stayed open"
[ "$(probe oversize)" = closed ] || it_fail "a connection announcing 900 kB stayed open"

run_calls inbound 127.0.0.1 "$pbx_port" 127.0.0.2
run_calls outbound 127.0.0.2 "$prov_port" 127.0.0.1
it_gateway_alive
it_stop_gateway
if grep -E 'active_calls=[1-9]' gateway.log; then
    it_fail "calls left active"
fi
it_log "ok"
