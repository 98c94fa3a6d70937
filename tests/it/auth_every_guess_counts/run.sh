#!/usr/bin/env bash
# Every guess counts (issue #10): no source gets more than maxretry (3) answered password
# guesses per ban, whatever its pacing or Call-ID habits, while a phone with one wrong
# stored password costs its address one failure per registration attempt.
#  - a paced guesser on 127.0.0.2: one Call-ID, CSeq rising by one, guesses as fast as
#    answered, rate-limit silence waited out and the guess sent again: 3 answered, banned;
#  - a guesser on 127.0.0.3 with a new Call-ID (and a fresh challenge) per guess: the same;
#  - baresip on 127.0.0.4 with a wrong password, started twice: one failure per
#    registration attempt (it stops at the 403 instead of retrying with every new nonce),
#    two in all, not banned; a right password from there afterwards authenticates (no PBX
#    runs here: the relayed REGISTER itself goes unanswered).
# And the scanner heuristics spare that phone's address (issue #9.11): 12 INVITEs to
# distinct numbers from it are no extension sweep, and one packet with a scanner
# fingerprint from it is dropped and logged but bans nothing; from a stranger
# (127.0.0.8) the same sweep and from 127.0.0.9 the same packet ban at once.
source "$(dirname "$0")/../lib.sh"

tools=$IT_DIR/../tools
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
[admin]
listen =
[log]
security_log = security.log
[state]
path = bans.db
[auth]
; baresip 1.0.0 answers only the first challenge and knows no SHA-256 (ENOSYS)
algorithms = MD5
[pbx]
address = udp:127.0.0.5:$pbx_port
[provider]
type = trunk
provider = udp:127.0.0.6:$prov_port
permit = 127.0.0.6/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
[1001]
type = account
secret = Str0ng-1001-xQ7v
CONF
it_start_gateway gw.conf

failures_from() { # ip: failure events logged for it
    grep -cE "SecurityEvent=\"(InvalidPassword|ChallengeResponseFailed|InvalidAccountID|FailedACL)\".*RemoteAddress=\"IPV4/UDP/$1/" security.log || true
}
banned() { # ip
    grep -qE "SecurityEvent=\"BanAdded\".*RemoteAddress=\"IPV4/UDP/$1/0\"" security.log
}

# 1. and 2. run side by side (each from its own address, so neither sees the other's
# limits or ban): each waits out the rate limit's silence, and the test's time is one wait.
timeout 60 python3 "$tools/digest_guesser.py" 127.0.0.2 "$gw_port" 1001 --mode paced \
    --guesses 60 --seconds 45 > paced.out &
paced_pid=$!
IT_PIDS+=("$paced_pid")
timeout 60 python3 "$tools/digest_guesser.py" 127.0.0.3 "$gw_port" 1001 --mode new-call-id \
    --guesses 60 --seconds 45 > callid.out &
callid_pid=$!
IT_PIDS+=("$callid_pid")
wait "$paced_pid" || it_fail "the paced guesser failed: $(tail -3 paced.out)"
wait "$callid_pid" || it_fail "the Call-ID changing guesser failed: $(tail -3 callid.out)"

# 1. The paced guesser.
cat paced.out
answered=$(sed -n 's/^answered=//p' paced.out)
it_log "paced guesser (one Call-ID, rising CSeq): $answered answered guesses"
grep -q '^cracked=' paced.out && it_fail "the paced guesser cracked the account"
[ "$answered" = 3 ] || it_fail "the paced guesser got $answered answered guesses, expected 3"
it_wait_grep 'BanAdded.*IPV4/UDP/127\.0\.0\.2/0' security.log || it_fail "the paced guesser was not banned"

# 2. A new Call-ID per guess.
cat callid.out
answered=$(sed -n 's/^answered=//p' callid.out)
it_log "guesser with a new Call-ID per guess: $answered answered guesses"
[ "$answered" = 3 ] || it_fail "the Call-ID changing guesser got $answered answered guesses, expected 3"
it_wait_grep 'BanAdded.*IPV4/UDP/127\.0\.0\.3/0' security.log || it_fail "the Call-ID changing guesser was not banned"

# 3. baresip with a wrong stored password, twice.
bs_port=$(it_free_port)
baresip_conf() { # dir password
    mkdir -p "$1"
    cat > "$1/config" <<BS
poll_method epoll
sip_listen 127.0.0.4:$bs_port
sip_trans_def udp
net_interface 127.0.0.4
module_path /usr/lib/baresip/modules
module_app account.so
module_app menu.so
BS
    echo "<sip:1001@127.0.0.1:$gw_port>;auth_pass=$2;regint=60" > "$1/accounts"
    : > "$1/contacts"
}
baresip_conf bs-wrong 'Str0ng-1001-typo'
for run in 1 2; do
    timeout -k 2 40 baresip -f bs-wrong -t 3 > "baresip-wrong-$run.log" 2>&1 || true
    grep -qE '403|401' "baresip-wrong-$run.log" || it_fail "baresip run $run got no answer"
done
sleep 0.5
fails=$(failures_from 127.0.0.4)
it_log "baresip with a wrong password, 2 registration attempts: $fails failures logged"
[ "$fails" = 2 ] || it_fail "baresip cost its address $fails failures in 2 attempts, expected 2"
banned 127.0.0.4 && it_fail "baresip's address was banned after 2 registration attempts"
baresip_conf bs-right 'Str0ng-1001-xQ7v'
# No PBX answers here: the relayed REGISTER would keep baresip waiting for 32 s (504), so
# it is stopped once the gateway accepted its credentials.
timeout -k 2 40 baresip -f bs-right -t 3 > baresip-right.log 2>&1 &
baresip_right=$!
IT_PIDS+=("$baresip_right")
it_wait_grep 'SuccessfulAuth.*RemoteAddress="IPV4/UDP/127\.0\.0\.4/' security.log 10 ||
    it_fail "baresip with the right password did not authenticate"
kill "$baresip_right" 2>/dev/null || true
wait "$baresip_right" 2>/dev/null || true
it_log "baresip with the right password authenticates from the same address"

# 4. The scanner heuristics and the phone's address.
sweep() { # src: 12 INVITEs to distinct numbers, 4 per second (below the rate limit)
    python3 "$tools/sip_send.py" "$1" "$gw_port" 12 --method INVITE --user 442079460000 \
        --sweep --gap-ms 250 --call-id "sweep-$1" --ua baresip
}
sweep 127.0.0.4
python3 "$tools/sip_send.py" 127.0.0.4 "$gw_port" 1 --ua friendly-scanner --call-id fp-4
sweep 127.0.0.8
python3 "$tools/sip_send.py" 127.0.0.9 "$gw_port" 1 --ua friendly-scanner --call-id fp-9
it_wait_grep 'BanAdded.*IPV4/UDP/127\.0\.0\.8/0' security.log || it_fail "the stranger's sweep was not banned"
it_wait_grep 'BanAdded.*IPV4/UDP/127\.0\.0\.9/0' security.log || it_fail "the stranger's scanner packet was not banned"
scans_4=$(grep 'SecurityEvent="ScannerDetected"' security.log | grep 'RemoteAddress="IPV4/UDP/127\.0\.0\.4/' || true)
echo "$scans_4"
[ "$(grep -c . <<<"$scans_4")" = 1 ] || it_fail "expected exactly 1 ScannerDetected from the phone's address"
grep -q 'not banned' <<<"$scans_4" || it_fail "the phone's scanner packet is not logged as not banned"
banned 127.0.0.4 && it_fail "the phone's address was banned by the scanner heuristics"
it_log "scanner: the phone's address dials 12 numbers and survives a fingerprint packet; strangers banned"

it_stop_gateway
it_log "ok"
