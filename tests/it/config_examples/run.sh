#!/usr/bin/env bash
# `sipwarden check-config` on the shipped examples and on broken files: exit codes, the
# file:line: key: form of messages, the private key check and --list-keys against keys.def.
# The asterisk example refers to key files under /etc/sipwarden: it is checked in a copy
# whose paths point into a temporary folder where the files get their real modes (git
# keeps no modes, and the test must not touch /etc).
set -u
: "${SIPWARDEN:?the built sipwarden binary}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
logs=${SW_IT_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
work=$(mktemp -d /tmp/sw-config-examples.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0

# expect NAME EXIT PATTERN -- ARGS...: runs check-config, checks the exit status and that
# stdout+stderr match the extended regular expression PATTERN (empty = no check).
expect() {
    local name=$1 want=$2 pattern=$3
    shift 4
    local out="$logs/$name.out"
    (cd "$work" && timeout 30 "$SIPWARDEN" check-config "$@") >"$out" 2>&1
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL $name: exit $got, expected $want"; sed 's/^/    /' "$out"; failed=1; return
    fi
    if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$out"; then
        echo "FAIL $name: no line matches /$pattern/"; sed 's/^/    /' "$out"; failed=1; return
    fi
    echo "ok   $name"
}

cp "$root/examples/loopback.conf" "$work/loopback.conf"
chmod 600 "$work/loopback.conf"
expect loopback 0 'loopback.conf: valid: 1 trunk, 1 account, 0 warnings' -- loopback.conf
expect default 0 'valid: 1 trunk, 1 account, 0 warnings' -- --default

mkdir -p "$work/etc/tls"
sed "s#/etc/sipwarden/#$work/etc/#g" "$root/examples/asterisk-behind-sipwarden.conf" \
    >"$work/asterisk.conf"
chmod 640 "$work/asterisk.conf"
printf 'certificate chain\n' >"$work/etc/tls/fullchain.pem"
chmod 644 "$work/etc/tls/fullchain.pem"
printf 'private key\n' >"$work/etc/tls/privkey.pem"
chmod 600 "$work/etc/tls/privkey.pem"
expect asterisk 0 'asterisk.conf: valid: 1 trunk, 2 accounts, 0 warnings' -- asterisk.conf

chmod 644 "$work/etc/tls/privkey.pem"
expect asterisk-open-key 1 \
    "^asterisk.conf:[0-9]+: tls.private_key: error: .*privkey.pem is accessible to group or others \(mode 644\): chmod 600 " \
    -- asterisk.conf
chmod 600 "$work/etc/tls/privkey.pem"

chmod 644 "$work/asterisk.conf"
expect asterisk-open-conf 0 '^asterisk.conf:[0-9]+: warning: the file holds secrets.*chmod o-rwx' \
    -- asterisk.conf

# The offline tools read the rules of a gateway whose TLS files live on another machine:
# the example as shipped (its /etc/sipwarden files absent here) is enough for them, while
# check-config (and run) still insist on the files.
cp "$root/examples/asterisk-behind-sipwarden.conf" "$work/elsewhere.conf"
chmod 600 "$work/elsewhere.conf"
if [ -e /etc/sipwarden/tls/privkey.pem ]; then
    echo "skip elsewhere-check-config: /etc/sipwarden/tls exists on this machine"
else
    expect elsewhere-check-config 1 \
        '^elsewhere.conf:[0-9]+: tls.private_key: error: cannot use /etc/sipwarden/tls/privkey.pem' \
        -- elsewhere.conf
fi
offline() { # offline NAME EXIT PATTERN -- ARGS...: like expect, for any subcommand
    local name=$1 want=$2 pattern=$3
    shift 4
    local out="$logs/$name.out"
    (cd "$work" && timeout 30 "$SIPWARDEN" "$@") >"$out" 2>&1
    local got=$?
    if [ "$got" != "$want" ] || ! grep -Eq -- "$pattern" "$out"; then
        echo "FAIL $name: exit $got (expected $want), or no line matches /$pattern/"
        sed 's/^/    /' "$out" | head -20; failed=1; return
    fi
    if grep -q 'cannot use' "$out"; then
        echo "FAIL $name: a missing TLS file was reported"; failed=1; return
    fi
    echo "ok   $name"
}
offline elsewhere-firewall 0 'tcp dport 5061' -- firewall --format nft -c elsewhere.conf
# exit 1: the example has findings (a FAIL); 2 would be an unreadable file.
offline elsewhere-audit 1 '^audit: [0-9]+ FAIL, [0-9]+ WARN, [0-9]+ PASS in 1 file' -- audit --format text elsewhere.conf

cat >"$work/broken.conf" <<'CONF'
[general]
wokers = 4
listen = udp:127.0.0.1:5060, tls:127.0.0.1
[trunk-a]
type = trunk
provider = udp:sip.example.com
CONF
expect broken-hint 1 "^broken.conf:2: general.wokers: error: unknown key; did you mean 'workers'\?" -- broken.conf
expect broken-tls 1 '^broken.conf:3: general.listen: error: a tls listener needs' -- broken.conf
expect broken-permit 1 '^broken.conf:4: trunk-a.permit: error: permit is required' -- broken.conf
expect broken-summary 1 'broken.conf: invalid: 3 errors' -- broken.conf
expect missing-file 1 'nonexistent.conf:0: error: cannot open' -- nonexistent.conf
expect no-argument 2 '^usage: sipwarden check-config' --
expect bad-option 2 "unknown option '--frobnicate'" -- --frobnicate

# --list-keys prints every key of keys.def exactly once per section.
(cd "$work" && "$SIPWARDEN" check-config --list-keys) >"$logs/list-keys.out" 2>&1
want=$(grep -c '^CFG_KEY' "$root/src/config/keys.def")
got=$(grep -Ec '^  [a-z0-9_]+ \(' "$logs/list-keys.out")
if [ "$want" != "$got" ]; then
    echo "FAIL list-keys: $got keys listed, keys.def has $want"; failed=1
else
    echo "ok   list-keys ($got keys)"
fi
for key in listen private_key hide_headers never_ban known_factor owned_numbers ha1_sha512_256; do
    if ! grep -Eq "^  $key \(" "$logs/list-keys.out"; then
        echo "FAIL list-keys: $key missing"; failed=1
    fi
done

exit $failed
