#!/usr/bin/env bash
# A flood of INVITEs from the provider's (spoofable) address cannot fill the gateway
# (issue #9, item 6): 4,000 INVITEs in 4 s from the trunk's address, with the default
# limits (max_call_rate = 10 per second, max_calls = 30). The PBX sees at most what the rate lets
# through, every other INVITE gets 503 at once without any state, resident memory stays
# flat, and the PBX side can still call out during the flood.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
IT_TRUNK_CALL_RATE=10 it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
it_start_gateway gw.conf
rss() { awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status"; }
rss_before=$(rss)

# The PBX answers whatever reaches it (busy), tracing each INVITE.
timeout 40 sipp -sf "$IT_DIR/../calls_cancel_busy/uas-busy.xml" -i 127.0.0.1 -p "$pbx_port" \
    -m 100000 -nostdin -timeout 30s -trace_msg -message_file pbx.msg > pbx.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
python3 "$IT_DIR/flood_invite.py" 127.0.0.2 "$gw_port" 4000 4 15551230010 > flood.txt
it_log "answers to the flood: $(tr '\n' ' ' < flood.txt)"
refused=$(awk '$1 == 503 {print $2}' flood.txt)
refused=${refused:-0}
kill "$pbx" 2>/dev/null || true
wait "$pbx" 2>/dev/null || true
reached=$(grep -c '^INVITE ' pbx.msg || true)
rss_after=$(rss)
it_log "INVITEs that reached the PBX: $reached; 503: $refused; VmRSS ${rss_before} -> ${rss_after} kB"
# 10 per second with a burst of 10, over about 4 s, and a margin for a slow machine.
[ "$reached" -le 80 ] || it_fail "$reached INVITEs reached the PBX: the trunk's call rate did not hold"
[ "$reached" -ge 10 ] || it_fail "only $reached INVITEs reached the PBX: calls at the rate must pass"
[ "$refused" -ge 3800 ] || it_fail "only $refused of 4000 INVITEs were refused with 503"
[ $((rss_after - rss_before)) -lt 65536 ] || it_fail "resident memory grew by more than 64 MiB"
grep -q 'max_call_rate reached' security.log || it_fail "no PolicyHit event for the rate"
it_gateway_alive
it_stop_gateway
it_log "ok"
