#!/usr/bin/env bash
# CANCEL while ringing and a busy callee, in both directions through the gateway: every
# call ends as the callee meant (487 / 486), every final is acknowledged on both legs, and
# the trunk's concurrent-call counter comes back to exactly 0 (the peers miscount here).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"

CALLS=${CALLS:-100}
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
echo "max_calls = 1000" >> gw.conf
it_start_gateway gw.conf

# flow NAME UAS_IP UAS_PORT UAC_IP UAC_PORT
flow() {
    local name=$1 kind=${1%%-*} uas_ip=$2 uas_port=$3 uac_ip=$4 uac_port=$5
    timeout 60 sipp -sf "$IT_DIR/uas-$kind.xml" -i "$uas_ip" -p "$uas_port" -m "$CALLS" \
        -nostdin -timeout 50s -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout 60 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-$kind.xml" -s 15551230050 \
        -i "$uac_ip" -p "$uac_port" -m "$CALLS" -r 50 -nostdin -timeout 50s -timeout_error \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    local uas_rc=0
    wait "$uas" || uas_rc=$?
    local ok failed
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    failed=$(it_sipp_stat "uac-$name.out" 'Failed call')
    it_log "$name: caller rc=$rc callee rc=$uas_rc successful=$ok failed=$failed"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = "$CALLS" ] || it_fail "$name"
}

flow cancel-inbound 127.0.0.1 "$pbx_port" 127.0.0.2 "$prov_port"
flow busy-inbound 127.0.0.1 "$pbx_port" 127.0.0.2 "$prov_port"
flow cancel-outbound 127.0.0.2 "$prov_port" 127.0.0.1 "$pbx_port"
flow busy-outbound 127.0.0.2 "$prov_port" 127.0.0.1 "$pbx_port"
it_gateway_alive
it_stop_gateway
grep -q 'trunk provider: calls_in_progress=0 at stop' gateway.log || it_fail "trunk call count not 0"
if grep -E 'active_calls=[1-9]' gateway.log; then
    it_fail "calls left active"
fi
it_log "ok"
