#!/usr/bin/env bash
# A one-minute demonstration on loopback: starts sipwarden on its embedded defaults, a
# sipp UAS standing in for the PBX (127.0.0.1:5090), and places 5 calls from the trunk
# provider's address (127.0.0.2) through the gateway; then shows what the gateway
# logged. Needs the test tools (installed on first use). Stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh" --test
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DSW_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build/release" -j "$(nproc)" --target sipwarden >/dev/null
work=$(mktemp -d /tmp/sipwarden-demo.XXXXXX)
cd "$work"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$root/build/release/src/sipwarden" run --log-level info > gateway.log 2>&1 &
gw=$!
pids+=("$gw")
for _ in $(seq 1 50); do grep -q 'serving with' gateway.log && break; sleep 0.1; done
echo "sipwarden is serving on 127.0.0.1:5060 (log: $work/gateway.log)"

timeout 30 sipp -sn uas -i 127.0.0.1 -p 5090 -m 5 -nostdin -timeout 25s > pbx.out 2>&1 &
pids+=("$!")
sleep 0.3
echo "the provider (127.0.0.2) places 5 calls to the PBX through the gateway..."
rc=0
timeout 30 sipp 127.0.0.1:5060 -sn uac -s 15551230001 -i 127.0.0.2 -p 5062 -m 5 -r 5 -d 500 \
    -nostdin -timeout 25s -timeout_error > provider.out 2>&1 || rc=$?
grep -E 'Successful call|Failed call' provider.out | sed 's/^/  /'
echo "an unknown source (127.0.0.9) sends an OPTIONS probe: it gets a digest challenge at most"
timeout 5 sipsak -v -s sip:100@127.0.0.1:5060 --local-ip 127.0.0.9 2>&1 | grep -m1 'SIP/2.0' | sed 's/^/  /' || echo "  (silence)"
echo "what the gateway logged:"
grep -E 'event|serving' gateway.log | cut -c1-160 | sed 's/^/  /'
kill -TERM "$gw"
wait "$gw" || true
exit "$rc"
