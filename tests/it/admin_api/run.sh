#!/usr/bin/env bash
# The JSON admin API (issue #12, docs/admin-api.md): every endpoint answers with the
# token and refuses without it (401) or with a wrong one; bad JSON, unknown fields and
# arguments get 400, oversize bodies 413, wrong methods 405, unknown paths 404, and the
# gateway keeps serving. Wrong tokens from 127.0.0.9 are InvalidPassword events that ban
# it (then even the right token gets 403) until the ban is lifted through the API. A call
# through the trunk shows in /cdrs with its filters; actions change what the API reads.
source "$(dirname "$0")/../lib.sh"

TOKEN='admin-api-test-token-987654321'
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "[admin]
listen = 127.0.0.1:$admin_port
token = $TOKEN
[ban]
maxretry = 3"
chmod 600 gw.conf
it_start_gateway gw.conf
PY=/usr/bin/python3 # pyenv's python3 takes 0.4 s to start
base="http://127.0.0.1:$admin_port"

# code [CURL ARGS...] URL: the HTTP status of one request; the body goes to body.json.
code() { curl -sS -m 10 -o body.json -w '%{http_code}' "$@"; }
auth=(-H "Authorization: Bearer $TOKEN")
expect() { # expect STATUS WHAT [CURL ARGS...]
    local want=$1 what=$2
    shift 2
    local got
    got=$(code "$@")
    [ "$got" = "$want" ] || { cat body.json; it_fail "$what: HTTP $got, expected $want"; }
    "$PY" -c 'import json,sys; json.load(open("body.json"))' ||
        it_fail "$what: the body is not JSON"
}
field() { "$PY" -c "import json; d=json.load(open('body.json')); print($1)"; }

# One call through the trunk, for the records.
timeout 20 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 15s > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 20 sipp -sn uac "127.0.0.1:$gw_port" -s 15551230010 -i 127.0.0.2 -p "$prov_port" -m 1 \
    -nostdin -timeout 15s -timeout_error > uac.out 2>&1 || it_fail "the call through the trunk"

for path in status calls bans trunks accounts alerts events cdrs; do
    expect 200 "$path" "${auth[@]}" "$base/api/v1/$path"
    expect 401 "$path without a token" "$base/api/v1/$path"
done
for path in bans/add bans/remove calls/kill accounts/disable accounts/enable trunks/isolate \
    trunks/restore; do
    expect 401 "$path without a token" -d '{}' "$base/api/v1/$path"
    expect 400 "$path with an unknown field" "${auth[@]}" -d '{"nosuch":1}' "$base/api/v1/$path"
    expect 400 "$path with bad JSON" "${auth[@]}" -d '{"ip":' "$base/api/v1/$path"
done
expect 200 status "${auth[@]}" "$base/api/v1/status"
[ "$(field 'd["workers"], d["calls"], d["calls_per_minute"]')" = "2 0 1" ] ||
    { cat body.json; it_fail "status figures"; }
expect 200 "trunks" "${auth[@]}" "$base/api/v1/trunks"
# No rate deck: the trunk's spend is unknown.
[ "$(field 'd["trunks"][0]["name"], d["trunks"][0]["state"], d["trunks"][0]["spend"]')" = \
    "provider active None" ] || it_fail "trunks"
expect 200 alerts "${auth[@]}" "$base/api/v1/alerts"
# The gateway's start, and the 15 refused tokens above as failed authentications.
[ "$(field '[r in [a["rule"] for a in d["open"]] for r in ("restart", "brute_force")]')" = "[True, True]" ] ||
    { cat body.json; it_fail "the open alerts"; }

# Call records and their filters (the record may take a moment to reach the database).
for i in $(seq 1 50); do
    [ "$(code "${auth[@]}" "$base/api/v1/cdrs?trunk=provider")" = 200 ] &&
        [ "$(field 'd["count"]')" = 1 ] && break
    sleep 0.1
done
[ "$(field 'd["count"], d["records"][0]["trunk"], d["records"][0]["disposition"]')" = "1 provider ANSWERED" ] ||
    { cat body.json; it_fail "cdrs?trunk=provider"; }
expect 200 "cdrs by account" "${auth[@]}" "$base/api/v1/cdrs?account=nobody&limit=5"
[ "$(field 'd["count"]')" = 0 ] || it_fail "cdrs?account=nobody"
expect 200 "cdrs until" "${auth[@]}" "$base/api/v1/cdrs?since=2000-01-01&until=2000-01-02"
[ "$(field 'd["count"]')" = 0 ] || it_fail "cdrs until"
expect 400 "cdrs bad time" "${auth[@]}" "$base/api/v1/cdrs?since=yesterday"
expect 400 "cdrs bad limit" "${auth[@]}" "$base/api/v1/cdrs?limit=100000"
expect 400 "unknown argument" "${auth[@]}" "$base/api/v1/calls?nosuch=1"
expect 404 "unknown path" "${auth[@]}" "$base/api/v1/nosuch"
expect 405 "GET of an action" "${auth[@]}" "$base/api/v1/trunks/isolate"
expect 405 "POST of a reading" "${auth[@]}" -d '{}' "$base/api/v1/status"
head -c 100000 /dev/zero | tr '\0' ' ' > big.json
expect 413 "oversize body" "${auth[@]}" --data-binary @big.json "$base/api/v1/trunks/restore"

# Actions, each seen by the readings.
expect 200 "ban add" "${auth[@]}" -d '{"ip":"203.0.113.7","seconds":600}' "$base/api/v1/bans/add"
expect 200 bans "${auth[@]}" "$base/api/v1/bans"
[ "$(field '[(b["ip"], b["source"]) for b in d["bans"]]')" = "[('203.0.113.7', 'manual')]" ] ||
    it_fail "the manual ban is not listed"
expect 409 "ban of the trunk" "${auth[@]}" -d '{"ip":"127.0.0.2"}' "$base/api/v1/bans/add"
expect 200 "ban remove" "${auth[@]}" -d '{"ip":"203.0.113.7"}' "$base/api/v1/bans/remove"
expect 404 "ban remove again" "${auth[@]}" -d '{"ip":"203.0.113.7"}' "$base/api/v1/bans/remove"
expect 404 "kill of no call" "${auth[@]}" -d '{"trunk":"provider"}' "$base/api/v1/calls/kill"
expect 200 isolate "${auth[@]}" -d '{"trunk":"provider","reason":"test"}' "$base/api/v1/trunks/isolate"
expect 200 trunks "${auth[@]}" "$base/api/v1/trunks"
[ "$(field 'd["trunks"][0]["state"], d["trunks"][0]["isolation"]["reason"]')" = "isolated test" ] ||
    it_fail "the isolation is not shown"
expect 200 restore "${auth[@]}" -d '{"trunk":"provider"}' "$base/api/v1/trunks/restore"
expect 404 "isolate an unknown trunk" "${auth[@]}" -d '{"trunk":"nosuch"}' "$base/api/v1/trunks/isolate"
expect 404 "disable an unknown account" "${auth[@]}" -d '{"account":"nosuch"}' "$base/api/v1/accounts/disable"
expect 200 events "${auth[@]}" "$base/api/v1/events?limit=50"
[ "$(field 'sum(e["module"] == "incident" for e in d["events"])')" = 2 ] ||
    it_fail "the isolate and restore events are not listed"

# Wrong tokens from 127.0.0.9 ban it; the ban then refuses even the right token.
for i in 1 2 3; do
    expect 401 "wrong token $i" --interface 127.0.0.9 -H "Authorization: Bearer wrong-$i" \
        "$base/api/v1/status"
done
for i in $(seq 1 50); do
    [ "$(code --interface 127.0.0.9 "${auth[@]}" "$base/api/v1/status")" = 403 ] && break
    sleep 0.1
done
[ "$(code --interface 127.0.0.9 "${auth[@]}" "$base/api/v1/status")" = 403 ] ||
    it_fail "wrong tokens did not ban 127.0.0.9"
grep 'SecurityEvent="InvalidPassword"' security.log | grep -q 'RemoteAddress="IPV4/TCP/127.0.0.9/' ||
    it_fail "no InvalidPassword event for the wrong token"
expect 200 "ban remove 127.0.0.9" "${auth[@]}" -d '{"ip":"127.0.0.9"}' "$base/api/v1/bans/remove"
expect 200 "status after the ban" --interface 127.0.0.9 "${auth[@]}" "$base/api/v1/status"

it_gateway_alive
it_stop_gateway
it_log "ok"
