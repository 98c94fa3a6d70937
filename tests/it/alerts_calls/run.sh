#!/usr/bin/env bash
# The call rules on live sipp traffic from the PBX out through the trunk (country code 1):
#  - "excessive international" ([alerts] international_threshold = 5 per hour): 3 national
#    calls count nothing, 8 calls to +44 (which [fraud] allows here) cross the threshold
#    at the 6th: exactly one alert (value 6), no update within the cooldown;
#  - "unusual call volume" (call_volume_peak = 2, no history yet: above 3 concurrent
#    calls): 8 calls of 3 s started within 1 s fire it once, and it resolves once the
#    calls end.
# The command sink collects the messages.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "control_socket = gw.ctl"
cat >> gw.conf <<CONF
max_calls = 50
[admin]
listen =
[log]
security_log = security.log
[state]
path = state.db
[fraud]
allowed_countries = *
[alerts]
international_threshold = 5
call_volume_peak = 2
$(alerts_command_sink pager)
CONF

calls() { # name number count rate duration_ms
    timeout 60 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m "$3" -nostdin -timeout 50s \
        > "uas-$1.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    timeout 60 sipp "127.0.0.1:$gw_port" -sn uac -s "$2" -i 127.0.0.1 -p "$pbx_port" -m "$3" \
        -r "$4" -d "$5" -nostdin -timeout 50s -timeout_error > "uac-$1.out" 2>&1 ||
        it_fail "$1: sipp failed"
    wait "$uas" || true
    local ok
    ok=$(it_sipp_stat "uac-$1.out" 'Successful call')
    it_log "$1: $ok of $3 calls to $2"
    [ "$ok" = "$3" ] || it_fail "$1: $ok of $3 calls succeeded"
}

it_start_gateway gw.conf
calls national 5551234567 3 10 100
sleep 1
if grep -q '"rule":"international"' pager.out 2>/dev/null; then
    it_fail "national calls counted as international"
fi
calls international +442079460000 8 10 3000
it_wait_grep '"rule":"international".*"state":"firing"' pager.out 10 || it_fail "no international alert"
it_wait_grep '"rule":"call_volume".*"state":"resolved"' pager.out 10 ||
    it_fail "no call-volume alert and resolution"
sleep 1.5
intl=$(grep -c '"rule":"international"' pager.out)
grep -q '"rule":"international".*"state":"firing".*"value":6,' pager.out ||
    it_fail "the international alert did not fire at the 6th call"
volume_fired=$(grep -c '"rule":"call_volume".*"state":"firing"' pager.out)
volume_resolved=$(grep -c '"rule":"call_volume".*"state":"resolved"' pager.out)
it_log "international messages: $intl; call volume: fired $volume_fired, resolved $volume_resolved"
[ "$intl" = 1 ] || it_fail "$intl international messages, expected 1"
[ "$volume_fired" = 1 ] && [ "$volume_resolved" = 1 ] || it_fail "call volume: expected 1 + 1"
grep -q '"rule":"call_volume".*"threshold":3,' pager.out || it_fail "call volume threshold not 3"
it_stop_gateway
it_log "ok"
