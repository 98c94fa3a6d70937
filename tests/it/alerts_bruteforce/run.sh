#!/usr/bin/env bash
# svcrack guesses account 1001's password through the gateway: the brute-force rule
# (more than 10 failures within 5 s here) raises exactly one alert on each of its three
# sinks (a webhook receiver, a command, a sendmail stand-in), and one resolved message
# once the guessing stops. `sipwarden alert test` then reaches one sink on its own.
# 127.0.0.1 (svcrack) is in never_ban so that the guessing goes on long enough; the
# ratelimit is raised for the same reason.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

export HOME=$IT_LOGS
seq 1000 1059 > words.txt

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
hook_port=$(it_free_port)

cat > sendmail <<SH
#!/bin/sh
{ echo "ARGS: \$*"; cat; echo "--END--"; } >> $IT_LOGS/mail.out
SH
chmod 700 sendmail

{
    alerts_gateway_conf 500
    cat <<CONF
[1001]
type = account
secret = Quiet-Harbour-Lantern-42
[alerts]
builtin = no
[brute_force]
type = alert
metric = auth_failures
window = 5
threshold = 10
severity = high
cooldown = 300
title = brute force attempt
$(alerts_webhook_sink hook "$hook_port")
$(alerts_command_sink pager)
[mail]
type = sink
kind = sendmail
sendmail = $IT_LOGS/sendmail
to = ops@example.net
CONF
} > gw.conf

alerts_receiver "$hook_port" hook.out
it_start_gateway gw.conf
grep -q 'alerts: 1 rules, 3 sinks' gateway.log || it_fail "the rule and sinks were not loaded"

timeout 60 /usr/bin/svcrack -u 1001 -d words.txt -P "$(it_free_port)" --maximumtime 3 \
    "udp://127.0.0.1:$gw_port" > crack.out 2> crack.err || true
failures=$(grep -cE 'SecurityEvent="(InvalidPassword|ChallengeResponseFailed|InvalidAccountID)"' security.log || true)
it_log "svcrack made $failures failed guesses"
[ "$failures" -gt 10 ] || it_fail "only $failures failures: the threshold was not crossed"

for f in hook.out pager.out mail.out; do
    it_wait_grep '"state": ?"firing"|FIRING' "$f" 10 || it_fail "no alert in $f"
done
for f in hook.out pager.out mail.out; do
    it_wait_grep '"state": ?"resolved"|RESOLVED' "$f" 30 || it_fail "no resolved message in $f"
done
sleep 2 # a second alert or update would have arrived by now
for f in hook.out pager.out; do
    fired=$(grep -c '"state":"firing"' "$f" || true)
    resolved=$(grep -c '"state":"resolved"' "$f" || true)
    updates=$(grep -c '"state":"update"' "$f" || true)
    it_log "$f: firing=$fired update=$updates resolved=$resolved"
    [ "$fired" = 1 ] && [ "$resolved" = 1 ] && [ "$updates" = 0 ] ||
        it_fail "$f: expected one alert and one resolved message"
    grep -q '"rule":"brute_force".*"severity":"high"' "$f" || it_fail "$f: wrong rule or severity"
done
fired=$(grep -c '^Subject: sipwarden: \[HIGH\] FIRING brute force attempt' mail.out || true)
resolved=$(grep -c '^Subject: sipwarden: \[HIGH\] RESOLVED brute force attempt' mail.out || true)
it_log "mail.out: firing=$fired resolved=$resolved"
[ "$fired" = 1 ] && [ "$resolved" = 1 ] || it_fail "mail: expected one alert and one resolved"
grep -q '^ARGS: -i -- ops@example.net$' mail.out || it_fail "sendmail got the wrong arguments"
grep -q '^To: ops@example.net$' mail.out || it_fail "the message has no To header"
it_gateway_alive

"$SIPWARDEN" alert test --sink hook -c gw.conf > alert-test.out 2>&1 ||
    { cat alert-test.out; it_fail "sipwarden alert test failed"; }
grep -q '^hook: delivered' alert-test.out || it_fail "alert test did not report the delivery"
it_wait_grep '"state":"test"' hook.out 10 || it_fail "the test alert did not arrive"
[ "$(grep -c '"state":"test"' pager.out || true)" = 0 ] || it_fail "--sink hook reached another sink"
if "$SIPWARDEN" alert test --sink nosuch -c gw.conf > alert-bad.out 2>&1; then
    it_fail "alert test accepted an unknown sink"
fi
it_stop_gateway
it_log "ok"
