#!/usr/bin/env bash
# The operator's call commands: three answered calls from the trunk are listed by
# `sipwarden calls list` (all, by trunk, none for an unknown account); `calls kill ID` ends
# one and `calls kill --trunk` the other two, each with a BYE on both legs that sipp
# answers on both sides; the records say the gateway ended them for the operator and the
# security log has an event for each.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "control_socket = $IT_LOGS/gw.ctl"
it_start_gateway gw.conf

# The callee answers and waits for a BYE; the caller answers the BYE it gets.
timeout 60 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 3 -nostdin -timeout 50s \
    -trace_err -error_file uas.err > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 60 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../cdr_mixed/uac-callee-bye.xml" \
    -s 15551230060 -i 127.0.0.2 -p "$prov_port" -m 3 -r 10 -nostdin -timeout 50s \
    -timeout_error -trace_err -error_file uac.err > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")

calls() { "$SIPWARDEN" calls "$@" -c gw.conf; }
for i in $(seq 1 100); do
    [ "$(calls list | grep -c ' answered ')" = 3 ] && break
    sleep 0.1
done
calls list > list-all.txt || it_fail "calls list"
[ "$(grep -c ' answered .* provider .*15551230060' list-all.txt)" = 3 ] ||
    { cat list-all.txt; it_fail "calls list does not show the 3 answered calls"; }
[ "$(calls list --trunk provider | grep -c answered)" = 3 ] || it_fail "calls list --trunk"
[ "$(calls list --account nobody | grep -c answered)" = 0 ] || it_fail "calls list --account"

first=$(awk 'NR == 2 { print $1 }' list-all.txt)
[ "$(calls kill "$first")" = "killed 1" ] || it_fail "calls kill ID"
[ "$(calls kill --trunk provider)" = "killed 2" ] || it_fail "calls kill --trunk"
rc=0
calls kill "$first" 2> nosuch.txt || rc=$?
[ "$rc" = 1 ] && grep -q 'no such call' nosuch.txt || it_fail "killing an ended call: rc=$rc"
rc=0
calls kill 2> usage.txt || rc=$?
[ "$rc" = 2 ] && grep -q '^usage: sipwarden calls' usage.txt || it_fail "calls kill: no usage"

# Both peers got their BYE and answered it: every sipp call ends successfully.
rc=0
wait "$uac" || rc=$?
uas_rc=0
wait "$uas" || uas_rc=$?
ok=$(it_sipp_stat uac.out 'Successful call')
uas_ok=$(it_sipp_stat uas.out 'Successful call')
it_log "caller rc=$rc successful=$ok; callee rc=$uas_rc successful=$uas_ok"
[ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = 3 ] && [ "$uas_ok" = 3 ] ||
    it_fail "a leg did not get its BYE"
[ "$(calls list | grep -c answered)" = 0 ] || it_fail "calls left after calls kill"
it_wait_grep 'ended by the operator' security.log || it_fail "no event for the operator's kill"
[ "$(grep -c 'ended by the operator' security.log)" = 3 ] || it_fail "not one event per call"
it_stop_gateway

python3 - <<'PY' || it_fail "the records of the killed calls"
import sqlite3, sys
rows = sqlite3.connect("sipwarden.db").execute(
    "SELECT disposition, hangup_side, userfield, state FROM cdr").fetchall()
print(rows)
sys.exit(0 if rows == [("ANSWERED", "gateway", "operator", "complete")] * 3 else 1)
PY
it_log "ok"
