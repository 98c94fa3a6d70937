#!/usr/bin/env bash
# rtpengine dies mid-test and comes back on the same port. A call answered before (RTP
# both ways, sipp's rtp_stream) is not disturbed: it ends with the caller's own BYE, which
# both sides see answered. While rtpengine is down, a new call gets 503, and the gateway
# emits a MediaRelayUnreachable event (security log, and its count in /metrics). Once
# rtpengine answers the health checks again, a new call is anchored through it.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_media.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
caller_mp=$(it_free_port)
callee_mp=$(it_free_port)
token=it-token-0123456789abcdef
it_rtpengine_ports
it_start_rtpengine

it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
sed -i "s/^\[pbx\]$/[admin]\nlisten = 127.0.0.1:$admin_port\ntoken = $token\n[pbx]/" gw.conf
sed -i "s/^\[pbx\]$/[media]\nrtpengine = udp:127.0.0.1:$RTPENGINE_NG_PORT\n[pbx]/" gw.conf
sed -i "s/^\[pbx\]$/rtpengine_ping_interval = 1\nrtpengine_retransmit_ms = 200\n[pbx]/" gw.conf
sed -i "s/^\[pbx\]$/rtpengine_tries = 2\n[pbx]/" gw.conf
sed -i "s/^address = udp:127.0.0.1:$pbx_port/address = udp:127.0.0.3:$pbx_port\nmatch_port = no/" gw.conf
it_start_gateway gw.conf

# The call in progress, from the PBX (another port of its address: [pbx] match_port = no)
# to the provider: answered, RTP both ways, the caller hangs up after 6 s.
head -c 8000 /dev/zero | tr '\0' '\377' > silence.ulaw
timeout 40 sipp -sf "$IT_DIR/../media_timeout/uas-rtp.xml" -i 127.0.0.2 -p "$prov_port" \
    -mi 127.0.0.2 -mp "$callee_mp" -m 1 -nostdin -timeout 30s -trace_err -error_file uas-long.err \
    > uas-long.out 2>&1 &
long_uas=$!
IT_PIDS+=("$long_uas")
sleep 0.3
timeout 40 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../media_timeout/uac-rtp.xml" -s 15551230001 \
    -i 127.0.0.3 -p "$(it_free_port)" -mi 127.0.0.3 -mp "$caller_mp" -m 1 -d 6000 -nostdin \
    -timeout 30s -timeout_error -trace_msg -message_file uac-long.msg \
    -trace_err -error_file uac-long.err > uac-long.out 2>&1 &
long_uac=$!
IT_PIDS+=("$long_uac")
it_wait_grep "Received command 'answer'" rtpengine.log 10 || it_fail "the first call was not answered"

# one_call NAME: one call from the provider (sipp's offer scenario, from another port of
# its address) to the PBX, which answers.
one_call() {
    local name=$1 rc=0
    timeout 20 sipp -sn uas -i 127.0.0.3 -p "$pbx_port" -mp "$(it_free_port)" -m 1 -nostdin \
        -timeout 15s \
        > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.2
    timeout 20 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../media_srtp_policy/uac-offer.xml" \
        -s 15551230002 -set proto RTP/AVP -set attr a=sendrecv -i 127.0.0.2 -p "$(it_free_port)" \
        -mp "$(it_free_port)" -m 1 -nostdin -timeout 15s -timeout_error -trace_msg -message_file "uac-$name.msg" \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    kill "$uas" 2>/dev/null || true
    wait "$uas" 2>/dev/null || true
    it_log "$name: caller rc=$rc"
}

# rtpengine dies: the next call is refused, with an event and its metric.
it_stop_rtpengine
one_call down
grep -q '^SIP/2.0 503 ' uac-down.msg || it_fail "no 503 while rtpengine is down"
it_wait_grep 'SecurityEvent="MediaRelayUnreachable".*refused with 503' security.log ||
    it_fail "no MediaRelayUnreachable event"
metric='sipwarden_events_total{event="MediaRelayUnreachable"} 1'
for i in $(seq 1 40); do
    curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$admin_port/metrics" \
        > metrics.txt || it_fail "GET /metrics failed"
    grep -qxF "$metric" metrics.txt && break
    sleep 0.25
done
grep -qxF "$metric" metrics.txt || it_fail "metrics: no $metric"

# rtpengine is back on the same port: the health checks find it, calls are anchored again.
it_start_rtpengine
it_wait_grep "rtpengine: 127.0.0.1:$RTPENGINE_NG_PORT answers again" gateway.log 10 ||
    it_fail "the gateway did not notice rtpengine's return"
one_call back
grep -q '^SIP/2.0 200 ' uac-back.msg || it_fail "no call after rtpengine came back"
port=$(grep -E '^m=audio [0-9]+' uac-back.msg | awk '{print $2}' | tail -1)
[ -n "$port" ] && [ "$port" -ge "$RTP_MIN" ] && [ "$port" -le "$RTP_MAX" ] ||
    it_fail "the call after the restart is not anchored (port ${port:-none})"

# The call in progress outlived it all and ended with its own BYE, answered.
rc=0
wait "$long_uac" || rc=$?
uas_rc=0
wait "$long_uas" || uas_rc=$?
ok=$(it_sipp_stat uac-long.out 'Successful call')
it_log "call in progress: caller rc=$rc callee rc=$uas_rc successful=$ok"
[ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = 1 ] || it_fail "the call in progress was disturbed"
it_stop_gateway
it_log "ok"
