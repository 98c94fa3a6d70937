#!/usr/bin/env bash
# A late offer through rtpengine: the provider's INVITE has no SDP, the PBX's 200 carries
# the offer and the provider's ACK the answer. The provider gets the offer with
# rtpengine's address and port (never the PBX's), the PBX gets the answer in its ACK with
# rtpengine's too (never the provider's); rtpengine saw the offer and the answer. Then the
# same from the PBX to the provider, and both again with 100rel: the offer in a reliable
# 183, the answer in the PRACK.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_rtpengine_ports
it_start_rtpengine
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
sed -i "s/^address = udp:127.0.0.1:$pbx_port/address = udp:127.0.0.3:$pbx_port/" gw.conf
sed -i "s/^\[pbx\]$/[media]\nrtpengine = udp:127.0.0.1:$RTPENGINE_NG_PORT\n[pbx]/" gw.conf
it_start_gateway gw.conf


# late NAME UAS_IP UAS_PORT UAC_IP UAC_PORT [prack]
late() {
    local name=$1 uas_ip=$2 uas_port=$3 uac_ip=$4 uac_port=$5 rc=0 uas_rc=0 answer_in=ACK
    local uas_sf=(-sf "$IT_DIR/../media_timeout/uas-answer.xml") uac_sf=$IT_DIR/uac-late.xml
    if [ "${6:-}" = prack ]; then
        uas_sf=(-sf "$IT_DIR/uas-prack.xml")
        uac_sf=$IT_DIR/uac-prack.xml
        answer_in=PRACK
    fi
    timeout 30 sipp "${uas_sf[@]}" -i "$uas_ip" -p "$uas_port" -mi "$uas_ip" -mp "$(it_free_port)" \
        -m 1 -nostdin -timeout 20s -trace_msg -message_file "uas-$name.msg" \
        -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$uac_sf" -s 15551230001 -i "$uac_ip" \
        -p "$uac_port" -mi "$uac_ip" -mp "$(it_free_port)" -m 1 -nostdin -timeout 20s \
        -timeout_error -trace_msg -message_file "uac-$name.msg" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || uas_rc=$?
    it_log "$name: caller rc=$rc callee rc=$uas_rc"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "$name: the call failed"
    it_sipp_received "uas-$name.msg" | awk -v m="^$answer_in " '$0 ~ m { a = 1 } /^[A-Z]+ sip:/ && $0 !~ m { a = 0 }
        a && /^m=audio / { f = 1 } END { exit !f }' ||
        it_fail "$name: the callee's $answer_in carries no SDP"
    it_media_anchored "uac-$name.msg" "$uas_ip"
    it_media_anchored "uas-$name.msg" "$uac_ip"
}
late inbound 127.0.0.3 "$pbx_port" 127.0.0.2 "$prov_port"
late outbound 127.0.0.2 "$prov_port" 127.0.0.3 "$pbx_port"
late inbound-prack 127.0.0.3 "$pbx_port" 127.0.0.2 "$prov_port" prack
late outbound-prack 127.0.0.2 "$prov_port" 127.0.0.3 "$pbx_port" prack
for command in offer answer delete; do
    n=$(grep -c "Received command '$command'" rtpengine.log || true)
    [ "$n" -ge 4 ] || it_fail "rtpengine saw $n ${command}s for 4 late-offer calls"
done
it_stop_gateway
it_log "ok"
