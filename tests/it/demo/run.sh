#!/usr/bin/env bash
# The README's demo (scripts/demo.sh) with the built binary: the provider's 5 calls pass,
# svcrack from 127.0.0.66 finds nothing and is banned after at most 3 failed password
# attempts, and the security log and the ban list the demo prints show 127.0.0.66. The
# demo runs on the embedded default configuration, so on fixed ports (127.0.0.1:5060,
# 5090, 8080...): when one is taken the demo exits 3 at once and this test fails saying
# which. Bounded by timeout; afterwards the demo's ports must be free again (it stopped
# the gateway and the PBX stand-in it started).
source "$(dirname "$0")/../lib.sh"

DEMO=$IT_DIR/../../../scripts/demo.sh
demo_dir=$IT_LOGS/demo
rc=0
SIPWARDEN_BIN=$SIPWARDEN SIPWARDEN_DEMO_DIR=$demo_dir timeout -k 5 60 bash "$DEMO" \
    > demo.out 2> demo.err || rc=$?
sed 's/^/  | /' demo.out
if [ "$rc" = 3 ]; then
    it_fail "the demo's ports are taken: $(cat demo.err)"
fi
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    it_fail "the demo did not finish within 60 s"
fi
[ "$rc" = 0 ] || { cat demo.err >&2; it_fail "the demo exited with $rc"; }

# 1. The calls passed.
ok=$(it_sipp_stat "$demo_dir/provider.out" 'Successful call')
failed=$(it_sipp_stat "$demo_dir/provider.out" 'Failed call')
it_log "calls: successful=$ok failed=$failed"
if [ "$ok" != 5 ] || [ "$failed" != 0 ]; then
    it_fail "expected 5 successful calls and 0 failed"
fi

# 2. svcrack found nothing.
grep -q '^  svcrack found nothing$' demo.out || it_fail "the demo does not say svcrack found nothing"
if grep -qE '^\| 1001' "$demo_dir/svcrack.out"; then
    it_fail "svcrack found the password"
fi

# 3. Banned after at most 3 failed attempts: the failures logged for 127.0.0.66.
seclog=$demo_dir/security.log
attacker='RemoteAddress="IPV4/UDP/127.0.0.66/'
failures=$(grep -E 'SecurityEvent="(InvalidPassword|ChallengeResponseFailed)"' "$seclog" |
    grep -c "$attacker" || true)
reason=$(grep 'SecurityEvent="BanAdded"' "$seclog" | grep "$attacker" |
    sed -nE 's/.*reason=([^",]*).*/\1/p' | head -1)
it_log "127.0.0.66: $failures failed password attempt(s) logged, banned for ${reason:-?}"
[ -n "$reason" ] || it_fail "no BanAdded event for 127.0.0.66 in the security log"
[ "$failures" -le 3 ] || it_fail "127.0.0.66 was not banned within 3 failed attempts ($failures)"

# 4. What the demo showed: the security log and the ban list name the attacker.
sed -n '/^the security log/,/^the ban list/p' demo.out | grep -q '127\.0\.0\.66' ||
    it_fail "the security log the demo prints does not show 127.0.0.66"
sed -n '/^the ban list/,$p' demo.out | grep -qE '^  127\.0\.0\.66 ' ||
    it_fail "the ban list the demo prints does not show 127.0.0.66"

# 5. The gateway stopped cleanly (no sanitizer report) and every port is free again.
grep -q 'sipwarden: stopped' "$demo_dir/gateway.log" || it_fail "the demo's gateway did not stop cleanly"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$demo_dir/gateway.log"; then
    it_fail "sanitizer report in the demo's gateway.log"
fi
busy=
for _ in $(seq 1 50); do
    busy=$(ss -Hlnu 'sport = :5060 or sport = :5090 or sport = :5062 or sport = :25166'
        ss -Hlnt 'sport = :5060 or sport = :8080')
    [ -z "$busy" ] && break
    sleep 0.1
done
[ -z "$busy" ] || it_fail "ports still in use after the demo: $busy"
it_log "ok"
