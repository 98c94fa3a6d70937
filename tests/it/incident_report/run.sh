#!/usr/bin/env bash
# `sipwarden incident report` after a simulated fraud incident: an attacker guesses an
# account's password until it is banned, then the (compromised) PBX calls abroad through
# the trunk: answered calls to France and Germany, refused ones to Britain. The bundle
# must hold every call record of the span, the security events, the ban, the alerts the
# rules raised, the configuration's hash and its history (a reload with an edited file in
# the span), and its summary's figures (calls, answered, billed seconds, destinations,
# refusals, the first anomalous event) must be those of the call records.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
cat > rates.csv <<'CSV'
currency,EUR
prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label
33,0.6000,0,1,1,France
49,0.0600,0,1,1,Germany
CSV
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "log_level = info"
cat >> gw.conf <<CONF
country_code = 49
[fraud]
allowed_countries = DE, FR
ratedeck = $IT_LOGS/rates.csv
[ban]
maxretry = 3
[log]
security_log = security.log
[state]
path = gw.db
[auth]
realm = incident.test
algorithms = MD5
[1001]
type = account
secret = Str0ng-1001-xQ7v
CONF
chmod 600 gw.conf
since=$(date -u +%s)
it_start_gateway gw.conf

# 1. The attacker guesses 1001's password from 127.0.0.7 until the gateway bans it.
for i in 1 2 3; do
    timeout 10 sipsak -U -C "sip:1001@127.0.0.7:5070" -s "sip:1001@127.0.0.1:$gw_port" \
        -u 1001 -a "guess-$i" -H 127.0.0.7 --local-ip 127.0.0.7 -l 5070 -S -x 60 \
        > "guess-$i.out" 2>&1 || true
done
it_wait_grep 'SecurityEvent="BanAdded".*127\.0\.0\.7' security.log 5 || it_fail "the attacker was not banned"

# 2. The PBX calls abroad: answered calls to France and Germany, refused calls to Britain.
timeout 60 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m 4 -nostdin -timeout 50s \
    > provider.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
# call NUMBER COUNT: the PBX (from its own port) calls NUMBER COUNT times, 1.1 s each.
call() {
    local rc=0
    timeout 30 sipp "127.0.0.1:$gw_port" -sn uac -s "$1" -i 127.0.0.1 -p "$pbx_port" -m "$2" \
        -r 10 -d 1100 -nostdin -timeout 20s -timeout_error -trace_err -error_file "call-$1.err" \
        > "call-$1.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || it_fail "the calls to $1 failed (sipp rc $rc)"
}
call +33123456789 2
call +33987654321 1
call 030123456 1
for number in +441212345678 +442071234567; do
    rc=0
    timeout 20 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../fraud_destinations/uac-refused.xml" \
        -s "$number" -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 15s -timeout_error \
        > "refused-$number.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || it_fail "$number was not refused"
done
kill "$uas" 2> /dev/null || true # it answered every call; its last one may still linger

# The call records reach the database a moment after the calls end: the 4 answered and
# the 2 refused ones (a call the policy refused has its record too).
for i in $(seq 1 50); do
    "$SIPWARDEN" cdr export -c gw.conf --since "$since" --format json > cdr.json 2> cdr.err || true
    [ "$(wc -l < cdr.json)" = 6 ] && break
    sleep 0.1
done
[ "$(wc -l < cdr.json)" = 6 ] || it_fail "the database holds $(wc -l < cdr.json) call records, not 6"

# 3. The operator edits the configuration and reloads: the database keeps the hash of
# each load (the start's and the reload's).
sha_start=$(sha256sum gw.conf | cut -d' ' -f1)
printf '; reviewed during the incident\n' >> gw.conf
sha_reload=$(sha256sum gw.conf | cut -d' ' -f1)
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration reloaded' gateway.log 10 || it_fail "no reload"
loads() {
    python3 -c 'import sqlite3
db = sqlite3.connect("file:gw.db?mode=ro", uri=True)
print(db.execute("SELECT COUNT(*) FROM config_history").fetchone()[0])' 2> /dev/null || echo 0
}
for i in $(seq 1 50); do
    [ "$(loads)" = 2 ] && break
    sleep 0.1
done
[ "$(loads)" = 2 ] || it_fail "the database keeps $(loads) configuration loads, not 2"

# The report, scoped to the trunk.
"$SIPWARDEN" incident report -c gw.conf --since "$since" --trunk provider --out bundle \
    > report.out 2> report.err || it_fail "incident report: $(cat report.err)"
for f in calls.csv calls.json security-events.log bans.csv alerts.csv config-history.csv \
    config.sha256 summary.md carrier-notice.txt SHA256SUMS; do
    [ -s "bundle/$f" ] || it_fail "the bundle has no $f"
done
[ "$(stat -c %a bundle)" = 700 ] || it_fail "the bundle is readable by others"
(cd bundle && sha256sum -c --quiet SHA256SUMS) || it_fail "SHA256SUMS does not match"
cmp -s <(cut -d' ' -f1 bundle/config.sha256 | head -1) <(sha256sum gw.conf | cut -d' ' -f1) ||
    it_fail "config.sha256 is not the configuration's hash"
# The configuration's history: the start's load, then the reload's, which changed it.
history=bundle/config-history.csv
[ "$(wc -l < "$history")" = 3 ] || it_fail "config-history.csv lacks the 2 loads: $(cat "$history")"
sed -n 2p "$history" | grep -qE "^[0-9-]+ [0-9:]+,first known,$sha_start,\"gw\.conf\"\$" ||
    it_fail "config-history.csv lacks the start's load: $(cat "$history")"
sed -n 3p "$history" | grep -qE "^[0-9-]+ [0-9:]+,changed,$sha_reload,\"gw\.conf\"\$" ||
    it_fail "config-history.csv lacks the reload's change: $(cat "$history")"
grep -qF '2 loads of the configuration (starts and reloads) in the span, 1 of them with a changed file' \
    bundle/summary.md || it_fail "the summary does not count the loads: $(grep -A3 '^## Configuration' bundle/summary.md)"
grep -qE "^\| [0-9-]+ [0-9:]+ \| changed \| \`$sha_reload\` \| gw\.conf \|\$" bundle/summary.md ||
    it_fail "the summary does not list the change"
grep -qF '(**changed during the span**)' bundle/summary.md || it_fail "the file's edit is not flagged"
if grep -q 'is not the one the gateway loaded last' bundle/summary.md; then
    it_fail "the file loaded last is said to differ"
fi
[ "$(($(wc -l < bundle/calls.csv) - 1))" = 6 ] || it_fail "calls.csv does not hold the 6 calls"
cmp -s <(sort bundle/calls.json) <(sort cdr.json) || it_fail "calls.json differs from cdr export"
grep -q 'SecurityEvent="FraudBlock"' bundle/security-events.log || it_fail "no FraudBlock in the bundle"
grep -q '^127\.0\.0\.7,' bundle/bans.csv || it_fail "bans.csv lacks the attacker"
# The alert rules fired on the ban and on the refusals; the history keeps both messages.
for rule in banned policy_block; do
    grep -qE "^[0-9-]+ [0-9:]+,\"$rule\",\"firing\"," bundle/alerts.csv ||
        it_fail "alerts.csv lacks the $rule alert: $(cat bundle/alerts.csv)"
    grep -qE "^\| [0-9-]+ [0-9:]+ \| $rule \| firing \| medium \|" bundle/summary.md ||
        it_fail "the summary lacks the $rule alert"
done

# The summary's figures against the call records.
# The cost: the record's, else its rate per minute times its billed seconds.
read -r calls answered billsec cost dests countries < <(python3 - cdr.json <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
answered = sum(1 for r in rows if r["answer_ms"])
micro = sum(r["cost_micro"] or r["rate_micro"] * r["billsec"] // 60 for r in rows)
fraction = f"{micro % 1000000:06d}".rstrip("0").ljust(2, "0")
print(len(rows), answered, sum(r["billsec"] for r in rows), f"{micro // 1000000}.{fraction}",
      ",".join(sorted({r["dialled_e164"] for r in rows})),
      ",".join(sorted({r["country"] for r in rows})))
PY
)
it_log "records: $calls calls, $answered answered, $billsec s, cost $cost, to $dests ($countries)"
[ "$answered" = 4 ] && [ "$billsec" -ge 4 ] || it_fail "the calls were not answered and billed"
[ "$cost" != 0.00 ] || it_fail "the calls were not priced"
minutes=$(printf '%d.%d' $((billsec / 60)) $((billsec % 60 * 10 / 60)))
summary=bundle/summary.md
grep -qxF "| $calls | $answered | $billsec | $minutes | $cost |" "$summary" ||
    it_fail "the summary's call figures are not $calls/$answered/$billsec: $(grep -A3 '^## Calls' "$summary")"
for n in ${dests//,/ }; do
    grep -qF "| $n |" "$summary" || it_fail "the summary lacks destination $n"
    grep -qF "  $n " bundle/carrier-notice.txt || it_fail "the carrier notice lacks $n"
done
for c in ${countries//,/ }; do
    grep -qE "^\| $c \| [0-9]+ \|" "$summary" || it_fail "the summary lacks country $c"
done
grep -qF '| +33123456789 | FR | 2 | 2 |' "$summary" || it_fail "the summary's +33123456789 row is wrong"
grep -qx -- '- Calls refused by the policy (FraudBlock, PolicyHit): 2' "$summary" ||
    it_fail "the summary does not count the 2 refused calls"
grep -qE -- '^- Bans added \(BanAdded events\): 1$' "$summary" || it_fail "the summary lacks the ban"
grep -qE '^The first anomalous event: .* \*\*InvalidPassword\*\* from 127\.0\.0\.7, account 1001' \
    "$summary" || it_fail "the entry point is not the first guess: $(grep -A2 'entry point' "$summary")"
grep -qE '^\| 127\.0\.0\.7 \| [0-9]+ \| InvalidPassword \|$' "$summary" ||
    it_fail "the attacker is not among the sources"
notice=bundle/carrier-notice.txt
grep -qE '^  Trunk: +provider$' "$notice" || it_fail "the notice does not name the trunk"
grep -qxF "  Calls:          $calls ($answered answered), $minutes minutes, cost $cost" "$notice" ||
    it_fail "the notice's figures are wrong"
[ "$(grep -cE '^  [0-9]{4}-[0-9]{2}-[0-9]{2} ' "$notice")" = 6 ] || it_fail "the notice's excerpt lacks calls"

# 4. Scoped to the account: its calls (none) and the events about it; the file, edited
# again but not reloaded, is not the one the gateway runs.
printf '; not reloaded yet\n' >> gw.conf
"$SIPWARDEN" incident report -c gw.conf --since "$since" --account 1001 --out account \
    > account.out 2>&1 || it_fail "incident report --account: $(cat account.out)"
grep -qE '^\| 0 \| 0 \| 0 \| 0\.0 \|' account/summary.md || it_fail "the account made no call"
grep -q 'AccountID="1001"' account/security-events.log || it_fail "the account's events are missing"
grep -qF "**The file now (SHA-256 \`$(sha256sum gw.conf | cut -d' ' -f1)\`) is not the one the gateway loaded last**" \
    account/summary.md || it_fail "the unreloaded edit is not flagged"
if grep -q 'FraudBlock' account/security-events.log; then
    it_fail "the PBX's refusals are not about the account"
fi

# 5. Bad use: usage errors exit 2, a missing database is a clear error (exit 1).
rc=0
"$SIPWARDEN" incident report --since "$since" > usage.out 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q '^usage: sipwarden incident report' usage.out || it_fail "no --out: rc $rc"
rc=0
"$SIPWARDEN" incident report -c gw.conf --since yesterday --out x > usage2.out 2>&1 || rc=$?
[ "$rc" = 2 ] || it_fail "a bad time: rc $rc"
sed 's|^path = gw.db|path = missing.db|' gw.conf > missing.conf
chmod 600 missing.conf
rc=0
"$SIPWARDEN" incident report -c missing.conf --since "$since" --out none > missing.out 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'no database at missing.db' missing.out || it_fail "missing db: rc $rc: $(cat missing.out)"
[ ! -e none ] || it_fail "a failed report left a folder"
it_gateway_alive
it_stop_gateway
it_log "ok"
