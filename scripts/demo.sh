#!/usr/bin/env bash
# A one-minute demonstration on loopback: starts sipwarden on its embedded defaults, a
# sipp UAS standing in for the PBX (127.0.0.1:5090), and places 5 calls from the trunk
# provider's address (127.0.0.2) through the gateway; then svcrack (SIPVicious) attacks
# account 1001 from 127.0.0.66 and is banned, and the security log and the ban list show
# it. Needs the test tools (installed on first use). Stops everything it started.
# Exits 3 when one of the demo's fixed ports (5060, 5090, 8080 on 127.0.0.1...) is taken.
#   SIPWARDEN_BIN=path      use this built binary: no dependency check, no build
#   SIPWARDEN_DEMO_DIR=dir  work in dir (created) instead of a new /tmp/sipwarden-demo.*
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sipwarden=${SIPWARDEN_BIN:-}
if [ -z "$sipwarden" ]; then
    bash "$root/scripts/deps.sh" --test
    cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DSW_BUILD_TESTS=OFF >/dev/null
    cmake --build "$root/build/release" -j "$(nproc)" --target sipwarden >/dev/null
    sipwarden=$root/build/release/src/sipwarden
fi
sipwarden=$(readlink -f "$sipwarden")
# The embedded default configuration has fixed ports: a gateway or PBX already there
# would take part of the demo's traffic (sipwarden shares a port with SO_REUSEPORT).
if ! python3 - <<'PY'
import socket, sys
taken = []
for kind, ip, port in (("udp", "127.0.0.1", 5060), ("tcp", "127.0.0.1", 5060),
                       ("udp", "127.0.0.1", 5090), ("tcp", "127.0.0.1", 8080),
                       ("udp", "127.0.0.2", 5062), ("udp", "127.0.0.66", 25166)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
    try:
        s.bind((ip, port))
    except OSError as e:
        taken.append(f"{kind} {ip}:{port} ({e.strerror})")
    finally:
        s.close()
if taken:
    print("demo: these ports are in use, stop what holds them first: " + ", ".join(taken),
          file=sys.stderr)
    sys.exit(1)
PY
then
    exit 3
fi
if [ -n "${SIPWARDEN_DEMO_DIR:-}" ]; then
    work=$SIPWARDEN_DEMO_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d /tmp/sipwarden-demo.XXXXXX)
fi
cd "$work"
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

"$sipwarden" run --log-level info > gateway.log 2>&1 &
gw=$!
pids+=("$gw")
for _ in $(seq 1 100); do
    grep -q 'serving with' gateway.log && break
    kill -0 "$gw" 2>/dev/null || { cat gateway.log >&2; echo "demo: sipwarden exited" >&2; exit 1; }
    sleep 0.1
done
grep -q 'serving with' gateway.log || { echo "demo: sipwarden did not start in 10 s" >&2; exit 1; }
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
# sipsak exits non-zero on anything but a 200: keep its output, not its status.
probe=$(timeout 5 sipsak -v -s sip:100@127.0.0.1:5060 --local-ip 127.0.0.9 2>&1 || true)
grep -m1 'SIP/2.0' <<< "$probe" | sed 's/^/  /' || echo "  (silence)"
echo "svcrack guesses the password of 1001 from 127.0.0.66 (about 15 s)..."
printf '%s\n' 1234 password 1001 qwerty loopback-demo-1001 > words.txt
# svcrack binds 0.0.0.0 (its -b is ignored): bind it to 127.0.0.66, not the PBX's 127.0.0.1.
HOME=$work timeout 30 /usr/bin/python3 - "$work/words.txt" > svcrack.out 2>&1 <<'PY' || true
import socket, sys
sys.path.insert(0, "/usr/share/sipvicious")
bind = socket.socket.bind
socket.socket.bind = lambda s, a: bind(s, ("127.0.0.66", a[1]) if a[0] in ("", "0.0.0.0") else a)
sys.argv = ["svcrack", "-u", "1001", "-d", sys.argv[1], "-P", "25166", "--maximumtime", "3",
            "udp://127.0.0.1:5060"]
from sipvicious import svcrack
svcrack.main()
PY
if grep -qE '^\| 1001' svcrack.out; then echo "  svcrack found the password!"; else echo "  svcrack found nothing"; fi
sleep 0.3
echo "the security log ($work/security.log; time, event, account and source of each line):"
sed -E 's/^(\[[^]]*\]).*SecurityEvent="([^"]*)"(.*AccountID="([^"]*)")?.*RemoteAddress="([^"]*)".*$/\1 \2 account "\4" from \5/' \
    security.log | cut -c1-170 | sed 's/^/  /'
echo "the ban list (sipwarden ban list):"
"$sipwarden" ban list | sed 's/^/  /'
kill -TERM "$gw"
wait "$gw" || true
exit "$rc"
