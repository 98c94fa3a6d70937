#!/usr/bin/env bash
# The SDP policy on a trunk with srtp = required (tests/programs-free: sipp on both sides):
# a provider's offer of plain RTP is refused with 488 and a Warning naming the trunk; an
# offer with SDES keys over UDP is refused with 488 (keys in clear text); a DTLS-SRTP offer
# passes to the PBX and the call completes. Each refusal is a PolicyHit in the security log.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
echo "srtp = required" >> gw.conf
it_start_gateway gw.conf

timeout 60 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 50s \
    -trace_err -error_file uas.err > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3

# offer NAME CODE PROTO ATTR: one call from the provider; the gateway must answer CODE.
offer() {
    local name=$1 code=$2 proto=$3 attr=$4 rc=0
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-offer.xml" -s 15551230001 \
        -set proto "$proto" -set attr "$attr" \
        -i 127.0.0.2 -p "$prov_port" -m 1 -nostdin -timeout 20s -timeout_error \
        -trace_msg -message_file "msg-$name.log" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || it_fail "$name: sipp failed (rc=$rc)"
    grep -qE "^SIP/2.0 $code " "msg-$name.log" || it_fail "$name: no $code"
}

offer plain 488 RTP/AVP "a=sendrecv"
grep -q 'Warning: 399 sipwarden "SRTP required by trunk provider: audio stream is RTP/AVP"' \
    msg-plain.log || it_fail "plain: no Warning naming the trunk"
offer keys 488 RTP/SAVP "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
grep -q 'Warning: 399 sipwarden "SDES keys (a=crypto) refused on a leg without TLS' \
    msg-keys.log || it_fail "keys: no Warning about keys in clear"
offer dtls 200 UDP/TLS/RTP/SAVPF "a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B"
wait "$uas" || it_fail "the PBX did not get the DTLS call"

it_wait_grep 'SRTP required by trunk provider' security.log 5 || it_fail "no PolicyHit for plain RTP"
it_wait_grep 'SDES keys' security.log 5 || it_fail "no PolicyHit for keys over UDP"
it_stop_gateway
it_log "ok"
