#!/usr/bin/env bash
# SIGHUP with an edited account list (issue #9, item 2), under a live call: the accounts
# are reordered, one is added and the trunk's secret changes. Afterwards the PBX's calls
# for 1001 and 1002 still reach their own phones, the added account registers, is
# reachable and has its max_calls, the trunk answers its provider's challenge with the new
# secret, and the call that was up across the reload ends normally. Then 1002 is removed:
# its binding goes, so the PBX's calls to it no longer reach the old phone.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
declare -A phone_ip=([1001]=127.0.0.5 [1002]=127.0.0.6 [1003]=127.0.0.7)
declare -A phone_port=([1001]=$(it_free_port) [1002]=$(it_free_port) [1003]=$(it_free_port))
declare -A secret=([1001]='Str0ng-1001-xQ7v' [1002]='Str0ng-1002-pW3k' [1003]='Str0ng-1003-zR8m')

account() { # account NAME [MAX_CALLS]
    printf '[%s]\ntype = account\nsecret = %s\nmax_calls = %s\n' "$1" "${secret[$1]}" "${2:-2}"
}
write_conf() { # write_conf TRUNK_SECRET ACCOUNT...
    local trunk_secret=$1
    shift
    it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "log_level = info"
    # The PBX stand-ins call from several ports at once: the PBX is known by address only.
    sed -i 's/^\[pbx\]$/[pbx]\nmatch_port = no/' gw.conf
    printf 'username = trunkuser\nsecret = %s\nmax_calls = 10\n[auth]\nalgorithms = MD5\n' \
        "$trunk_secret" >> gw.conf
    local a
    for a in "$@"; do
        if [ "$a" = 1003 ]; then account 1003 1 >> gw.conf; else account "$a" >> gw.conf; fi
    done
    chmod 600 gw.conf
}

register() { # register ACCOUNT: through the gateway, the PBX stand-in says 200
    local a=$1
    timeout 20 sipp -sf "$IT_DIR/../remote_account/pbx-registrar.xml" -i 127.0.0.1 -p "$pbx_port" \
        -m 1 -nostdin -timeout 15s > "pbx-register-$a.out" 2>&1 &
    local pbx=$!
    IT_PIDS+=("$pbx")
    sleep 0.3
    local rc=0
    timeout 10 sipsak -U -C "sip:$a@${phone_ip[$a]}:${phone_port[$a]}" -s "sip:$a@127.0.0.1:$gw_port" \
        -u "$a" -a "${secret[$a]}" -H "${phone_ip[$a]}" --local-ip "${phone_ip[$a]}" \
        -l "${phone_port[$a]}" -S -x 120 > "sipsak-$a.out" 2>&1 || rc=$?
    wait "$pbx" || true
    [ "$rc" = 0 ] || it_fail "account $a could not register (sipsak rc=$rc)"
}

phone_uas() { # phone_uas ACCOUNT CALLS: the phone answers CALLS calls, in the background
    local a=$1
    timeout 40 sipp -sn uas -i "${phone_ip[$a]}" -p "${phone_port[$a]}" -m "$2" -nostdin \
        -timeout 35s -trace_msg -message_file "phone-$a.msg" > "phone-$a.out" 2>&1 &
    PHONE_PID=$!
    IT_PIDS+=("$PHONE_PID")
}

pbx_calls() { # pbx_calls ACCOUNT CALLS HOLD_MS OUT: the PBX calls the account's number
    timeout 40 sipp "127.0.0.1:$gw_port" -sn uac -s "$1" -i 127.0.0.1 -p "$(it_free_port)" \
        -m "$2" -r 5 -d "$3" -nostdin -timeout 35s -timeout_error > "$4" 2>&1
}

write_conf 'Old-Trunk-Secret-1' 1001 1002
it_start_gateway gw.conf
register 1001
register 1002

# A call PBX -> 1001 that stays up across the reload.
phone_uas 1001 2
phone1001=$PHONE_PID
sleep 0.3
pbx_calls 1001 1 6000 long-call.out &
long_call=$!
IT_PIDS+=("$long_call")
sleep 1.5

write_conf 'New-Trunk-Secret-2' 1002 1001 1003
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration reloaded' gateway.log 5 || it_fail "no reload"

# Reordered: each number still reaches its own phone.
phone_uas 1002 1
phone1002=$PHONE_PID
sleep 0.3
rc=0
pbx_calls 1002 1 100 to-1002.out || rc=$?
[ "$rc" = 0 ] || it_fail "the PBX's call to 1002 failed after the reorder"
rc=0
pbx_calls 1001 1 100 to-1001.out || rc=$?
[ "$rc" = 0 ] || it_fail "the PBX's call to 1001 failed after the reorder"
wait "$phone1002" || it_fail "1002's phone did not get its call (misrouted)"
rc=0
wait "$long_call" || rc=$?
[ "$rc" = 0 ] || it_fail "the call up across the reload did not end normally"
wait "$phone1001" || it_fail "1001's phone did not get both its calls (misrouted)"
# Each phone got calls for its own number only (the To of leg B names the number dialled).
for a in 1001 1002; do
    grep -q "^To: .*sip:$a@" "phone-$a.msg" || it_fail "$a's phone got no call for $a"
    if grep '^To: ' "phone-$a.msg" | grep -v "sip:$a@" | grep -q .; then
        it_fail "$a's phone got another account's call (misrouted after the reorder)"
    fi
done
it_log "reorder: 1001 and 1002 reached their own phones; the long call ended normally"

# The added account registers, is reachable, and its max_calls = 1 holds.
register 1003
phone_uas 1003 1
phone1003=$PHONE_PID
sleep 0.3
rc=0
pbx_calls 1003 1 100 to-1003.out || rc=$?
wait "$phone1003" || true
[ "$rc" = 0 ] || it_fail "the PBX's call to the added account 1003 did not reach its phone"
timeout 30 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 25s > pbx-uas.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
# Each call holds 3 s, so the second starts while the first is up, however fast the machine.
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/phone-call-held.xml" -s 200 \
    -au 1003 -ap "${secret[1003]}" -i 127.0.0.7 -p "$(it_free_port)" -m 2 -l 2 -r 10 \
    -nostdin -timeout 25s > phone-1003-calls.out 2>&1 || true
wait "$pbx" || true
ok=$(it_sipp_stat phone-1003-calls.out 'Successful call')
failed=$(it_sipp_stat phone-1003-calls.out 'Failed call')
it_log "1003 (max_calls = 1), two calls at once: successful=$ok failed=$failed"
[ "$ok" = 1 ] && [ "$failed" = 1 ] || it_fail "the added account's max_calls did not hold"

# The trunk answers its provider with the new secret.
timeout 30 sipp -sf "$IT_DIR/../trunk_auth/uas-challenge.xml" -set user trunkuser \
    -set pass 'New-Trunk-Secret-2' -i 127.0.0.2 -p "$prov_port" -m 2 -nostdin -timeout 25s \
    > prov.out 2>&1 &
prov=$!
IT_PIDS+=("$prov")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sn uac -s 15551239999 -i 127.0.0.1 -p "$(it_free_port)" \
    -m 2 -r 5 -d 100 -nostdin -timeout 25s -timeout_error > to-provider.out 2>&1 || rc=$?
wait "$prov" || true
[ "$rc" = 0 ] || it_fail "the trunk did not use its new secret after the reload"
it_log "trunk: the provider's challenge was answered with the new secret"

# 1002 removed: its binding goes with it.
write_conf 'New-Trunk-Secret-2' 1001 1003
kill -HUP "$GW_PID"
for _ in $(seq 1 100); do
    [ "$(grep -c 'reload: configuration reloaded' gateway.log)" -ge 2 ] && break
    sleep 0.05
done
grep -q '1 binding(s) of removed accounts dropped' gateway.log || it_fail "1002's binding was not dropped"
timeout 10 sipp -sn uas -i 127.0.0.6 -p "${phone_port[1002]}" -m 1 -nostdin -timeout 4s \
    > phone-1002-removed.out 2>&1 &
stale=$!
IT_PIDS+=("$stale")
timeout 10 sipp "127.0.0.1:$gw_port" -sn uac -s 1002 -i 127.0.0.1 -p "$(it_free_port)" -m 1 \
    -nostdin -timeout 4s -timeout_error > to-removed.out 2>&1 || true
rc=0
wait "$stale" || rc=$?
[ "$rc" != 0 ] || it_fail "a call reached the phone of a removed account"
it_gateway_alive
it_stop_gateway
it_log "ok"
