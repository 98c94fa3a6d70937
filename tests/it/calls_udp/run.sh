#!/usr/bin/env bash
# 1,000 calls from the provider side to a sipp UAS standing in for the PBX, and 1,000 the
# other way, over UDP, through sipwarden: 0 failed calls, and every call counted out.
source "$(dirname "$0")/../lib.sh"

CALLS=${CALLS:-1000}
RATE=${RATE:-200}
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)

cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
log_level = notice
[pbx]
address = udp:127.0.0.1:$pbx_port
[provider]
type = trunk
provider = udp:127.0.0.2:$prov_port
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
CONF
it_start_gateway gw.conf

# run_calls DIR UAS_IP UAS_PORT UAC_IP UAC_PORT
run_calls() {
    local dir=$1 uas_ip=$2 uas_port=$3 uac_ip=$4 uac_port=$5
    timeout 120 sipp -sn uas -i "$uas_ip" -p "$uas_port" -m "$CALLS" -nostdin -timeout 100s \
        -trace_err -error_file "uas-$dir.err" > "uas-$dir.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout 120 sipp "127.0.0.1:$gw_port" -sn uac -i "$uac_ip" -p "$uac_port" -m "$CALLS" \
        -r "$RATE" -d 100 -nostdin -timeout 100s -timeout_error \
        -trace_err -error_file "uac-$dir.err" > "uac-$dir.out" 2>&1 || rc=$?
    local uas_rc=0
    wait "$uas" || uas_rc=$?
    local ok failed
    ok=$(it_sipp_stat "uac-$dir.out" 'Successful call')
    failed=$(it_sipp_stat "uac-$dir.out" 'Failed call')
    it_log "$dir: caller rc=$rc callee rc=$uas_rc successful=$ok failed=$failed"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "$dir: sipp failed"
    [ "$ok" = "$CALLS" ] && [ "$failed" = 0 ] || it_fail "$dir: $ok of $CALLS calls, $failed failed"
}

run_calls inbound 127.0.0.1 "$pbx_port" 127.0.0.2 "$prov_port"
run_calls outbound 127.0.0.2 "$prov_port" 127.0.0.1 "$pbx_port"
it_gateway_alive
it_stop_gateway
grep -q 'trunk provider: calls_in_progress=0 at stop' gateway.log || it_fail "trunk call count not back to 0"
if grep -E 'active_calls=[1-9]' gateway.log; then
    it_fail "calls left active"
fi
it_log "ok"
