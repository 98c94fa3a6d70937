#!/usr/bin/env bash
# Every header compiles on its own (STYLE.md §2: headers are self-contained).
set -u
src=${1:?usage: headers.sh SRC_DIR CC}
cc=${2:-cc}
flags=$(pkg-config --cflags openssl jansson sqlite3 libcurl hiredis libmicrohttpd inih 2>/dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
count=0
while IFS= read -r header; do
    rel=${header#"$src"/}
    printf '#include "%s"\n#include "%s"\n' "$rel" "$rel" > "$tmp/t.c"
    # shellcheck disable=SC2086
    if ! "$cc" -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$src" $flags -fsyntax-only "$tmp/t.c" 2> "$tmp/err"; then
        echo "$rel: not self-contained"; sed 's/^/    /' "$tmp/err" | head -20; bad=1
    fi
    count=$((count + 1))
done < <(find "$src" -name '*.h' | sort)
[ $bad = 0 ] && echo "headers: $count ok"
exit $bad
