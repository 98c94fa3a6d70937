#!/usr/bin/env bash
# svmap sweeping the gateway is recognised and banned at the first packet, with and
# without its User-Agent (-c drops it), nothing of it reaches the PBX (a sipp UAS that
# traces every message), and a sipp caller from the provider's address completes all its
# calls meanwhile. The ban list shows both scanners with their reason.
source "$(dirname "$0")/../lib.sh"

CALLS=${CALLS:-40}
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
token=it-token-0123456789abcdef
export HOME=$IT_LOGS # svmap keeps nothing without -s, but never in the real home
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
[admin]
listen = 127.0.0.1:$admin_port
token = $token
[pbx]
address = udp:127.0.0.1:$pbx_port
[provider]
type = trunk
max_call_rate = 1000
max_calls = 1000
provider = udp:127.0.0.3:$prov_port
permit = 127.0.0.3/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
CONF
it_start_gateway gw.conf

timeout 60 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m "$CALLS" -nostdin -timeout 50s \
    -trace_msg -message_file pbx-messages.log > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 60 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230010 -i 127.0.0.3 -p "$prov_port" -m "$CALLS" -r 10 \
    -d 200 -nostdin -timeout 50s -timeout_error > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")

# The attacks run while the calls go on: svmap with its User-Agent from 127.0.0.2, then
# svmap -c (no User-Agent) from 127.0.0.4. Each sends a few probes (-e 100-119).
timeout 20 svmap -p "$gw_port" -P "$(it_free_port)" -b 127.0.0.2 -x 127.0.0.2 -e 100-119 \
    127.0.0.1 > svmap-ua.out 2> svmap-ua.err || true
timeout 20 svmap -c -p "$gw_port" -P "$(it_free_port)" -b 127.0.0.4 -x 127.0.0.4 -e 100-119 \
    127.0.0.1 > svmap-c.out 2> svmap-c.err || true

uac_rc=0
wait "$uac" || uac_rc=$?
uas_rc=0
wait "$uas" || uas_rc=$?
ok=$(it_sipp_stat uac.out 'Successful call')
failed=$(it_sipp_stat uac.out 'Failed call')
it_log "provider calls: rc=$uac_rc successful=$ok failed=$failed (pbx rc=$uas_rc)"
[ "$uac_rc" = 0 ] && [ "$ok" = "$CALLS" ] && [ "$failed" = 0 ] || it_fail "provider calls failed"

# svmap found nothing: its result table has no row.
if grep -E '^\| [0-9]' svmap-ua.out svmap-c.out; then
    it_fail "svmap found the gateway"
fi
# Nothing from the scanners reached the PBX.
[ -s pbx-messages.log ] || it_fail "the PBX stand-in traced nothing at all"
if grep -Eqi 'OPTIONS sip:|friendly-scanner|sipvicious' pbx-messages.log; then
    it_fail "a scanner's request reached the PBX"
fi

sleep 0.3 # the consumer thread writes the log
grep -q 'SecurityEvent="ScannerDetected".*RemoteAddress="IPV4/UDP/127.0.0.2/' security.log ||
    it_fail "no ScannerDetected event for 127.0.0.2"
grep -q 'SecurityEvent="ScannerDetected".*RemoteAddress="IPV4/UDP/127.0.0.4/' security.log ||
    it_fail "no ScannerDetected event for 127.0.0.4 (svmap -c)"
# Banned at the first packet: one event each, the rest dropped by the gate.
for ip in 127.0.0.2 127.0.0.4; do
    n=$(grep -c "SecurityEvent=\"ScannerDetected\".*RemoteAddress=\"IPV4/UDP/$ip/" security.log)
    [ "$n" = 1 ] || it_fail "$n ScannerDetected events for $ip (the ban should drop the rest)"
done
"$SIPWARDEN" ban list -c gw.conf > bans.txt || it_fail "ban list failed"
cat bans.txt
grep -qE '^127\.0\.0\.2 .* 1 auto +ScannerDetected=1$' bans.txt || it_fail "127.0.0.2 not listed"
grep -qE '^127\.0\.0\.4 .* 1 auto +ScannerDetected=1$' bans.txt || it_fail "127.0.0.4 not listed"
if grep -qE '^127\.0\.0\.(1|3) ' bans.txt; then
    it_fail "the PBX or the provider was banned"
fi
# The metrics: refused without the token, then the scanners and bans counted.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/metrics")
[ "$code" = 401 ] || it_fail "GET /metrics without the token answered $code"
sleep 1.2 # the housekeeping thread copies the gauges once a second
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$admin_port/metrics" > metrics.txt ||
    it_fail "GET /metrics failed"
grep -qx 'sipwarden_events_total{event="ScannerDetected"} 2' metrics.txt || it_fail "metrics: scanners"
grep -qx 'sipwarden_bans_active 2' metrics.txt || it_fail "metrics: bans_active"
grep -q '^# TYPE sipwarden_gate_packets_total counter$' metrics.txt || it_fail "metrics: gate"
# Log rotation: the file is moved away, SIGHUP reopens it, new events land in a new file.
mv security.log security.log.1
kill -HUP "$GW_PID"
sleep 0.3
python3 "$IT_DIR/../tools/sip_send.py" 127.0.0.7 "$gw_port" 1 --ua friendly-scanner
sleep 0.5
grep -q 'SecurityEvent="ScannerDetected".*RemoteAddress="IPV4/UDP/127.0.0.7/' security.log ||
    it_fail "no event in the reopened security log after SIGHUP"
if grep -q '127.0.0.7' security.log.1; then
    it_fail "an event went to the rotated file after SIGHUP"
fi
it_stop_gateway
it_log "ok"
