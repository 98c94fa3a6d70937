#!/usr/bin/env bash
# UDP steering by Call-ID ([general] steer_udp): with two workers, the kernel hands every
# datagram of a call to the worker that owns it, so no worker hands a message on.
#  - 100 calls each way over UDP: all succeed; the steering program counted datagrams by
#    the gateway's own Call-IDs (owner) and by hash, none unmatched; workers handed on
#    nothing (sipwarden_worker_handoffs_total 0);
#  - where the kernel refuses BPF (an unprivileged user namespace; else steer_udp = no):
#    the gateway says so once at start, 100 calls from the provider all succeed, and the
#    workers hand on what the kernel's own hash delivered to the wrong one, found by a
#    scan of the Call-ID before any parse (by="scan" moves, by="parse" stays 0).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"

CALLS=${SW_IT_CALLS:-100}
CALLS=$((CALLS > 100 ? 100 : CALLS))
RATE=100
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)

write_conf() {
    it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "steer_udp = $1
[admin]
listen = 127.0.0.1:$admin_port"
    echo "max_calls = 1000" >> gw.conf
}

metric() {
    awk -v name="$1" '$1 == name {print $2}' metrics.txt
}

# wait_metric NAME: polls /metrics until NAME is above 0 (the housekeeping publishes it).
wait_metric() {
    local i
    for i in $(seq 1 50); do
        curl -sf "http://127.0.0.1:$admin_port/metrics" > metrics.txt || it_fail "GET /metrics"
        [ "$(metric "$1")" != 0 ] && [ -n "$(metric "$1")" ] && return 0
        sleep 0.1
    done
    it_fail "$1 stayed 0"
}

expect_eq() {
    [ "$2" = "$3" ] || it_fail "$1: $2, expected $3"
}

run_calls() {
    calls_run inbound 127.0.0.1 "$pbx_port" "127.0.0.1:$gw_port" 127.0.0.2 "$prov_port" u1
    calls_run outbound 127.0.0.2 "$prov_port" "127.0.0.1:$gw_port" 127.0.0.1 "$pbx_port" u1
}

write_conf yes
it_start_gateway gw.conf
grep -q 'the kernel steers UDP datagrams' gateway.log || it_fail "steering not on"
run_calls
wait_metric 'sipwarden_udp_steered_total{how="hash"}'
wait_metric 'sipwarden_udp_steered_total{how="owner"}'
it_log "steered: owner $(metric 'sipwarden_udp_steered_total{how="owner"}')," \
    "hash $(metric 'sipwarden_udp_steered_total{how="hash"}')," \
    "unmatched $(metric 'sipwarden_udp_steered_total{how="unmatched"}')"
expect_eq "unmatched datagrams" "$(metric 'sipwarden_udp_steered_total{how="unmatched"}')" 0
expect_eq "hand-offs with steering" \
    "$(metric 'sipwarden_worker_handoffs_total{by="scan"}')+$(metric 'sipwarden_worker_handoffs_total{by="parse"}')" 0+0
calls_check_stop

mv gateway.log gateway-1.log
if unshare -U -r true 2> /dev/null; then
    write_conf yes
    printf '#!/bin/sh\nexec unshare -U -r "%s" "$@"\n' "$SIPWARDEN" > unprivileged.sh
    chmod +x unprivileged.sh
    SIPWARDEN=$PWD/unprivileged.sh it_start_gateway gw.conf
    expect_eq "lines saying steering is off" \
        "$(grep -c 'UDP steering by Call-ID off (the kernel refused' gateway.log)" 1
else
    it_log "no user namespaces here: steer_udp = no stands for the refused case"
    write_conf no
    it_start_gateway gw.conf
    expect_eq "lines saying steering is off" \
        "$(grep -c 'UDP steering by Call-ID off (turned off)' gateway.log)" 1
fi
calls_run outbound 127.0.0.2 "$prov_port" "127.0.0.1:$gw_port" 127.0.0.1 "$pbx_port" u1
wait_metric 'sipwarden_worker_handoffs_total{by="scan"}'
it_log "hand-offs without steering: $(metric 'sipwarden_worker_handoffs_total{by="scan"}')" \
    "before any parse"
# The worker's scan finds sipp's Call-IDs as the parser does: no message parsed twice.
expect_eq "hand-offs after a parse" "$(metric 'sipwarden_worker_handoffs_total{by="parse"}')" 0
calls_check_stop
it_log "ok"
