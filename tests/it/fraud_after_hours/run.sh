#!/usr/bin/env bash
# After hours, capped lower instead of refused (issue #11): with a schedule that never
# holds now, schedule_action = cap and after_hours_max_calls = 1, an international call
# passes and is held; a second one meanwhile gets 403 "after-hours max-calls" (nothing
# reaches the provider) while a national call, outside the schedule's scope, passes; once
# the held call ended an international call passes again. The records say "cap" for the
# international calls that passed and "block" with the rule for the refused one.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
pbx2_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
# The held call keeps the PBX's port: the other calls come from a second port of its address.
sed -i 's/^\[pbx\]$/[pbx]\nmatch_port = no/' gw.conf
# Half an hour two hours from now, every day: now is always after hours.
open_hour=$(( ($(date -u +%-H) + 2) % 24 ))
cat >> gw.conf <<CONF
country_code = 49
[fraud]
allowed_countries = DE, FR
schedule = mon-sun $(printf '%02d:00-%02d:30' "$open_hour" "$open_hour") UTC
schedule_action = cap
after_hours_max_calls = 1
after_hours_calls_per_minute = 0
CONF
it_start_gateway gw.conf
caller_port=$pbx2_port
source "$IT_DIR/../lib_fraud.sh"
fraud_provider_start

# One international call held for 5 s.
printf 'SEQUENTIAL\n+33123456781\n' > held.csv
timeout 40 sipp "127.0.0.1:$gw_port" -sf "$list_xml" -inf held.csv -d 5000 \
    -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 30s -timeout_error \
    -trace_err -error_file held.err > held.out 2>&1 &
held=$!
IT_PIDS+=("$held")
for _ in $(seq 1 50); do
    [ "$(invites)" -ge 1 ] && break
    sleep 0.1
done
[ "$(invites)" = 1 ] || it_fail "the held call did not reach the provider ($(invites))"

call second "$refused_xml" +33612345678 || it_fail "the second international call was not refused"
grep -qF 'text="after-hours max-calls' second.log || it_fail "second: $(cat second.log)"
call national "$list_xml" 030123456 || it_fail "a national call failed beside the held one"
[ "$(invites)" = 2 ] || it_fail "the provider got $(invites) INVITEs, expected 2"
it_log "second international call refused after hours, national call passed"

wait "$held" || it_fail "the held call failed: $(tail -3 held.err)"
call after "$list_xml" +33491234567 || it_fail "an international call after the held one failed"
[ "$(invites)" = 3 ] || it_fail "the provider got $(invites) INVITEs, expected 3"
it_gateway_alive
it_stop_gateway

actions=$(python3 - <<'PY'
import sqlite3
db = sqlite3.connect("sipwarden.db")
print(db.execute("SELECT dst, policy_action, policy_rule, final_code FROM cdr"
                 " ORDER BY setup_ms").fetchall())
PY
)
want="[('+33123456781', 'cap', 'after-hours', 200), ('+33612345678', 'block', 'after-hours max-calls', 403), ('030123456', 'allow', '', 200), ('+33491234567', 'cap', 'after-hours', 200)]"
[ "$actions" = "$want" ] || it_fail "the call records: $actions"
it_log "ok"
