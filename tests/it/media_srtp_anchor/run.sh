#!/usr/bin/env bash
# Per leg what that leg needs, through rtpengine: the provider talks TLS (srtp auto, so
# SRTP required), the PBX plain UDP on the LAN.
#   - provider -> PBX: the provider's SDES offer reaches the PBX as plain RTP/AVP without
#     a=crypto (no keys in clear on UDP), and the PBX's plain answer reaches the provider
#     as RTP/SAVP keyed by rtpengine (a key of its own, no weak suite);
#   - PBX -> provider: the PBX's plain offer, which the trunk's policy alone would refuse,
#     reaches the provider as RTP/SAVP keyed by rtpengine, and the provider's SDES answer
#     reaches the PBX as plain RTP/AVP.
# sipp has no TLS: the provider's sipps talk TCP to tools/tls_relay.py.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

bash "$IT_DIR/../tools/make_certs.sh" certs
gw_tls=$(it_free_port)
gw_udp=$(it_free_port)
pbx_port=$(it_free_port)
prov_tls=$(it_free_port)
prov_tcp=$(it_free_port)
prov_in=$(it_free_port)
it_start_tls_relay server 127.0.0.2 "$prov_tls" certs/127.0.0.2.pem certs/127.0.0.2.key \
    127.0.0.2 "$prov_tcp"
it_start_tls_relay client 127.0.0.2 "$prov_in" certs/ca.pem 127.0.0.1 "$gw_tls" 127.0.0.2
it_rtpengine_ports
it_start_rtpengine

cat > gw.conf <<CONF
[general]
listen = tls:127.0.0.1:$gw_tls, udp:127.0.0.1:$gw_udp
workers = 2
[tls]
certificate = certs/127.0.0.1.pem
private_key = certs/127.0.0.1.key
ca_file = certs/ca.pem
[media]
rtpengine = udp:127.0.0.1:$RTPENGINE_NG_PORT
[pbx]
address = udp:127.0.0.3:$pbx_port
[provider]
type = trunk
provider = tls:127.0.0.2:$prov_tls
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
max_call_rate = 1000
CONF
it_start_gateway gw.conf

good='a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'
# received FILE: the messages a sipp trace shows it received.
received() { awk '/message received/ { k = 1 } /message sent/ { k = 0 } k' "$1"; }
# anchored FILE PROTO: the SDP received in FILE names rtpengine with PROTO.
anchored() {
    local port
    received "$1" | grep -q "^c=IN IP4 127.0.0.1" || it_fail "$1: SDP does not name rtpengine"
    port=$(received "$1" | awk '/^m=audio / { print $2; exit }')
    [ -n "$port" ] && [ "$port" -ge "$RTP_MIN" ] && [ "$port" -le "$RTP_MAX" ] ||
        it_fail "$1: media port ${port:-none} is not rtpengine's"
    received "$1" | grep -qE "^m=audio [0-9]+ $2 " || it_fail "$1: the media is not $2"
}

# 1. The provider calls the PBX with SDES.
timeout 30 sipp -sn uas -i 127.0.0.3 -p "$pbx_port" -mp "$(it_free_port)" -m 1 -nostdin \
    -timeout 20s -trace_msg -message_file pbx-in.msg -trace_err -error_file pbx-in.err \
    > pbx-in.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.2:$prov_in" -sf "$IT_DIR/../media_srtp_policy/uac-offer.xml" -t t1 \
    -s 15551230001 -set proto RTP/SAVP -set attr "$good" -i 127.0.0.2 -p "$(it_free_port)" \
    -m 1 -nostdin -timeout 20s -timeout_error -trace_msg -message_file prov-out.msg \
    -trace_err -error_file prov-out.err > prov-out.out 2>&1 || rc=$?
uas_rc=0
wait "$uas" || uas_rc=$?
[ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && grep -q '^SIP/2.0 200 ' prov-out.msg ||
    it_fail "provider -> PBX: the call failed (rc=$rc, PBX rc=$uas_rc)"
anchored pbx-in.msg RTP/AVP
if received pbx-in.msg | grep -n '^a=crypto'; then
    it_fail "provider -> PBX: keys reached the PBX's UDP leg"
fi
anchored prov-out.msg RTP/SAVP
received prov-out.msg | grep -q '^a=crypto:[0-9]* AES_CM_128_HMAC_SHA1_80 inline:' ||
    it_fail "provider -> PBX: the answer to the provider is not keyed"
if received prov-out.msg | grep -nE 'WVNfX19zZW1jdGwg|_32 |NULL_|UNENCRYPTED'; then
    it_fail "provider -> PBX: the provider's answer has its own key back, or a weak suite"
fi

# 2. The PBX calls out with plain RTP; the provider answers with SDES.
timeout 30 sipp -sf "$IT_DIR/uas-savp.xml" -t t1 -i 127.0.0.2 -p "$prov_tcp" \
    -mp "$(it_free_port)" -m 1 -nostdin -timeout 20s -trace_msg -message_file prov-in.msg \
    -trace_err -error_file prov-in.err > prov-in.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.1:$gw_udp" -sf "$IT_DIR/../media_srtp_policy/uac-offer.xml" \
    -s 15551230077 -set proto RTP/AVP -set attr a=sendrecv -i 127.0.0.3 -p "$pbx_port" \
    -mp "$(it_free_port)" -m 1 -nostdin -timeout 20s -timeout_error -trace_msg \
    -message_file pbx-out.msg -trace_err -error_file pbx-out.err > pbx-out.out 2>&1 || rc=$?
uas_rc=0
wait "$uas" || uas_rc=$?
[ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && grep -q '^SIP/2.0 200 ' pbx-out.msg ||
    it_fail "PBX -> provider: the call failed (rc=$rc, provider rc=$uas_rc)"
anchored prov-in.msg RTP/SAVP
received prov-in.msg | grep -q '^a=crypto:[0-9]* AES_CM_128_HMAC_SHA1_80 inline:' ||
    it_fail "PBX -> provider: the offer to the provider is not keyed"
anchored pbx-out.msg RTP/AVP
if received pbx-out.msg | grep -n '^a=crypto'; then
    it_fail "PBX -> provider: keys reached the PBX's UDP leg"
fi
it_stop_gateway
it_log "ok"
