#!/usr/bin/env bash
# svwar enumerating extensions 1000-1099 (one account, 1001, exists):
#  - positive control: against a leaky registrar (404 for unknown users) svwar finds 1001;
#  - through the gateway with scanner detection on: banned at its first probe;
#  - with scanner detection off: every user gets the same challenge (and, past the
#    REGISTER rate limit, the same silence), so svwar cannot tell 1001 from the others:
#    it finds nothing, with and without --force;
#  - a sweep with a clean User-Agent and plain tags (tools/sip_send.py --sweep) is banned by
#    behaviour: more than [scanner] max_distinct_users (10) names within the window.
source "$(dirname "$0")/../lib.sh"

tools=$IT_DIR/../tools
export HOME=$IT_LOGS

reg_port=$(it_free_port)
python3 "$tools/weak_registrar.py" "$reg_port" --user 1001:Str0ng-1001-xQ7v --seconds 60 &
IT_PIDS+=("$!")
sleep 0.3
timeout 60 /usr/bin/svwar -m REGISTER -e 1000-1099 -P "$(it_free_port)" --maximumtime 3 \
    "udp://127.0.0.1:$reg_port" > control.out 2> control.err || true
grep -qE '^\| 1001 +\| reqauth +\|' control.out || it_fail "positive control: svwar found nothing"
[ "$(grep -cE '^\| [0-9]' control.out)" = 1 ] || it_fail "positive control: unexpected rows"
it_log "positive control: svwar finds 1001 on the leaky registrar"

gw_port=$(it_free_port)
write_conf() { # file scanner-enabled suffix format
    cat > "$1" <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
control_socket = gw-$3.ctl
[admin]
listen =
[log]
security_log = security-$3.log
format = $4
[state]
path = bans-$3.db
[scanner]
enabled = $2
[pbx]
address = udp:127.0.0.5:$(it_free_port)
[provider]
type = trunk
max_call_rate = 1000
max_calls = 1000
provider = udp:127.0.0.3:5060
permit = 127.0.0.3/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
[1001]
type = account
secret = Str0ng-1001-xQ7v
CONF
}
no_rows() { ! grep -E '^\| [0-9]' "$1"; }

write_conf gw-a.conf yes a asterisk
it_start_gateway gw-a.conf
timeout 60 /usr/bin/svwar -m REGISTER -e 1000-1099 -P "$(it_free_port)" --maximumtime 3 \
    "udp://127.0.0.1:$gw_port" > war-a.out 2> war-a.err || true
no_rows war-a.out || it_fail "svwar enumerated through the gateway (scanner on)"
python3 "$tools/sip_send.py" 127.0.0.6 "$gw_port" 15 --method REGISTER --user 2000 --sweep \
    --ua 'Clean Phone 1.0' --gap-ms 20
sleep 0.4
grep -q 'SecurityEvent="ScannerDetected".*RemoteAddress="IPV4/UDP/127.0.0.1/' security-a.log ||
    it_fail "svwar was not recognised"
grep -q 'SecurityEvent="ScannerDetected".*RemoteAddress="IPV4/UDP/127.0.0.6/.*Detail="more than 10 distinct users' \
    security-a.log || it_fail "the clean sweep was not recognised by behaviour"
it_stop_gateway
it_log "scanner on: svwar and a clean sweep banned"

write_conf gw-b.conf no b json
mv gateway.log gateway-a.log
it_start_gateway gw-b.conf
timeout 60 /usr/bin/svwar -m REGISTER -e 1000-1099 -P "$(it_free_port)" --maximumtime 3 \
    "udp://127.0.0.1:$gw_port" > war-b.out 2> war-b.err || true
no_rows war-b.out || it_fail "svwar enumerated through the gateway (scanner off)"
timeout 60 /usr/bin/svwar --force -m REGISTER -e 1000-1099 -P "$(it_free_port)" \
    --maximumtime 3 "udp://127.0.0.1:$gw_port" > war-b-force.out 2> war-b-force.err || true
no_rows war-b-force.out || it_fail "svwar --force enumerated through the gateway"
it_stop_gateway
# [log] format = json: one JSON object per line.
[ -s security-b.log ] || it_fail "the JSON security log is empty"
python3 - security-b.log <<'PY' || it_fail "the JSON security log does not parse"
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    json.loads(line)
PY
it_log "scanner off: svwar tells no extension from another"
it_log "ok"
