# Calls through the gateway with sipp on both sides (sourced after lib.sh).

# calls_run NAME UAS_IP UAS_PORT UAC_TARGET UAC_IP UAC_PORT SIPP_TRANSPORT
# A sipp UAS, then CALLS calls from a sipp UAC at RATE/s; all must succeed.
calls_run() {
    local name=$1 uas_ip=$2 uas_port=$3 target=$4 uac_ip=$5 uac_port=$6 t=$7
    timeout 150 sipp -sn uas -t "$t" -i "$uas_ip" -p "$uas_port" -m "$CALLS" -nostdin \
        -timeout 140s -trace_err -error_file "uas-$name.err" > "uas-$name.out" 2>&1 &
    local uas=$!
    IT_PIDS+=("$uas")
    sleep 0.3
    local rc=0
    timeout 150 sipp "$target" -sn uac -s 15551230010 -t "$t" -i "$uac_ip" -p "$uac_port" -m "$CALLS" \
        -r "$RATE" -d 100 -nostdin -timeout 140s -timeout_error \
        -trace_err -error_file "uac-$name.err" > "uac-$name.out" 2>&1 || rc=$?
    local uas_rc=0
    wait "$uas" || uas_rc=$?
    local ok failed
    ok=$(it_sipp_stat "uac-$name.out" 'Successful call')
    failed=$(it_sipp_stat "uac-$name.out" 'Failed call')
    it_log "$name: caller rc=$rc callee rc=$uas_rc successful=$ok failed=$failed"
    [ "$rc" = 0 ] && [ "$uas_rc" = 0 ] || it_fail "$name: sipp failed"
    [ "$ok" = "$CALLS" ] && [ "$failed" = 0 ] || it_fail "$name: $ok of $CALLS calls, $failed failed"
}

# calls_check_stop: a clean stop with every call counted out.
calls_check_stop() {
    it_gateway_alive
    it_stop_gateway
    grep -q 'trunk provider: calls_in_progress=0 at stop' gateway.log || it_fail "trunk call count not 0"
    if grep -E 'active_calls=[1-9]' gateway.log; then
        it_fail "calls left active"
    fi
}

