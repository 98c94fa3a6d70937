# Shared by the fraud tests whose PBX (sipp) calls out through the trunk one call at a
# time (sourced after it_start_gateway): the provider stand-in recording every INVITE,
# the scenarios of fraud_destinations, and call().

refused_xml="$IT_DIR/../fraud_destinations/uac-refused.xml"
list_xml="$IT_DIR/../fraud_destinations/uac-list.xml"

# fraud_provider_start: the provider (sipp UAS on 127.0.0.2:$prov_port), at most 100 calls.
fraud_provider_start() {
    timeout 50 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m 100 -nostdin -timeout 45s \
        -trace_msg -message_file provider.msg > uas.out 2>&1 &
    IT_PIDS+=("$!")
    sleep 0.3
}

# INVITEs that reached the provider.
invites() { grep -c '^INVITE sip:' provider.msg 2>/dev/null || true; }

# call NAME XML NUMBER: one call from the PBX's address and port $caller_port with scenario
# XML; its sipp exit code.
call() {
    local rc=0
    printf 'SEQUENTIAL\n%s\n' "$3" > "$1.csv"
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$2" -s "$3" -inf "$1.csv" -i 127.0.0.1 \
        -p "$caller_port" -m 1 -nostdin -timeout 20s -timeout_error -trace_logs \
        -log_file "$1.log" -trace_err -error_file "$1.err" > "$1.out" 2>&1 || rc=$?
    return "$rc"
}
