#!/usr/bin/env bash
# The velocity counters survive kill -9 (issue #11): with international_per_hour_block = 3,
# three international calls pass: the first two reach the database (the gateway saves once
# a second), the third only the journal (the test holds the database's write lock from
# before it until after the kill, so no save can hold it); the gateway is killed; after the
# restart (the saved counters plus the journal's dial) the fourth international call of the
# hour is refused with "velocity international-per-hour" and nothing reaches the provider
# (its call record says so: 403, the rule, "block"), while a national call passes.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
cat >> gw.conf <<CONF
country_code = 49
[fraud]
allowed_countries = DE, FR
international_per_hour_block = 3
CONF
it_start_gateway gw.conf
caller_port=$pbx_port
source "$IT_DIR/../lib_fraud.sh"
fraud_provider_start

for number in +33123456781 +33612345678; do
    dialled_ms=$(date +%s%3N)
    call "intl-${number#+}" "$list_xml" "$number" || it_fail "$number was not answered"
done
[ "$(invites)" = 2 ] || it_fail "the provider got $(invites) INVITEs, expected 2"

# The counters of the trunk's key are saved within a second or two of the last dial.
saved=0
for _ in $(seq 1 50); do
    saved=$(python3 - "$dialled_ms" <<'PY'
import sqlite3, sys
db = sqlite3.connect("sipwarden.db")
print(db.execute("SELECT count(*) FROM fraud_counters WHERE key = 'trunk:provider'"
                 " AND saved_ms >= ?", (int(sys.argv[1]),)).fetchone()[0])
PY
)
    [ "$saved" = 1 ] && break
    sleep 0.1
done
[ "$saved" = 1 ] || it_fail "the counters were not saved ($saved)"

# The write lock, held by a process of the test's own, until the gateway is gone.
cat > locker.py <<'LOCK'
import sqlite3, time
db = sqlite3.connect("sipwarden.db", isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(60)
LOCK
python3 locker.py > locker.out 2>&1 &
locker=$!
IT_PIDS+=("$locker")
it_wait_grep '^locked' locker.out 10 || it_fail "the database could not be locked: $(cat locker.out)"
call intl-33491234567 "$list_xml" +33491234567 || it_fail "+33491234567 was not answered"
[ "$(invites)" = 3 ] || it_fail "the provider got $(invites) INVITEs, expected 3"
sleep 1.5 # a save would have come by now, had the database let it
kill -KILL "$GW_PID"
wait "$GW_PID" 2>/dev/null || true
kill "$locker"
wait "$locker" 2>/dev/null || true
it_log "killed with the third dial in the journal only"

mv gateway.log gateway-1.log
it_start_gateway gw.conf
grep -q 'fraud: restored the counters of 1 accounts and trunks' gateway.log ||
    it_fail "no restore at start: $(cat gateway.log)"
grep -qE 'fraud: [1-9][0-9]* dials and marks made after the last save replayed' gateway.log ||
    it_fail "nothing replayed from the journal: $(cat gateway.log)"
call fourth "$refused_xml" +33556789012 || it_fail "the fourth international call was not refused"
grep -qF 'text="velocity international-per-hour' fourth.log || it_fail "fourth: $(cat fourth.log)"
call national "$list_xml" 030123456 || it_fail "a national call failed after the restart"
[ "$(invites)" = 4 ] || it_fail "the provider got $(invites) INVITEs, expected 4"
it_gateway_alive
it_stop_gateway
# The refused call has its record too: the rule that blocked it and the number it dialled.
record=$(python3 - <<'PY'
import sqlite3
db = sqlite3.connect("sipwarden.db")
rows = db.execute("SELECT disposition, final_code, policy_rule, policy_action, dialled_e164,"
                  " country, trunk FROM cdr WHERE dst = '+33556789012'").fetchall()
print(rows)
PY
)
[ "$record" = "[('FAILED', 403, 'velocity international-per-hour', 'block', '+33556789012', 'FR', 'provider')]" ] ||
    it_fail "the refused call's record: $record"
it_log "ok"
