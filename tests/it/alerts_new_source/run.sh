#!/usr/bin/env bash
# The built-in "new source address" rule, with its memory in the gateway's database:
# account 1001 registers twice from 127.0.0.7 (its first address: learnt, no alert), the
# gateway restarts, 1001 registers from 127.0.0.8: exactly one alert for 1001 on the
# command sink (without the database the gateway would take .8 for the first address
# and learn it silently), then from 127.0.0.7 again: known across the restart, no alert.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

tools=$IT_DIR/../tools
gw_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$(it_free_port)" "$(it_free_port)" "control_socket = gw.ctl"
cat >> gw.conf <<CONF
[admin]
listen =
[log]
security_log = security.log
[state]
path = state.db
[1001]
type = account
secret = Quiet-Harbour-Lantern-42
$(alerts_command_sink pager)
CONF
register() { # source address
    timeout 30 python3 "$tools/reg_guess.py" "$1" "$gw_port" 1 --user 1001 --same-user \
        --password Quiet-Harbour-Lantern-42 >> reg.out || it_fail "reg_guess failed"
}
auths() { grep -c 'SecurityEvent="SuccessfulAuth"' security.log || true; }

it_start_gateway gw.conf
register 127.0.0.7
it_wait_grep 'SuccessfulAuth' security.log 10 || it_fail "the registration did not authenticate"
register 127.0.0.7
it_stop_gateway
mv gateway.log gateway-1.log
grep -q '"rule":"new_source"' pager.out 2>/dev/null && it_fail "the first address was reported"
it_start_gateway gw.conf
register 127.0.0.8
it_wait_grep '"rule":"new_source".*"state":"firing"' pager.out 10 || it_fail "no new-source alert"
register 127.0.0.7
for i in $(seq 1 40); do [ "$(auths)" -ge 4 ] && break; sleep 0.1; done
[ "$(auths)" -ge 4 ] || it_fail "the fourth registration did not authenticate"
sleep 1
n=$(grep -c '"rule":"new_source"' pager.out)
[ "$n" = 1 ] || it_fail "$n new-source messages, expected 1"
grep -q '"rule":"new_source".*"key":"1001"' pager.out || it_fail "the alert does not name 1001"
restarts=$(grep -c '"rule":"restart"' pager.out || true)
it_log "new-source alert for 1001 from 127.0.0.8; restart alerts: $restarts"
[ "$restarts" = 2 ] || it_fail "$restarts restart alerts, expected 2"
it_stop_gateway
it_log "ok"
