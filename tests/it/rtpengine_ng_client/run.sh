#!/usr/bin/env bash
# The ng client (src/call/rtpengine.c) drives a real rtpengine: tests/programs/ng_probe
# sends ping, offer, answer, query, delete and a query after the delete to an rtpengine
# started here (userspace forwarding only, its own ng port and media port range on
# 127.0.0.1, stopped by PID). The SDPs rtpengine returns must name rtpengine's address
# and ports from that range, and never the PBX's (10.0.0.5) or the provider's (192.0.2.7)
# addresses that the offered and answered SDPs carried. Then the same through call/anchor.h,
# as the B2BUA asks: SRTP towards the provider, plain RTP towards the PBX.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../lib.sh"

programs=${SW_PROGRAMS:-}
for candidate in "$(dirname "$SIPWARDEN")/tests/programs" "$(dirname "$SIPWARDEN")/../tests/programs"; do
    if [ -z "$programs" ] && [ -x "$candidate/ng_probe" ]; then
        programs=$(cd "$candidate" && pwd)
    fi
done
[ -x "$programs/ng_probe" ] || it_fail "ng_probe not built"

. "$IT_DIR/../lib_media.sh"
it_rtpengine_ports
ng_port=$RTPENGINE_NG_PORT
port_min=$RTP_MIN
port_max=$RTP_MAX
it_log "rtpengine ng on 127.0.0.1:$ng_port, media ports $port_min-$port_max"
it_start_rtpengine

"$programs/ng_probe" "127.0.0.1:$ng_port" >probe.out 2>probe.err || {
    cat probe.out probe.err >&2
    it_fail "ng_probe failed"
}
cat probe.out

for step in offer answer; do
    line=$(grep -E "^$step c=" probe.out) || it_fail "no $step media line"
    [[ $line =~ ^$step\ c=127\.0\.0\.1\ port=([0-9]+)\  ]] || it_fail "$step SDP does not name rtpengine: $line"
    port=${BASH_REMATCH[1]}
    [ "$port" -ge "$port_min" ] && [ "$port" -le "$port_max" ] ||
        it_fail "$step port $port outside rtpengine's range $port_min-$port_max"
done
if grep -qE '10\.0\.0\.5|192\.0\.2\.7' probe.out; then
    it_fail "a returned SDP still names the PBX or the provider"
fi
grep -q '^query-after-delete error' probe.out || it_fail "the call survived its delete"
# The same call through call/anchor.h: SRTP keyed by rtpengine towards the provider (its
# weak suites removed), plain RTP towards the PBX.
"$programs/ng_probe" "127.0.0.1:$ng_port" anchor >anchor.out 2>anchor.err || {
    cat anchor.out anchor.err >&2
    it_fail "ng_probe anchor failed"
}
cat anchor.out
grep -qE '^anchor-offer c=127\.0\.0\.1 port=[0-9]+ proto=RTP/SAVP crypto=[1-9]' anchor.out ||
    it_fail "the provider leg is not offered SRTP by rtpengine"
grep -qE '^anchor-answer c=127\.0\.0\.1 port=[0-9]+ proto=RTP/AVP crypto=0$' anchor.out ||
    it_fail "the PBX leg does not get plain RTP"
if grep -qE 'a=crypto:[0-9]+ (NULL_|F8_|[A-Z0-9_]+_32 )' anchor.out; then
    it_fail "weak SDES suites reached the provider leg"
fi
if grep -qE '10\.0\.0\.5|192\.0\.2\.7' anchor.out; then
    it_fail "an anchored SDP still names the PBX or the provider"
fi
grep -q '^query-after-end error' anchor.out || it_fail "the anchored call survived its end"

for command in ping offer answer query delete; do
    grep -q "Received command '$command'" rtpengine.log || it_fail "rtpengine never saw $command"
done
it_log "ok"
