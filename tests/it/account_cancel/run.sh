#!/usr/bin/env bash
# Remote phones can cancel (issue #9, item 1): an authenticated phone (127.0.0.5) calls the
# PBX, the PBX stand-in rings, the phone hangs up with a standard CANCEL. The CANCEL is
# answered 200, reaches the PBX, the INVITE is answered 487, on UDP and on TCP; three
# hang-ups in a row neither ban the phone nor hold its max_calls slots (a normal call
# follows at once). A CANCEL matching nothing gets 481 from the PBX's side and silence from
# a stranger, and is never counted as a failure.
source "$(dirname "$0")/../lib.sh"

SECRET='Str0ng-1001-xQ7v'
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port, tcp:127.0.0.1:$gw_port
workers = 2
log_level = info
[pbx]
address = udp:127.0.0.1:$pbx_port
[auth]
algorithms = MD5
[1001]
type = account
secret = $SECRET
max_calls = 2
CONF
chmod 600 gw.conf
it_start_gateway gw.conf

# cancel_round TRANSPORT: three calls from the phone, each cancelled while it rings.
cancel_round() {
    local t=$1 flag=u1
    [ "$t" = tcp ] && flag=t1
    timeout 40 sipp -sf "$IT_DIR/../calls_cancel_busy/uas-cancel.xml" -i 127.0.0.1 \
        -p "$pbx_port" -m 3 -nostdin -timeout 35s > "pbx-cancel-$t.out" 2>&1 &
    local pbx=$!
    IT_PIDS+=("$pbx")
    sleep 0.3
    local rc=0
    timeout 40 sipp "127.0.0.1:$gw_port" -t "$flag" -sf "$IT_DIR/phone-cancel.xml" -s 200 \
        -au 1001 -ap "$SECRET" -i 127.0.0.5 -p "$(it_free_port)" -m 3 -r 2 -nostdin \
        -timeout 35s -timeout_error -trace_err -error_file "phone-cancel-$t.err" \
        > "phone-cancel-$t.out" 2>&1 || rc=$?
    local pbx_rc=0
    wait "$pbx" || pbx_rc=$?
    it_log "$t: phone rc=$rc successful=$(it_sipp_stat "phone-cancel-$t.out" 'Successful call'); pbx rc=$pbx_rc successful=$(it_sipp_stat "pbx-cancel-$t.out" 'Successful call')"
    [ "$rc" = 0 ] || it_fail "$t: the phone's CANCEL was not answered 200 + 487"
    [ "$pbx_rc" = 0 ] || it_fail "$t: the CANCEL did not reach the PBX"
    [ "$(it_sipp_stat "pbx-cancel-$t.out" 'Successful call')" = 3 ] || it_fail "$t: the PBX saw fewer than 3 CANCELs"
}
cancel_round udp
cancel_round tcp

# The hang-ups cost nothing: no failure event, no ban, no slot kept.
sleep 0.5
if grep -E 'SecurityEvent="(FailedACL|InvalidAccountID|InvalidPassword|ChallengeResponseFailed)"' security.log \
    | grep -q 127.0.0.5; then
    it_fail "a CANCEL from the phone was logged as a failure"
fi
"$SIPWARDEN" ban list -c gw.conf > bans.txt 2>&1 || true
grep -q '127.0.0.5' bans.txt && it_fail "the phone was banned for hanging up"
timeout 30 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 2 -nostdin -timeout 25s > pbx-uas.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../remote_account/phone-call.xml" -s 200 \
    -au 1001 -ap "$SECRET" -i 127.0.0.5 -p "$(it_free_port)" -m 2 -l 2 -r 5 -nostdin \
    -timeout 25s -timeout_error > phone-call.out 2>&1 || rc=$?
wait "$pbx" || true
it_log "two calls after the hang-ups: rc=$rc successful=$(it_sipp_stat phone-call.out 'Successful call')"
[ "$rc" = 0 ] || it_fail "the account's calls were refused after its hang-ups (slots or ban)"

# A CANCEL that matches nothing: 481 to the PBX, silence to a stranger, never a failure.
stray_cancel() { # stray_cancel SRC_IP SRC_PORT (0 = any)
    python3 - "$1" "$gw_port" "$2" <<'PY'
import socket, sys
src, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, sport))
sport = s.getsockname()[1]
msg = (f"CANCEL sip:2000@127.0.0.1:{port} SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP {src}:{sport};branch=z9hG4bK-stray{sport}\r\n"
       f"From: <sip:x@{src}>;tag=stray\r\nTo: <sip:2000@127.0.0.1>\r\n"
       f"Call-ID: stray-{sport}\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
s.sendto(msg.encode(), ("127.0.0.1", port))
s.settimeout(1.5)
try:
    data, _ = s.recvfrom(4096)
    print(data.split(b"\r\n", 1)[0].decode())
except socket.timeout:
    print("none")
PY
}
# The PBX sends from its own port ([pbx] match_port: a PBX on loopback).
from_pbx=$(stray_cancel 127.0.0.1 "$pbx_port")
from_stranger=$(stray_cancel 127.0.0.9 0)
it_log "stray CANCEL: from the PBX '$from_pbx', from a stranger '$from_stranger'"
[[ $from_pbx == "SIP/2.0 481 "* ]] || it_fail "a stray CANCEL from the PBX was not answered 481"
[ "$from_stranger" = none ] || it_fail "a stranger's stray CANCEL was answered"
sleep 0.3
if grep 'SecurityEvent="FailedACL"' security.log | grep -q '127.0.0.9'; then
    it_fail "a stray CANCEL counted as a failure"
fi
it_gateway_alive
it_stop_gateway
it_log "ok"
