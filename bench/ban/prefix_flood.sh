#!/usr/bin/env bash
# Issue #13: a flood from a banned IPv6 /64 whose sender rotates through the prefix's
# addresses. Where does it end, and what does the gateway's process pay per packet?
#   bench/ban/prefix_flood.sh --sipwarden BIN [--packets N] [--sources K] [--kernel-drop yes|no]
# In a network namespace of its own (removed at the end): the gateway listens on
# [2001:db8:5:5::1]:5060 with one worker, [ban] ipv6_prefix = 64, and 2001:db8:1:2::/64 is
# banned (`sipwarden ban add 2001:db8:1:2::`); then N OPTIONS (default 100000) are sent
# from K (default 256) addresses of that /64 (a local route for the /64 and IP_FREEBIND
# let one process send from all of them). Prints the gateway's CPU (user + system, from
# /proc) per packet, and where the packets ended: the socket filter's drops
# (sipwarden_kernel_drops_total{reason="banned"}) and the gate's
# (sipwarden_gate_packets_total{result="banned"}). The filter itself runs in softirq and
# is charged to no process: the flood holds a BPF_ENABLE_STATS descriptor, and the
# filter's own time per run (sipwarden_kernel_filter_run_nanoseconds_total / runs, two
# clock reads included) is printed too. Needs root (netns), python3, curl, libbpf.so.1.
set -euo pipefail
bin='' packets=100000 sources=256 kernel_drop=yes
while [ $# -gt 0 ]; do
    case $1 in
    --sipwarden) bin=$2; shift 2 ;;
    --packets) packets=$2; shift 2 ;;
    --sources) sources=$2; shift 2 ;;
    --kernel-drop) kernel_drop=$2; shift 2 ;;
    *) echo "prefix_flood.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || { echo "prefix_flood.sh: --sipwarden BIN is required" >&2; exit 2; }
[ "$packets" -le 1000000 ] || { echo "prefix_flood.sh: at most 1000000 packets" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

ns=sw-bench-pf-$$
dir=$(mktemp -d /tmp/sw-prefix-flood.XXXXXX)
gw_pid=''
cleanup() {
    if [ -n "$gw_pid" ]; then
        kill -TERM "$gw_pid" 2> /dev/null || true
        wait "$gw_pid" 2> /dev/null || true
    fi
    ip netns del "$ns" 2> /dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns ip -6 addr add 2001:db8:5:5::1/128 dev lo nodad
in_ns ip -6 route add local 2001:db8:1:2::/64 dev lo

cd "$dir"
cat > gw.conf << CONF
[general]
listen = udp:[2001:db8:5:5::1]:5060
workers = 1
[pbx]
address = udp:127.0.0.1:5090
[ban]
ipv6_prefix = 64
kernel_drop = $kernel_drop
[admin]
listen = 127.0.0.1:8080
CONF
ip netns exec "$ns" "$bin" run -c gw.conf > gateway.log 2>&1 &
gw_pid=$!
for _ in $(seq 1 100); do
    grep -q 'serving with' gateway.log && break
    sleep 0.05
done
grep -q 'serving with' gateway.log || { cat gateway.log >&2; exit 1; }
in_ns "$bin" ban add 2001:db8:1:2:: --time forever -c gw.conf > /dev/null

cpu_ticks() { awk '{print $14 + $15}' "/proc/$gw_pid/stat"; }
metric() {
    in_ns curl -sf http://127.0.0.1:8080/metrics | grep -F "$1 " | grep -v '^#' | awk '{print $2}'
}
sleep 1.5 # the metrics of the ban's own moment settle
before=$(cpu_ticks)
start_ns=$(date +%s%N)
in_ns timeout 120 python3 - "$packets" "$sources" << 'PY'
import ctypes, random, socket, sys
packets, sources = int(sys.argv[1]), int(sys.argv[2])
# While this descriptor is open the kernel times every BPF program (bench_ban.py's way).
try:
    stats_fd = ctypes.CDLL("libbpf.so.1").bpf_enable_stats(0)  # BPF_STATS_RUN_TIME
except OSError:
    stats_fd = -1
IP_FREEBIND = 15
socks = []
for i in range(sources):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
    s.bind((f"2001:db8:1:2:{random.getrandbits(16):x}:{random.getrandbits(16):x}::{i + 1:x}", 5070))
    socks.append(s)
msg = (b"OPTIONS sip:gw@[2001:db8:5:5::1] SIP/2.0\r\n"
       b"Via: SIP/2.0/UDP [2001:db8:1:2::1]:5070;branch=z9hG4bK-flood\r\n"
       b"Max-Forwards: 70\r\nFrom: <sip:f@[2001:db8:1:2::1]>;tag=1\r\n"
       b"To: <sip:gw@[2001:db8:5:5::1]>\r\nCall-ID: flood\r\nCSeq: 1 OPTIONS\r\n"
       b"Content-Length: 0\r\n\r\n")
dst = ("2001:db8:5:5::1", 5060)
for n in range(packets):
    socks[n % sources].sendto(msg, dst)
PY
end_ns=$(date +%s%N)
sleep 1.5 # the housekeeping thread refreshes the counters once a second
after=$(cpu_ticks)
tck=$(getconf CLK_TCK)
kernel=$(metric 'sipwarden_kernel_drops_total{reason="banned"}')
gate=$(metric 'sipwarden_gate_packets_total{result="banned"}')
runs=$(metric 'sipwarden_kernel_filter_runs_total')
run_ns=$(metric 'sipwarden_kernel_filter_run_nanoseconds_total')
python3 - "$packets" "$((after - before))" "$tck" "$((end_ns - start_ns))" "${kernel:-0}" \
    "${gate:-0}" "$kernel_drop" "$sources" "${runs:-0}" "${run_ns:-0}" << 'PY'
import sys
packets, ticks, tck, wall_ns, kernel, gate, kd, sources, runs, run_ns = sys.argv[1:]
cpu_s = int(ticks) / int(tck)
filter_ns = f"{int(run_ns) / int(runs):.0f}" if int(runs) > 0 else "-"

print(f"kernel_drop={kd} packets={packets} sources={sources} "
      f"send_s={int(wall_ns) / 1e9:.2f} gateway_cpu_s={cpu_s:.2f} "
      f"gateway_us_per_packet={cpu_s * 1e6 / int(packets):.2f} "
      f"kernel_drops={kernel} gate_drops={gate} filter_runs={runs} filter_ns_per_run={filter_ns}")
PY
