#!/usr/bin/env bash
# The admin server over HTTPS ([admin] certificate and private_key): the API and /metrics
# answer over TLS 1.2+ with the certificate a client verifies, plain HTTP gets no answer,
# TLS 1.1 is refused, and a private key that others may read is refused by check-config
# and at start with the key's line.
source "$(dirname "$0")/../lib.sh"

TOKEN='admin-api-tls-token-0123456789'
bash "$IT_DIR/../tools/make_certs.sh" certs
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
admin_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "[admin]
listen = 127.0.0.1:$admin_port
token = $TOKEN
certificate = $IT_LOGS/certs/127.0.0.1.pem
private_key = $IT_LOGS/certs/127.0.0.1.key"
chmod 600 gw.conf
it_start_gateway gw.conf
grep -q "admin: serving .* on 127.0.0.1:$admin_port over HTTPS" gateway.log ||
    it_fail "the admin server does not say HTTPS: $(grep admin: gateway.log)"
base="https://127.0.0.1:$admin_port"
auth=(-H "Authorization: Bearer $TOKEN")

code=$(curl -sS -m 10 --cacert certs/ca.pem -o status.json -w '%{http_code}' "${auth[@]}" \
    "$base/api/v1/status") || it_fail "no HTTPS answer from the API"
[ "$code" = 200 ] || it_fail "GET /api/v1/status over HTTPS: $code"
python3 -c 'import json; json.load(open("status.json"))["workers"]' || it_fail "status is not the API's JSON"
code=$(curl -sS -m 10 --cacert certs/ca.pem -o /dev/null -w '%{http_code}' "$base/api/v1/status")
[ "$code" = 401 ] || it_fail "no token over HTTPS: $code, expected 401"
# Into a file first: grep -q leaves at its first match, and curl, still writing a body
# that has grown past a pipe's buffer, then fails the pipeline (pipefail).
curl -sS -m 10 --cacert certs/ca.pem "${auth[@]}" "$base/metrics" > metrics.txt &&
    grep -q '^sipwarden_' metrics.txt ||
    it_fail "GET /metrics over HTTPS"
# The certificate is verified by the client: one it does not trust is refused.
rc=0
curl -sS -m 10 -o /dev/null "${auth[@]}" "$base/api/v1/status" 2> untrusted.err || rc=$?
[ "$rc" = 60 ] || it_fail "curl without the CA did not refuse the certificate (rc $rc)"
# Plain HTTP gets no HTTP answer.
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${auth[@]}" \
    "http://127.0.0.1:$admin_port/api/v1/status" || true)
[ "$code" = 000 ] || it_fail "plain HTTP was answered with $code"
# TLS 1.1 is refused.
rc=0
curl -sS -m 10 --cacert certs/ca.pem --tlsv1.1 --tls-max 1.1 -o /dev/null "${auth[@]}" \
    "$base/api/v1/status" 2> tls11.err || rc=$?
[ "$rc" != 0 ] || it_fail "TLS 1.1 was accepted"
it_gateway_alive
it_stop_gateway

# A private key that others may read: refused with the key's line.
chmod 644 certs/127.0.0.1.key
rc=0
"$SIPWARDEN" check-config gw.conf > check.out 2> check.err || rc=$?
line=$(grep -n '^private_key' gw.conf | cut -d: -f1)
[ "$rc" = 1 ] && grep -q "gw.conf:$line: " check.err ||
    it_fail "check-config took a readable key (rc $rc): $(cat check.err)"
rc=0
timeout 10 "$SIPWARDEN" run -c gw.conf > refused.log 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "gw.conf:$line: " refused.log || it_fail "the daemon started with a readable key"
it_log "ok"
