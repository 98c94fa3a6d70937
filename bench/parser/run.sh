#!/usr/bin/env bash
# Parser benchmark: messages/s for sipwarden and libosip2 side by side, then the
# instructions per message of each (callgrind, counting only the *_loop functions).
#   bench/parser/run.sh [BUILD_DIR] [N]     (defaults: build/bench, 1000000)
# Configures and builds BUILD_DIR in Release mode when it has no bench_parser yet.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/bench}
n=${2:-1000000}
cg_n=20000
bin=$build/bench/parser/bench_parser
if [ ! -x "$bin" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
    cmake --build "$build" --target bench_parser -j2 > /dev/null
fi

echo "== throughput, one core, N=$n"
"$bin" -n "$n"

if ! command -v valgrind > /dev/null; then
    echo "valgrind not installed: no instruction counts"
    exit 0
fi
echo "== instructions per message (callgrind, N=$cg_n)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for msg in invite register; do
    line="$msg"
    for parser in sw osip; do
        fn=${parser}_loop
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$parser.$msg" \
            --toggle-collect="$fn" "$bin" -n "$cg_n" --only "$parser" --msg "$msg" \
            > /dev/null 2> "$tmp/log"
        total=$(grep -E '^summary:|^totals:' "$tmp/cg.$parser.$msg" | head -1 | awk '{print $2}')
        per=$((total / cg_n))
        eval "ir_$parser=$per"
        line="$line  $parser $per"
    done
    # shellcheck disable=SC2154
    ratio=$(awk -v a="$ir_osip" -v b="$ir_sw" 'BEGIN { printf "%.1f", a / b }')
    printf '%-9s sipwarden %6d instr/msg   libosip2 %6d instr/msg   ratio %sx\n' \
        "$msg" "$ir_sw" "$ir_osip" "$ratio"
done
