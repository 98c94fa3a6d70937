#!/usr/bin/env bash
# What of the PBX reaches the provider (#9 items 8 and 15): a PBX stand-in answers the
# provider's call with a leaky 486 (host, address and version in the reason phrase, the
# Reason text, a Retry-After comment, an error body); the PBX's own call carries a
# Subject and a Reason text naming it. With the defaults the provider receives the
# standard phrase, no body, Reason with its cause only, Retry-After as a number and no
# Subject; with the five [pbx] keys off it receives them verbatim (so the test can tell).
# Stateless replies name nothing: no Server header, a fresh To tag each time.
source "$(dirname "$0")/../lib.sh"

LEAKS='pbx01\.corp\.lan|10\.9\.8\.7|Asterisk'
# The plain busy caller and callee are those of calls_cancel_busy.
BUSY=$IT_DIR/../calls_cancel_busy

# call NAME GW_PORT PBX_PORT PROV_PORT: one inbound call to the leaky PBX and one outbound
# call with the Subject; the provider's side of both in NAME-in.log and NAME-out.log.
call() {
    local name=$1 gw=$2 pbx=$3 prov=$4 rc=0
    timeout 30 sipp -sf "$IT_DIR/uas-leaky-busy.xml" -i 127.0.0.1 -p "$pbx" -m 1 -nostdin \
        -timeout 25s > "pbx-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 30 sipp "127.0.0.1:$gw" -sf "$BUSY/uac-busy.xml" -s 15551230050 -i 127.0.0.2 \
        -p "$prov" -m 1 -nostdin -timeout 25s -timeout_error -trace_msg \
        -message_file "$name-in.log" > "prov-$name.out" 2>&1 || rc=$?
    wait "$uas" || rc=$?
    [ "$rc" = 0 ] || it_fail "$name: the inbound busy call failed (rc $rc)"
    timeout 30 sipp -sf "$BUSY/uas-busy.xml" -i 127.0.0.2 -p "$prov" -m 1 -nostdin \
        -timeout 25s -trace_msg -message_file "$name-out.log" > "prov-uas-$name.out" 2>&1 &
    uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 30 sipp "127.0.0.1:$gw" -sf "$IT_DIR/uac-pbx-subject.xml" -s 15550001111 \
        -i 127.0.0.1 -p "$pbx" -m 1 -nostdin -timeout 25s -timeout_error \
        > "pbx-uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || rc=$?
    [ "$rc" = 0 ] || it_fail "$name: the outbound busy call failed (rc $rc)"
}

# The 486 the provider received, and the INVITE it received, as text.
received_486() { sed -n '/^SIP\/2\.0 486/,/^-----/p' "$1"; }
received_invite() { sed -n '/^INVITE /,/^-----/p' "$1"; }

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)

# 1. The defaults.
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
it_start_gateway gw.conf
call clean "$gw_port" "$pbx_port" "$prov_port"

# Stateless replies to a stranger (the auth stage's challenge): nothing names the product.
python3 - "$gw_port" > stateless.txt <<'PY' || it_fail "no stateless replies"
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.3", 0))
s.settimeout(3)
for n in range(2):
    msg = (f"REGISTER sip:127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.3:{s.getsockname()[1]};branch=z9hG4bK-st{n}\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=st\r\n"
           "To: <sip:1001@127.0.0.1>\r\n"
           f"Call-ID: stateless-{n}\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", port))
    print(s.recvfrom(65535)[0].decode(errors="replace"))
PY
it_stop_gateway

received_486 clean-in.log > clean-486.txt
[ -s clean-486.txt ] || it_fail "the provider's message log has no 486"
grep -q '^SIP/2.0 486 Busy Here' clean-486.txt || it_fail "no standard reason phrase"
if grep -Eq "$LEAKS" clean-486.txt; then
    grep -En "$LEAKS" clean-486.txt >&2
    it_fail "the PBX's host, address or version reached the provider"
fi
grep -q '^Reason: Q.850;cause=17$' <(tr -d '\r' < clean-486.txt) || it_fail "Reason not cause-only"
grep -q '^Retry-After: 120$' <(tr -d '\r' < clean-486.txt) || it_fail "Retry-After not a number"
grep -qi '^Content-Type' clean-486.txt && it_fail "the error body's Content-Type left"
grep -q '^Content-Length: 0' clean-486.txt || it_fail "the error body left"
received_invite clean-out.log > clean-invite.txt
[ -s clean-invite.txt ] || it_fail "the provider's callee logged no INVITE"
grep -qi '^Subject:' clean-invite.txt && it_fail "the PBX's Subject reached the provider"
grep -q '^Reason: Q.850;cause=16$' <(tr -d '\r' < clean-invite.txt) ||
    it_fail "the INVITE's Reason not cause-only"
if grep -Eq "$LEAKS" clean-invite.txt; then
    it_fail "the PBX's host or address reached the provider in the INVITE"
fi
[ "$(grep -c '^SIP/2.0 401' stateless.txt)" = 2 ] || it_fail "two challenges expected"
grep -qi '^Server:' stateless.txt && it_fail "a stateless reply named the product"
tags=$(grep -o '^To: .*;tag=[^;[:space:]]*' stateless.txt | sed 's/.*;tag=//' | sort -u)
[ "$(echo "$tags" | wc -l)" = 2 ] || it_fail "the To tags of two replies are equal: $tags"
echo "$tags" | grep -q 'sw-gw' && it_fail "the fixed To tag is back"
it_log "defaults: standard phrase, no body, cause-only Reason, numeric Retry-After, no Subject"

# 2. Each [pbx] key off: the PBX's text goes through as it came.
sed "/^\[pbx\]/a standard_reason_phrases = no\ndrop_error_bodies = no\nsanitize_reason = no\nsanitize_retry_after = no\nsanitize_subject = no" \
    gw.conf > gw-open.conf
sed -i '/^\[general\]/a user_agent = sw-test-agent' gw-open.conf
it_start_gateway gw-open.conf
call open "$gw_port" "$pbx_port" "$prov_port"
it_stop_gateway
received_486 open-in.log > open-486.txt
grep -q '^SIP/2.0 486 Busy at pbx01.corp.lan 10.9.8.7 (Asterisk 18.1.0)' open-486.txt ||
    it_fail "standard_reason_phrases = no did not keep the PBX's phrase"
grep -q 'User busy at pbx01.corp.lan' open-486.txt || it_fail "sanitize_reason = no cut the text"
grep -q '^Retry-After: 120 (back at' open-486.txt || it_fail "sanitize_retry_after = no cut it"
grep -q '^extension 1001 busy on pbx01' open-486.txt || it_fail "drop_error_bodies = no dropped it"
grep -q '^Server: sw-test-agent' open-486.txt || it_fail "user_agent did not name our Server"
received_invite open-out.log > open-invite.txt
grep -q '^Subject: call from pbx01.corp.lan' open-invite.txt ||
    it_fail "sanitize_subject = no dropped the Subject"
it_log "ok"
