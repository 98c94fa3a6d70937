#!/usr/bin/env bash
# Call benchmark: the same sipp call load through sipwarden and through Kamailio, side by
# side (issue #2, Performance). Prints CPU seconds per 10,000 calls at a fixed rate and the
# highest call rate with no failed call for both, and the ratios; writes results.json.
#   bench/calls/run.sh [--quick] [--head] [--build DIR] [--sipwarden BIN] [options]
# Without --sipwarden, configures and builds DIR (default build/bench-calls) in Release
# mode from the working tree, or with --head from a snapshot of the committed HEAD (other
# engineers' uncommitted files then neither break nor change the measurement). Other
# options go to bench_calls.py (--help). Full run: about 10 minutes; --quick: about 3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=
bin=
head=0
args=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --sipwarden) bin=$2; shift 2 ;;
    --head) head=1; shift ;;
    *) args+=("$1"); shift ;;
    esac
done
commit=$(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown)
if [ -n "$bin" ]; then
    source_note="given binary $bin (repository at $commit)"
elif [ "$head" = 1 ]; then
    build=${build:-$root/build/bench-calls-head}
    # A fixed source path, so that the build directory is reused from run to run.
    src=/tmp/sipwarden-bench-calls-src
    rm -rf "$src"
    mkdir -p "$src"
    git -C "$root" archive HEAD | tar -x -C "$src"
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
    cmake --build "$build" --target sipwarden -j2 > /dev/null
    bin=$build/src/sipwarden
    source_note="HEAD $commit"
else
    build=${build:-$root/build/bench-calls}
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
    cmake --build "$build" --target sipwarden -j2 > /dev/null
    bin=$build/src/sipwarden
    dirty=$(git -C "$root" status --porcelain -- src 2> /dev/null | head -1)
    source_note="working tree at $commit${dirty:+ with uncommitted changes in src/}"
fi
for tool in sipp kamailio kamcmd python3; do
    command -v "$tool" > /dev/null || { echo "run.sh: $tool not installed" >&2; exit 2; }
done
# A Kamailio of the system would share the cores (and maybe the ports): refuse to measure.
if pgrep -x kamailio > /dev/null; then
    echo "run.sh: a kamailio process is already running; stop it first:" >&2
    pgrep -a -x kamailio >&2
    exit 2
fi
export SW_BENCH_SOURCE=$source_note
exec python3 "$here/bench_calls.py" --sipwarden "$bin" "${args[@]}"
