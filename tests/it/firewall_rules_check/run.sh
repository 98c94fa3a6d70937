#!/usr/bin/env bash
# `sipwarden firewall` output is checked by the tools themselves: `nft -c -f` and
# `iptables-restore --test` / `ip6tables-restore --test`, then loaded for real, but only
# inside a private network namespace (unshare -n) so the host's rules are never touched.
set -u
: "${SIPWARDEN:?the built sipwarden binary}"
here=$(cd "$(dirname "$0")" && pwd)
logs=${SW_IT_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
work=$(mktemp -d /tmp/sw-firewall.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
ok() { echo "ok   $*"; }

if ! unshare -n true 2>/dev/null; then
    echo "SKIP: cannot create a network namespace (unshare -n)"
    exit 77
fi

cp "$here/../../fixtures/audit/keys/asterisk.pem" "$work/cert.pem"
cp "$here/../../fixtures/audit/keys/asterisk.key" "$work/key.pem"
chmod 600 "$work/key.pem"
for conf in full open; do
    sed "s|@DIR@|$work|g" "$here/$conf.conf" >"$work/$conf.conf"
    chmod 600 "$work/$conf.conf"
done

gen() { # gen CONF FORMAT OUT [args]
    local conf=$1 format=$2 out=$3
    shift 3
    timeout 20 "$SIPWARDEN" firewall --format "$format" -c "$work/$conf.conf" "$@" \
        >"$out" 2>"$out.err"
}

# 1. Every format of every configuration passes the tool's own check mode, then loads.
for conf in full open; do
    f="$logs/$conf.nft"
    if ! gen "$conf" nft "$f" --rtp-range 16384-32767; then
        fail "$conf nft: generation failed ($(cat "$f.err"))"
    elif ! unshare -n nft -c -f "$f" >"$f.check" 2>&1; then
        fail "$conf nft -c: $(cat "$f.check")"
    elif ! unshare -n sh -c "nft -f '$f' && nft -f '$f' && nft list ruleset" >"$f.loaded" 2>&1; then
        fail "$conf nft load (twice): $(cat "$f.loaded")"
    else
        ok "$conf nft (checked, loaded twice in a private namespace)"
    fi
    for fam in iptables ip6tables; do
        f="$logs/$conf.$fam"
        if ! gen "$conf" "$fam" "$f"; then
            fail "$conf $fam: generation failed ($(cat "$f.err"))"
        elif ! unshare -n "$fam-restore" --test --noflush "$f" >"$f.check" 2>&1; then
            fail "$conf $fam-restore --test: $(cat "$f.check")"
        elif ! unshare -n sh -c "$fam-restore --noflush '$f' && $fam -S" >"$f.loaded" 2>&1; then
            fail "$conf $fam load: $(cat "$f.loaded")"
        else
            ok "$conf $fam (checked, loaded in a private namespace)"
        fi
    done
done

# 2. What the rules say.
expect() { # expect FILE PATTERN WHAT
    if grep -qE -- "$2" "$1"; then ok "$3"; else fail "$3 (no /$2/ in $1)"; fi
}
reject() {
    if grep -qE -- "$2" "$1"; then fail "$3 (/$2/ in $1)"; else ok "$3"; fi
}
expect "$logs/full.nft.loaded" 'set banned6? ' "nft: the ban sets exist"
expect "$logs/full.nft.loaded" 'ip saddr @banned drop' "nft: banned IPv4 addresses dropped"
for range in 10.20.0.0/16 10.30.0.5/32 127.0.0.1/32 198.51.100.0/24; do
    expect "$logs/full.nft" "^ *(elements = \\{ )?${range//./\\.}(,| \\})" "nft: $range allowed"
done
[ "$(grep -c '10\.20\.0\.0/16' "$logs/full.nft")" = 1 ] && ok "nft: a range of two accounts listed once" ||
    fail "nft: 10.20.0.0/16 listed more than once"
expect "$logs/full.nft.loaded" '2001:db8:100::/48' "nft: the trunk's IPv6 range allowed"
expect "$logs/full.nft" 'udp dport 5060 ip saddr @sip_denied4 drop' "nft: [acl] deny dropped first"
expect "$logs/full.nft" 'tcp dport 5061 ip daddr 203\.0\.113\.5 ip saddr @sip_allowed4 accept' \
    "nft: the TLS listener on its own address"
expect "$logs/full.nft" 'udp dport 5060 limit rate .* log prefix "SIP-BLOCKED: "' "nft: drops logged"
expect "$logs/full.nft" 'udp dport 16384-32767 accept' "nft: --rtp-range opened"
expect "$logs/full.iptables" '^-A SIPWARDEN -p udp -m udp --dport 5060 -s 198\.51\.100\.0/24 -j ACCEPT$' \
    "iptables: the trunk range accepted"
expect "$logs/full.iptables" 'LOG --log-prefix "SIP-BLOCKED: "' "iptables: drops logged"
expect "$logs/full.iptables" '--dport 10000:20000 -j ACCEPT' "iptables: default RTP range"
reject "$logs/full.iptables" '2001:db8' "iptables: no IPv6 range in the IPv4 rules"
expect "$logs/full.ip6tables" '-s 2001:db8:100::/48 -j ACCEPT' "ip6tables: the IPv6 range accepted"
expect "$logs/open.nft.err" 'open to everyone' "open: warning on stderr"
expect "$logs/open.nft" '^        udp dport 5060 accept$' "open: the port accepts every source"
expect "$logs/open.nft" '^table ip filter \{' "open: the ban set in the configured table"
expect "$logs/open.nft.loaded" 'set sipwarden_bans' "open: the configured set name"
# With media anchored through rtpengine, its media range is opened, not the PBX's.
{
    cat "$work/full.conf"
    printf '[media]\nrtpengine = udp:127.0.0.1:2223\nrtp_port_min = 35000\nrtp_port_max = 35999\n'
} >"$work/media.conf"
chmod 600 "$work/media.conf"
f="$logs/media.nft"
if gen media nft "$f" && unshare -n nft -c -f "$f" >"$f.check" 2>&1; then
    expect "$f" 'udp dport 35000-35999 accept' "media: rtpengine's range opened"
    reject "$f" 'udp dport 10000-20000' "media: the PBX's range not opened"
else
    fail "media nft: $(cat "$f.err" "$f.check" 2>/dev/null)"
fi

# 3. Bad usage and bad configuration: exit 2 with a message, no rules.
"$SIPWARDEN" firewall -c "$work/full.conf" >/dev/null 2>&1
[ $? = 2 ] && ok "no --format: exit 2" || fail "no --format: not exit 2"
"$SIPWARDEN" firewall --format pf -c "$work/full.conf" >/dev/null 2>&1
[ $? = 2 ] && ok "unknown format: exit 2" || fail "unknown format: not exit 2"
"$SIPWARDEN" firewall --format nft -c "$work/full.conf" --rtp-range 20000-10000 >/dev/null 2>&1
[ $? = 2 ] && ok "reversed RTP range: exit 2" || fail "reversed RTP range: not exit 2"
out=$("$SIPWARDEN" firewall --format nft -c "$work/missing.conf" 2>&1 >/dev/null)
[ $? = 2 ] && [[ $out == *missing.conf* ]] && ok "missing configuration: exit 2 naming it" ||
    fail "missing configuration: $out"

echo "$failed failed"
[ "$failed" = 0 ]
