#!/usr/bin/env bash
# SIGHUP reloads the configuration without dropping calls in progress: calls with a 3 s
# hold are up while the file is changed and reloaded (once valid, once broken); every
# call still completes, the broken file is refused with its file, line and key, and the
# running configuration stays.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
write_conf() {
    it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "log_level = $1"
    cat >> gw.conf <<CONF
max_calls = $2
CONF
}
write_conf notice 10
it_start_gateway gw.conf
timeout 40 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 6 -nostdin -timeout 35s > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 40 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230010 -i 127.0.0.2 -p "$prov_port" -m 6 -r 3 -d 3000 \
    -nostdin -timeout 35s -timeout_error > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")
sleep 1.5
write_conf info 20
kill -HUP "$GW_PID"
sleep 0.5
grep -q 'reload: configuration reloaded' gateway.log || it_fail "no reload"
echo "bogus_key = 1" >> gw.conf
kill -HUP "$GW_PID"
sleep 0.5
grep -q 'reload: configuration refused' gateway.log || it_fail "a broken file was not refused"
grep -q 'gw.conf:[0-9]*: .*bogus_key' gateway.log || it_fail "the refusal does not name file, line and key"
rc=0
wait "$uac" || rc=$?
wait "$uas" || true
ok=$(it_sipp_stat uac.out 'Successful call')
it_log "calls across two reloads: rc=$rc successful=$ok"
[ "$rc" = 0 ] && [ "$ok" = 6 ] || it_fail "calls were lost across the reload"
it_gateway_alive
it_stop_gateway
it_log "ok"
