#!/usr/bin/env bash
# With the PBX on loopback (the built-in default), a local process is not the PBX (issue
# #9, item 7): an INVITE for the trunk from another port of 127.0.0.1 is challenged and
# nothing reaches the provider, svwar run locally finds nothing, while the PBX itself,
# sending from its own port, calls out. Check-config and the start say so.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
it_start_gateway gw.conf
grep -q "pbx: 127.0.0.1 is shared with other local processes: only requests from its port $pbx_port" \
    gateway.log || it_fail "the start did not say that the PBX is known by its port"

timeout 30 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m 2 -nostdin -timeout 25s \
    -trace_msg -message_file prov.msg > prov.out 2>&1 &
prov=$!
IT_PIDS+=("$prov")
sleep 0.3

# A local user: same address, another port. Challenged, never routed.
rc=0
timeout 15 sipp "127.0.0.1:$gw_port" -sn uac -s 15551239999 -i 127.0.0.1 -p "$(it_free_port)" \
    -m 1 -nostdin -timeout 8s -timeout_error -trace_err -error_file local.err > local.out 2>&1 || rc=$?
[ "$rc" != 0 ] || it_fail "a local process placed a call to the trunk as the PBX"
grep -q "SIP/2.0 407" local.err || it_fail "the local process was not challenged"

# svwar from the same host: no extension found.
timeout 60 svwar -e 1000-1010 -p "$gw_port" 127.0.0.1 > svwar.out 2>&1 || true
if grep -E "^\| *10[0-9]+ *\|" svwar.out | grep -q .; then
    it_fail "a local svwar found extensions"
fi

# The PBX from its own port: the call goes out.
rc=0
timeout 20 sipp "127.0.0.1:$gw_port" -sn uac -s 15551239999 -i 127.0.0.1 -p "$pbx_port" -m 1 \
    -d 100 -nostdin -timeout 15s -timeout_error > pbx.out 2>&1 || rc=$?
[ "$rc" = 0 ] || it_fail "the PBX's own call failed"
kill "$prov" 2>/dev/null || true
wait "$prov" || true
invites=$(grep -c "^INVITE " prov.msg || true)
it_log "provider saw $invites INVITE(s)"
[ "$invites" = 1 ] || it_fail "the provider saw $invites INVITEs (expected only the PBX's)"

"$SIPWARDEN" check-config gw.conf > check.out 2>&1 || true
it_gateway_alive
it_stop_gateway
it_log "ok"
