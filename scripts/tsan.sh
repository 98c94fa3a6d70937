#!/usr/bin/env bash
# Builds the unit tests of the threading primitives (base/workq.c, base/settab.c,
# state/shardtab.c) with ThreadSanitizer and runs them: the rest of the suite runs under
# ASan+UBSan, which cannot see data races. Each test is compiled with src/base and the few
# files it names, so this takes seconds, not a third build of the whole tree.
# Usage: scripts/tsan.sh [BUILD_DIR]   (default build/tsan; needs clang and cmocka)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/tsan}
mkdir -p "$out"
cflags=(-std=c17 -g -O1 -fsanitize=thread -fno-omit-frame-pointer -Wall -Wextra -Werror
        -D_GNU_SOURCE -I"$root/src" -I"$root/tests")
# src/base as an archive: a test pulls in only the objects it uses, so a base file with
# its own library (bpf_embed.c and libbpf) costs nothing here.
rm -rf "$out/base" && mkdir -p "$out/base"
for src in "$root"/src/base/*.c; do
    clang "${cflags[@]}" -c "$src" -o "$out/base/$(basename "$src" .c).o"
done
rm -f "$out/libbase.a"
ar rcs "$out/libbase.a" "$out"/base/*.o
# <layer>/<file>[:extra sources under src/, comma-separated]
tests=(base/workq base/settab state/shardtab:state/iptab.c,state/shardtab.c)
for entry in "${tests[@]}"; do
    spec=${entry%%:*}
    extra=()
    if [ "$entry" != "$spec" ]; then
        IFS=, read -r -a names <<< "${entry#*:}"
        for name in "${names[@]}"; do extra+=("$root/src/$name"); done
    fi
    exe="$out/test_${spec/\//_}"
    clang "${cflags[@]}" "$root/tests/unit/${spec%%/*}/test_${spec#*/}.c" "${extra[@]}" \
        "$out/libbase.a" -o "$exe" -lcmocka -lpthread -lm
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$exe"
done
echo "tsan: ok (${tests[*]%%:*})"
