#!/usr/bin/env bash
# `sipwarden account rotate`: a phone registers with its secret, the operator rotates the
# account's secret while the gateway runs; the file keeps its comments, mode and other
# lines, holds HA1s instead of the secret, the daemon reloads through its pidfile, and
# from then on the old secret is refused while the new one (printed once) registers.
source "$(dirname "$0")/../lib.sh"

OLD='Str0ng-1001-xQ7v'
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
phone_port=$(it_free_port)
cat > gw.conf <<CONF
; gateway of the rotation test
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
pidfile = $IT_LOGS/gw.pid
[pbx]
address = udp:127.0.0.1:$pbx_port
[auth]
realm = rotate.test
algorithms = MD5, SHA-256
[1001]
type = account
; the phone at the front desk
secret = $OLD
max_calls = 2
[1002]
type = account
secret = Other-1002-secret-Zq9
CONF
chmod 600 gw.conf
it_start_gateway gw.conf
it_wait_grep '^[0-9]+$' gw.pid 5 || it_fail "no pidfile"

# register NAME IP SECRET: one REGISTER of 1001 from IP; sipsak's exit status is returned.
register() {
    local name=$1 ip=$2 secret=$3 rc=0
    timeout 10 sipsak -U -C "sip:1001@$ip:$phone_port" -s "sip:1001@127.0.0.1:$gw_port" \
        -u 1001 -a "$secret" -H "$ip" --local-ip "$ip" -l "$phone_port" -S -x 120 \
        > "sipsak-$name.out" 2>&1 || rc=$?
    it_log "$name: sipsak rc=$rc"
    return "$rc"
}

# The PBX's registrar answers the two registrations that must reach it.
timeout 40 sipp -sf "$IT_DIR/../remote_account/pbx-registrar.xml" -i 127.0.0.1 -p "$pbx_port" \
    -m 2 -nostdin -timeout 35s > pbx.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
register before 127.0.0.5 "$OLD" || it_fail "the old secret did not register before the rotation"

NEW=$("$SIPWARDEN" account rotate 1001 -c gw.conf 2> rotate.err) || it_fail "rotate: $(cat rotate.err)"
[ "$(wc -l <<< "$NEW")" = 1 ] && [ "${#NEW}" -ge 16 ] || it_fail "rotate printed no secret"
grep -q 'asked the daemon (pid [0-9]*) to reload' rotate.err || it_fail "no reload: $(cat rotate.err)"
it_wait_grep 'reload: configuration reloaded' gateway.log 10 || it_fail "the gateway did not reload"

# The file: same mode, comments and other accounts kept, HA1s of the new secret, no secret.
[ "$(stat -c %a gw.conf)" = 600 ] || it_fail "the mode of the file changed"
grep -qx '; the phone at the front desk' gw.conf || it_fail "a comment was lost"
grep -qx 'secret = Other-1002-secret-Zq9' gw.conf || it_fail "the other account changed"
grep -qF "$OLD" gw.conf && it_fail "the old secret is still in the file"
grep -qF "$NEW" gw.conf && it_fail "the new secret was written in clear"
md5=$(printf '1001:rotate.test:%s' "$NEW" | md5sum | cut -d' ' -f1)
sha=$(printf '1001:rotate.test:%s' "$NEW" | sha256sum | cut -d' ' -f1)
grep -qx "ha1 = $md5" gw.conf || it_fail "no MD5 HA1 of the new secret"
grep -qx "ha1_sha256 = $sha" gw.conf || it_fail "no SHA-256 HA1 of the new secret"
grep -qx "rotated = $(date -u +%F)" gw.conf || it_fail "no rotated date"
"$SIPWARDEN" check-config gw.conf > check.out 2>&1 || it_fail "check-config: $(cat check.out)"

# The old secret is refused from now on; the new one registers.
if register old-after 127.0.0.6 "$OLD"; then
    it_fail "the old secret still registers after the rotation"
fi
it_wait_grep 'SecurityEvent="InvalidPassword".*AccountID="1001"' security.log ||
    it_fail "no InvalidPassword event for the old secret"
register new-after 127.0.0.5 "$NEW" || it_fail "the new secret does not register"
wait "$pbx" || it_fail "the PBX did not get both registrations"

# Bad use: an unknown account or no account changes nothing.
cp gw.conf before.conf
rc=0
"$SIPWARDEN" account rotate nobody -c gw.conf > unknown.out 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "has no account 'nobody'" unknown.out || it_fail "unknown account: rc $rc"
rc=0
"$SIPWARDEN" account rotate -c gw.conf > usage.out 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q '^usage: sipwarden account rotate' usage.out || it_fail "usage: rc $rc"
cmp -s gw.conf before.conf || it_fail "a refused rotation changed the file"
it_gateway_alive
it_stop_gateway
it_log "ok"
