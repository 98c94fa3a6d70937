#!/usr/bin/env bash
# From the event that crosses a threshold to the webhook receiver: at most 1 s at the
# 99th percentile (issue #12). A rule with threshold 0 per account fires once for each
# of COUNT accounts that fail to register (reg_guess.py); every alert carries the wall
# time of the event that crossed (cause_us) and the receiver notes its own receive
# time. The figures are printed; the bound is asserted generously (a loaded machine
# must not fail it), and every account's alert must arrive.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

COUNT=${COUNT:-300}
tools=$IT_DIR/../tools
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
hook_port=$(it_free_port)

{
    alerts_gateway_conf 2000
    cat <<CONF
[alerts]
builtin = no
queue_size = 1024
[per_account]
type = alert
metric = auth_failures
scope = account
window = 600
threshold = 0
severity = high
$(alerts_webhook_sink hook "$hook_port")
CONF
} > gw.conf

alerts_receiver "$hook_port" hook.out
it_start_gateway gw.conf
timeout 120 python3 "$tools/reg_guess.py" 127.0.0.1 "$gw_port" "$COUNT" --user lat --gap-ms 20 \
    > guess.out || it_fail "reg_guess failed"
cat guess.out
# The accounts whose failure the gateway logged: each must get its alert. On a loaded
# machine a datagram of the generator can be lost before the gateway reads it (then no
# event, so no alert is due); more than 1 % lost fails the test all the same.
failed_accounts() {
    grep -oE 'SecurityEvent="(InvalidPassword|InvalidAccountID)".*AccountID="lat[0-9]+"' \
        security.log 2>/dev/null | grep -oE 'AccountID="lat[0-9]+"' | sort -u | wc -l
}
it_wait_grep 'AccountID="lat' security.log 10 || it_fail "no failure was logged"
for i in $(seq 1 200); do
    seen=$(failed_accounts)
    [ "$seen" -ge "$COUNT" ] &&
        [ "$(grep -c '"state":"firing"' hook.out 2>/dev/null || true)" -ge "$seen" ] && break
    [ "$i" -gt 50 ] && [ "$(grep -c '"state":"firing"' hook.out 2>/dev/null || true)" -ge "$seen" ] &&
        break
    sleep 0.1
done
seen=$(failed_accounts)
it_log "accounts with a logged failure: $seen of $COUNT"
[ "$seen" -ge $((COUNT * 99 / 100)) ] || it_fail "only $seen of $COUNT accounts' failures were logged"
it_gateway_alive
python3 - "$seen" hook.out > latency.txt <<'PY' || { cat latency.txt; it_fail "latency"; }
import json, sys
count = int(sys.argv[1])
lat = []
keys = set()
for line in open(sys.argv[2]):
    received, body = line.split(" ", 1)
    a = json.loads(body)
    if a["state"] != "firing":
        continue
    keys.add(a["key"])
    lat.append((int(received) - a["cause_us"]) / 1000.0)
lat.sort()
def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"alerts {len(lat)} accounts {len(keys)} latency_ms p50 {pct(0.5):.1f} "
      f"p99 {pct(0.99):.1f} max {lat[-1]:.1f}")
ok = len(lat) == count and len(keys) == count and pct(0.99) <= 1000.0
sys.exit(0 if ok else 1)
PY
it_log "$(cat latency.txt)"
it_stop_gateway
it_log "ok"
