#!/usr/bin/env bash
# Access-control benchmark (issue #3, Performance): sipwarden against Kamailio (auth +
# pike + permissions + an htable ban list), one worker each, on the same sipp load. Prints
# the CPU seconds per 100,000 packets dropped from a banned source and the packets one core
# drops per second, the CPU seconds per 10,000 digest challenge-response registrations,
# and the ratios; writes results.json.
#   bench/ban/run.sh [--quick] [--head] [--build DIR] [--sipwarden BIN] [options]
# Without --sipwarden, configures and builds DIR (default build/bench-ban) in Release mode
# from the working tree, or with --head (build/bench-ban-head) from a snapshot of the
# committed HEAD. Other options go to bench_ban.py (--help). Full run: about 10 minutes
# (3 rounds); --quick: about 2 (1 round).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib/build.sh
source "$here/../lib/build.sh"
bench_main ban "$here/bench_ban.py" "$@"
