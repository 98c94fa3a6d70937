#!/usr/bin/env bash
# The webhook sink verifies HTTPS: `sipwarden alert test` reaches a receiver whose
# certificate the sink's ca_file vouches for, and fails (after its retry) against the
# same receiver with the system store, which does not know the test CA; a receiver that
# answers 500 once is retried and then delivered. The configuration refuses an http URL
# without allow_http, with the file and line.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

bash "$IT_DIR/../tools/make_certs.sh" certs
tls_port=$(it_free_port)
flaky_port=$(it_free_port)
alerts_receiver "$tls_port" tls.out --cert certs/127.0.0.1.pem --key certs/127.0.0.1.key
alerts_receiver "$flaky_port" flaky.out --fail-first 1

cat > alerts.conf <<CONF
[general]
[trusted]
type = sink
kind = webhook
url = https://127.0.0.1:$tls_port/alerts
ca_file = $IT_LOGS/certs/ca.pem
[untrusted]
type = sink
kind = webhook
url = https://127.0.0.1:$tls_port/alerts
retries = 1
[flaky]
type = sink
kind = webhook
url = http://127.0.0.1:$flaky_port/alerts
allow_http = yes
retries = 2
CONF
rc=0
"$SIPWARDEN" alert test -c alerts.conf > test.out 2>&1 || rc=$?
cat test.out
[ "$rc" = 1 ] || it_fail "alert test exited with $rc, expected 1 (one sink failed)"
grep -q '^trusted: delivered (0 failed attempts)' test.out || it_fail "the trusted receiver failed"
grep -q '^untrusted: FAILED (2 failed attempts)' test.out ||
    it_fail "an unknown CA was accepted, or not retried once"
grep -qi 'certificate' test.out || it_fail "the verification failure was not reported"
grep -q '^flaky: delivered (1 failed attempts)' test.out || it_fail "the 500 was not retried"
[ "$(grep -c '"state":"test"' tls.out)" = 1 ] || it_fail "the trusted receiver got no test alert"
[ "$(grep -c '"state":"test"' flaky.out)" = 1 ] || it_fail "the flaky receiver got no test alert"

sed -i 's/^allow_http = yes$//' alerts.conf
"$SIPWARDEN" check-config alerts.conf > check.out 2>&1 && it_fail "an http webhook was accepted"
grep -qE '^alerts.conf:[0-9]+: flaky.url: error: the URL is not https' check.out ||
    { cat check.out; it_fail "no file:line error for the http URL"; }
it_log "ok"
