#!/usr/bin/env bash
# Wangiri (issue #11): an international caller rings one of our numbers once and hangs up,
# hoping for a callback to a premium range. The gateway marks that number when the call
# ends; the PBX's callback to it is then refused with 403 (rule "wangiri") and nothing
# reaches the provider, while a callback to another international number of an allowed
# country still leaves.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
cat >> gw.conf <<CONF
country_code = 1
[fraud]
allowed_countries = US, MA
highrisk = no
CONF
it_start_gateway gw.conf

# 1. The one-ring call: the PBX stand-in rings, the caller cancels.
timeout 30 sipp -sf "$IT_DIR/../calls_cancel_busy/uas-cancel.xml" -i 127.0.0.1 -p "$pbx_port" \
    -m 1 -nostdin -timeout 25s > pbx-ring.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/wangiri-caller.xml" -s 15551230010 \
    -i 127.0.0.2 -p "$prov_port" -m 1 -nostdin -timeout 20s -timeout_error \
    > wangiri.out 2>&1 || rc=$?
wait "$pbx" || true
[ "$rc" = 0 ] || it_fail "the one-ring call did not run (sipp rc $rc)"
it_wait_grep 'marked as a Wangiri number' gateway.log 5 || it_fail "the caller was not marked"

# 2. The callback: refused, and the provider sees nothing.
timeout 40 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m 10 -nostdin -timeout 30s \
    -trace_msg -message_file provider.msg > prov.out 2>&1 &
prov=$!
IT_PIDS+=("$prov")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../fraud_destinations/uac-refused.xml" \
    -s 011212522998877 -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 20s -timeout_error \
    -trace_logs -log_file callback.log > callback.out 2>&1 || rc=$?
[ "$rc" = 0 ] || it_fail "the callback to the Wangiri number was not refused with 403"
grep -q 'wangiri' callback.log || it_fail "the refusal does not name the Wangiri rule: $(cat callback.log)"
# 3. Another Moroccan number still leaves.
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sn uac -s 011212522111111 -i 127.0.0.1 -p "$pbx_port" \
    -m 1 -d 100 -nostdin -timeout 20s -timeout_error > other.out 2>&1 || rc=$?
[ "$rc" = 0 ] || it_fail "a callback to another allowed international number was refused"
kill "$prov" 2>/dev/null || true
wait "$prov" 2>/dev/null || true
invites=$(grep -c '^INVITE sip:' provider.msg || true)
[ "$invites" = 1 ] || it_fail "the provider saw $invites INVITEs (expected only the allowed one)"
it_wait_grep 'FraudBlock' security.log 3 || it_fail "no FraudBlock event"
it_log "one ring from +212522998877 marked it; the callback got 403 (wangiri), another +212 number left"
it_gateway_alive
it_stop_gateway
it_log "ok"
