#!/usr/bin/env bash
# Outbound STIR/SHAKEN through the gateway: the PBX (a sipp UAC) calls out twice, once
# with an owned number and once with a foreign one; the provider (a sipp UAS) captures
# what arrives. Both INVITEs must carry an Identity header that `sipwarden stir verify`
# accepts against the signing certificate, attest A, orig = the presented number, and
# the foreign caller ID must have been replaced by the trunk's default number.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
"$SIPWARDEN" stir keygen --out keys > keygen.out 2>&1 || it_fail "stir keygen"
key=keys/shaken.key
cert=keys/shaken.pem
[ -f "$key" ] && [ -f "$cert" ] || it_fail "keygen wrote no key/certificate: $(ls keys)"
x5u=https://certs.example.net/sipwarden.pem
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
cat >> gw.conf <<CONF
domain = provider.example
[stir]
signing_key = $key
signing_certificate = $cert
x5u = $x5u
CONF
it_start_gateway gw.conf

timeout 60 sipp -sn uas -i 127.0.0.2 -p "$prov_port" -m 2 -nostdin -timeout 50s \
    -trace_msg -message_file provider.msg -trace_err -error_file uas.err > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
for caller in +15551230005 +15559990000; do
    rc=0
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-caller.xml" -set caller "$caller" \
        -s 15550001111 -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin -timeout 20s -timeout_error \
        -trace_err -error_file "uac-$caller.err" > "uac-$caller.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || it_fail "call from $caller failed (sipp rc $rc)"
done
wait "$uas" || it_fail "provider sipp failed"

# The INVITEs the provider received, one file each.
awk '/message received/ {n++; keep = 1; next} /^----------/ {keep = 0} keep && n > 0 {print > ("inv-" n ".txt")}' provider.msg
n=0
for caller in +15551230005 +15559990000; do
    n=$((n + 1))
    f=$(grep -l '^INVITE ' inv-*.txt | sort | sed -n "${n}p")
    [ -n "$f" ] || it_fail "the provider got no INVITE for $caller"
    expected=$caller
    [ "$caller" = +15559990000 ] && expected=+15551230000
    grep -q "^From: .*<sip:$expected@" "$f" || it_fail "$caller: From is not $expected: $(grep '^From:' "$f")"
    grep -q "^P-Asserted-Identity: <sip:$expected@provider.example;user=phone>" "$f" \
        || it_fail "$caller: P-Asserted-Identity: $(grep -i '^P-Asserted' "$f")"
    [ "$(grep -c '^Identity:' "$f")" = 1 ] || it_fail "$caller: not exactly one Identity header"
    value=$(grep '^Identity:' "$f" | sed 's/^Identity: *//; s/\r$//')
    "$SIPWARDEN" stir verify --cert "$cert" --orig "$expected" --dest +15550001111 "$value" \
        > "verify-$n.out" 2>&1 || it_fail "$caller: the Identity does not verify: $(tr '\n' '|' < "verify-$n.out")"
    grep -q '^attest: A' "verify-$n.out" || it_fail "$caller: not attest A"
    grep -q "info=<$x5u>;alg=ES256;ppt=shaken" <<< "$value" || it_fail "$caller: Identity parameters"
    it_log "$caller left as $expected, signed A, verified"
done
grep -q 'CallerIdReplaced' security.log 2>/dev/null || grep -q 'callerid: caller ID' gateway.log \
    || it_fail "no trace of the replacement"
grep -q "callerid: caller ID '+15559990000' not owned by trunk provider: replaced with +15551230000" gateway.log \
    || it_fail "no warning naming the replaced value"
it_gateway_alive
it_stop_gateway
it_log "ok"
