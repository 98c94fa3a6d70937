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
# One file per clang-tidy process: clang 14's analyzer keeps some checkers' function
# lookups (the va_list checker's among them) in static caches across translation units, so a
# batch of files could report a va_list leak on a call that merely reused a freed name.
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet 2>/dev/null
echo "tidy: ${#files[@]} files ok"
