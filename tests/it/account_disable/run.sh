#!/usr/bin/env bash
# Incident response on a remote account (issue #12): phone 1001 (127.0.0.5) registers and
# has two answered calls to the PBX; POST /api/v1/accounts/disable ends both with a BYE
# on each leg and removes its registration; its next call (right password) gets 403 with
# a PolicyHit event and no failure (no ban), and so does its REGISTER. The state survives
# a restart; `sipwarden account enable 1001` brings its calls back.
source "$(dirname "$0")/../lib.sh"

SECRET='Str0ng-1001-xQ7v'
TOKEN='incident-test-token-0123456789'
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
phone_port=$(it_free_port)
admin_port=$(it_free_port)
printf '%s\n' "$TOKEN" > token
chmod 600 token
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
control_socket = $IT_LOGS/gw.ctl
[admin]
listen = 127.0.0.1:$admin_port
token_file = $IT_LOGS/token
[pbx]
address = udp:127.0.0.1:$pbx_port
[auth]
algorithms = MD5
[1001]
type = account
secret = $SECRET
max_calls = 2
CONF
chmod 600 gw.conf
it_start_gateway gw.conf

api() { # api PATH [JSON]: GET, or POST with the body
    if [ $# -eq 2 ]; then
        curl -sS -m 10 -H "Authorization: Bearer $TOKEN" -d "$2" "http://127.0.0.1:$admin_port$1"
    else
        curl -sS -m 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$admin_port$1"
    fi
}
PY=/usr/bin/python3 # pyenv's python3 takes 0.4 s to start
json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

register() { # register LABEL: sipsak's exit code
    local rc=0
    timeout 10 sipsak -U -C "sip:1001@127.0.0.5:$phone_port" -s "sip:1001@127.0.0.1:$gw_port" \
        -u 1001 -a "$SECRET" -H 127.0.0.5 --local-ip 127.0.0.5 -l "$phone_port" -S -x 120 \
        > "sipsak-$1.out" 2>&1 || rc=$?
    return $rc
}

# The phone registers (the PBX stand-in accepts it) and makes two calls that stay up.
timeout 20 sipp -sf "$IT_DIR/../remote_account/pbx-registrar.xml" -i 127.0.0.1 -p "$pbx_port" \
    -m 1 -nostdin -timeout 15s > pbx-register.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
register first || it_fail "registration failed"
wait "$pbx" || true
[ "$(api /api/v1/accounts | json 'd["accounts"][0]["binding"]["address"]')" = "127.0.0.5:$phone_port" ] ||
    it_fail "the API does not show the phone's binding"

timeout 60 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 2 -nostdin -timeout 50s > pbx-uas.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
timeout 60 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/phone-wait-bye.xml" -s 200 -au 1001 \
    -ap "$SECRET" -i 127.0.0.5 -p "$(it_free_port)" -m 2 -r 10 -nostdin -timeout 50s \
    -timeout_error -trace_err -error_file phone.err > phone.out 2>&1 &
phone=$!
IT_PIDS+=("$phone")
for i in $(seq 1 100); do
    api /api/v1/calls?account=1001 | grep -q '"total":2' && break
    sleep 0.1
done
api /api/v1/calls > calls.json
[ "$(json 'sum(c["state"] == "answered" and c["account"] == "1001" for c in d["calls"])' < calls.json)" = 2 ] ||
    { cat calls.json; it_fail "the two calls of 1001 are not up"; }

t0_ms=$(date +%s%3N)
api /api/v1/accounts/disable '{"account":"1001","reason":"phone stolen"}' > disable.json
[ "$(json 'd["calls_ended"], d["registration_removed"], d["changed"]' < disable.json)" = "2 True True" ] ||
    { cat disable.json; it_fail "disable did not end 2 calls and remove the registration"; }
rc=0
wait "$phone" || rc=$?
pbx_rc=0
wait "$pbx" || pbx_rc=$?
it_log "phone rc=$rc ok=$(it_sipp_stat phone.out 'Successful call'); pbx rc=$pbx_rc ok=$(it_sipp_stat pbx-uas.out 'Successful call')"
[ "$rc" = 0 ] && [ "$pbx_rc" = 0 ] || it_fail "a leg did not get its BYE"
api /api/v1/accounts > accounts.json
[ "$(json 'd["accounts"][0]["disabled"], d["accounts"][0]["binding"], d["accounts"][0]["isolation"]["reason"]' < accounts.json)" = "True None phone stolen" ] ||
    { cat accounts.json; it_fail "the API does not show 1001 disabled without binding"; }

# refused LABEL: a call with the right password gets 403.
refused() {
    timeout 20 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/phone-refused.xml" -s 200 -au 1001 \
        -ap "$SECRET" -i 127.0.0.5 -p "$(it_free_port)" -m 1 -nostdin -timeout 15s \
        -timeout_error > "refused-$1.out" 2>&1 || it_fail "$1: the disabled account's call was not refused"
}
refused disabled
! register disabled || it_fail "the disabled account registered"
it_wait_grep 'account disabled: refused' security.log || it_fail "no event for the refused call"
if grep -E 'SecurityEvent="(InvalidPassword|InvalidAccountID)"' security.log | grep -q 127.0.0.5; then
    it_fail "the disabled account's right password counted as a failure"
fi
it_stop_gateway

it_start_gateway gw.conf
refused restarted
"$SIPWARDEN" account enable 1001 -c gw.conf > enable.txt || it_fail "account enable"
grep -q '^account 1001: enable, 0 call(s) ended$' enable.txt || it_fail "enable output"
timeout 20 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 15s > pbx-again.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
timeout 20 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../remote_account/phone-call.xml" -s 200 \
    -au 1001 -ap "$SECRET" -i 127.0.0.5 -p "$(it_free_port)" -m 1 -nostdin -timeout 15s \
    -timeout_error > phone-again.out 2>&1 || it_fail "no call after account enable"
it_stop_gateway

"$PY" - "$t0_ms" <<'PY' || it_fail "the records of the ended calls"
import sqlite3, sys
t0 = int(sys.argv[1])
rows = sqlite3.connect("sipwarden.db").execute(
    "SELECT end_ms FROM cdr WHERE account = '1001' AND hangup_side = 'gateway'").fetchall()
print(rows, "t0", t0)
sys.exit(0 if len(rows) == 2 and all(r[0] - t0 <= 1000 for r in rows) else 1)
PY
it_log "ok"
