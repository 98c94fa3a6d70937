#!/usr/bin/env bash
# An offer in a PRACK (RFC 3262, RFC 6337 §3.1) through rtpengine, with 100rel and RTP both
# ways (sipp's rtp_stream): the PRACK's offer goes to rtpengine as an offer and the 200 of
# the PRACK to rtpengine as its answer, so
#   - the PBX (127.0.0.3) sees only rtpengine's address and ports in every SDP, never the
#     provider's (127.0.0.2), and the provider never sees the PBX's;
#   - the RTP of each side reaches rtpengine (its final stats count packets from both).
# Two shapes: a late offer whose reliable 183 carries no SDP (the PRACK offers first), and
# an INVITE offer answered in a reliable 183 after which the PRACK offers anew; the first
# also from the PBX to the provider.
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
head -c 8000 /dev/zero | tr '\0' '\377' > rtp.ulaw # 1 s of PCMU silence, looped

# sdp_in FILE FIRST_LINE: the SDP's m= line of the received message that starts so.
sdp_in() {
    it_sipp_received "$1" | awk -v m="^$2" '$0 ~ m { a = 1; next } /^(SIP\/2.0|[A-Z]+ sip:)/ { a = 0 }
        a && /^m=audio / { print; exit }'
}

# call NAME SHAPE UAS_IP UAS_PORT UAC_IP UAC_PORT: one call, RTP for 1.5 s after the ACK.
call() {
    local name=$1 shape=$2 uas_ip=$3 uas_port=$4 uac_ip=$5 uac_port=$6 rc=0 uas_rc=0
    local uac_mp uas_mp
    uac_mp=$(it_free_port)
    uas_mp=$(it_free_port)
    timeout 30 sipp -sf "$IT_DIR/uas-$shape.xml" -i "$uas_ip" -p "$uas_port" -mi "$uas_ip" \
        -mp "$uas_mp" -m 1 -nostdin -timeout 20s -trace_msg -message_file "uas-$name.msg" \
        -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-$shape.xml" -s 15551230001 \
        -i "$uac_ip" -p "$uac_port" -mi "$uac_ip" -mp "$uac_mp" -m 1 -d 1500 -nostdin \
        -timeout 20s -timeout_error -trace_msg -message_file "uac-$name.msg" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || uas_rc=$?
    it_log "$name: caller rc=$rc callee rc=$uas_rc"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "$name: the call failed"
    # The PRACK reached the callee with rtpengine's offer, its 200 the caller with the answer.
    local offer answer
    offer=$(sdp_in "uas-$name.msg" PRACK)
    answer=$(sdp_in "uac-$name.msg" 'SIP/2.0 200 OK')
    it_log "$name: PRACK offer '$offer', its 200 '$answer'"
    [ -n "$offer" ] && [ -n "$answer" ] || it_fail "$name: no SDP in the PRACK or its 200"
    it_media_anchored "uac-$name.msg" "$uas_ip"
    it_media_anchored "uas-$name.msg" "$uac_ip"
    # rtpengine's final stats of the call (at its delete): RTP from both endpoints.
    local media
    for media in "$uac_ip:$uac_mp" "$uas_ip:$uas_mp"; do
        it_wait_grep "<> +$media, SSRC [0-9a-f]+, [1-9][0-9]* p" rtpengine.log 5 ||
            it_fail "$name: rtpengine relayed no RTP from $media"
    done
}
call late-in late 127.0.0.3 "$pbx_port" 127.0.0.2 "$prov_port"
call early-in early 127.0.0.3 "$pbx_port" 127.0.0.2 "$prov_port"
call late-out late 127.0.0.2 "$prov_port" 127.0.0.3 "$pbx_port"
# Each call: its PRACK offer and answer besides the early one (3 + 1 offers, 3 + 1 answers).
for command in offer answer delete; do
    n=$(grep -c "Received command '$command'" rtpengine.log || true)
    [ "$n" -ge 3 ] || it_fail "rtpengine saw $n ${command}s for 3 calls"
done
it_stop_gateway
it_log "ok"
