#!/usr/bin/env bash
# docs/grafana/sipwarden-dashboard.json is a well-formed Grafana dashboard whose every
# expression is valid PromQL (promtool checks them as recording rules) and names only
# metrics, and label values, that a running gateway exports on /metrics.
source "$(dirname "$0")/../lib.sh"

root=$(readlink -f "$IT_DIR/../../..")
dashboard=$root/docs/grafana/sipwarden-dashboard.json
command -v promtool > /dev/null || it_fail "promtool is missing (Debian package prometheus)"

# 1. The dashboard's shape, its expressions (as PromQL rules) and the metrics they name.
python3 - "$dashboard" <<'PY' || it_fail "the dashboard is malformed"
import json, re, sys
dash = json.load(open(sys.argv[1]))
assert dash["title"] and dash["uid"] and isinstance(dash["schemaVersion"], int)
ids, exprs = set(), []
for panel in dash["panels"]:
    assert panel["id"] not in ids, f"panel id {panel['id']} twice"
    ids.add(panel["id"])
    g = panel["gridPos"]
    assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, f"{panel['title']}: gridPos"
    if panel["type"] == "row":
        continue
    assert panel["targets"], f"{panel['title']}: no query"
    for target in panel["targets"]:
        assert target["expr"].strip(), f"{panel['title']}: empty expression"
        exprs.append(target["expr"])
for var in dash["templating"]["list"]:
    exprs.append(var["definition"])
with open("exprs.txt", "w") as out:
    out.write("\n".join(exprs) + "\n")
with open("rules.yml", "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, expr in enumerate(e for e in exprs if not e.startswith("label_values(")):
        expr = expr.replace("$__rate_interval", "5m").replace("$instance", ".*")
        out.write(f"      - record: dashboard:expr{i}\n        expr: {json.dumps(expr)}\n")
PY
promtool check rules rules.yml > promtool.out 2>&1 || { cat promtool.out; it_fail "promtool rejects an expression"; }
referenced=$(grep -oE 'sipwarden_[a-z0-9_]+' exprs.txt | sort -u)
[ "$(wc -l <<< "$referenced")" -ge 10 ] || it_fail "the dashboard uses few metrics: $referenced"

# 2. What a running gateway exports.
gw_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$(it_free_port)" "$(it_free_port)" "control_socket = gw.ctl"
cat >> gw.conf <<CONF
[admin]
listen = 127.0.0.1:$admin_port
[state]
path = gw.db
CONF
it_start_gateway gw.conf
curl -sf "http://127.0.0.1:$admin_port/metrics" > metrics.txt || it_fail "GET /metrics failed"
exported=$(grep -oE '^# TYPE [a-z_:]+' metrics.txt | awk '{print $3}' | sort -u)
for m in $referenced; do
    grep -qx "$m" <<< "$exported" || it_fail "the dashboard uses $m, which the gateway does not export"
done

# 3. Every label value the expressions match literally is one the gateway exports.
python3 - exprs.txt metrics.txt <<'PY' || it_fail "the dashboard matches label values the gateway never exports"
import re, sys
exported = set(re.findall(r'(\w+)="([^"]*)"', open(sys.argv[2]).read()))
bad = []
for label, op, value in re.findall(r'(\w+)\s*(=~|!=|=)\s*"([^"]*)"', open(sys.argv[1]).read()):
    if label == "instance" or "$" in value:
        continue
    for v in value.split("|"):
        if (label, v) not in exported:
            bad.append(f'{label}="{v}"')
if bad:
    print("not exported:", ", ".join(sorted(set(bad))))
    sys.exit(1)
PY
it_log "the dashboard uses $(wc -l <<< "$referenced") metrics, all exported"
it_stop_gateway
it_log "ok"
