#!/usr/bin/env bash
# The new-country rule ([alerts] geoip_db) with a country database the test writes itself
# (tools/mmdb_write.py; mmdblookup checks it): 127.0.0.0/28 is DE, 127.0.0.16/28 NG.
# Account 1001 registers from 127.0.0.7 (DE: its first address, learnt); the history is
# aged by 3 days; after a restart (the countries come back from the stored addresses)
# 1001 registers from 127.0.0.20: exactly one "new country" alert naming NG at the webhook
# receiver; then from 127.0.0.8, another DE address: a new-address alert naming DE, no
# country alert. check-config and a SIGHUP refuse a corrupt database with file:line (the
# one in force stays: an address it does not know is then country "unknown", reported).
# The incident report's sources name the country of each address.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

tools=$IT_DIR/../tools
python3 "$tools/mmdb_write.py" geo.mmdb 127.0.0.0/28=DE 127.0.0.16/28=NG || it_fail "mmdb_write failed"
mmdblookup --file geo.mmdb --ip 127.0.0.7 country iso_code | grep -q '"DE"' || it_fail "mmdblookup: .7 is not DE"
mmdblookup --file geo.mmdb --ip 127.0.0.20 country iso_code | grep -q '"NG"' || it_fail "mmdblookup: .20 is not NG"
printf 'not a MaxMind database\n' > bad.mmdb

gw_port=$(it_free_port)
hook_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$(it_free_port)" "$(it_free_port)" "control_socket = gw.ctl"
cat >> gw.conf <<CONF
[admin]
listen =
[log]
security_log = security.log
[state]
path = state.db
[alerts]
geoip_db = $IT_LOGS/geo.mmdb
cooldown = 1
[1001]
type = account
secret = Quiet-Harbour-Lantern-42
$(alerts_webhook_sink hook "$hook_port")
CONF
geo_line=$(grep -n '^geoip_db' gw.conf | cut -d: -f1)

sed "s#^geoip_db = .*#geoip_db = $IT_LOGS/bad.mmdb#" gw.conf > bad.conf
rc=0
"$SIPWARDEN" check-config bad.conf > check.out 2>&1 || rc=$?
[ "$rc" = 1 ] || it_fail "check-config accepted a corrupt database (rc $rc)"
grep -q "bad.conf:$geo_line: .*geoip_db.*bad.mmdb" check.out || it_fail "check-config did not name bad.conf:$geo_line"

register() { # source address
    timeout 30 python3 "$tools/reg_guess.py" "$1" "$gw_port" 1 --user 1001 --same-user \
        --password Quiet-Harbour-Lantern-42 >> reg.out || it_fail "reg_guess failed"
}
auths() { grep -c 'SecurityEvent="SuccessfulAuth"' security.log || true; }
wait_auths() { # count
    local i
    for i in $(seq 1 50); do [ "$(auths)" -ge "$1" ] && return 0; sleep 0.1; done
    it_fail "$1 registrations did not authenticate"
}
countries() { grep -c '"rule":"new_country"' hook.out || true; } # firing, then updates

alerts_receiver "$hook_port" hook.out
it_start_gateway gw.conf
register 127.0.0.7
wait_auths 1
it_stop_gateway
mv gateway.log gateway-1.log
python3 - state.db <<'PY' || it_fail "cannot age the history"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE alert_sources SET seen_s = seen_s - 3 * 86400").rowcount
db.commit()
sys.exit(0 if n == 1 else 1)
PY

since=$(date -u +%s)
it_start_gateway gw.conf
register 127.0.0.20
it_wait_grep '"rule":"new_country".*"state":"firing"' hook.out 10 || it_fail "no new-country alert"
grep '"rule":"new_country"' hook.out | grep -q 'new country NG, from 127.0.0.20' ||
    it_fail "the alert does not name NG and the address"
register 127.0.0.8
it_wait_grep '"rule":"new_source".*from 127.0.0.8 \(DE\)' hook.out 10 || it_fail "no new-address alert for .8 (DE)"
sleep 1
[ "$(countries)" = 1 ] || it_fail "$(countries) new-country messages, expected 1"
grep -q '"rule":"new_source".*127.0.0.20' hook.out && it_fail "NG raised an address alert as well"

# A reload to a corrupt database is refused; the one in force stays.
cp gw.conf gw.conf.good
cp bad.conf gw.conf
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration refused' gateway.log 10 || it_fail "the corrupt database was not refused"
grep -q "reload: gw.conf:$geo_line: geoip_db: .*bad.mmdb" gateway.log || it_fail "the refusal does not name gw.conf:$geo_line"
cp gw.conf.good gw.conf
register 127.0.0.40
it_wait_grep 'new country unknown, from 127.0.0.40' hook.out 10 || it_fail "an unknown address was not country unknown"
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration reloaded' gateway.log 10 || it_fail "the good database was not reloaded"
it_gateway_alive
it_log "new-country alerts: $(countries) (NG, unknown); new-address alert for .8 (DE)"
[ "$(countries)" = 2 ] || it_fail "$(countries) new-country messages, expected 2"
timeout 30 python3 "$tools/reg_guess.py" 127.0.0.21 "$gw_port" 1 --user 1001 --same-user \
    >> reg.out || it_fail "reg_guess failed"
it_wait_grep 'SecurityEvent="InvalidPassword".*127.0.0.21' security.log 10 || it_fail "no failure from .21"
it_stop_gateway
"$SIPWARDEN" incident report -c gw.conf --since "$since" --out bundle > report.out 2>&1 ||
    it_fail "incident report: $(cat report.out)"
grep -q '^| address | events | first seen as | country |' bundle/summary.md ||
    it_fail "the report's sources have no country column"
grep -q '^| 127.0.0.21 | .* | NG |$' bundle/summary.md || it_fail "the report does not place .21 in NG"
it_log "ok"
