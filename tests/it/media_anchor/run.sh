#!/usr/bin/env bash
# Media anchoring through rtpengine ([media] rtpengine): calls from the provider to the PBX
# and back, sipp on both sides with their own media addresses (the PBX's media on
# 127.0.0.3, the provider's on 127.0.0.2), an rtpengine started here (userspace, its own
# ports, stopped by PID). Every call completes; the provider's side never carries the PBX's
# address (signalling or SDP), the PBX's side never gets the provider's media address, and
# each side's SDP names rtpengine's address and a port of its range; rtpengine saw an
# offer, an answer and a delete per call.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

# Ten calls each way prove the anchoring; SW_IT_CALLS (the volume of the call tests) does
# not apply.
CALLS=10
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
caller_mp=$(it_free_port) # media ports of the sipp endpoints
callee_mp=$(it_free_port)
it_rtpengine_ports
ng_port=$RTPENGINE_NG_PORT
port_min=$RTP_MIN
port_max=$RTP_MAX
it_start_rtpengine

cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
[pbx]
address = udp:127.0.0.3:$pbx_port
[media]
rtpengine = udp:127.0.0.1:$ng_port
[provider]
type = trunk
provider = udp:127.0.0.2:$prov_port
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
max_call_rate = 1000
CONF
it_start_gateway gw.conf

# call NAME UAS_IP UAS_PORT UAC_IP UAC_PORT: CALLS calls, each sipp with its media on its
# own address (ports caller_mp and callee_mp), messages traced.
call() {
    local name=$1 uas_ip=$2 uas_port=$3 uac_ip=$4 uac_port=$5 rc=0 uas_rc=0
    timeout 60 sipp -sn uas -i "$uas_ip" -p "$uas_port" -mi "$uas_ip" -mp "$callee_mp" -m "$CALLS" \
        -nostdin -timeout 50s -trace_msg -message_file "uas-$name.msg" \
        -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 60 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230001 -i "$uac_ip" -p "$uac_port" \
        -mi "$uac_ip" -mp "$caller_mp" -m "$CALLS" -r 10 -d 200 -nostdin -timeout 50s -timeout_error \
        -trace_msg -message_file "uac-$name.msg" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || uas_rc=$?
    local ok
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    it_log "$name: caller rc=$rc callee rc=$uas_rc successful=$ok"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = "$CALLS" ] || it_fail "$name: calls failed"
}

# sdp_ports FILE: the m=audio ports in the SDPs of the messages FILE traced.
sdp_ports() {
    grep -E '^m=audio [0-9]+' "$1" | awk '{print $2}' | sort -u
}

# check_side FILE FORBIDDEN: FILE never names FORBIDDEN, every SDP it carries names
# rtpengine (127.0.0.1) with a port from its range, besides the side's own SDP (OWN port).
check_side() {
    local file=$1 forbidden=$2 own=$3 port
    if grep -nF "$forbidden" "$file"; then
        it_fail "$file names $forbidden"
    fi
    for port in $(sdp_ports "$file"); do
        [ "$port" = "$own" ] && continue
        [ "$port" -ge "$port_min" ] && [ "$port" -le "$port_max" ] ||
            it_fail "$file: SDP port $port is not rtpengine's ($port_min-$port_max)"
    done
    [ -n "$(sdp_ports "$file" | grep -vx "$own")" ] || it_fail "$file: no anchored SDP seen"
}

call inbound 127.0.0.3 "$pbx_port" 127.0.0.2 "$prov_port"
call outbound 127.0.0.2 "$prov_port" 127.0.0.3 "$pbx_port"
check_side uac-inbound.msg 127.0.0.3 "$caller_mp"  # the provider calling
check_side uas-outbound.msg 127.0.0.3 "$callee_mp" # the provider called
check_side uas-inbound.msg 127.0.0.2 "$callee_mp"  # the PBX called
check_side uac-outbound.msg 127.0.0.2 "$caller_mp" # the PBX calling
for command in offer answer delete; do
    n=$(grep -c "Received command '$command'" rtpengine.log || true)
    [ "$n" -ge $((2 * CALLS)) ] || it_fail "rtpengine saw $n ${command}s for $((2 * CALLS)) calls"
done

# The in-dialog life of anchored calls (tests/it/dialog_flows' scenarios: a reliable 183
# with SDP and its PRACK, 200/ACK, a re-INVITE and an UPDATE with SDP, INFO, OPTIONS, BYE):
# the re-INVITE's and UPDATE's offers and answers cross through rtpengine too.
flows="$IT_DIR/../dialog_flows"
flow() {
    local name=$1 uas_ip=$2 uas_port=$3 uac_ip=$4 uac_port=$5 rc=0 uas_rc=0
    timeout 60 sipp -sf "$flows/uas-dialog.xml" -i "$uas_ip" -p "$uas_port" -mi "$uas_ip" \
        -mp "$callee_mp" -m 5 -nostdin -timeout 50s -trace_err -error_file "uas-$name.err" \
        -trace_msg -message_file "uas-$name.msg" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 60 sipp "127.0.0.1:$gw_port" -sf "$flows/uac-dialog.xml" -s 15551230050 \
        -i "$uac_ip" -p "$uac_port" -mi "$uac_ip" -mp "$caller_mp" -m 5 -r 10 -nostdin -timeout 50s \
        -timeout_error -trace_err -error_file "uac-$name.err" \
        -trace_msg -message_file "uac-$name.msg" > "uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || uas_rc=$?
    local ok
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    it_log "$name: caller rc=$rc callee rc=$uas_rc successful=$ok"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = 5 ] || it_fail "$name: dialog flows failed"
}
flow dialog-in 127.0.0.3 "$pbx_port" 127.0.0.2 "$prov_port"
flow dialog-out 127.0.0.2 "$prov_port" 127.0.0.3 "$pbx_port"
check_side uac-dialog-in.msg 127.0.0.3 "$caller_mp"
check_side uas-dialog-out.msg 127.0.0.3 "$callee_mp"
check_side uas-dialog-in.msg 127.0.0.2 "$callee_mp"
check_side uac-dialog-out.msg 127.0.0.2 "$caller_mp"
it_stop_gateway

# rtpengine unreachable (nothing on its port): a new call gets 503, or with
# rtpengine_unreachable = pass it goes on unanchored.
dead_port=$(it_free_port)
sed -e "s/^rtpengine = .*/rtpengine = udp:127.0.0.1:$dead_port/" gw.conf > gw-dead.conf
it_start_gateway gw-dead.conf
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../media_srtp_policy/uac-offer.xml" \
    -s 15551230001 -set proto RTP/AVP -set attr a=sendrecv -i 127.0.0.2 -p "$prov_port" -m 1 \
    -nostdin -timeout 20s -timeout_error -trace_msg -message_file msg-dead.log \
    -trace_err -error_file uac-dead.err > uac-dead.out 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -q '^SIP/2.0 503 ' msg-dead.log || it_fail "no 503 with rtpengine unreachable"
it_wait_grep 'SecurityEvent="MediaRelayUnreachable".*refused with 503' security.log ||
    it_fail "no MediaRelayUnreachable event for the refused call"
it_stop_gateway
sed -i "s/^\[media\]$/[media]\nrtpengine_unreachable = pass/" gw-dead.conf
it_start_gateway gw-dead.conf
CALLS=1
call unanchored 127.0.0.3 "$pbx_port" 127.0.0.2 "$prov_port"
grep -q '^c=IN IP4 127.0.0.3' uac-unanchored.msg || it_fail "pass: the call was not passed unanchored"
it_stop_gateway
it_log "ok"
