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
    dict=()
    [ -f "fuzz/$target.dict" ] && dict=(-dict="fuzz/$target.dict")
    echo "fuzz: $target for ${seconds}s"
    "$bin" "${dict[@]}" -max_total_time="$seconds" -max_len=65535 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/" "$scratch" "fuzz/corpus/$target" 2>&1 | tail -3
    rm -rf "$scratch"
    found=$((found + 1))
done
echo "fuzz: $found targets ok"
