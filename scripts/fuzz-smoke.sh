#!/usr/bin/env bash
# Runs every libFuzzer binary in BUILD_DIR/fuzz for SECONDS each, seeded with its corpus.
# New inputs go to a scratch folder, so the committed corpus stays reviewed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz-smoke.sh BUILD_DIR SECONDS}
seconds=${2:-20}
found=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    target=${bin##*/fuzz_}
    scratch=$(mktemp -d)
    # Its own dictionary, fuzz/<target>.dict, else the one of the layer it fuzzes (the
    # sw_<layer> its fuzz/targets/<target>.cmake links): fuzz/sip.dict for every sip target.
    layer=$(sed -n 's/.*sw_add_fuzz_target([^ ]* LINK sw_\([a-z_]*\).*/\1/p' \
        "fuzz/targets/$target.cmake" 2>/dev/null | head -1)
    dict=()
    for candidate in "fuzz/$target.dict" "fuzz/${layer:-none}.dict"; do
        if [ -f "$candidate" ]; then
            dict=(-dict="$candidate")
            break
        fi
    done
    echo "fuzz: $target for ${seconds}s${dict[0]:+ with ${dict[0]#-dict=}}"
    "$bin" "${dict[@]}" -max_total_time="$seconds" -max_len=65535 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/" "$scratch" "fuzz/corpus/$target" 2>&1 | tail -3
    rm -rf "$scratch"
    found=$((found + 1))
done
echo "fuzz: $found targets ok"
