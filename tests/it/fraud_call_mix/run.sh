#!/usr/bin/env bash
# 20,000 rated calls from the PBX through the trunk (issue #11, "Proven"), every fraud
# check on, ending every way a call ends: answered and hung up by the caller or by the
# callee, with PRACK, re-INVITE, INFO and UPDATE on the way, busy (486), cancelled while
# ringing (487) and refused with 408. The dialled numbers are a benign mix of 10,000
# distinct national numbers under ten area codes, rated by three deck rows with connect
# fees and increments. Afterwards:
#   - no call was refused by the fraud policy (no FraudBlock): the pattern detectors see
#     no sweep, sequential run or short-call burst in a benign mix;
#   - one complete record per call, with the disposition, final code and hang-up side of
#     its flow, a cost on every answered call and none on the others;
#   - every counter equals what the records say: the trunk's and the global spend of the
#     day are the sum of the records' costs (in `sipwarden spend` and on /metrics),
#     nothing is live or ringing on a budget, the API counts no call in progress, on the
#     trunk or in all, and /metrics counts the calls of each result as the records do.
# A sanitized build runs 3,000 calls (the same flows, scaled).
source "$(dirname "$0")/../lib.sh"

CALLS=${MIX_CALLS:-20000}
RATE=${MIX_RATE:-400}
if grep -qa 'AddressSanitizer' "$SIPWARDEN"; then
    CALLS=${MIX_CALLS:-3000}
    RATE=${MIX_RATE:-150}
fi
TOKEN='fraud-call-mix-token-0123456789'
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "control_socket = $IT_LOGS/gw.ctl
[admin]
listen = 127.0.0.1:$admin_port
token = $TOKEN"
chmod 600 gw.conf
cat > deck.csv <<'DECK'
currency,EUR
prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label
1,0.012,0.001,1,1,United States
1212,0.020,0,6,6,New York
1415,0.031,0.002,30,6,San Francisco
DECK
# The load is a carrier's day in a minute: the trunk's caps on concurrent calls and the
# counts per minute and per hour are raised past it; the destination, class, rate and
# pattern checks keep their defaults. The daily cap is far away but makes the budgets.
cat >> gw.conf <<CONF
max_calls = 5000
daily_cap = 100000
[fraud]
ratedeck = $IT_LOGS/deck.csv
calls_per_minute_warn = 0
destinations_per_hour_warn = 0
destinations_per_hour_block = 0
international_per_hour_warn = 0
international_per_hour_block = 0
CONF

# 10,000 distinct national numbers: NXX exchanges, never N11 or 555.
python3 - "$CALLS" <<'PY'
import random, sys
calls = int(sys.argv[1])
rng = random.Random(20261207)
areas = ["212", "213", "312", "415", "617", "303", "404", "206", "512", "702"]
numbers = set()
while len(numbers) < 10000:
    exchange = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    if exchange.endswith("11") or exchange == "555":
        continue
    numbers.add(f"{rng.choice(areas)}{exchange}{rng.randint(0, 9999):04d}")
numbers = sorted(numbers)
rng.shuffle(numbers)
with open("numbers.txt", "w") as f:
    for i in range(calls):
        f.write(numbers[i % len(numbers)] + "\n")
PY
it_start_gateway gw.conf
for n in 2125550199 4159876543 7023456789; do
    "$SIPWARDEN" number "$n" -c gw.conf --trunk provider > "number-$n.txt" 2>&1 ||
        it_fail "sipwarden number $n: $(cat "number-$n.txt")"
done
grep -q 'passes' number-4159876543.txt || it_fail "a benign number would not pass: $(cat number-4159876543.txt)"

# A 408 flow from the busy one.
CCB="$IT_DIR/../calls_cancel_busy"
sed 's/486 Busy Here/408 Request Timeout/; s/486 Busy/408 Request Timeout/' "$CCB/uas-busy.xml" > uas-408.xml
sed 's/response="486"/response="408"/' "$CCB/uac-busy.xml" > uac-408.xml
grep -q '408' uas-408.xml && grep -q 'response="408"' uac-408.xml || it_fail "no 408 scenarios"
sipp -sd uac > uac-caller-bye.xml || true # sipp exits 1 after dumping a scenario
grep -q '<scenario' uac-caller-bye.xml || it_fail "sipp -sd uac dumped no scenario"
# Each caller dials the numbers of its share of numbers.txt (an injection file).
for f in uac-caller-bye.xml "$IT_DIR/../cdr_mixed/uac-callee-bye.xml" uac-408.xml \
    "$CCB/uac-busy.xml" "$CCB/uac-cancel.xml" "$IT_DIR/../dialog_flows/uac-dialog.xml"; do
    sed 's/\[service\]/[field0]/g' "$f" > "inf-$(basename "$f")"
done

first=0
# flow NAME SHARE_PERCENT UAC_SCENARIO UAC_ARGS... -- UAS_ARGS...: a share of the calls.
flow() {
    local name=$1 share=$2 scenario=$3
    shift 3
    local uac_args=() uas_args=()
    while [ "$1" != "--" ]; do uac_args+=("$1"); shift; done
    shift
    uas_args=("$@")
    local count=$((CALLS * share / 100))
    { echo SEQUENTIAL; sed -n "$((first + 1)),$((first + count))p" numbers.txt | sed 's/$/;/'; } \
        > "numbers-$name.csv"
    first=$((first + count))
    FLOW_COUNTS+=("$name=$count")
    local seconds=$((count / RATE + 60))
    timeout $((seconds + 10)) sipp "${uas_args[@]}" -i 127.0.0.2 -p "$prov_port" -m "$count" \
        -nostdin -timeout "${seconds}s" -trace_err -error_file "uas-$name.err" \
        > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout $((seconds + 10)) sipp "127.0.0.1:$gw_port" -sf "inf-$scenario" \
        -inf "numbers-$name.csv" "${uac_args[@]}" -i 127.0.0.1 -p "$pbx_port" -m "$count" \
        -r "$RATE" -l 2000 -nostdin -timeout "${seconds}s" -timeout_error -trace_err \
        -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    local uas_rc=0
    wait "$uas" || uas_rc=$?
    local ok
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    it_log "$name: $count calls, caller rc=$rc callee rc=$uas_rc successful=$ok"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = "$count" ] ||
        it_fail "$name: $(head -c 600 "uac-$name.err" 2>/dev/null)"
}

FLOW_COUNTS=()
started=$(date +%s)
flow caller-bye 30 uac-caller-bye.xml -d 200 -- -sn uas
flow callee-bye 20 uac-callee-bye.xml -- -sf "$IT_DIR/../cdr_mixed/uas-callee-bye.xml" -d 300
flow dialog 15 uac-dialog.xml -- -sf "$IT_DIR/../dialog_flows/uas-dialog.xml"
flow busy 12 uac-busy.xml -- -sf "$CCB/uas-busy.xml"
flow cancel 12 uac-cancel.xml -- -sf "$CCB/uas-cancel.xml"
flow timeout 11 uac-408.xml -- -sf uas-408.xml
it_log "$first calls in $(($(date +%s) - started)) s"
it_gateway_alive

# The counters, read from the running gateway.
"$SIPWARDEN" spend --json -c gw.conf > spend.json || it_fail "sipwarden spend"
curl -sS -m 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$admin_port/api/v1/status" \
    > status.json || it_fail "GET /api/v1/status"
curl -sS -m 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$admin_port/api/v1/trunks" \
    > trunks.json || it_fail "GET /api/v1/trunks"
sleep 1.2 # the spend gauges are refreshed once a second
curl -sS -m 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$admin_port/metrics" \
    > metrics.txt || it_fail "GET /metrics"
fraud_blocks=$(grep -c 'FraudBlock' security.log || true)
[ "$fraud_blocks" = 0 ] || it_fail "$fraud_blocks calls of the benign mix refused: $(grep -m3 FraudBlock security.log)"
it_stop_gateway

python3 - "$first" "${FLOW_COUNTS[@]}" <<'PY' || it_fail "the counters do not match the call records"
import json, sqlite3, sys
from decimal import Decimal
total = int(sys.argv[1])
counts = dict(a.split("=") for a in sys.argv[2:])
# flow -> (disposition, final code, hang-up side, answered)
expected = {
    "caller-bye": ("ANSWERED", 200, "caller", True),
    "callee-bye": ("ANSWERED", 200, "callee", True),
    "dialog": ("ANSWERED", 200, "callee", True),
    "busy": ("BUSY", 486, "callee", False),
    "cancel": ("NO ANSWER", 487, "caller", False),
    "timeout": (None, 408, "callee", False),
}
db = sqlite3.connect("sipwarden.db")
db.row_factory = sqlite3.Row
rows = db.execute("SELECT * FROM cdr").fetchall()
bad = []
if len(rows) != total:
    bad.append(f"{len(rows)} records for {total} calls")
if len({r["a_call_id"] for r in rows}) != len(rows):
    bad.append("a caller's Call-ID has more than one record")
by_code = {}
for r in rows:
    by_code.setdefault((r["final_code"], r["hangup_side"], r["disposition"]), []).append(r)
    if r["state"] != "complete" or r["trunk"] != "provider":
        bad.append(f"record {r['uniqueid']}: state {r['state']}, trunk {r['trunk']}")
    answered = r["final_code"] == 200
    if answered != (r["cost_micro"] > 0):
        bad.append(f"record {r['uniqueid']}: code {r['final_code']} costs {r['cost_micro']}")
    if r["rate_micro"] <= 0 or not r["dialled_e164"].startswith("+1"):
        bad.append(f"record {r['uniqueid']}: rate {r['rate_micro']} number {r['dialled_e164']}")
for name, (disposition, code, side, _) in expected.items():
    mine = [r for r in rows if r["final_code"] == code and r["hangup_side"] == side and
            (disposition is None or r["disposition"] == disposition)]
    want = sum(int(counts[n]) for n, e in expected.items() if e[1:3] == (code, side))
    if len(mine) != want:
        bad.append(f"{name}: {len(mine)} records with code {code} by the {side}, {want} calls")
# A record's cost from the deck: connect fee, the first increment, then whole next ones.
deck = {"1": (12000, 1000, 1, 1), "1212": (20000, 0, 6, 6), "1415": (31000, 2000, 30, 6)}
for r in rows:
    if r["final_code"] != 200:
        continue
    digits = r["dialled_e164"][1:]
    prefix = max((p for p in deck if digits.startswith(p)), key=len)
    rate, fee, first, step = deck[prefix]
    if r["rate_micro"] != rate:
        bad.append(f"record {r['uniqueid']}: rate {r['rate_micro']}, deck {rate}")
    if r["cost_micro"] < fee + rate * first // 60:
        bad.append(f"record {r['uniqueid']}: cost {r['cost_micro']} below a first increment")
cost = sum(r["cost_micro"] for r in rows)
spend = {b["budget"]: b for b in json.load(open("spend.json"))}
for budget in ("trunk:provider", "global"):
    b = spend.get(budget)
    if b is None:
        bad.append(f"no budget {budget}: {sorted(spend)}")
        continue
    today = int(Decimal(b["today"]) * 1000000)
    if today != cost or Decimal(b["live"]) != 0 or b["answered"] or b["ringing"]:
        bad.append(f"{budget}: today {today}, live {b['live']}, answered {b['answered']}, "
                   f"ringing {b['ringing']}; the records cost {cost}")
# /metrics: the calls by result and the spend gauges say what the records say.
metrics = {}
for line in open("metrics.txt"):
    if line.startswith("sipwarden_calls_total{") or line.startswith("sipwarden_spend_micro{"):
        name, value = line.rsplit(" ", 1)
        metrics[name] = int(value)
def calls_metric(result):
    return metrics.get('sipwarden_calls_total{party="trunk:provider",direction="outbound",'
                       f'result="{result}"}}', -1)
by_result = {"answered": 200, "busy": 486, "no_answer": (487, 408)}
for result, codes in by_result.items():
    codes = codes if isinstance(codes, tuple) else (codes,)
    want = sum(1 for r in rows if r["final_code"] in codes)
    if calls_metric(result) != want:
        bad.append(f"/metrics {result}: {calls_metric(result)}, records {want}")
if calls_metric("failed") != 0:
    bad.append(f"/metrics failed: {calls_metric('failed')}")
for budget in ("trunk:provider", "global"):
    got = metrics.get(f'sipwarden_spend_micro{{budget="{budget}",period="today"}}', -1)
    if got != cost:
        bad.append(f"/metrics spend of {budget}: {got}, records {cost}")
status = json.load(open("status.json"))
trunks = json.load(open("trunks.json"))
trunk = [t for t in trunks.get("trunks", trunks if isinstance(trunks, list) else [])
         if t.get("name") == "provider"]
if status.get("calls") != 0:
    bad.append(f"status: {status.get('calls')} calls in progress")
if len(trunk) != 1 or trunk[0].get("calls") != 0:
    bad.append(f"trunk provider: {trunk}")
print(f"{len(rows)} records, cost {cost} micro-units, spend "
      f"{spend.get('trunk:provider', {}).get('today')} (trunk) {spend.get('global', {}).get('today')} (global)")
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
PY
it_log "ok"
