#!/usr/bin/env bash
# 200 calls through the gateway, 50 of each ending: answered and hung up by the caller,
# answered and hung up by the callee, busy (486) and cancelled while ringing. Afterwards
# the call records say exactly what sipp saw: one record per call, the disposition, the
# side that hung up and the billed seconds (within a second) of every kind, in the
# database and in the Master.csv file alike; sipwarden cdr export prints the same lines.
source "$(dirname "$0")/../lib.sh"

PER_KIND=${PER_KIND:-50}
CCB="$IT_DIR/../calls_cancel_busy"
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
cat >> gw.conf <<CONF
max_calls = 500
[cdr]
node = it-node
CONF
it_start_gateway gw.conf

# flow NAME DIALLED UAC_ARGS... -- UAS_ARGS...: PER_KIND calls from the provider to the PBX.
flow() {
    local name=$1 dialled=$2
    shift 2
    local uac_args=() uas_args=()
    while [ "$1" != "--" ]; do uac_args+=("$1"); shift; done
    shift
    uas_args=("$@")
    timeout 90 sipp "${uas_args[@]}" -i 127.0.0.1 -p "$pbx_port" -m "$PER_KIND" -nostdin \
        -timeout 80s -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout 90 sipp "127.0.0.1:$gw_port" "${uac_args[@]}" -s "$dialled" -i 127.0.0.2 \
        -p "$prov_port" -m "$PER_KIND" -r 25 -nostdin -timeout 80s -timeout_error \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    local uas_rc=0
    wait "$uas" || uas_rc=$?
    local ok
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    it_log "$name: caller rc=$rc callee rc=$uas_rc successful=$ok"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = "$PER_KIND" ] || it_fail "$name"
}

flow caller-bye 15551230051 -sn uac -d 1000 -- -sn uas
flow callee-bye 15551230052 -sf "$IT_DIR/uac-callee-bye.xml" -- \
    -sf "$IT_DIR/uas-callee-bye.xml" -d 2000
flow busy 15551230053 -sf "$CCB/uac-busy.xml" -- -sf "$CCB/uas-busy.xml"
flow cancel 15551230054 -sf "$CCB/uac-cancel.xml" -- -sf "$CCB/uas-cancel.xml"
it_gateway_alive
it_stop_gateway

[ "$(stat -c %a sipwarden.db)" = 600 ] || it_fail "the database is not mode 0600"
[ "$(stat -c %a Master.csv)" = 600 ] || it_fail "Master.csv is not mode 0600"

python3 - "$PER_KIND" <<'PY' || it_fail "the call records do not match what sipp saw"
import csv, sqlite3, sys
per_kind = int(sys.argv[1])
# dialled -> (disposition, final code, hangup side, billsec range)
expected = {
    "15551230051": ("ANSWERED", 200, "caller", (1, 2)),
    "15551230052": ("ANSWERED", 200, "callee", (2, 3)),
    "15551230053": ("BUSY", 486, "callee", (0, 0)),
    "15551230054": ("NO ANSWER", 487, "caller", (0, 0)),
}
db = sqlite3.connect("sipwarden.db")
db.row_factory = sqlite3.Row
rows = db.execute("SELECT * FROM cdr").fetchall()
bad = []
if len(rows) != 4 * per_kind:
    bad.append(f"{len(rows)} records for {4 * per_kind} calls")
if len({r["a_call_id"] for r in rows}) != len(rows):
    bad.append("a caller's Call-ID has more than one record")
for dialled, (disposition, code, side, (low, high)) in expected.items():
    mine = [r for r in rows if r["dst"] == dialled]
    if len(mine) != per_kind:
        bad.append(f"{dialled}: {len(mine)} records")
    for r in mine:
        got = (r["disposition"], r["final_code"], r["hangup_side"], r["state"], r["accountcode"],
               r["node"])
        if got != (disposition, code, side, "complete", "provider", "it-node"):
            bad.append(f"{dialled}: {got}")
        elif not low <= r["billsec"] <= high:
            bad.append(f"{dialled}: billsec {r['billsec']}")
        elif r["setup_ms"] <= 0 or r["end_ms"] < r["setup_ms"] or \
                (code == 200 and not r["setup_ms"] <= r["answer_ms"] <= r["end_ms"]):
            bad.append(f"{dialled}: times {r['setup_ms']} {r['answer_ms']} {r['end_ms']}")
with open("Master.csv", newline="") as f:
    lines = list(csv.reader(f))
if len(lines) != len(rows):
    bad.append(f"{len(lines)} CSV lines for {len(rows)} records")
by_id = {r["uniqueid"]: r for r in rows}
for line in lines:
    r = by_id.get(line[16])
    # Master.csv: dst, disposition, billsec, uniqueid at Asterisk's positions.
    if r is None or (line[2], line[14], int(line[13])) != (r["dst"], r["disposition"], r["billsec"]):
        bad.append(f"CSV line differs: {line[:18]}")
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
PY
# sipwarden cdr export prints the same lines from the database; a window selects.
"$SIPWARDEN" cdr export --since 2000-01-01 -c gw.conf > export.csv || it_fail "cdr export"
cmp <(sort Master.csv) <(sort export.csv) || it_fail "cdr export differs from Master.csv"
"$SIPWARDEN" cdr export --since 2000-01-01 --format json -c gw.conf > export.json ||
    it_fail "cdr export --format json"
python3 -c 'import json, sys; rows = [json.loads(l) for l in open("export.json")];
sys.exit(0 if len(rows) == 4 * int(sys.argv[1]) and all(r["state"] == "complete" for r in rows) else 1)' \
    "$PER_KIND" || it_fail "cdr export --format json: not one object per record"
[ -z "$("$SIPWARDEN" cdr export --since 2000-01-01 --until 2000-01-02 -c gw.conf)" ] ||
    it_fail "cdr export --until printed records outside the window"
rc=0
"$SIPWARDEN" cdr export --until 2000-01-02 -c gw.conf 2> usage.txt || rc=$?
[ "$rc" = 2 ] && grep -q '^usage: sipwarden cdr export' usage.txt || it_fail "no usage without --since"
it_log "ok"
