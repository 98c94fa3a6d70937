#!/usr/bin/env bash
# kill -9 under load loses no call record and no spend: the PBX (sipp) places rated calls
# through the trunk with a 2 s hold at 200 calls/s (50 under ASan), the gateway is killed at a random
# moment of the run, then started again. Every call sipp saw complete (the 200 to its BYE)
# has its complete record; every call it saw answered and not complete has a record,
# marked interrupted unless its BYE got through, ended within a couple of seconds of the
# crash; no record is left open. The day's spend after the restart is not lower than it
# was read a moment before the kill, and equals the sum of the records' costs.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "control_socket = $IT_LOGS/gw.ctl"
cat > deck.csv <<'DECK'
currency,EUR
prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label
1,0.012,0.001,1,1,United States
DECK
cat >> gw.conf <<CONF
max_calls = 1000
daily_cap = 100000
[fraud]
ratedeck = $IT_LOGS/deck.csv
calls_per_minute_warn = 0
international_per_hour_warn = 0
CONF
# 200 calls/s in the optimized build; a sanitized one takes 50 (as much as its two
# workers carry with room to spare on a shared machine). SW_IT_CRASH_RATE and
# SW_IT_CRASH_CALLS override both.
RATE=200
CALLS=1600
if grep -qa 'AddressSanitizer' "$SIPWARDEN"; then
    RATE=50
    CALLS=600
fi
RATE=${SW_IT_CRASH_RATE:-$RATE}
CALLS=${SW_IT_CRASH_CALLS:-$CALLS}
it_start_gateway gw.conf
# today's spend of the trunk, in micro-units.
spend_today() {
    "$SIPWARDEN" spend --trunk provider --json -c gw.conf | python3 -c 'import json, sys
from decimal import Decimal
print(int(Decimal(json.load(sys.stdin)[0]["today"]) * 1000000))'
}

timeout 90 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m "$CALLS" -nostdin -timeout 60s \
    > uas.out 2>&1 &
IT_PIDS+=("$!")
sleep 0.3
timeout 90 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-logged.xml" -s 4159876543 \
    -i 127.0.0.1 -p "$pbx_port" -m "$CALLS" -r "$RATE" -d 2000 -nostdin -timeout 40s \
    -recv_timeout 4000 -trace_logs -log_file calls.log > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")

# A random moment between 3 and 7 s into the run: calls complete, calls open, calls new.
delay_ms=$((3000 + RANDOM % 4000))
sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
spend_before=$(spend_today)
kill -KILL "$GW_PID"
wait "$GW_PID" 2>/dev/null || true
kill_ms=$(date +%s%3N)
it_log "killed after ${delay_ms} ms"
wait "$uac" || true

mv gateway.log gateway-1.log
it_start_gateway gw.conf
it_gateway_alive
spend_after=$(spend_today)
it_log "spend read just before the kill: $spend_before, after the restart: $spend_after"
[ "$spend_before" -gt 0 ] || it_fail "no spend before the kill"
[ "$spend_after" -ge "$spend_before" ] || it_fail "the spend went down across the crash"
it_stop_gateway
grep -E 'cdr: [0-9]+ call\(s\) open at the last stop marked interrupted' gateway.log ||
    it_fail "the restart marked no open call interrupted"

python3 - "$kill_ms" "$spend_after" <<'PY' || it_fail "the records after the crash do not match what sipp saw"
import sqlite3, sys
kill_ms = int(sys.argv[1])
spend_after = int(sys.argv[2])
answered, complete = set(), set()
for line in open("calls.log"):
    words = line.split()
    if len(words) >= 2 and words[-2] in ("answered", "complete"):
        (answered if words[-2] == "answered" else complete).add(words[-1])
db = sqlite3.connect("sipwarden.db")
db.row_factory = sqlite3.Row
rows = {r["a_call_id"]: r for r in db.execute("SELECT * FROM cdr")}
bad = []
open_now = [r for r in rows.values() if r["state"] == "open"]
if open_now:
    bad.append(f"{len(open_now)} records still open")
for call_id in complete:
    r = rows.get(call_id)
    if r is None or r["state"] != "complete" or r["disposition"] != "ANSWERED":
        bad.append(f"{call_id} completed for sipp: {None if r is None else r['state']}")
interrupted = 0
for call_id in answered - complete:
    r = rows.get(call_id)
    if r is None:
        bad.append(f"{call_id} answered for sipp: no record")
    elif r["state"] == "interrupted":
        interrupted += 1
        if not (r["answer_ms"] <= r["end_ms"] and abs(r["end_ms"] - kill_ms) <= 3000):
            bad.append(f"{call_id}: interrupted at {r['end_ms']}, killed at {kill_ms}")
        if r["billsec"] != (r["end_ms"] - r["answer_ms"] + 500) // 1000:
            bad.append(f"{call_id}: billsec {r['billsec']}")
print(f"sipp: {len(answered)} answered, {len(complete)} complete; "
      f"records: {len(rows)}, {interrupted} interrupted")
cost = sum(r["cost_micro"] for r in rows.values())
print(f"records cost {cost}, spend after the restart {spend_after}")
if cost != spend_after:
    bad.append(f"the records cost {cost}, the spend after the restart is {spend_after}")
if len(complete) == 0 or interrupted == 0:
    bad.append("the kill did not fall between completed and open calls")
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
PY
it_log "ok"
