#!/usr/bin/env bash
# The live dashboard (issue #12, docs/dashboard.md) in headless Chromium. A gateway with an
# admin token carries three outbound calls with long holds (the PBX's sipp to the
# provider's sipp, rated so that the trunk's spend grows against its daily cap) while
# 127.0.0.7 fails three digest registrations with a user agent made of markup, which bans
# it. The page is served without the token and with a strict Content-Security-Policy; in
# Chromium (drive.py, DevTools protocol on a pipe) the token is pasted, the figures shown
# must equal the API's (calls in progress and per minute, failures per minute, bans, open
# alerts, trunk state, calls and spend cap), the attacker's user agent must be text, and
# the trunk is isolated with the page's button (confirmation accepted): the API then shows
# it isolated with its calls ended; the attacker is unbanned with its button. A wrong token
# pasted first is reported and costs one failed authentication, not one per request.
# Screenshots stay in the test's log folder.
source "$(dirname "$0")/../lib.sh"

CHROMIUM=/usr/lib/chromium/chromium
[ -x "$CHROMIUM" ] || it_fail "chromium is not installed (scripts/deps.sh --test)"
PY=/usr/bin/python3 # pyenv's python3 takes 0.4 s to start
TOKEN='dashboard-test-token-5550123'
UA='<img src=x onerror=window.pwned=1>'
CALLS=3

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "[admin]
listen = 127.0.0.1:$admin_port
token = $TOKEN
[ban]
maxretry = 3"
cat > deck.csv <<'DECK'
currency,EUR
prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label
49,0.60,0.01,1,1,Germany
DECK
cat >> gw.conf <<CONF
country_code = 49
daily_cap = 100.00
[fraud]
ratedeck = $IT_LOGS/deck.csv
[1001]
type = account
secret = Dash-1001-secret-Q7v
CONF
chmod 600 gw.conf
it_start_gateway gw.conf
base="http://127.0.0.1:$admin_port"

# The page and its files need no token, carry no data and forbid inline script, framing
# and sniffing; the API still needs the token.
for path in dashboard dashboard.js dashboard.css; do
    code=$(curl -sS -m 10 -D "$path.headers" -o "$path.body" -w '%{http_code}' "$base/$path")
    [ "$code" = 200 ] || it_fail "/$path: HTTP $code without a token"
    grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self';" "$path.headers" ||
        it_fail "/$path: no strict Content-Security-Policy"
    grep -qi '^X-Content-Type-Options: nosniff' "$path.headers" || it_fail "/$path: no nosniff"
    grep -qi '^X-Frame-Options: DENY' "$path.headers" || it_fail "/$path: framing allowed"
    grep -qi "frame-ancestors 'none'" "$path.headers" || it_fail "/$path: no frame-ancestors"
done
grep -qi '^Content-Type: text/html' dashboard.headers || it_fail "the page is not HTML"
grep -qi '^Content-Type: text/javascript' dashboard.js.headers || it_fail "the script's type"
! grep -qiE '<script>|<style>| on[a-z]+=|https?://[a-z]' dashboard.body ||
    it_fail "the page has inline script, style, handlers or external assets"
! grep -qiE 'https?://|innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(' \
    dashboard.js.body || it_fail "the script names another origin or writes markup"
[ "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' "$base/api/v1/status")" = 401 ] ||
    it_fail "the API answers without the token"

# Live calls: the PBX calls a German mobile number out through the trunk; they hold.
timeout 60 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m "$CALLS" -nostdin -timeout 50s \
    > uas.out 2>&1 &
IT_PIDS+=("$!")
sleep 0.3
timeout 60 sipp "127.0.0.1:$gw_port" -sn uac -s 015112345678 -i 127.0.0.1 -p "$pbx_port" \
    -m "$CALLS" -l "$CALLS" -r 10 -d 45000 -nostdin -timeout 50s > uac.out 2>&1 &
IT_PIDS+=("$!")

# The attack: three wrong passwords for 1001 from 127.0.0.7 ban it ([ban] maxretry = 3).
timeout 30 "$PY" "$IT_DIR/../tools/reg_guess.py" 127.0.0.7 "$gw_port" 3 --user 1001 \
    --same-user --gap-ms 5 --ua "$UA" > attack.out 2>&1 || it_fail "the attack did not run"
auth=(-H "Authorization: Bearer $TOKEN")
for i in $(seq 1 100); do
    calls=$(curl -sS -m 10 "${auth[@]}" "$base/api/v1/status" |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["calls"])')
    bans=$(curl -sS -m 10 "${auth[@]}" "$base/api/v1/bans" | "$PY" -c \
        'import json,sys; print(sum(b["ip"] == "127.0.0.7" for b in json.load(sys.stdin)["bans"]))')
    [ "$calls" = "$CALLS" ] && [ "$bans" = 1 ] && break
    sleep 0.1
done
[ "$calls" = "$CALLS" ] || it_fail "$calls calls in progress, expected $CALLS"
[ "$bans" = 1 ] || it_fail "the attack did not ban 127.0.0.7: $(cat attack.out)"

admin_failures() { grep -c 'SecurityEvent="InvalidPassword".*AccountID="admin-api"' security.log || true; }
# The request without a token above is one; the count starts once it is logged.
it_wait_grep 'AccountID="admin-api"' security.log || it_fail "no event for the missing token"
before=$(admin_failures)
timeout 60 "$PY" "$IT_DIR/drive.py" "$CHROMIUM" "$base" "$TOKEN" "$IT_LOGS" "$UA" "$CALLS" \
    > drive.out 2>&1 || { cat drive.out >&2; it_fail "the dashboard in Chromium"; }
cat drive.out
[ -s dashboard.png ] && [ -s dashboard-isolated.png ] || it_fail "no screenshot"
# The wrong token the page was given cost one failed authentication, not one a request.
for i in $(seq 1 30); do
    [ "$(admin_failures)" -gt "$before" ] && break
    sleep 0.1
done
[ "$(admin_failures)" = $((before + 1)) ] ||
    it_fail "the wrong token gave $(($(admin_failures) - before)) failed authentications, expected 1"

it_gateway_alive
it_stop_gateway
it_log "ok"
