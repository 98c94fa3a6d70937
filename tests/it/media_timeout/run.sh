#!/usr/bin/env bash
# Media timeout ([media] timeout = 2): an anchored call from the provider to the PBX whose
# RTP never flows is ended by the gateway with a BYE on both legs (both sipps answer it and
# count the call successful), and its record says media-timeout; a call whose RTP flows
# both ways through rtpengine (sipp's rtp_stream on each side) for 4 s, twice the
# timeout, is not touched and ends with the caller's own BYE. The gateway found the
# silence by asking rtpengine (ng query).
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
caller_mp=$(it_free_port) # media ports of the sipp endpoints
callee_mp=$(it_free_port)
it_rtpengine_ports
it_start_rtpengine

it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
sed -i "s/^address = udp:127.0.0.1:$pbx_port/address = udp:127.0.0.3:$pbx_port/" gw.conf
sed -i "s/^\[pbx\]$/[media]\nrtpengine = udp:127.0.0.1:$RTPENGINE_NG_PORT\ntimeout = 2\n[pbx]/" gw.conf
it_start_gateway gw.conf

# call NAME UAS_SCENARIO UAC_SCENARIO: one call from the provider (127.0.0.2) to the PBX
# (127.0.0.3), each sipp with its media on its own address; both must succeed.
call() {
    local name=$1 uas_sf=$2 uac_sf=$3 rc=0 uas_rc=0
    timeout 40 sipp -sf "$uas_sf" -i 127.0.0.3 -p "$pbx_port" -mi 127.0.0.3 -mp "$callee_mp" \
        -m 1 -nostdin -timeout 30s -trace_msg -message_file "uas-$name.msg" \
        -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 40 sipp "127.0.0.1:$gw_port" -sf "$uac_sf" -s 15551230001 -i 127.0.0.2 \
        -p "$prov_port" -mi 127.0.0.2 -mp "$caller_mp" -m 1 -d 4000 -nostdin -timeout 30s \
        -timeout_error -trace_msg -message_file "uac-$name.msg" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || uas_rc=$?
    local ok uas_ok
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    uas_ok=$(it_sipp_stat "uas-$name.out" 'Successful call')
    it_log "$name: caller rc=$rc successful=$ok; callee rc=$uas_rc successful=$uas_ok"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = 1 ] && [ "$uas_ok" = 1 ] ||
        it_fail "$name: the call did not end as expected"
}

# 1. No RTP at all: the gateway's BYE reaches both sides, each answers it.
call silent "$IT_DIR/uas-answer.xml" "$IT_DIR/../cdr_mixed/uac-callee-bye.xml"
grep -q '^BYE ' "uac-silent.msg" || it_fail "silent: the provider got no BYE"
grep -q '^BYE ' "uas-silent.msg" || it_fail "silent: the PBX got no BYE"
it_wait_grep '"media-timeout"' Master.csv || it_fail "silent: the call record does not say media-timeout"
grep -q "Received command 'query'" rtpengine.log || it_fail "rtpengine was never asked for counts"

# 2. RTP both ways for 4 s: the call lives until the caller hangs up.
head -c 8000 /dev/zero | tr '\0' '\377' > silence.ulaw # 1 s of PCMU silence, looped
call flowing "$IT_DIR/uas-rtp.xml" "$IT_DIR/uac-rtp.xml"
it_wait_grep '"caller-hangup"' Master.csv || it_fail "flowing: no record of the caller's hang-up"
[ "$(grep -c '"media-timeout"' Master.csv)" = 1 ] ||
    it_fail "flowing: the gateway ended the call with RTP flowing"
for media in "127.0.0.2:$caller_mp" "127.0.0.3:$callee_mp"; do # rtpengine's final stats
    grep -qE "<> +$media, SSRC [0-9a-f]+, [1-9][0-9]* p" rtpengine.log ||
        it_fail "flowing: rtpengine relayed no RTP from $media"
done
it_stop_gateway
it_log "ok"
