#!/usr/bin/env bash
# Runs every libFuzzer binary in BUILD_DIR/fuzz for SECONDS each, seeded with its corpus.
# New inputs go to a scratch folder, so the committed corpus stays reviewed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz-smoke.sh BUILD_DIR SECONDS}
seconds=${2:-20}
found=0
failed=0
logs=$(mktemp -d)
# One target per core at a time: each runs alone on its core for its seconds.
slots=$(nproc)
fuzz_one() { # bin target: one target's run, its last lines in $logs/target.log
    local bin=$1 target=$2 scratch layer candidate
    scratch=$(mktemp -d)
    # Its own dictionary, fuzz/<target>.dict, else the one of the layer it fuzzes (the
    # sw_<layer> its fuzz/targets/<target>.cmake links): fuzz/sip.dict for every sip target.
    layer=$(sed -n 's/.*sw_add_fuzz_target([^ ]* LINK sw_\([a-z_]*\).*/\1/p' \
        "fuzz/targets/$target.cmake" 2>/dev/null | head -1)
    local dict=()
    for candidate in "fuzz/$target.dict" "fuzz/${layer:-none}.dict"; do
        if [ -f "$candidate" ]; then
            dict=(-dict="$candidate")
            break
        fi
    done
    echo "fuzz: $target for ${seconds}s${dict[0]:+ with ${dict[0]#-dict=}}"
    local rc=0
    "$bin" "${dict[@]}" -max_total_time="$seconds" -max_len=65535 -rss_limit_mb=2048 \
        -artifact_prefix="$scratch/" "$scratch" "fuzz/corpus/$target" > "$scratch/out" 2>&1 || rc=$?
    tail -3 "$scratch/out"
    if [ "$rc" != 0 ]; then
        echo "fuzz: $target FAILED (exit $rc); its output:"
        tail -60 "$scratch/out"
        ls -l "$scratch"
    fi
    rm -rf "$scratch"
    return "$rc"
}
pids=()
names=()
for bin in "$build"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    target=${bin##*/fuzz_}
    while [ "$(jobs -rp | wc -l)" -ge "$slots" ]; do
        wait -n || true
    done
    fuzz_one "$bin" "$target" > "$logs/$target.log" 2>&1 &
    pids+=($!)
    names+=("$target")
    found=$((found + 1))
done
for i in "${!pids[@]}"; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    cat "$logs/${names[$i]}.log"
    [ "$rc" = 0 ] || failed=$((failed + 1))
done
rm -rf "$logs"
if [ "$failed" != 0 ]; then
    echo "fuzz: $failed of $found targets failed"
    exit 1
fi
echo "fuzz: $found targets ok"
