#!/usr/bin/env bash
# SIGHUP rebuilds the alert rules and sinks. The brute-force rule (more than 3 failed
# registrations within 5 s) fires to webhook receiver A; a reload raises the threshold to
# 8 and points the webhook at receiver B while that incident is open: the incident is
# kept (no second alert), and its resolved message (5 guesses are not above 8) goes to B.
# Once the window is empty, 6 guesses stay under the new threshold; 4 more make a new
# incident, at B only, with threshold 8. Every message arrives exactly once (the second
# incident may resolve before the end: its resolved message is not counted).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

tools=$IT_DIR/../tools
gw_port=$(it_free_port)
port_a=$(it_free_port)
port_b=$(it_free_port)
conf() { # THRESHOLD WEBHOOK_PORT
    it_trunk_conf gw.conf udp "$gw_port" "$(it_free_port)" "$(it_free_port)" "control_socket = gw.ctl"
    cat >> gw.conf <<CONF
[admin]
listen =
[log]
security_log = security.log
[scanner]
enabled = no
[ban]
never_ban = 127.0.0.1/32
[ratelimit]
register_rate = 500
register_burst = 500
[alerts]
builtin = no
[brute_force]
type = alert
metric = auth_failures
window = 5
threshold = $1
cooldown = 1
$(alerts_webhook_sink hook "$2")
CONF
}
guess() { # COUNT PREFIX: failed registrations of unknown users PREFIX0..
    timeout 30 python3 "$tools/reg_guess.py" 127.0.0.1 "$gw_port" "$1" --user "$2" >> guess.out ||
        it_fail "reg_guess failed"
}
failures() { grep -cE 'SecurityEvent="(InvalidAccountID|InvalidPassword)"' security.log || true; }
wait_failures() { # COUNT
    local i
    for i in $(seq 1 50); do [ "$(failures)" -ge "$1" ] && return 0; sleep 0.1; done
    it_fail "only $(failures) failed registrations, expected $1"
}
count() { grep -c "\"rule\":\"brute_force\".*\"state\":\"$2\"" "$1" 2> /dev/null || true; }

conf 3 "$port_a"
alerts_receiver "$port_a" a.out
alerts_receiver "$port_b" b.out
it_start_gateway gw.conf
guess 5 first
wait_failures 5
it_wait_grep '"rule":"brute_force".*"state":"firing"' a.out 10 || it_fail "no alert at A"
grep -q '"rule":"brute_force".*"threshold":3' a.out || it_fail "the alert at A is not of threshold 3"

conf 8 "$port_b"
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration reloaded' gateway.log 10 || it_fail "the reload failed"
grep -q 'reload: alerts: 1 sinks' gateway.log || it_fail "the sinks were not rebuilt"
it_wait_grep '"rule":"brute_force".*"state":"resolved"' b.out 10 ||
    it_fail "the open incident did not resolve at B under the new threshold"

sleep 5.5 # the 5-s window empties
guess 6 second
wait_failures 11
sleep 1.5
[ "$(count b.out firing)" = 0 ] || it_fail "6 failures fired above the new threshold 8"
guess 4 third
wait_failures 15
it_wait_grep '"rule":"brute_force".*"state":"firing"' b.out 10 || it_fail "no new incident at B"
grep '"state":"firing"' b.out | grep -q '"threshold":8' || it_fail "the new incident is not of threshold 8"
sleep 1
first=$(grep '"state":"firing"' a.out | grep -o '"incident":[0-9]*' | head -1)
[ -n "$first" ] || it_fail "no incident number at A"
fa=$(count a.out firing); ra=$(count a.out resolved)
fb=$(count b.out firing)
rb=$(grep '"state":"resolved"' b.out | grep -c "$first," || true)
it_log "A: firing=$fa resolved=$ra; B: firing=$fb, resolved of A's incident=$rb"
[ "$fa" = 1 ] && [ "$ra" = 0 ] || it_fail "A: expected the first alert only"
[ "$fb" = 1 ] && [ "$rb" = 1 ] || it_fail "B: expected the first incident's resolved message and one alert"
grep '"state":"firing"' b.out | grep -q "$first," && it_fail "the first incident fired again at B"
inc_a=$(grep -o '"incident":[0-9]*' a.out | sort -u | wc -l)
[ "$inc_a" = 1 ] || it_fail "A got $inc_a incidents"
it_gateway_alive
it_stop_gateway
it_log "ok"
