#!/usr/bin/env bash
# [media] follows a SIGHUP for new calls while calls in progress keep their rtpengine. Two
# rtpengines, A and B ([media] timeout = 2: a call's packet-count queries must reach the
# rtpengine that relays it, or the call would end as silent).
#   1. Call 1 (provider -> PBX, RTP both ways for 6 s) is anchored on A.
#   2. The file now names B; SIGHUP. Call 2 (PBX -> provider, RTP) is anchored on B.
#   3. Call 1 goes on through A until the caller's BYE: A relays its RTP to the end (its
#      final stats count most of 6 s of packets) and gets its delete; B never hears of it.
#   4. A bad [media] on SIGHUP is refused with file:line and key; call 3 still goes to B.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_rtpengine_ports
it_start_rtpengine rtpengine-a.log
a_ng=$RTPENGINE_NG_PORT a_min=$RTP_MIN a_max=$RTP_MAX
for i in 1 2 3 4 5; do # B's port range must differ from A's
    it_rtpengine_ports
    [ "$RTP_MIN" != "$a_min" ] && break
done
it_start_rtpengine rtpengine-b.log
b_ng=$RTPENGINE_NG_PORT b_min=$RTP_MIN b_max=$RTP_MAX

it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
sed -i "s/^address = udp:127.0.0.1:$pbx_port/address = udp:127.0.0.3:$pbx_port\nmatch_port = no/" gw.conf
sed -i "s/^\[pbx\]$/[media]\nrtpengine = udp:127.0.0.1:$a_ng\ntimeout = 2\n[pbx]/" gw.conf
sed -i "s/^workers = 2$/workers = 1/" gw.conf # calls 1 and 2 on one worker: its anchors change
it_start_gateway gw.conf
head -c 8000 /dev/zero | tr '\0' '\377' > silence.ulaw # 1 s of PCMU silence, looped
flows=$IT_DIR/../media_timeout

# commands LOG COMMAND: how many ng COMMANDs that rtpengine received.
commands() { grep -c "Received command '$2'" "$1" || true; }
# in_range FILE MIN MAX: every SDP port FILE received lies in MIN..MAX (and there is one).
in_range() {
    local port n=0
    for port in $(it_sipp_received "$1" | awk '/^m=audio / { print $2 }'); do
        [ "$port" -ge "$2" ] && [ "$port" -le "$3" ] || it_fail "$1: SDP port $port not in $2-$3"
        n=$((n + 1))
    done
    [ "$n" -ge 1 ] || it_fail "$1: no SDP received"
}

# 1. Call 1 on A, from the provider; answered before the reload.
uas1_mp=$(it_free_port)
uac1_mp=$(it_free_port)
timeout 40 sipp -sf "$flows/uas-rtp.xml" -i 127.0.0.3 -p "$pbx_port" -mi 127.0.0.3 -mp "$uas1_mp" \
    -m 1 -nostdin -timeout 30s -trace_err -error_file uas-1.err > uas-1.out 2>&1 &
uas1=$!
IT_PIDS+=("$uas1")
sleep 0.3
timeout 40 sipp "127.0.0.1:$gw_port" -sf "$flows/uac-rtp.xml" -s 15551230001 -i 127.0.0.2 \
    -p "$(it_free_port)" -mi 127.0.0.2 -mp "$uac1_mp" -m 1 -d 6000 -nostdin -timeout 30s \
    -timeout_error -trace_msg -message_file uac-1.msg -trace_err -error_file uac-1.err \
    > uac-1.out 2>&1 &
uac1=$!
IT_PIDS+=("$uac1")
it_wait_grep "Received command 'answer'" rtpengine-a.log 10 || it_fail "call 1 was not answered on A"

# 2. The file names B: SIGHUP, then call 2 from the PBX goes through B.
sed -i "s/^rtpengine = .*/rtpengine = udp:127.0.0.1:$b_ng/" gw.conf
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration reloaded' gateway.log 10 || it_fail "no reload"
# call NAME: one call from the PBX to the provider with RTP both ways for 1 s.
call() {
    local name=$1 rc=0 uas_rc=0
    timeout 30 sipp -sf "$flows/uas-rtp.xml" -i 127.0.0.2 -p "$prov_port" -mi 127.0.0.2 \
        -mp "$(it_free_port)" -m 1 -nostdin -timeout 20s -trace_msg -message_file "uas-$name.msg" \
        -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$flows/uac-rtp.xml" -s 15551230002 -i 127.0.0.3 \
        -p "$(it_free_port)" -mi 127.0.0.3 -mp "$(it_free_port)" -m 1 -d 1000 -nostdin \
        -timeout 20s -timeout_error -trace_msg -message_file "uac-$name.msg" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || uas_rc=$?
    it_log "$name: caller rc=$rc callee rc=$uas_rc"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "$name: the call failed"
    in_range "uac-$name.msg" "$b_min" "$b_max"
    in_range "uas-$name.msg" "$b_min" "$b_max"
}
call 2
it_gateway_alive
[ "$(commands rtpengine-a.log offer)" = 1 ] || it_fail "A got an offer after the reload"
[ "$(commands rtpengine-b.log delete)" = 1 ] || it_fail "B did not end call 2"
grep -q 'new calls use the reloaded \[media\] (1 rtpengine(s)); calls in progress keep theirs (1 earlier' \
    gateway.log || it_fail "the worker did not keep A for call 1"

# 3. Call 1 ends with its caller's BYE, relayed by A to the end.
rc=0
wait "$uac1" || rc=$?
uas_rc=0
wait "$uas1" || uas_rc=$?
it_log "call 1: caller rc=$rc callee rc=$uas_rc"
[ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "call 1 did not end with its caller's BYE"
in_range uac-1.msg "$a_min" "$a_max"
it_wait_grep "Received command 'delete'" rtpengine-a.log 5 || it_fail "A got no delete for call 1"
grep -q '"media-timeout"' Master.csv && it_fail "a call ended as silent (queries went astray)"
# 6 s at 50 packets a second: at least 4 s of them, most after the reload.
for media in "127.0.0.2:$uac1_mp" "127.0.0.3:$uas1_mp"; do
    n=$(grep -E "<> +$media, SSRC [0-9a-f]+, [0-9]+ p" rtpengine-a.log |
        sed -E 's/.*SSRC [0-9a-f]+, ([0-9]+) p.*/\1/' | tail -1)
    it_log "call 1: A relayed ${n:-0} packets from $media"
    [ "${n:-0}" -ge 200 ] || it_fail "call 1: A relayed only ${n:-0} packets from $media"
done
[ "$(commands rtpengine-b.log offer)" = 1 ] || it_fail "B heard of call 1"

# 4. A bad [media] is refused with its place; the running one (B) stays.
sed -i "s/^timeout = 2$/timeout = forever/" gw.conf
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration refused' gateway.log 10 || it_fail "the bad [media] was not refused"
grep -E "reload: .*gw\.conf:[0-9]+: (media\.)?timeout: " gateway.log ||
    it_fail "the refusal does not name file:line and key"
call 3
[ "$(commands rtpengine-b.log offer)" = 2 ] || it_fail "call 3 did not go to B"
[ "$(commands rtpengine-a.log offer)" = 1 ] || it_fail "A got call 3"
it_stop_gateway
it_log "ok"
