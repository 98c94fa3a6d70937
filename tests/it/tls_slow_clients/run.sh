#!/usr/bin/env bash
# Slow TLS clients (issue #10): 2,000 connections to the TLS port from 250 addresses,
# silent, dripping a ClientHello one byte a second, idle after the handshake, or dripping
# a SIP request one byte a second, re-opened whenever the gateway closes them. Meanwhile
# TLS calls through the gateway all succeed, every kind of slow connection is closed by
# the gateway's timeouts (handshake, first byte, message), and the gateway's memory stays
# bounded: its growth per connection held is logged and asserted.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_calls.sh"
source "$(dirname "$0")/../lib_tls.sh"

CALLS=${SLOW_CALLS:-20}
RATE=10
# The bound is for a plain build (the gcc run asserts it). Under AddressSanitizer every
# OpenSSL allocation carries redzones and freed blocks wait in its quarantine: keep the
# quarantine small and allow four times the memory, so the sanitized run still catches
# an unbounded growth without measuring the sanitizer.
PER_CONN_MAX=65536
if grep -qa 'AddressSanitizer' "$SIPWARDEN"; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
    PER_CONN_MAX=$((PER_CONN_MAX * 4))
fi
COUNT=${SLOW_COUNT:-2000}
it_tls_trunk
it_start_gateway gw.conf
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status"; }
fds() { find "/proc/$GW_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
rss_before=$(rss_kib)
fds_before=$(fds)

timeout 60 python3 "$IT_DIR/slow_clients.py" "$gw_port" --count "$COUNT" --net 127.0.3 \
    --per-source 8 --seconds 15 > slow.out 2> slow.err &
attacker=$!
IT_PIDS+=("$attacker")
# Sample the gateway while the attack holds its connections.
rss_max=$rss_before
fds_max=$fds_before
sampler() {
    local i r f
    for i in $(seq 1 40); do
        kill -0 "$attacker" 2>/dev/null || break
        r=$(rss_kib)
        f=$(fds)
        echo "$r $f"
        sleep 0.5
    done
}
sampler > samples.txt &
sampler_pid=$!
IT_PIDS+=("$sampler_pid")
sleep 3
calls_run inbound 127.0.0.1 "$pbx_tcp" "127.0.0.2:$prov_in" 127.0.0.2 "$(it_free_port)" t1
calls_run outbound 127.0.0.2 "$prov_tcp" "127.0.0.1:$pbx_in" 127.0.0.1 "$(it_free_port)" t1
wait "$attacker" || it_fail "the slow-client script failed: $(tail -5 slow.err)"
wait "$sampler_pid" || true
cat slow.out
rss_max=$(awk -v m="$rss_before" '$1 > m {m = $1} END {print m}' samples.txt)
fds_max=$(awk -v m="$fds_before" '$2 > m {m = $2} END {print m}' samples.txt)
figure() { sed -n "s/^$1=//p" slow.out; }
peak=$(figure peak_open)
it_log "held at once: $peak of $COUNT; handshakes $(figure handshakes)"
it_log "gateway rss ${rss_before} -> max ${rss_max} KiB, fds ${fds_before} -> max ${fds_max}"
# The attack really held most of its connections at once (the gateway accepted them).
[ "$peak" -ge $((COUNT * 3 / 4)) ] || it_fail "only $peak connections held: the attack did not load the gateway"
[ "$fds_max" -ge $((fds_before + COUNT / 2)) ] || it_fail "the gateway never held the connections (fds max $fds_max)"
# Every kind of slow client was closed by a timeout of the gateway.
for kind in silent drip_hello idle_tls drip_sip; do
    n=$(figure "closed_$kind")
    [ "${n:-0}" -ge $((COUNT / 8)) ] || it_fail "$kind: only ${n:-0} connections closed by the gateway"
done
# Bounded memory: what the gateway grew by, per connection held at the peak.
per_conn=$(( (rss_max - rss_before) * 1024 / (fds_max - fds_before) ))
it_log "memory per slow connection held: $per_conn bytes"
[ "$per_conn" -le "$PER_CONN_MAX" ] ||
    it_fail "$per_conn bytes per slow connection (more than $PER_CONN_MAX)"
calls_check_stop
it_log "ok"
