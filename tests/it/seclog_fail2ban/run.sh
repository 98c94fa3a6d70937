#!/usr/bin/env bash
# The security log works with the fail2ban filters operators already have, and crafted
# values cannot make a filter ban an address of the attacker's choosing.
#
# tests/programs/seclog_sample writes every event kind through obs/seclog (plus every
# failure kind with injection attempts in every attacker-written field: quotes, a fake
# RemoteAddress of 10.0.0.1, CR/LF with a forged line, NUL, backslashes). fail2ban-regex
# then runs with fail2ban's shipped asterisk filter and with the runbook filter
# (tests/fixtures/fail2ban/runbook.conf): every failure event must match with its own
# address, in order, nothing else may match, and 10.0.0.1 must never appear.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
: "${SIPWARDEN:?set SIPWARDEN to the built sipwarden (CTest does)}"
# Helper programs live in <build>/tests/programs; find <build> from the binary or the logs.
programs=${SW_PROGRAMS:-}
if [ -z "$programs" ]; then
    for candidate in "$(dirname "$SIPWARDEN")" "$(dirname "$SIPWARDEN")/.." \
                     "${SW_IT_LOGS:-/nonexistent}/../.."; do
        if [ -x "$candidate/tests/programs/seclog_sample" ]; then
            programs=$(cd "$candidate/tests/programs" && pwd)
            break
        fi
    done
fi
programs=${programs:-$(dirname "$SIPWARDEN")/tests/programs}
sample=$programs/seclog_sample
logs=${SW_IT_LOGS:-$(mktemp -d /tmp/sw-it-seclog-XXXXXX)}
mkdir -p "$logs"
# fail2ban-regex needs a path with a '/', or it takes the argument as a regex.
log=$(cd "$logs" && pwd)/security.log
shipped=/etc/fail2ban/filter.d/asterisk.conf
runbook=$src/tests/fixtures/fail2ban/runbook.conf
runbook_host=$src/tests/fixtures/fail2ban/runbook-host.conf

fail() { echo "seclog_fail2ban: FAIL: $*" >&2; exit 1; }

[ -x "$sample" ] || fail "missing $sample (build target seclog_sample)"
command -v fail2ban-regex > /dev/null || fail "fail2ban-regex not installed"
[ -r "$shipped" ] || fail "missing $shipped"

rm -f "$log"
"$sample" "$log" asterisk > "$logs/expected.txt"
events=$(wc -l < "$logs/expected.txt")
lines=$(wc -l < "$log")
[ "$events" -gt 0 ] || fail "the sample wrote nothing"
[ "$lines" = "$events" ] || fail "$lines log lines for $events events (a value split a line?)"

# Every line: one date prefix, one SECURITY[pid] prefix, one quoted SecurityEvent.
bad=$(grep -vcE '^\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\] SECURITY\[[0-9]+\] res_security_log\.c: SecurityEvent="[A-Za-z]+",' "$log" || true)
[ "$bad" = 0 ] || fail "$bad lines without the Asterisk prefix"
multi=$(grep -o 'RemoteAddress="' "$log" | wc -l)
[ "$multi" = "$lines" ] || fail "$multi quoted RemoteAddress fields in $lines lines"

failure_kinds='^(FailedACL|InvalidAccountID|ChallengeResponseFailed|InvalidPassword) '
grep -E "$failure_kinds" "$logs/expected.txt" | awk '{print $2}' > "$logs/want-shipped.txt"
grep -E "$failure_kinds" "$logs/expected.txt" | awk '$2 !~ /:/ {print $2}' > "$logs/want-runbook.txt"
injections=$(awk '$3 == 1' "$logs/expected.txt" | wc -l)
[ "$injections" -ge 20 ] || fail "only $injections injection events written"

check_filter() { # name filter want-file
    local name=$1 filter=$2 want=$3
    fail2ban-regex -o ip "$log" "$filter" > "$logs/got-$name.txt" 2> "$logs/got-$name.err" ||
        fail "$name: fail2ban-regex failed: $(cat "$logs/got-$name.err")"
    if grep -q '10\.0\.0\.1' "$logs/got-$name.txt"; then
        fail "$name: the injected address 10.0.0.1 was extracted"
    fi
    diff -u "$want" "$logs/got-$name.txt" > "$logs/diff-$name.txt" ||
        fail "$name: addresses differ from the failure events (see $logs/diff-$name.txt)"
    # The server ignores lines whose date it cannot read: every line must give its date.
    fail2ban-regex "$log" "$filter" > "$logs/verbose-$name.txt" 2>&1 || true
    grep -qE "^\|  \[$lines\] \{\^LN-BEG\}" "$logs/verbose-$name.txt" ||
        fail "$name: not every line has a date fail2ban reads at the line start"
    grep -qE "^Lines: $lines lines, 0 ignored, $(wc -l < "$want") matched" "$logs/verbose-$name.txt" ||
        fail "$name: unexpected match count: $(grep '^Lines:' "$logs/verbose-$name.txt")"
    echo "seclog_fail2ban: $name: $(wc -l < "$want") of $lines lines matched, addresses right"
}

check_filter shipped "$shipped" "$logs/want-shipped.txt"
check_filter runbook "$runbook" "$logs/want-runbook.txt"

# The runbook as printed (group "host") does not load in fail2ban 1.0.
if fail2ban-regex "$log" "$runbook_host" > "$logs/runbook-host.txt" 2>&1; then
    fail "the runbook filter with (?P<host>) loaded; update the fixture notes"
fi
grep -q 'No failure-id group' "$logs/runbook-host.txt" || fail "runbook-host: unexpected error"

# JSON lines: one valid object per event, the injected quotes kept inside strings.
rm -f "$log.json"
"$sample" "$log.json" json > /dev/null
[ "$(wc -l < "$log.json")" = "$events" ] || fail "json: line count differs"
while IFS= read -r line; do
    printf '%s' "$line" | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["remote"].count("/")==3' ||
        fail "json: bad line: $line"
done < "$log.json"
echo "seclog_fail2ban: ok ($events events, $injections injection attempts)"
