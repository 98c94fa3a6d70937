#!/usr/bin/env bash
# SDES over TLS: a provider's offer over TLS with a good a=crypto line next to weak ones (a
# 32-bit tag, UNENCRYPTED_SRTCP, a NULL cipher) reaches the PBX (also on TLS) with the good
# line only, and a PolicyHit says how many went; an offer with weak lines only is refused
# with 488 (the trunk requires SRTP on TLS). sipp has no TLS: as in calls_tls, each sipp
# talks TCP to a TLS relay (it_start_tls_relay) and the gateway sees real TLS on both legs.
source "$(dirname "$0")/../lib.sh"

bash "$IT_DIR/../tools/make_certs.sh" certs
gw_port=$(it_free_port)
pbx_tls=$(it_free_port)
pbx_tcp=$(it_free_port)
prov_tls=$(it_free_port)
prov_tcp=$(it_free_port)
prov_in=$(it_free_port)
it_start_tls_relay server 127.0.0.1 "$pbx_tls" certs/127.0.0.1.pem certs/127.0.0.1.key 127.0.0.1 "$pbx_tcp"
it_start_tls_relay client 127.0.0.2 "$prov_in" certs/ca.pem 127.0.0.1 "$gw_port" 127.0.0.2

cat > gw.conf <<CONF
[general]
listen = tls:127.0.0.1:$gw_port
workers = 2
[tls]
certificate = certs/127.0.0.1.pem
private_key = certs/127.0.0.1.key
ca_file = certs/ca.pem
[pbx]
address = tls:127.0.0.1:$pbx_tls
[provider]
type = trunk
provider = tls:127.0.0.2:$prov_tls
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
max_call_rate = 1000
CONF
it_start_gateway gw.conf

timeout 60 sipp -sn uas -t t1 -i 127.0.0.1 -p "$pbx_tcp" -m 1 -nostdin -timeout 50s \
    -trace_msg -message_file pbx.msg -trace_err -error_file uas.err > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3

good='a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'
# offer NAME CODE ATTR: one call from the provider with the SAVP offer's a= line(s) ATTR.
offer() {
    local name=$1 code=$2 attr=$3 rc=0
    timeout 30 sipp "127.0.0.2:$prov_in" -sf "$IT_DIR/../media_srtp_policy/uac-offer.xml" \
        -t t1 -s 15551230001 -set proto RTP/SAVP -set attr "$attr" -i 127.0.0.2 \
        -p "$(it_free_port)" -m 1 -nostdin -timeout 20s -timeout_error \
        -trace_msg -message_file "msg-$name.log" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || it_fail "$name: sipp failed (rc=$rc)"
    grep -qE "^SIP/2.0 $code " "msg-$name.log" || it_fail "$name: no $code"
}

# sipp writes [$attr] as one line: the weak ones follow the good one after CRLFs.
crlf=$'\r\n'
offer mixed 200 "$good${crlf}a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9${crlf}a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9 UNENCRYPTED_SRTCP${crlf}a=crypto:4 NULL_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9"
wait "$uas" || it_fail "the PBX did not get the call"
# What the PBX received: the INVITE's SDP with the good line only.
awk '/message received/{k=1} /^----/{k=0} k' pbx.msg > pbx-received.txt
grep -q "^$good" pbx-received.txt || it_fail "the good crypto line did not reach the PBX"
n=$(grep -c '^a=crypto:' pbx-received.txt || true)
[ "$n" = 1 ] || it_fail "the PBX got $n crypto lines, want 1"
it_wait_grep '3 weak SRTP crypto offer\(s\) removed' security.log 5 || it_fail "no PolicyHit for the removal"

offer weak 488 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9 UNENCRYPTED_SRTP"
grep -q 'Warning: 399 sipwarden "SRTP required by trunk provider' msg-weak.log ||
    it_fail "weak only: no Warning"
it_stop_gateway
it_log "ok"
