#!/usr/bin/env bash
# `sipwarden lint` over the RFC 4475 torture messages: every file gets the verdict of
# expected.tsv, which must agree with the manifest (valid -> ok, invalid -> a reject code
# the RFC names or a drop), and the exit status follows the contract (0 / 1 / 2).
set -u
: "${SIPWARDEN:?path of the sipwarden binary}"
data=${SW_TESTDATA:-$(dirname "$0")/../../data}/rfc4475
here=$(cd "$(dirname "$0")" && pwd)
logs=${SW_IT_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

[ -f "$data/MANIFEST.tsv" ] || { echo "no test data at $data"; exit 1; }

# 1. expected.tsv agrees with the manifest, row for row.
declare -A want
while IFS=$'\t' read -r name verdict; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    want[$name]=$verdict
done < "$here/expected.tsv"
rows=0
while IFS=$'\t' read -r name _section _title expected response _reason; do
    [[ -z "$name" || "$name" == \#* || "$name" == name ]] && continue
    rows=$((rows + 1))
    verdict=${want[$name]:-}
    [ -n "$verdict" ] || { bad "$name: in the manifest but not in expected.tsv"; continue; }
    case $expected in
    valid) [ "$verdict" = ok ] || bad "$name: valid in the manifest, expected.tsv says $verdict" ;;
    invalid)
        if [ "$verdict" = drop ]; then
            [[ "$response" == *drop* ]] || bad "$name: manifest does not say drop ($response)"
        elif [[ "$response" != *"$verdict"* ]]; then
            bad "$name: $verdict is not a response the manifest names ($response)"
        fi ;;
    accept-with-care)
        # The verdict must be ok, drop, or a code the manifest names for some role.
        if [ "$verdict" != ok ] && [ "$verdict" != drop ] && [[ "$response" != *"$verdict"* ]]; then
            bad "$name: $verdict is not named by the manifest ($response)"
        fi ;;
    unreferenced) [ "$verdict" != ok ] || bad "$name: unreferenced file must not be ok" ;;
    *) bad "$name: unknown manifest class $expected" ;;
    esac
done < "$data/MANIFEST.tsv"
[ "$rows" = "${#want[@]}" ] || bad "manifest has $rows rows, expected.tsv ${#want[@]}"

# 2. The binary gives exactly those verdicts.
(cd "$data" && "$SIPWARDEN" lint ./*.dat) > "$logs/lint.out" 2> "$logs/lint.err"
rc=$?
[ $rc = 1 ] || bad "lint over all files exited $rc, want 1"
for name in "${!want[@]}"; do
    line=$(grep -F "./$name.dat: " "$logs/lint.out")
    case ${want[$name]} in
    ok) expect="./$name.dat: ok" ;;
    drop) expect="./$name.dat: drop" ;;
    *) expect="./$name.dat: reject ${want[$name]} " ;;
    esac
    [[ "$line" == "$expect"* ]] || bad "$name: got '$line', want '$expect...'"
done

# 3. Exit statuses: all ok -> 0, stdin, unreadable -> 2, unknown option -> 2.
"$SIPWARDEN" lint "$data/wsinv.dat" "$data/esc01.dat" > "$logs/ok.out" || bad "valid files did not exit 0"
out=$("$SIPWARDEN" lint < "$data/zeromf.dat"); rc=$?
[ $rc = 1 ] && [[ "$out" == "-: reject 483 "* ]] || bad "stdin: rc $rc '$out'"
"$SIPWARDEN" lint "$data/wsinv.dat" /nonexistent/file > /dev/null 2>&1; rc=$?
[ $rc = 2 ] || bad "unreadable file: rc $rc, want 2"
"$SIPWARDEN" lint --no-such-option > /dev/null 2>&1; rc=$?
[ $rc = 2 ] || bad "unknown option: rc $rc, want 2"
"$SIPWARDEN" lint --uas "$data/zeromf.dat" > /dev/null || bad "zeromf at a UAS should be ok"

[ $fail = 0 ] && echo "lint_torture: ${#want[@]} files ok"
exit $fail
