#!/usr/bin/env bash
# The run command of the README: installs what is missing, builds sipwarden (Release),
# and starts it in the foreground on its embedded defaults (examples/loopback.conf:
# gateway on 127.0.0.1:5060, PBX expected on 127.0.0.1:5090, trunk provider 127.0.0.2,
# SQLite and the security log in the current directory). Extra arguments go to
# `sipwarden run` (e.g. -c FILE). Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/deps.sh"
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DSW_BUILD_TESTS=OFF >/dev/null
cmake --build "$root/build/release" -j "$(nproc)" --target sipwarden >/dev/null
exec "$root/build/release/src/sipwarden" run "$@"
