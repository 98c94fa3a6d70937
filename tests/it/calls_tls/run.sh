#!/usr/bin/env bash
# 1,000 calls each way over TLS. Debian's sipp has no TLS, so each sipp talks TCP to a
# small TLS relay (lib_tls.sh): the gateway sees real TLS 1.2+ on both legs, verifies the
# far side's certificate against the test CA, and presents its own. sipp offers plain RTP,
# so both sides say srtp = optional (on TLS it is required by default).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"
source "$(dirname "$0")/../lib_tls.sh"

CALLS=${SW_IT_CALLS:-1000}
RATE=${RATE:-100}
it_tls_trunk
it_start_gateway gw.conf
calls_run inbound 127.0.0.1 "$pbx_tcp" "127.0.0.2:$prov_in" 127.0.0.2 "$(it_free_port)" t1
calls_run outbound 127.0.0.2 "$prov_tcp" "127.0.0.1:$pbx_in" 127.0.0.1 "$(it_free_port)" t1
calls_check_stop
it_log "ok"
