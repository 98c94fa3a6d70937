#!/usr/bin/env bash
# What the wire shows of an anchored call (dumpcap on lo, a capture filter on this test's
# own ports; root, as the tests run): a call from the provider (127.0.0.2) to the PBX
# (127.0.0.3, its media on that address too) with RTP both ways (sipp's rtp_stream).
#   - the provider's side never carries the PBX's address: no packet between the two
#     addresses, and no SIP message or SDP sent to or from 127.0.0.2 names 127.0.0.3;
#   - RTP flows both ways and only through rtpengine (127.0.0.1, its port range):
#     provider -> rtpengine -> PBX and PBX -> rtpengine -> provider;
#   - RTP that a third address (127.0.0.4) sends to the port rtpengine gave the provider
#     reaches rtpengine and is not forwarded to the PBX.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

command -v dumpcap >/dev/null && command -v tshark >/dev/null ||
    it_fail "tshark not installed (scripts/deps.sh --test)"
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
caller_mp=$(it_free_port)
callee_mp=$(it_free_port)
intruder_port=$(it_free_port)
it_rtpengine_ports
it_start_rtpengine

it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
sed -i "s/^address = udp:127.0.0.1:$pbx_port/address = udp:127.0.0.3:$pbx_port/" gw.conf
sed -i "s/^\[pbx\]$/[media]\nrtpengine = udp:127.0.0.1:$RTPENGINE_NG_PORT\n[pbx]/" gw.conf
it_start_gateway gw.conf

ports="port $gw_port or port $pbx_port or port $prov_port or port $caller_mp or port $callee_mp"
ports="$ports or port $intruder_port or portrange $RTP_MIN-$RTP_MAX"
timeout 60 dumpcap -q -i lo -f "udp and ($ports)" -a duration:50 -w call.pcapng > dumpcap.log 2>&1 &
capture=$!
IT_PIDS+=("$capture")
it_wait_grep "Capturing on" dumpcap.log 10 || it_fail "dumpcap did not start: $(cat dumpcap.log)"

head -c 8000 /dev/zero | tr '\0' '\377' > silence.ulaw
timeout 40 sipp -sf "$IT_DIR/../media_timeout/uas-rtp.xml" -i 127.0.0.3 -p "$pbx_port" \
    -mi 127.0.0.3 -mp "$callee_mp" -m 1 -nostdin -timeout 30s -trace_err -error_file uas.err \
    > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 40 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../media_timeout/uac-rtp.xml" -s 15551230001 \
    -i 127.0.0.2 -p "$prov_port" -mi 127.0.0.2 -mp "$caller_mp" -m 1 -d 3000 -nostdin \
    -timeout 30s -timeout_error -trace_msg -message_file uac.msg -trace_err -error_file uac.err \
    > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")

# The intruder aims at the port of rtpengine's SDP in the 200 the provider got.
for i in $(seq 1 100); do
    target=$(awk '/message received/ { rx = 1 } /message sent/ { rx = 0 }
        rx && /^m=audio / { port = $2 } END { print port }' uac.msg 2>/dev/null || true)
    [ -n "$target" ] && grep -q '^SIP/2.0 200 ' uac.msg && break
    sleep 0.05
done
[ -n "$target" ] || it_fail "the provider got no answer with SDP"
python3 - "$target" "$intruder_port" <<'PY'
import socket, struct, sys, time
target, port = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.4", port))
for seq in range(25):  # PCMU, SSRC 0xbadbad01: easy to find in the capture
    header = struct.pack("!BBHII", 0x80, 0, 40000 + seq, 160 * seq, 0xBADBAD01)
    s.sendto(header + b"\x55" * 160, ("127.0.0.1", target))
    time.sleep(0.02)
PY

rc=0
wait "$uac" || rc=$?
uas_rc=0
wait "$uas" || uas_rc=$?
[ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "the call failed (caller rc=$rc, callee rc=$uas_rc)"
sleep 0.3 # the last packets reach the capture
kill -INT "$capture"
wait "$capture" || true
it_stop_gateway

# One pass over the capture: source, destination, ports, RTP SSRC (empty when not RTP).
tshark -r call.pcapng -o rtp.heuristic_rtp:TRUE -T fields -e ip.src -e ip.dst -e udp.srcport \
    -e udp.dstport -e rtp.ssrc > packets.txt 2>/dev/null
# count AWK_CONDITION: packets ($1 src, $2 dst, $3 sport, $4 dport, $5 ssrc) that match.
count() { awk -F'\t' "$1 { n++ } END { print n + 0 }" packets.txt; }
in_range="(\$3 >= $RTP_MIN && \$3 <= $RTP_MAX || \$4 >= $RTP_MIN && \$4 <= $RTP_MAX)"

# 1. The provider's side: no packet to or from the PBX, no message naming it.
n=$(count '($1 == "127.0.0.2" && $2 == "127.0.0.3") || ($1 == "127.0.0.3" && $2 == "127.0.0.2")')
[ "$n" = 0 ] || it_fail "$n packets between the provider and the PBX"
tshark -r call.pcapng -Y "ip.addr == 127.0.0.2 && udp.port == $gw_port" -T fields -e udp.payload |
    python3 -c 'import sys
for line in sys.stdin:
    print(bytes.fromhex(line.strip().replace(":", "")).decode("latin-1"))' > provider-side.txt
grep -q '^m=audio ' provider-side.txt || it_fail "no SDP seen on the provider's side"
if grep -n '127\.0\.0\.3' provider-side.txt; then
    it_fail "the provider's side names the PBX's address"
fi

# 2. RTP both ways, each hop through rtpengine.
for hop in "127.0.0.2 127.0.0.1" "127.0.0.1 127.0.0.3" "127.0.0.3 127.0.0.1" "127.0.0.1 127.0.0.2"; do
    read -r src dst <<< "$hop"
    n=$(count "\$5 != \"\" && \$5 != \"0xbadbad01\" && \$1 == \"$src\" && \$2 == \"$dst\" && $in_range")
    it_log "RTP $src -> $dst: $n packets"
    [ "$n" -ge 50 ] || it_fail "RTP $src -> $dst: only $n packets through rtpengine"
done

# 3. The intruder's RTP reached rtpengine and went no further.
sent=$(count '$5 == "0xbadbad01" && $1 == "127.0.0.4"')
forwarded=$(count '$5 == "0xbadbad01" && $1 == "127.0.0.1"')
it_log "third address: $sent packets sent, $forwarded forwarded"
[ "$sent" = 25 ] || it_fail "the capture shows $sent of the 25 packets from the third address"
[ "$forwarded" = 0 ] || it_fail "rtpengine forwarded $forwarded packets from the third address"
it_log "ok"
