#!/usr/bin/env bash
# The toll-fraud policy on real calls (issue #11): the PBX (sipp UACs) calls out through a
# German trunk whose provider stand-in (a sipp UAS) records every INVITE it gets. Calls to
# premium-rate, high-risk and not-allowed countries get 403 with a Reason header naming the
# rule and a FraudBlock event, and nothing reaches the provider; a name gets 404; allowed
# national calls and a benign mix of varied numbers all pass; a sequential sweep is
# refused by its 4th call, a burst of short calls into one range by its 5th.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "[admin]
listen = 127.0.0.1:$admin_port"
cat >> gw.conf <<CONF
country_code = 49
[fraud]
allowed_countries = DE, FR, AT
CONF
"$SIPWARDEN" check-config gw.conf > check.out 2> check.err || it_fail "check-config: $(cat check.err)"
grep -q 'may call abroad without a cap' check.err || it_fail "check-config did not warn: $(cat check.err)"
it_start_gateway gw.conf

# The provider answers everything it gets; a bound on its calls keeps it finite.
timeout 200 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m 1000 -nostdin -timeout 190s \
    -trace_msg -message_file provider.msg -trace_err -error_file uas.err > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3

invites() { grep -c '^INVITE sip:' provider.msg 2>/dev/null || true; }

# refused NUMBER STATUS RULE: one call that must get STATUS with RULE in its Reason.
refused() {
    local number=$1 status=$2 rule=$3 rc=0 before
    before=$(invites)
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-refused.xml" -s "$number" \
        -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 20s -timeout_error \
        -trace_logs -log_file "refused-$number.log" \
        -trace_err -error_file "refused-$number.err" > "refused-$number.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || it_fail "$number: no $status (sipp rc $rc): $(tail -5 "refused-$number.err" 2>/dev/null)"
    grep -qF "reason Q.850;cause=21;text=\"$rule" "refused-$number.log" \
        || it_fail "$number: Reason is not '$rule': $(cat "refused-$number.log")"
    sleep 0.2
    [ "$(invites)" = "$before" ] || it_fail "$number: the provider got an INVITE"
    it_log "$number: $status ($rule), nothing reached the provider"
}

refused 09001234567 403 'class premium-rate'
refused +4918012345 403 'class shared-cost'
refused +2125123456789 403 'high-risk +212'
refused 0088213400001 403 'high-risk +882'
refused +441212345678 403 'country GB'
refused 0012015550123 403 'country US'
# A name gets 404 (the 403 scenario fails on it), and never reaches the provider.
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-refused.xml" -s service -i 127.0.0.1 \
    -p "$pbx_port" -m 1 -nostdin -timeout 20s -trace_err -error_file name.err > name.out 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q 'SIP/2.0 404' name.err || it_fail "a name did not get 404: $(tail -3 name.err)"
[ "$(invites)" = 0 ] || it_fail "a refused call reached the provider"

# list NAME FILE: every call to the numbers of FILE must be answered.
list() {
    local name=$1 file=$2 count rc=0
    count=$(($(wc -l < "$file") - 1))
    timeout 120 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-list.xml" -inf "$file" -d 100 \
        -i 127.0.0.1 -p "$pbx_port" -m "$count" -r 10 -nostdin -timeout 100s -timeout_error \
        -trace_err -error_file "$name.err" > "$name.out" 2>&1 || rc=$?
    local ok
    ok=$(it_sipp_stat "$name.out" 'Successful call')
    [ "$rc" = 0 ] && [ "$ok" = "$count" ] || it_fail "$name: $ok of $count calls answered (rc $rc)"
    it_log "$name: $ok calls answered"
}

# Allowed national calls, then a benign mix: varied areas, mobiles, France and Austria.
printf 'SEQUENTIAL\n030123456\n0891234567\n+4915123456789\n' > national.csv
list national national.csv
{
    echo SEQUENTIAL
    for i in $(seq 1 40); do
        tail=$(( (i * 7919 + 104729) % 900000 + 100000 ))
        case $((i % 5)) in
        0) echo "0301$tail" ;;
        1) echo "0407$tail" ;;
        2) echo "+3314$((tail % 100000 + 200000))" ;;
        3) echo "0043 1 5$tail" | tr -d ' ' ;;
        4) echo "01512$tail" ;;
        esac
    done
} > benign.csv
list benign benign.csv
answered=$(invites)

# A sequential sweep: the first three pass, the fourth is refused.
printf 'SEQUENTIAL\n+496912340500\n+496912340501\n+496912340502\n' > sweep.csv
list sweep sweep.csv
refused +496912340503 403 'sequential'
[ "$(invites)" = "$((answered + 3))" ] || it_fail "the provider got $(invites) INVITEs, expected $((answered + 3))"

# A burst of short answered calls into one range of 10,000 numbers (test calls before the
# pumping), neither sequential nor a sweep: four pass, the fifth is refused.
printf 'SEQUENTIAL\n+496912351234\n+496912352678\n+496912353912\n+496912354456\n' > burst.csv
list burst burst.csv
refused +496912355790 403 'short-burst'
[ "$(invites)" = "$((answered + 7))" ] || it_fail "the provider got $(invites) INVITEs, expected $((answered + 7))"

# A malformed rate deck is refused by check-config and by a reload, naming file and line;
# the running policy stays.
printf 'currency,EUR\nprefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label\n49,0.01,0,60,60,Germany\n33,cheap,0,60,60,France\n' > bad.csv
cp gw.conf good.conf
printf 'ratedeck = bad.csv\n' >> gw.conf
rc=0
"$SIPWARDEN" check-config gw.conf > bad-check.out 2> bad-check.err || rc=$?
[ "$rc" = 1 ] && grep -q '^bad.csv:4: ' bad-check.err || it_fail "check-config took a bad deck (rc $rc): $(cat bad-check.err)"
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration refused' gateway.log 10 || it_fail "the bad deck was not refused on SIGHUP"
grep -q 'reload: bad.csv:4: ' gateway.log || it_fail "the reload did not name bad.csv:4"
refused +33891123456 403 'class premium-rate'
printf 'SEQUENTIAL\n+33123456789\n' > after.csv
list after after.csv
cp good.conf gw.conf

# /metrics counts the international calls that left (16 of the benign mix to France and
# Austria, then one more to France); refused calls never started and do not count.
intl=$(curl -sS -m 10 "http://127.0.0.1:$admin_port/metrics" |
    sed -n 's/^sipwarden_international_calls_total{party="trunk:provider"} //p')
[ "$intl" = 17 ] || it_fail "/metrics counts ${intl:-no} international calls, expected 17"
it_gateway_alive
grep -q 'FraudBlock' security.log || it_fail "no FraudBlock event in security.log"
blocks=$(grep -c 'SecurityEvent="FraudBlock"' security.log)
[ "$blocks" = 10 ] || it_fail "$blocks FraudBlock events, expected 10"
it_stop_gateway
it_log "ok"
