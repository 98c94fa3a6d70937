#!/usr/bin/env bash
# In-dialog life of a call through the B2BUA, both directions: a reliable 183 and its
# PRACK (RAck translated to leg B's CSeq), 200/ACK, re-INVITE with its ACK, INFO, UPDATE,
# OPTIONS, and a BYE from the callee. Then topology hiding: nothing the PBX wrote about
# itself (User-Agent, Server, X- headers, its address and port) reaches the provider.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"

CALLS=${CALLS:-20}
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
echo "max_calls = 1000" >> gw.conf
it_start_gateway gw.conf

# flow NAME UAS_IP UAS_PORT UAC_IP UAC_PORT
flow() {
    local name=$1 uas_ip=$2 uas_port=$3 uac_ip=$4 uac_port=$5
    timeout 60 sipp -sf "$IT_DIR/uas-dialog.xml" -i "$uas_ip" -p "$uas_port" -m "$CALLS" \
        -nostdin -timeout 50s -trace_err -error_file "uas-$name.err" \
        -trace_msg -message_file "uas-$name.msg" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout 60 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-dialog.xml" -s 15551230050 \
        -i "$uac_ip" -p "$uac_port" -m "$CALLS" -r 10 -nostdin -timeout 50s -timeout_error \
        -trace_err -error_file "uac-$name.err" -trace_msg -message_file "uac-$name.msg" \
        > "uac-$name.out" 2>&1 || rc=$?
    local uas_rc=0
    wait "$uas" || uas_rc=$?
    local ok
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    it_log "$name: caller rc=$rc callee rc=$uas_rc successful=$ok"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = "$CALLS" ] || it_fail "$name"
}

flow inbound 127.0.0.1 "$pbx_port" 127.0.0.2 "$prov_port"
flow outbound 127.0.0.2 "$prov_port" 127.0.0.1 "$pbx_port"

# What the provider received (sipp's trace also holds what it sent: keep "received" blocks).
received() {
    awk '/^----------/ {keep = 0} /message received/ {keep = 1} keep' "$@"
}
received uac-inbound.msg uas-outbound.msg > provider-received.txt
pattern="FreePBX|X-Internal-Extension|Asterisk-internal|127\.0\.0\.1:$pbx_port"
leaks=$(grep -c -E "$pattern" provider-received.txt || true)
it_log "lines the provider received about the PBX: $leaks"
if [ "$leaks" != 0 ]; then
    grep -n -E "$pattern" provider-received.txt | head -5
    it_fail "the PBX's topology leaked to the provider"
fi
# The PBX's Call-IDs never reach the provider either.
grep -o -E '^Call-ID: .*' uac-outbound.msg | sort -u | sed 's/^Call-ID: //' > pbx-callids.txt
if received uas-outbound.msg | grep -F -f pbx-callids.txt | grep -q .; then
    it_fail "a PBX Call-ID reached the provider"
fi
it_gateway_alive
it_stop_gateway
if grep -E 'active_calls=[1-9]' gateway.log; then
    it_fail "calls left active"
fi
it_log "ok"
