#!/usr/bin/env bash
# Fails when a layer includes a layer above it (DESIGN.md: base <- sip <- net/call <- policy
# <- obs <- main). Same-rank layers may not include each other either.
set -u
src=${1:?usage: layers.sh SRC_DIR}
declare -A rank=([base]=0 [sip]=1 [config]=1 [number]=1 [stir]=2 [state]=2 [net]=2 [call]=3 [policy]=4
                 [obs]=5 [gateway]=6 [tools]=6 [main]=7)
bad=0
while IFS= read -r file; do
    rel=${file#"$src"/}
    layer=${rel%%/*}
    [ "$rel" = main.c ] && layer=main
    [ -n "${rank[$layer]:-}" ] || { echo "$rel: unknown layer '$layer' (add it to tests/lint/layers.sh)"; bad=1; continue; }
    while IFS= read -r inc; do
        target=${inc%%/*}
        [ "$target" = "$layer" ] && continue
        if [ -z "${rank[$target]:-}" ]; then
            echo "$rel: includes \"$inc\" from unknown layer '$target'"; bad=1
        elif [ "${rank[$target]}" -ge "${rank[$layer]}" ]; then
            echo "$rel: layer '$layer' must not include \"$inc\" (layer '$target' is not below it)"; bad=1
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
    if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"\.\./' "$file"; then
        echo "$rel: includes with ../ (includes are rooted at src/)"; bad=1
    fi
done < <(find "$src" -name '*.[ch]' | sort)
[ $bad = 0 ] && echo "layers: ok"
exit $bad
