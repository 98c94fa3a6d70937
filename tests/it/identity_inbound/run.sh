#!/usr/bin/env bash
# Inbound STIR/SHAKEN through the gateway. Certificates (STI root -> intermediate ->
# leaf) are served by openssl s_server on 127.0.0.1 (loopback allowed explicitly in the
# test config). A sipp provider calls in with a valid, an expired, a tampered and a
# wrongly attested token (orig.tn is not the caller); the sipp PBX must see the verstat
# each deserves on From. Then with identity_policy = reject the bad ones are refused
# with their RFC 8224 response and the valid one still connects.
source "$(dirname "$0")/../lib.sh"

# --- PKI: TLS CA + server certificate; STI root -> intermediate -> leaf (P-256) ------------
ec_key() { openssl ecparam -name prime256v1 -genkey -noout 2> /dev/null | openssl pkey -out "$1"; chmod 600 "$1"; }
ec_key tls-ca.key
openssl req -x509 -new -key tls-ca.key -subj "/CN=sipwarden test TLS CA" -days 2 -out tls-ca.pem 2> /dev/null
ec_key server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
openssl x509 -req -in server.csr -CA tls-ca.pem -CAkey tls-ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2> /dev/null
ec_key sti-root.key
openssl req -x509 -new -key sti-root.key -subj "/C=US/O=test STI-PA/CN=Test STI-CA Root" -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out sti-root.pem 2> /dev/null
ec_key sti-inter.key
openssl req -new -key sti-inter.key -subj "/C=US/O=test STI-CA/CN=Test STI-CA Intermediate" -out sti-inter.csr 2> /dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > ca.ext
openssl x509 -req -in sti-inter.csr -CA sti-root.pem -CAkey sti-root.key -CAcreateserial -days 2 \
    -extfile ca.ext -out sti-inter.pem 2> /dev/null
ec_key leaf.key
openssl req -new -key leaf.key -subj "/C=US/O=test carrier/CN=SHAKEN 1234" -out leaf.csr 2> /dev/null
# The SHAKEN profile's TNAuthList (RFC 8226): one service provider code, "1234".
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n1.3.6.1.5.5.7.1.26=DER:30:08:A0:06:16:04:31:32:33:34\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA sti-inter.pem -CAkey sti-inter.key -CAcreateserial -days 2 \
    -extfile leaf.ext -out leaf.pem 2> /dev/null
mkdir www
{ printf 'HTTP/1.0 200 OK\r\nContent-Type: application/pem-certificate-chain\r\nCache-Control: max-age=600\r\n\r\n'
  cat leaf.pem sti-inter.pem; } > www/chain.pem

# --- the certificate server on a free port -----------------------------------------------
https_port=
for _ in 1 2 3 4 5; do
    p=$(it_free_port)
    (cd www && exec openssl s_server -accept "127.0.0.1:$p" -cert ../server.pem -key ../server.key \
        -HTTP -quiet) > s_server.log 2>&1 &
    server_pid=$!
    IT_PIDS+=("$server_pid")
    for _ in $(seq 1 50); do
        if (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then https_port=$p; break; fi
        kill -0 "$server_pid" 2> /dev/null || break
        sleep 0.1
    done
    [ -n "$https_port" ] && break
done
[ -n "$https_port" ] || it_fail "cannot start openssl s_server"
x5u=https://127.0.0.1:$https_port/chain.pem

now=$(date +%s)
sign() { # $1 orig, $2 iat
    "$SIPWARDEN" stir sign --key leaf.key --x5u "$x5u" --orig "$1" --dest +15550001111 \
        --attest A --iat "$2"
}
valid=$(sign +12155550121 "$now") || it_fail "stir sign"
expired=$(sign +12155550121 $((now - 3600)))
wrong=$(sign +12155550199 "$now")
# Tampered: one character of the signature changed (the part before ";info").
token=${valid%%;*}
params=${valid#*;}
sig=${token##*.}
c=${sig:10:1}; [ "$c" = A ] && r=B || r=A
tampered="${token%.*}.${sig:0:10}$r${sig:11};$params"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
write_conf() { # $1 identity_policy
    it_trunk_conf "gw-$1.conf" udp "$gw_port" "$pbx_port" "$prov_port"
    cat >> "gw-$1.conf" <<CONF
identity_policy = $1
; the signed PASSporTs name +15550001111, not one of the trunk's numbers
inbound_numbers = any
[stir]
ca_file = sti-root.pem
fetch_allow_private = yes
fetch_ports = $https_port
fetch_ca_file = tls-ca.pem
CONF
}

# call NAME IDENTITY: one call from the provider; the PBX side runs separately.
call() {
    local rc=0
    timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/uac-identity.xml" -set identity "$2" \
        -i 127.0.0.2 -p "$prov_port" -m 1 -nostdin -timeout 20s -timeout_error \
        -trace_msg -message_file "uac-$1.msg" -trace_err -error_file "uac-$1.err" \
        > "uac-$1.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || it_fail "$1: provider sipp rc $rc"
}

pbx_start() { # $1 calls expected
    timeout 90 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m "$1" -nostdin -timeout 80s \
        -trace_msg -message_file "pbx-$2.msg" > "pbx-$2.out" 2>&1 &
    PBX_PID=$!
    IT_PIDS+=("$PBX_PID")
    sleep 0.3
}

# --- 1. tag (default): every call reaches the PBX with its verstat ---------------------
write_conf tag
it_start_gateway gw-tag.conf
pbx_start 4 tag
call valid "$valid"
call expired "$expired"
call tampered "$tampered"
call wrong "$wrong"
wait "$PBX_PID" || it_fail "PBX sipp (tag) failed"
grep '^From:' pbx-tag.msg | grep -o 'verstat=[A-Za-z-]*' | uniq > verstats.txt
printf 'verstat=TN-Validation-Passed\nverstat=TN-Validation-Failed\n' > expected.txt
diff -q verstats.txt expected.txt > /dev/null || it_fail "verstats: $(tr '\n' ' ' < verstats.txt)"
[ "$(grep -c '^INVITE ' pbx-tag.msg)" = 4 ] || it_fail "the PBX did not get 4 INVITEs"
first=$(grep -m1 -A30 '^INVITE ' pbx-tag.msg | grep '^From:')
grep -q 'verstat=TN-Validation-Passed' <<< "$first" || it_fail "the valid call is not Passed: $first"
it_log "tag: valid -> Passed; expired, tampered, wrong orig -> Failed"
for reason in 'IdentityVerified' 'STALE 403' 'BAD_SIGNATURE 438' 'ORIG_MISMATCH 438'; do
    grep -q "$reason" security.log || it_fail "no event '$reason' in security.log"
done
it_stop_gateway

# --- 2. reject: the bad ones are refused with their RFC 8224 response -------------------
mv security.log security-tag.log
write_conf reject
it_start_gateway gw-reject.conf
pbx_start 1 reject
for name in expired:403 tampered:438 wrong:438; do
    call "${name%%:*}-reject" "$(eval echo "\$${name%%:*}")"
    grep -q "SIP/2.0 ${name##*:} " "uac-${name%%:*}-reject.msg" \
        || it_fail "${name%%:*}: no ${name##*:} under reject"
done
call valid-reject "$valid"
wait "$PBX_PID" || it_fail "PBX sipp (reject) failed"
[ "$(grep -c '^INVITE ' pbx-reject.msg)" = 1 ] || it_fail "a refused call reached the PBX"
grep -q 'verstat=TN-Validation-Passed' pbx-reject.msg || it_fail "valid call not Passed under reject"
it_log "reject: expired 403, tampered 438, wrong orig 438, valid connects"
it_gateway_alive
it_stop_gateway
it_log "ok"
