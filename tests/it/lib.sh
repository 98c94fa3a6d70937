# Shared helpers of the integration tests (sourced by tests/it/*/run.sh).
# Every test runs sipwarden and its peers on loopback only, bounds every loop in count and
# time, and stops what it started by PID.
set -euo pipefail

: "${SIPWARDEN:?SIPWARDEN must name the built sipwarden binary}"
IT_NAME=$(basename "$(dirname "$(readlink -f "$0")")")
IT_DIR=$(dirname "$(readlink -f "$0")")
IT_LOGS=${SW_IT_LOGS:-/tmp/sipwarden-it/$IT_NAME}
rm -rf "$IT_LOGS"
mkdir -p "$IT_LOGS"
cd "$IT_LOGS"

IT_PIDS=()
it_cleanup() {
    local pid
    for pid in "${IT_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
}
trap it_cleanup EXIT

it_log() { printf '[%s] %s\n' "$IT_NAME" "$*"; }
it_fail() {
    printf '[%s] FAIL: %s (logs in %s)\n' "$IT_NAME" "$*" "$IT_LOGS" >&2
    exit 1
}

# Waits up to SECONDS (default 3) for an extended regex in FILE: the gateway writes its
# logs from its event queue, a little after the packet that caused the event.
it_wait_grep() {
    local pattern=$1 file=$2 seconds=${3:-3} i
    for i in $(seq 1 $((seconds * 20))); do
        grep -qE -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# A free port on 127.0.0.1 for both UDP and TCP (asks the kernel, then releases it).
it_free_port() {
    python3 - <<'PY'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("0.0.0.0", port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    break
PY
}

# it_trunk_conf FILE TRANSPORT GW_PORT PBX_PORT PROVIDER_PORT [EXTRA_GENERAL_LINES]
# The usual test gateway: listens on 127.0.0.1, the PBX on 127.0.0.1, the trunk
# provider on 127.0.0.2 (its only permitted address), both reached over TRANSPORT. The
# file ends in the trunk's section: a test appends its own trunk keys and sections.
# The tests drive more calls a second than a trunk's default max_call_rate (10) allows:
# IT_TRUNK_CALL_RATE (default 1000) sets it.
it_trunk_conf() {
    local file=$1 t=$2 gw=$3 pbx=$4 prov=$5 extra=${6:-}
    cat > "$file" <<CONF
[general]
listen = $t:127.0.0.1:$gw
workers = 2
$extra
[pbx]
address = $t:127.0.0.1:$pbx
[provider]
type = trunk
provider = $t:127.0.0.2:$prov
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
max_call_rate = ${IT_TRUNK_CALL_RATE:-1000}
CONF
}

# it_start_gateway CONF: starts sipwarden in the background, waits until it serves.
it_start_gateway() {
    local conf=$1
    "$SIPWARDEN" run -c "$conf" > gateway.log 2>&1 &
    GW_PID=$!
    IT_PIDS+=("$GW_PID")
    local i
    for i in $(seq 1 100); do
        if grep -q 'serving with' gateway.log 2>/dev/null; then
            return 0
        fi
        kill -0 "$GW_PID" 2>/dev/null || { cat gateway.log >&2; it_fail "sipwarden exited at start"; }
        sleep 0.05
    done
    it_fail "sipwarden did not start within 5 s"
}

# it_stop_gateway: SIGTERM, and the exit must be clean.
it_stop_gateway() {
    kill -TERM "$GW_PID"
    local rc=0
    wait "$GW_PID" || rc=$?
    [ "$rc" = 0 ] || { tail -20 gateway.log >&2; it_fail "sipwarden exited with $rc"; }
    grep -q 'sipwarden: stopped' gateway.log || it_fail "no clean stop in gateway.log"
}

it_gateway_alive() {
    kill -0 "$GW_PID" 2>/dev/null || { tail -20 gateway.log >&2; it_fail "sipwarden died"; }
}

# it_sipp_stat FILE 'Successful call': the cumulative column of sipp's final statistics.
it_sipp_stat() {
    grep -E "^ +$2 +\|" "$1" | tail -1 | awk -F'|' '{gsub(/ /, "", $3); print $3}'
}

# it_start_tls_relay server|client ARGS...: tests/it/tools/tls_relay.py in the background
# (sipp has no TLS: a sipp talks TCP to the relay, the gateway sees real TLS), stopped by
# PID at exit; waits until it listens. ARGS as tls_relay.py documents them.
it_start_tls_relay() {
    local log="relay-$2-$3.log" i
    python3 "$IT_DIR/../tools/tls_relay.py" "$@" > "$log" 2>&1 &
    IT_PIDS+=("$!")
    for i in $(seq 1 50); do
        grep -q ready "$log" 2>/dev/null && return 0
        sleep 0.1
    done
    it_fail "TLS relay $* did not start"
}
