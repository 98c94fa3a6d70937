#!/usr/bin/env bash
# Call benchmark: the same sipp call load through sipwarden and through Kamailio, side by
# side (issue #2, Performance). Prints CPU seconds per 10,000 calls at a fixed rate and the
# highest call rate with no failed call for both, and the ratios; writes results.json.
#   bench/calls/run.sh [--quick] [--build DIR] [--sipwarden BIN] [bench_calls.py options]
# Without --sipwarden, configures and builds DIR (default build/bench-calls) in Release
# mode. Full run: about 12 minutes; --quick: about 3. See bench/calls/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build/bench-calls
bin=
args=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --sipwarden) bin=$2; shift 2 ;;
    *) args+=("$1"); shift ;;
    esac
done
if [ -z "$bin" ]; then
    bin=$build/src/sipwarden
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
    cmake --build "$build" --target sipwarden -j2 > /dev/null
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
exec python3 "$here/bench_calls.py" --sipwarden "$bin" "${args[@]}"
