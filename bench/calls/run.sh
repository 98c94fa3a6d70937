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
# shellcheck source=bench/lib/build.sh
source "$here/../lib/build.sh"
bench_main calls "$here/bench_calls.py" "$@"
