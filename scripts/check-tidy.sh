#!/usr/bin/env bash
# clang-tidy over the sources in the compile database of BUILD_DIR (files under src/).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: check-tidy.sh BUILD_DIR}
# *.bpf.c: BPF programs, compiled by clang -target bpf outside the compile database (their
# checker is the kernel's verifier).
mapfile -t files < <(git ls-files -co --exclude-standard -- 'src/*.c' ':!:*.bpf.c' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
if [ ${#files[@]} -eq 0 ]; then
    echo "tidy: no files"; exit 0
fi
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 8 clang-tidy -p "$build" --quiet 2>/dev/null
echo "tidy: ${#files[@]} files ok"
