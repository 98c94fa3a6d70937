#!/usr/bin/env bash
# svcrack against account 1001 (weak password 1234, in the 1,000-word list at position 235):
#  - positive control: the same svcrack run cracks it against a weak registrar that
#    challenges with qop="auth" (tools/weak_registrar.py), so the tool works here;
#  - through the gateway with scanner detection on: banned at its first REGISTER
#    (svcrack's fixed From tag and Contact), never cracked;
#  - with scanner detection off: banned after exactly 3 failed guesses (maxretry 3), never
#    cracked, while a sipp caller from the provider completes its calls.
# svcrack binds 0.0.0.0, so its packets come from 127.0.0.1: the PBX and the provider sit
# on other loopback addresses, and 127.0.0.1 is a stranger here.
source "$(dirname "$0")/../lib.sh"

CALLS=${CALLS:-20}
tools=$IT_DIR/../tools
export HOME=$IT_LOGS
seq 1000 1999 > words.txt
grep -qx 1234 words.txt

reg_port=$(it_free_port)
python3 "$tools/weak_registrar.py" "$reg_port" --user 1001:1234 --seconds 60 &
IT_PIDS+=("$!")
sleep 0.3
timeout 60 /usr/bin/svcrack -u 1001 -d words.txt -P "$(it_free_port)" --maximumtime 3 \
    "udp://127.0.0.1:$reg_port" > control.out 2> control.err || true
grep -qE '^\| 1001 +\| 1234 +\|' control.out || it_fail "positive control: svcrack did not crack the weak registrar"
it_log "positive control: svcrack cracks 1001/1234 against the weak registrar"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
write_conf() { # file scanner-enabled suffix
    cat > "$1" <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
control_socket = gw-$3.ctl
[admin]
listen =
[log]
security_log = security-$3.log
[state]
path = bans-$3.db
[scanner]
enabled = $2
[pbx]
address = udp:127.0.0.5:$pbx_port
[provider]
type = trunk
max_call_rate = 1000
max_calls = 1000
provider = udp:127.0.0.3:$prov_port
permit = 127.0.0.3/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
[1001]
type = account
secret = 1234
CONF
}

# Run A: the scanner stage sees svcrack's first REGISTER.
write_conf gw-a.conf yes a
it_start_gateway gw-a.conf
timeout 60 /usr/bin/svcrack -u 1001 -d words.txt -P "$(it_free_port)" --maximumtime 3 \
    "udp://127.0.0.1:$gw_port" > crack-a.out 2> crack-a.err || true
if grep -E '^\| [0-9]' crack-a.out; then
    it_fail "svcrack found a password through the gateway (scanner on)"
fi
sleep 0.3
grep -q 'SecurityEvent="ScannerDetected".*RemoteAddress="IPV4/UDP/127.0.0.1/' security-a.log ||
    it_fail "svcrack was not recognised"
if grep -q 'SecurityEvent="InvalidPassword"' security-a.log; then
    it_fail "a guess reached the auth stage although the first REGISTER banned svcrack"
fi
it_stop_gateway
it_log "scanner on: svcrack banned at its first REGISTER, nothing cracked"

# Run B: no scanner stage; the failure tracker bans after 3 guesses.
write_conf gw-b.conf no b
mv gateway.log gateway-a.log
it_start_gateway gw-b.conf
timeout 60 sipp -sn uas -i 127.0.0.5 -p "$pbx_port" -m "$CALLS" -nostdin -timeout 50s \
    > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 60 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230010 -i 127.0.0.3 -p "$prov_port" -m "$CALLS" -r 5 \
    -d 200 -nostdin -timeout 50s -timeout_error > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")
timeout 60 /usr/bin/svcrack -u 1001 -d words.txt -P "$(it_free_port)" --maximumtime 3 \
    "udp://127.0.0.1:$gw_port" > crack-b.out 2> crack-b.err || true
uac_rc=0
wait "$uac" || uac_rc=$?
wait "$uas" || true
ok=$(it_sipp_stat uac.out 'Successful call')
failed=$(it_sipp_stat uac.out 'Failed call')
it_log "provider calls during svcrack: rc=$uac_rc successful=$ok failed=$failed"
[ "$uac_rc" = 0 ] && [ "$ok" = "$CALLS" ] && [ "$failed" = 0 ] || it_fail "provider calls failed"
if grep -E '^\| [0-9]' crack-b.out; then
    it_fail "svcrack found a password through the gateway (scanner off)"
fi
sleep 0.3
failures=$(grep -cE 'SecurityEvent="(InvalidPassword|ChallengeResponseFailed|InvalidAccountID)".*RemoteAddress="IPV4/UDP/127.0.0.1/' security-b.log || true)
[ "$failures" = 3 ] || it_fail "$failures failed guesses logged before the ban, expected 3"
grep -q 'SecurityEvent="BanAdded".*RemoteAddress="IPV4/UDP/127.0.0.1/0"' security-b.log ||
    it_fail "no ban after 3 failures"
"$SIPWARDEN" ban list -c gw-b.conf > bans.txt || it_fail "ban list failed"
cat bans.txt
grep -qE '^127\.0\.0\.1 .* auto +(InvalidPassword|ChallengeResponseFailed)=' bans.txt ||
    it_fail "the ban's reason is missing"
it_stop_gateway
it_log "scanner off: banned after 3 failures, nothing cracked"
it_log "ok"
