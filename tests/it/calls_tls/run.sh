#!/usr/bin/env bash
# 1,000 calls each way over TLS. Debian's sipp has no TLS, so each sipp talks TCP to a
# small TLS relay (tools/tls_relay.py): the gateway sees real TLS 1.2+ on both legs,
# verifies the far side's certificate against the test CA, and presents its own. sipp offers
# plain RTP, so both sides say srtp = optional (on TLS it is required by default).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"

CALLS=${SW_IT_CALLS:-1000}
RATE=${RATE:-100}
bash "$IT_DIR/../tools/make_certs.sh" certs
gw_port=$(it_free_port)
pbx_tls=$(it_free_port)
pbx_tcp=$(it_free_port)
prov_tls=$(it_free_port)
prov_tcp=$(it_free_port)
pbx_in=$(it_free_port)
prov_in=$(it_free_port)
relay="$IT_DIR/../tools/tls_relay.py"
start_relay() {
    python3 "$relay" "$@" > "relay-$2-$3.log" 2>&1 &
    IT_PIDS+=("$!")
    local i
    for i in $(seq 1 50); do
        grep -q ready "relay-$2-$3.log" 2>/dev/null && return 0
        sleep 0.1
    done
    it_fail "TLS relay $* did not start"
}
# The callees behind TLS, and the callers in front of it.
start_relay server 127.0.0.1 "$pbx_tls" certs/127.0.0.1.pem certs/127.0.0.1.key 127.0.0.1 "$pbx_tcp"
start_relay server 127.0.0.2 "$prov_tls" certs/127.0.0.2.pem certs/127.0.0.2.key 127.0.0.2 "$prov_tcp"
start_relay client 127.0.0.2 "$prov_in" certs/ca.pem 127.0.0.1 "$gw_port" 127.0.0.2
start_relay client 127.0.0.1 "$pbx_in" certs/ca.pem 127.0.0.1 "$gw_port" 127.0.0.1

cat > gw.conf <<CONF
[general]
listen = tls:127.0.0.1:$gw_port
workers = 2
[tls]
certificate = certs/127.0.0.1.pem
private_key = certs/127.0.0.1.key
ca_file = certs/ca.pem
[pbx]
address = tls:127.0.0.1:$pbx_tls
srtp = optional
[provider]
type = trunk
max_call_rate = 1000
max_calls = 1000
provider = tls:127.0.0.2:$prov_tls
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
srtp = optional
CONF
it_start_gateway gw.conf
calls_run inbound 127.0.0.1 "$pbx_tcp" "127.0.0.2:$prov_in" 127.0.0.2 "$(it_free_port)" t1
calls_run outbound 127.0.0.2 "$prov_tcp" "127.0.0.1:$pbx_in" 127.0.0.1 "$(it_free_port)" t1
calls_check_stop
it_log "ok"
