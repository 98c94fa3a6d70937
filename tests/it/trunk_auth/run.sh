#!/usr/bin/env bash
# The gateway answers the provider's digest challenge with the trunk's credentials: with
# the right secret every outbound call completes (the provider checks the digest with
# sipp's own verifyauth), with a wrong one the PBX gets 403 and the challenge never
# reaches it.
source "$(dirname "$0")/../lib.sh"

CALLS=${CALLS:-20}
pbx_port=$(it_free_port)
prov_port=$(it_free_port)

# run_case SECRET UAC_SCENARIO_ARGS...
run_case() {
    local name=$1 secret=$2
    shift 2
    local gw_port
    gw_port=$(it_free_port)
    it_trunk_conf "gw-$name.conf" udp "$gw_port" "$pbx_port" "$prov_port"
    cat >> "gw-$name.conf" <<CONF
username = trunkuser
secret = $secret
CONF
    it_start_gateway "gw-$name.conf"
    timeout 60 sipp -sf "$IT_DIR/uas-challenge.xml" -set user trunkuser -set pass 'S3cret-Trunk-Pass' \
        -i 127.0.0.2 -p "$prov_port" -m "$CALLS" -nostdin -timeout 50s \
        -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout 60 sipp "127.0.0.1:$gw_port" "$@" -s 15551239999 -i 127.0.0.1 -p "$pbx_port" \
        -m "$CALLS" -r 20 -nostdin -timeout 50s -timeout_error \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    wait "$uas" || true
    local ok
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    it_log "$name: caller rc=$rc successful=$ok"
    [ "$rc" = 0 ] && [ "$ok" = "$CALLS" ] || it_fail "$name"
    it_stop_gateway
}

run_case right 'S3cret-Trunk-Pass' -sn uac -d 100
run_case wrong 'not-the-secret' -sf "$IT_DIR/uac-expect-403.xml"
it_log "ok"
