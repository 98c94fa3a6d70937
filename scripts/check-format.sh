#!/usr/bin/env bash
# clang-format --dry-run -Werror on every C file we own.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
if [ ${#files[@]} -eq 0 ]; then
    echo "format: no files"; exit 0
fi
clang-format --dry-run -Werror "${files[@]}"
echo "format: ${#files[@]} files ok"
