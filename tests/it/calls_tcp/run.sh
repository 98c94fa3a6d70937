#!/usr/bin/env bash
# 1,000 calls each way over TCP: the gateway accepts the callers' connections, opens its
# own to the callee, frames messages by Content-Length and reuses connections.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"

CALLS=${SW_IT_CALLS:-1000}
RATE=${RATE:-200}
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
it_trunk_conf gw.conf tcp "$gw_port" "$pbx_port" "$prov_port"
echo "max_calls = 1000" >> gw.conf
it_start_gateway gw.conf
calls_run inbound 127.0.0.1 "$pbx_port" "127.0.0.1:$gw_port" 127.0.0.2 "$prov_port" t1
calls_run outbound 127.0.0.2 "$prov_port" "127.0.0.1:$gw_port" 127.0.0.1 "$pbx_port" t1
calls_check_stop
it_log "ok"
