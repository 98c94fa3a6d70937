#!/usr/bin/env bash
# A bounded flood (20,000 OPTIONS/s for at most 10 s, at most 200,000 packets, from 1,000
# loopback addresses 127.10.x.y) while a sipp caller from the provider's address makes
# its calls: every call succeeds, the floods are reported as RateExceeded events, the
# provider is never reported or banned, and the gateway's resident memory stays within
# its bound (gateway_obs.h: every table is fixed at start): at most RSS_MAX_KIB in all and
# at most RSS_GROWTH_KIB more than before the flood.
source "$(dirname "$0")/../lib.sh"

CALLS=${CALLS:-100}
RSS_MAX_KIB=${RSS_MAX_KIB:-524288}
RSS_GROWTH_KIB=${RSS_GROWTH_KIB:-163840}
flood=$IT_DIR/../tools/flood.py
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
[admin]
listen =
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
# Under AddressSanitizer, freed blocks wait in a 256 MiB quarantine by default: that is
# the sanitizer's memory, not the gateway's, so keep it small for the measurement.
# Its shadow memory and redzones add about half again: a sanitized build gets twice the
# bounds (the figures of gateway_obs.h are for a plain build).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
# A sanitized build spends about three times the CPU per packet: the flood that the plain
# build must absorb at 20,000 packets a second is sent at half that rate to it, so the test
# still asks whether calls survive a flood the build can take, not how fast ASan is.
# Half the sources keep each one's own rate (20 packets a second, over the flood mark).
FLOOD_RATE=20000
FLOOD_SOURCES=1000
if grep -qa 'AddressSanitizer' "$SIPWARDEN"; then
    RSS_MAX_KIB=$((RSS_MAX_KIB * 2))
    RSS_GROWTH_KIB=$((RSS_GROWTH_KIB * 2))
    FLOOD_RATE=10000
    FLOOD_SOURCES=500
fi
it_start_gateway gw.conf
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status"; }
rss_start=$(rss)

timeout 90 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m "$CALLS" -nostdin -timeout 80s \
    > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 90 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230010 -i 127.0.0.3 -p "$prov_port" -m "$CALLS" -r 10 \
    -d 200 -nostdin -timeout 80s -timeout_error > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")

timeout 15 python3 "$flood" "$gw_port" --sources "$FLOOD_SOURCES" --rate "$FLOOD_RATE" --seconds 10 \
    --max-packets 200000 > flood.out 2>&1 &
flooder=$!
IT_PIDS+=("$flooder")
rss_max=$rss_start
while kill -0 "$flooder" 2> /dev/null; do
    r=$(rss)
    [ "$r" -gt "$rss_max" ] && rss_max=$r
    sleep 0.25
done
wait "$flooder" || it_fail "the flood sender failed: $(cat flood.out)"
it_log "flood: $(cat flood.out)"

uac_rc=0
wait "$uac" || uac_rc=$?
uas_rc=0
wait "$uas" || uas_rc=$?
ok=$(it_sipp_stat uac.out 'Successful call')
failed=$(it_sipp_stat uac.out 'Failed call')
it_log "provider calls during the flood: rc=$uac_rc successful=$ok failed=$failed"
[ "$uac_rc" = 0 ] && [ "$ok" = "$CALLS" ] && [ "$failed" = 0 ] || it_fail "calls failed"
it_log "VmRSS: start ${rss_start} KiB, max ${rss_max} KiB (bounds ${RSS_MAX_KIB} KiB, +${RSS_GROWTH_KIB} KiB)"
[ "$rss_max" -le "$RSS_MAX_KIB" ] || it_fail "memory above its bound"
[ $((rss_max - rss_start)) -le "$RSS_GROWTH_KIB" ] || it_fail "memory grew beyond its bound"

it_gateway_alive
sleep 0.3
floods=$(grep -c 'SecurityEvent="RateExceeded".*RemoteAddress="IPV4/UDP/127\.10\.' security.log || true)
it_log "RateExceeded events for flooding sources: $floods"
[ "$floods" -ge 100 ] || it_fail "the floods were not reported"
if grep -E 'SecurityEvent="(FailedACL|InvalidAccountID|InvalidPassword|ChallengeResponseFailed|RateExceeded|ScannerDetected|BanAdded)".*RemoteAddress="IPV4/UDP/127\.0\.0\.(1|3)/' security.log; then
    it_fail "the PBX or the provider was reported as a failure"
fi
it_stop_gateway
it_log "ok"
