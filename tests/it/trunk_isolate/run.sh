#!/usr/bin/env bash
# Incident response on a trunk (issue #12): two answered calls from the provider are up;
# `sipwarden trunk isolate provider` ends both with a BYE on each leg (both sipp sides
# answer it) within a second of the command (the records' end times), and a new call from
# the provider gets 403 with an event. The state survives a restart; `trunk restore`
# brings calls back. Unknown names and bad usage are refused.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "control_socket = $IT_LOGS/gw.ctl
[admin]
listen = 127.0.0.1:$admin_port"
it_start_gateway gw.conf

timeout 60 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 2 -nostdin -timeout 50s \
    -trace_err -error_file uas.err > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 60 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../cdr_mixed/uac-callee-bye.xml" \
    -s 15551230060 -i 127.0.0.2 -p "$prov_port" -m 2 -r 10 -nostdin -timeout 50s \
    -timeout_error -trace_err -error_file uac.err > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")

calls() { "$SIPWARDEN" calls "$@" -c gw.conf; }
for i in $(seq 1 100); do
    [ "$(calls list | grep -c ' answered ')" = 2 ] && break
    sleep 0.1
done
[ "$(calls list | grep -c ' answered ')" = 2 ] || it_fail "the two calls did not come up"

t0_ms=$(date +%s%3N)
"$SIPWARDEN" trunk isolate provider --reason "toll fraud suspected" -c gw.conf > isolate.txt ||
    it_fail "trunk isolate"
grep -q '^trunk provider: isolate, 2 call(s) ended$' isolate.txt ||
    { cat isolate.txt; it_fail "trunk isolate did not end the 2 calls"; }

# Both legs of both calls got a BYE and answered it.
rc=0
wait "$uac" || rc=$?
uas_rc=0
wait "$uas" || uas_rc=$?
ok=$(it_sipp_stat uac.out 'Successful call')
uas_ok=$(it_sipp_stat uas.out 'Successful call')
it_log "caller rc=$rc successful=$ok; callee rc=$uas_rc successful=$uas_ok"
[ "$rc" = 0 ] && [ "$uas_rc" = 0 ] && [ "$ok" = 2 ] && [ "$uas_ok" = 2 ] ||
    it_fail "a leg did not get its BYE"
[ "$(calls list | grep -c answered)" = 0 ] || it_fail "calls left after the isolation"
it_wait_grep 'trunk provider isolate by operator' security.log || it_fail "no event for isolate"

# new_call_refused LABEL: one call from the provider must get 403.
new_call_refused() {
    timeout 20 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/../trunk_auth/uac-expect-403.xml" \
        -s 15551230061 -i 127.0.0.2 -p "$prov_port" -m 1 -nostdin -timeout 15s \
        -timeout_error > "refused-$1.out" 2>&1 || it_fail "$1: a new call was not refused 403"
}
new_call_refused isolated
it_wait_grep 'trunk isolated: provider: new call refused' security.log ||
    it_fail "no event for the refused call"

# Unknown names and bad usage.
rc=0
"$SIPWARDEN" trunk isolate nosuch -c gw.conf 2> nosuch.txt || rc=$?
[ "$rc" = 1 ] && grep -q 'no trunk named nosuch' nosuch.txt || it_fail "unknown trunk: rc=$rc"
rc=0
"$SIPWARDEN" trunk restore -c gw.conf 2> usage.txt || rc=$?
[ "$rc" = 2 ] && grep -q '^usage: sipwarden trunk' usage.txt || it_fail "no usage: rc=$rc"
it_stop_gateway

# The isolation survives a restart.
it_start_gateway gw.conf
grep -q 'incident: 1 disabled account(s) and isolated trunk(s) restored' gateway.log ||
    it_fail "the isolation was not restored at start"
new_call_refused restarted

"$SIPWARDEN" trunk restore provider -c gw.conf > restore.txt || it_fail "trunk restore"
grep -q '^trunk provider: restore, 0 call(s) ended$' restore.txt || it_fail "restore output"
timeout 20 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 15s > uas2.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 20 sipp -sn uac "127.0.0.1:$gw_port" -s 15551230062 -i 127.0.0.2 -p "$prov_port" -m 1 \
    -nostdin -timeout 15s -timeout_error > uac2.out 2>&1 || it_fail "no call after the restore"
wait "$uas" || it_fail "the PBX did not get the call after the restore"
it_stop_gateway

python3 - "$t0_ms" <<'PY' || it_fail "the records of the isolated calls"
import sqlite3, sys
t0 = int(sys.argv[1])
rows = sqlite3.connect("sipwarden.db").execute(
    "SELECT end_ms, hangup_side, trunk FROM cdr WHERE disposition = 'ANSWERED' "
    "AND hangup_side = 'gateway'").fetchall()
print(rows, "t0", t0)
late = [r for r in rows if r[0] - t0 > 1000]
sys.exit(0 if len(rows) == 2 and not late else 1)
PY
it_log "ok"
