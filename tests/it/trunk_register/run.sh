#!/usr/bin/env bash
# A trunk with register = yes: the gateway registers at the provider on start, answers the
# provider's digest challenge with the trunk's credentials (checked by sipp's verifyauth),
# and refreshes the registration before the granted 4 s run out.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
timeout 30 sipp -sf "$IT_DIR/provider-registrar.xml" -set user 15551230000 \
    -set pass 'Trunk-Reg-Secret-9' -i 127.0.0.2 -p "$prov_port" -m 1 -nostdin -timeout 25s \
    -trace_err -error_file provider.err -trace_msg -message_file provider.msg \
    > provider.out 2>&1 &
provider=$!
IT_PIDS+=("$provider")
sleep 0.3
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
cat >> gw.conf <<CONF
username = 15551230000
secret = Trunk-Reg-Secret-9
register = yes
CONF
chmod 600 gw.conf
it_start_gateway gw.conf
rc=0
wait "$provider" || rc=$?
ok=$(it_sipp_stat provider.out 'Successful call')
it_log "provider registrar: rc=$rc successful=$ok"
[ "$rc" = 0 ] && [ "$ok" = 1 ] || it_fail "the registration and its refresh did not complete"
grep -q 'trunk provider: registered' gateway.log || it_fail "no registration in the log"
if grep -q "127.0.0.1:$pbx_port" provider.msg; then
    it_fail "the PBX's address reached the provider"
fi
it_gateway_alive
it_stop_gateway
it_log "ok"
