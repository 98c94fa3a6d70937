#!/usr/bin/env bash
# `sipwarden passwd` from the shell: gen, check and ha1 with their exit codes, the HA1
# values checked against testdata/digest/vectors.tsv rows.
set -u
: "${SIPWARDEN:?the built sipwarden binary}"
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
ok() { echo "ok   $*"; }
is() { # is WHAT EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

s=$("$SIPWARDEN" passwd gen)
is "gen: exit 0 and 24 characters" 24 "${#s}"
[[ $s =~ [a-z] && $s =~ [A-Z] && $s =~ [0-9] && $s =~ [\!@\#\$%^\&*] ]] && ok "gen: every class" ||
    fail "gen: a class is missing in '$s'"
[[ $s =~ ^[A-Za-z0-9\!@\#\$%^\&*]+$ ]] && ok "gen: only the documented alphabet" || fail "gen: '$s'"
s=$("$SIPWARDEN" passwd gen --length 16)
is "gen --length 16" 16 "${#s}"
"$SIPWARDEN" passwd gen --length 15 >/dev/null 2>&1
is "gen --length 15 refused" 2 $?
n=$(for _ in $(seq 200); do "$SIPWARDEN" passwd gen --length 16; done | sort -u | wc -l)
is "gen: 200 secrets, 200 different" 200 "$n"

echo 'Summer2023!Summer' | "$SIPWARDEN" passwd check >/dev/null
is "check: a pattern is weak (exit 1)" 1 $?
"$SIPWARDEN" passwd gen | "$SIPWARDEN" passwd check >/dev/null
is "check: a generated secret is strong (exit 0)" 0 $?
out=$(printf 'Kx9!mQ2@vL7#pR4$wT8^' | "$SIPWARDEN" passwd check)
[[ $out == *"verdict:  strong"* && $out == *"classes:  lower upper digit symbol"* ]] &&
    ok "check: report without a final newline on stdin" || fail "check: $out"
"$SIPWARDEN" passwd check </dev/null >/dev/null 2>&1
is "check: empty stdin (exit 2)" 2 $?
"$SIPWARDEN" passwd check 'secret-on-the-command-line' </dev/null >/dev/null 2>&1
is "check: a secret argument is refused (exit 2)" 2 $?
head -c 2000 /dev/zero | tr '\0' 'a' | "$SIPWARDEN" passwd check >/dev/null 2>&1
is "check: a secret over 1024 bytes is refused (exit 2)" 2 $?

is "ha1 MD5 (sipauth-3.x: bob/biloxi.com/zanzibar)" 12af60467a33e8518da5c68bbff12b11 \
    "$(printf 'zanzibar\n' | "$SIPWARDEN" passwd ha1 --user bob --realm biloxi.com)"
is "ha1 SHA-256 (jssip-sha256-auth)" cd32861acd6663d1cf8dcd38862a460d5f0dc815a4372bb14cb39c3e0063b3b6 \
    "$(printf 'testpassword' | "$SIPWARDEN" passwd ha1 --user testuser --realm testrealm@host.com --algorithm SHA-256)"
is "ha1 SHA-512-256 (erratum 4897, UTF-8 user)" 2d3d9f12c9f3d30011259dc5fecee005ae24de40e3e1f61806d03e65f1e6024f \
    "$(printf 'Secret, or not?\n' | "$SIPWARDEN" passwd ha1 --user 'Jäsøn Doe' --realm api@example.org --algorithm SHA-512-256)"
printf 'x\n' | "$SIPWARDEN" passwd ha1 --user u >/dev/null 2>&1
is "ha1 without --realm (exit 2)" 2 $?
printf 'x\n' | "$SIPWARDEN" passwd ha1 --user u --realm r --algorithm SHA-1 >/dev/null 2>&1
is "ha1 with an unknown algorithm (exit 2)" 2 $?

echo "$failed failed"
[ "$failed" = 0 ]
