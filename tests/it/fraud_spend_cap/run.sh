#!/usr/bin/env bash
# Spending caps on real calls (issue #11). The PBX (sipp) calls a German mobile number,
# rated 6.00 a minute by the second with a 0.05 connect fee, out through a trunk whose
# daily cap is 1.20; the provider stand-in (sipp) answers, or lets +4915199... ring.
#   1. a short call ends normally: its record's cost is the day's spend;
#   2. a second call is answered and the gateway is killed (kill -9) mid-call; after the
#      restart the day's spend is not lower than before, and includes the interrupted
#      call priced up to the last heartbeat;
#   3. two calls with long holds: the gateway ends both with BYE on both legs at the
#      computed crossing of what is left of the cap (the lag is logged and must stay under
#      a second), `sipwarden spend` shows the budget, the records' costs stay within the
#      cap plus one increment per call, and a new call then gets 403 "daily cap";
#   4. meanwhile a third call rings (the provider lets +4915199... ring): with
#      cap_ringing = cancel (the default) it is cancelled towards the provider and
#      answered 503 once the cap no longer carries its first second, never answered.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
ring_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "control_socket = $IT_LOGS/gw.ctl"
# Two PBX callers at once (one rings while others talk): the PBX is its address.
sed -i 's/^\(address = udp:127.0.0.1:'"$pbx_port"'\)$/\1\nmatch_port = no/' gw.conf
grep -q '^match_port = no' gw.conf || it_fail "no match_port in gw.conf"
cat > deck.csv <<'DECK'
currency,EUR
prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label
49,6.00,0.05,1,1,Germany
DECK
cat >> gw.conf <<CONF
country_code = 49
daily_cap = 1.20
[fraud]
ratedeck = $IT_LOGS/deck.csv
CONF
it_start_gateway gw.conf
number=015112345678

timeout 100 sipp -sf "$IT_DIR/provider.xml" -i 127.0.0.2 -p "$prov_port" -m 20 -nostdin -timeout 90s \
    -trace_err -error_file provider.err > provider.out 2>&1 &
IT_PIDS+=("$!")
sleep 0.3

spend_json() { "$SIPWARDEN" spend --trunk provider --json -c gw.conf; }
# today MICRO from the JSON form (a decimal string: exact in micro-units).
today_micro() {
    python3 -c 'import json,sys; from decimal import Decimal
print(int(Decimal(json.load(sys.stdin)[0]["today"]) * 1000000))'
}
cdr_sum() {
    python3 -c 'import sqlite3; print(sqlite3.connect("sipwarden.db").execute(
        "SELECT COALESCE(SUM(cost_micro), 0) FROM cdr").fetchone()[0])'
}
# caller NAME SCENARIO_ARGS...: a PBX caller in the background, its pid in $caller_pid.
caller() {
    local name=$1
    shift
    timeout 60 sipp "127.0.0.1:$gw_port" -s "$number" -i 127.0.0.1 -p "$pbx_port" -nostdin \
        -timeout 50s -trace_err -error_file "$name.err" "$@" > "$name.out" 2>&1 &
    caller_pid=$!
    IT_PIDS+=("$caller_pid")
}
answered() {
    local want=$1 i
    for i in $(seq 1 100); do
        [ "$("$SIPWARDEN" calls list -c gw.conf | grep -c ' answered ')" = "$want" ] && return 0
        sleep 0.05
    done
    return 1
}

# 1. A short call that ends normally.
caller short -sn uac -m 1 -d 200
rc=0
wait "$caller_pid" || rc=$?
[ "$rc" = 0 ] || it_fail "the short call failed: $(tail -3 short.err 2>/dev/null)"
it_wait_grep '"today"' <(spend_json) 1 || true
day1=$(spend_json | today_micro)
[ "$day1" -gt 0 ] || it_fail "no spend after the short call"
# The record's writer commits within about a second (it gathers records into batches).
for _ in $(seq 1 50); do
    [ "$(cdr_sum)" = "$day1" ] && break
    sleep 0.1
done
[ "$(cdr_sum)" = "$day1" ] || it_fail "records $(cdr_sum) != spend $day1"
it_log "short call: spend $day1 micro-units, as its record says"

# 2. kill -9 mid-call, restart: the spend is never lower.
caller open -sf "$IT_DIR/../cdr_mixed/uac-callee-bye.xml" -m 1
answered 1 || it_fail "the second call was not answered"
sleep 2 # the record's heartbeat passes the answer
before=$(spend_json | today_micro)
kill -KILL "$GW_PID"
wait "$GW_PID" 2>/dev/null || true
kill "$caller_pid" 2>/dev/null || true
mv gateway.log gateway-1.log
it_start_gateway gw.conf
after=$(spend_json | today_micro)
it_log "before kill -9: $before, after the restart: $after"
[ "$after" -ge "$before" ] || it_fail "the spend went down across the crash"
[ "$after" -gt "$day1" ] || it_fail "the call open at the crash is not in the spend"
[ "$(cdr_sum)" = "$after" ] || it_fail "records $(cdr_sum) != spend $after after the restart"

# 3. Two long calls on what is left: ended at the crossing, BYE on both legs.
caller capped -sf "$IT_DIR/../cdr_mixed/uac-callee-bye.xml" -m 2 -r 20
answered 2 || it_fail "the capped calls were not answered"
timeout 60 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-ringing.xml" -s 015199000001 -i 127.0.0.1 \
    -p "$ring_port" -m 1 -nostdin -timeout 50s -timeout_error -trace_err -error_file ringing.err \
    > ringing.out 2>&1 &
ringing_pid=$!
IT_PIDS+=("$ringing_pid")
"$SIPWARDEN" spend -c gw.conf > spend-live.txt || it_fail "sipwarden spend"
grep -qE '^trunk:provider +[0-9.]+ +[0-9.]+ +[0-9.]+ +1\.20 +- +2/[01] +in ' spend-live.txt ||
    it_fail "sipwarden spend: $(cat spend-live.txt)"
grep -qE '^global ' spend-live.txt || it_fail "no global budget: $(cat spend-live.txt)"
rc=0
wait "$caller_pid" || rc=$?
ok=$(it_sipp_stat capped.out 'Successful call')
[ "$rc" = 0 ] && [ "$ok" = 2 ] || it_fail "the callers did not get their BYE (rc $rc, $ok ok)"
rc=0
wait "$ringing_pid" || rc=$?
[ "$rc" = 0 ] || it_fail "the ringing call did not get 503 (rc $rc): $(tail -3 ringing.err 2>/dev/null)"
it_wait_grep 'spend: call .* ended .*daily cap of trunk:provider' gateway.log ||
    it_fail "no spend-cap end in the log"
lags=$(grep -oE 'ended \(spend cap: daily cap of trunk:provider reached\), -?[0-9]+ ms' \
    gateway.log | grep -oE -- '-?[0-9]+ ms' | tr -d ' ms' | tr '\n' ' ')
it_log "ended at the computed crossing + lag (ms): $lags"
[ "$(wc -w <<< "$lags")" = 3 ] || it_fail "not three calls ended by the cap: $lags"
for lag in $lags; do
    [ "$lag" -ge 0 ] && [ "$lag" -lt 1000 ] || it_fail "lag $lag ms"
done

# A new call cannot carry its first second: 403 with the cap in its Reason.
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../fraud_destinations/uac-refused.xml" \
    -s "$number" -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 20s -timeout_error \
    -trace_logs -log_file refused.log -trace_err -error_file refused.err > refused.out 2>&1 || rc=$?
[ "$rc" = 0 ] || it_fail "no 403 after the cap (sipp rc $rc)"
grep -qF 'reason Q.850;cause=21;text="daily cap' refused.log || it_fail "Reason: $(cat refused.log)"

final=$(spend_json | today_micro)
it_stop_gateway
python3 - "$final" <<'PY' || it_fail "the records and the spend do not agree"
import sqlite3, sys
final = int(sys.argv[1])
rows = sqlite3.connect("sipwarden.db").execute(
    "SELECT cost_micro, userfield, state, answer_ms FROM cdr ORDER BY setup_ms").fetchall()
print(rows)
total = sum(r[0] for r in rows)
# The call refused on the exhausted budget has its record too, and costs nothing.
refused = [r for r in rows if r[1] == "refused"]
calls = [r for r in rows if r[1] != "refused"]
capped = [r for r in calls if r[1] == "spend-cap"]
ringing = [r for r in capped if r[3] == 0]
ok = (total == final and len(calls) == 5 and len(capped) == 3 and len(ringing) == 1
      and len(refused) == 1 and refused[0][0] == 0
      and ringing[0][0] == 0 and calls[1][2] == "interrupted"
      and total <= 1200000 + 2 * 100000)  # the cap plus one increment per capped call
print(f"records sum {total}, spend {final}, cap 1200000")
sys.exit(0 if ok else 1)
PY
it_log "ok"
