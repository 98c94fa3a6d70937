#!/usr/bin/env bash
# baresip on both sides of an anchored call: the provider is a baresip on TLS with
# mediaenc=srtp-mand (SDES keys, RTP/SAVP), the PBX a baresip on UDP without SRTP; rtpengine
# (started here) keys SRTP towards the provider and plain RTP towards the PBX, as the SDP
# policy of each leg asks (required on the TLS trunk, optional on the UDP PBX).
#   1. The call sets up and audio flows: both baresips report the call established, and
#      rtpengine's stats of the call count RTP from each endpoint.
#   2. A provider baresip that offers no SRTP (plain RTP/AVP) on the TLS trunk gets 488.
# Both baresips sit on 127.0.0.1: baresip binds neither its TLS client connections nor
# its RTP sockets to its configured address, so from 127.0.0.2/3 its RTP would leave from
# 127.0.0.1 and rtpengine's strict source check would rightly drop it (measured).
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

command -v baresip >/dev/null || it_fail "baresip not installed (scripts/deps.sh --test)"
bash "$IT_DIR/../tools/make_certs.sh" certs
cat certs/127.0.0.1.pem certs/127.0.0.1.key > certs/provider.pem
gw_port=$(it_free_port)
gw_udp=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_rtpengine_ports
it_start_rtpengine

# baresip listens for TLS on its sip_listen port + 1. The provider shares the gateway's
# address; the PBX is told apart by its port ([pbx] match_port = auto).
cat > gw.conf <<CONF
[general]
listen = tls:127.0.0.1:$gw_port, udp:127.0.0.1:$gw_udp
workers = 2
[tls]
certificate = certs/127.0.0.1.pem
private_key = certs/127.0.0.1.key
ca_file = certs/ca.pem
[media]
rtpengine = udp:127.0.0.1:$RTPENGINE_NG_PORT
[pbx]
address = udp:127.0.0.1:$pbx_port
[provider]
type = trunk
provider = tls:127.0.0.1:$((prov_port + 1))
permit = 127.0.0.1/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
max_call_rate = 1000
CONF
it_start_gateway gw.conf

# 3 s of a 440 Hz tone, 8 kHz mono: what each baresip sends (aufile).
python3 - <<'PY'
import math, struct, wave
with wave.open("tone8k.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                           for i in range(3 * 8000)))
PY

# bs_conf DIR USER IP PORT TRANSPORT ACCOUNT_PARAMS: a headless baresip (no sound card:
# aufile plays the tone, aubridge swallows what it receives) with one account USER, never
# registering.
bs_conf() {
    local dir=$1 user=$2 ip=$3 port=$4 transport=$5 params=$6
    mkdir -p "$dir"
    cat > "$dir/config" <<CONF
poll_method epoll
sip_listen $ip:$port
sip_trans_def $transport
sip_certificate $IT_LOGS/certs/provider.pem
sip_cafile $IT_LOGS/certs/ca.pem
net_interface $ip
audio_player aubridge,nil
audio_alert aubridge,nil
audio_source aufile,$IT_LOGS/tone8k.wav
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module srtp.so
module_app account.so
module_app menu.so
CONF
    printf '<sip:%s@%s;transport=%s>;regint=0;answermode=auto%s\n' "$user" "$ip" \
        "$transport" "$params" > "$dir/accounts"
    : > "$dir/contacts"
}
bs_conf pbx 15551230001 127.0.0.1 "$pbx_port" udp ""
bs_conf provider 15559870001 127.0.0.1 "$prov_port" tls ";mediaenc=srtp-mand"
bs_conf plain 15559870001 127.0.0.1 "$prov_port" tls ""

timeout -k 2 30 baresip -f pbx -t 12 > pbx.log 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
it_wait_grep 'baresip is ready' pbx.log 5 || it_fail "the PBX baresip did not start: $(tail -3 pbx.log)"

# ng_query CALL_ID: rtpengine's RTP packet count of the call (ng "query": totals.RTP.packets).
ng_query() {
    python3 - "$RTPENGINE_NG_PORT" "$1" <<'PY'
import socket, sys
def decode(b, i=0):
    c = b[i:i + 1]
    if c == b"i":
        end = b.index(b"e", i)
        return int(b[i + 1:end]), end + 1
    if c in (b"l", b"d"):
        items, i = [], i + 1
        while b[i:i + 1] != b"e":
            item, i = decode(b, i)
            items.append(item)
        return (dict(zip(items[::2], items[1::2])) if c == b"d" else items), i + 1
    colon = b.index(b":", i)
    end = colon + 1 + int(b[i:colon])
    return b[colon + 1:end], end
port, call_id = int(sys.argv[1]), sys.argv[2].encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"q1 d7:call-id%d:%s7:command5:querye" % (len(call_id), call_id), ("127.0.0.1", port))
answer = decode(s.recv(65536).split(b" ", 1)[1])[0]
print(answer[b"totals"][b"RTP"][b"packets"])
PY
}

# 1. SRTP towards the provider, plain RTP towards the PBX; 3 s of tone each way (a baresip
#    hangs up when its file ends).
timeout -k 2 30 baresip -f provider -t 6 \
    -e "/dial sip:15551230001@127.0.0.1:$gw_port" > provider.log 2>&1 &
provider=$!
IT_PIDS+=("$provider")
it_wait_grep 'Call established' provider.log 10 || it_fail "the provider's call was not established"
it_wait_grep 'Call established' pbx.log 5 || it_fail "the PBX did not answer"
grep -q 'SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)' provider.log ||
    it_fail "the provider's media is not SRTP"
if grep -q 'SRTP is Enabled' pbx.log; then
    it_fail "the PBX got SRTP (its UDP leg asks for plain RTP)"
fi
# Each baresip receives the other's audio (through rtpengine, which re-keys it).
for side in provider pbx; do
    it_wait_grep "incoming rtp for 'audio' established" "$side.log" 5 ||
        it_fail "the $side receives no RTP"
done
call_id=$(sed -nE "s/.*\[([^]]+)\]: \[control\] Received command 'offer'.*/\1/p" rtpengine.log | head -1)
[ -n "$call_id" ] || it_fail "rtpengine got no offer"
sleep 1
packets=$(ng_query "$call_id") || it_fail "rtpengine did not answer the query"
it_log "rtpengine: $packets RTP packets of call $call_id a second into it"
[ "$packets" -gt 50 ] || it_fail "rtpengine counted $packets RTP packets"
wait "$provider" || true
grep -q 'terminated (duration' provider.log || it_fail "the provider's call did not end"
# rtpengine's final stats: each endpoint's RTP relayed, none refused (SRTP keys, source).
it_wait_grep "Final packet stats" rtpengine.log 5 || it_fail "rtpengine never deleted the call"
grep -A1 'audio over RTP/SAVP' rtpengine.log | grep -qE ', [1-9][0-9]+ p, [0-9]+ b, 0 e' ||
    it_fail "rtpengine: no clean SRTP from the provider"
grep -A1 'audio over RTP/AVP' rtpengine.log | grep -qE ', [1-9][0-9]+ p, [0-9]+ b, 0 e' ||
    it_fail "rtpengine: no clean RTP from the PBX"

# 2. A provider that offers plain RTP on the TLS trunk (SRTP required there) gets 488.
timeout -k 2 30 baresip -f plain -t 3 \
    -e "/dial sip:15551230001@127.0.0.1:$gw_port" > plain.log 2>&1 || true
grep -q 'session closed: 488' plain.log || it_fail "plain RTP on the TLS trunk was not refused with 488"
it_wait_grep 'Module="media".*SRTP required by trunk provider' security.log ||
    it_fail "no PolicyHit for the plain offer"
[ "$(grep -c "Received command 'offer'" rtpengine.log)" = 1 ] ||
    it_fail "the refused offer reached rtpengine"
it_stop_gateway
it_log "ok"
