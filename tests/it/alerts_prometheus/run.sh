#!/usr/bin/env bash
# docs/prometheus/sipwarden-rules.yml passes `promtool check rules`, and every metric it
# names is one a running gateway exports on /metrics. The gateway runs with the built-in
# rules and one command sink, and a TLS certificate that expires in 5 days: its start
# raises "gateway restarted" and a critical "certificate expiring" alert, which the sink
# gets and the alert figures count. A reload that changes a rule applies it, the
# certificate's open incident staying open.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

root=$(readlink -f "$IT_DIR/../../..")
rules=$root/docs/prometheus/sipwarden-rules.yml
command -v promtool > /dev/null || it_fail "promtool is missing (Debian package prometheus)"
promtool check rules "$rules" > promtool.out 2>&1 || { cat promtool.out; it_fail "promtool check rules"; }
grep -q 'SUCCESS' promtool.out || it_fail "promtool did not report success"

gw_port=$(it_free_port)
admin_port=$(it_free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
    -out cert.pem -days 5 -subj /CN=127.0.0.1 > openssl.out 2>&1 || it_fail "openssl req"
chmod 600 key.pem
it_trunk_conf gw.conf udp "$gw_port" "$(it_free_port)" "$(it_free_port)" "control_socket = gw.ctl"
cat >> gw.conf <<CONF
[tls]
certificate = $IT_LOGS/cert.pem
private_key = $IT_LOGS/key.pem
[admin]
listen = 127.0.0.1:$admin_port
[log]
security_log = security.log
[state]
path = bans.db
$(alerts_command_sink pager)
CONF
it_start_gateway gw.conf
it_wait_grep '"rule":"restart".*"state":"firing"' pager.out 10 || it_fail "no restart alert"
# 5 days from openssl's second: 5 whole days left in that second, 4 after it.
it_wait_grep '"rule":"certificate_expiry".*"severity":"critical".*"key":"tls","value":[45],' \
    pager.out 10 || it_fail "no critical alert for the certificate"
# The housekeeping thread copies the alert figures once a second: poll (a loaded machine
# may take a while to run the sink twice).
for i in $(seq 1 40); do
    curl -sf "http://127.0.0.1:$admin_port/metrics" > metrics.txt || it_fail "GET /metrics failed"
    grep -qx 'sipwarden_alert_deliveries_total{sink="pager",result="delivered"} 2' metrics.txt &&
        break
    sleep 0.25
done
grep -qx 'sipwarden_alert_messages_total 2' metrics.txt || it_fail "metrics: messages"
grep -qx 'sipwarden_alert_deliveries_total{sink="pager",result="delivered"} 2' metrics.txt ||
    it_fail "metrics: deliveries"
grep -qx 'sipwarden_alerts_firing 2' metrics.txt || it_fail "metrics: firing"

exported=$(grep -oE '^# TYPE [a-z_:]+' metrics.txt | awk '{print $3}' | sort -u)
referenced=$(grep -oE 'sipwarden_[a-z_]+' "$rules" | sort -u)
[ -n "$referenced" ] || it_fail "the rules name no metric"
for m in $referenced; do
    grep -qx "$m" <<< "$exported" || it_fail "the rules use $m, which the gateway does not export"
done
it_log "rules use $(wc -w <<< "$referenced") metrics, all exported"

# A reload rebuilds the alert sinks only when the file changed the rules or sinks; the
# certificate incident, whose rule did not change, stays open (no second alert).
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration reloaded' gateway.log 10 || it_fail "no reload"
grep -q 'reload: alerts:' gateway.log && it_fail "an unchanged file rebuilt the alert sinks"
printf '[alerts]\nbrute_force_threshold = 50\n' >> gw.conf
kill -HUP "$GW_PID"
it_wait_grep 'reload: alerts: 1 sinks' gateway.log 10 || it_fail "a changed rule was not applied at the reload"
sleep 1
n=$(grep -c '"rule":"certificate_expiry".*"state":"firing"' pager.out || true)
[ "$n" = 1 ] || it_fail "$n certificate alerts after the reload, expected 1"
it_stop_gateway
it_log "ok"
