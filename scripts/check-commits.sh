#!/usr/bin/env bash
# Every commit subject reads "area: imperative summary" within 72 characters (STYLE.md §16).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --verify -q HEAD >/dev/null; then
    echo "commits: none yet"; exit 0
fi
exceptions=$(grep -v '^#' .ci/commit-subject-exceptions 2>/dev/null || true)
bad=0
while IFS= read -r line; do
    sha=${line%% *}
    subject=${line#* }
    if grep -qx "$sha" <<<"$exceptions"; then
        continue
    fi
    if ! [[ $subject =~ ^[a-z0-9/_-]+:\  ]] || [ ${#subject} -gt 72 ]; then
        echo "commit ${sha:0:12}: bad subject: $subject"; bad=1
    fi
done < <(git log --no-merges --format='%H %s')
[ $bad = 0 ] && echo "commits: ok"
exit $bad
