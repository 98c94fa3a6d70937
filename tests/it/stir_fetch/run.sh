#!/usr/bin/env bash
# x5u certificate fetch against a local HTTPS server (openssl s_server -HTTP on 127.0.0.1,
# TLS certificate from a test CA made here). Loopback is allowed explicitly where the
# test needs it. Covers: fetch ok, cache hit without a second request, the chain kept
# with the leaf, a leaf-only bundle failing, redirect refused, oversize refused (with and
# without Content-Length), http:// refused, port not allowed, loopback refused by default,
# a host name pinned to its checked address, and a server that is down.
set -u
: "${SIPWARDEN:?path of the sipwarden binary}"
logs=${SW_IT_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null; wait "$server_pid" 2> /dev/null; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }
cd "$work" || exit 1

# --- PKI: TLS test CA + server certificate; STI-CA root -> intermediate -> leaf (P-256) --
ec_key() { openssl ecparam -name prime256v1 -genkey -noout 2> /dev/null | openssl pkey -out "$1"; chmod 600 "$1"; }
ec_key tls-ca.key
openssl req -x509 -new -key tls-ca.key -subj "/CN=sipwarden test TLS CA" -days 2 -out tls-ca.pem 2> /dev/null
ec_key server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
openssl x509 -req -in server.csr -CA tls-ca.pem -CAkey tls-ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem 2> /dev/null
ca_ext() { printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n'; }
ec_key sti-root.key
openssl req -x509 -new -key sti-root.key -subj "/C=US/O=test STI-PA/CN=Test STI-CA Root" -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out sti-root.pem 2> /dev/null
ec_key sti-inter.key
openssl req -new -key sti-inter.key -subj "/C=US/O=test STI-CA/CN=Test STI-CA Intermediate" -out sti-inter.csr 2> /dev/null
ca_ext > ca.ext
openssl x509 -req -in sti-inter.csr -CA sti-root.pem -CAkey sti-root.key -CAcreateserial -days 2 \
    -extfile ca.ext -out sti-inter.pem 2> /dev/null
ec_key leaf.key
openssl req -new -key leaf.key -subj "/C=US/O=test carrier/CN=SHAKEN 1234" -out leaf.csr 2> /dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA sti-inter.pem -CAkey sti-inter.key -CAcreateserial -days 2 \
    -extfile leaf.ext -out leaf.pem 2> /dev/null
openssl verify -CAfile sti-root.pem -untrusted sti-inter.pem leaf.pem > /dev/null || bad "test PKI is broken"

# --- files served by s_server -HTTP: each holds a whole HTTP response --------------------
mkdir www
http_file() { # $1 name, $2 status line, $3 extra headers (CRLF-separated), $4 body file or ""
    { printf 'HTTP/1.0 %s\r\nContent-Type: application/pem-certificate-chain\r\n' "$2"
      [ -n "$3" ] && printf '%s\r\n' "$3"
      printf '\r\n'
      [ -n "$4" ] && cat "$4"; } > "www/$1"
}
cat leaf.pem sti-inter.pem > chain.pem
http_file chain.pem "200 OK" "Cache-Control: max-age=600" chain.pem
http_file leaf-only.pem "200 OK" "" leaf.pem
http_file nostore.pem "200 OK" "Cache-Control: no-store" chain.pem
head -c 100000 /dev/zero | tr '\0' 'A' > big.txt
http_file big-cl.pem "200 OK" "Content-Length: 100000" big.txt
http_file big.pem "200 OK" "" big.txt

# --- start the server on a free port ------------------------------------------------------
port=
for try in 1 2 3 4 5 6 7 8; do
    p=$(( 20000 + (RANDOM % 30000) ))
    (cd www && exec openssl s_server -accept "127.0.0.1:$p" -cert ../server.pem -key ../server.key \
        -HTTP -quiet) > "$logs/s_server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 50); do
        if (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null; then port=$p; break; fi
        kill -0 "$server_pid" 2> /dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] && break
    kill "$server_pid" 2> /dev/null; wait "$server_pid" 2> /dev/null; server_pid=
done
[ -n "$port" ] || { echo "FAIL: cannot start openssl s_server"; exit 1; }
http_file redirect.pem "302 Found" "Location: https://127.0.0.1:$port/chain.pem" ""
echo "s_server pid $server_pid on 127.0.0.1:$port"

BASE=https://127.0.0.1:$port
sign() { # $1 = x5u
    "$SIPWARDEN" stir sign --key leaf.key --cert leaf.pem --x5u "$1" --orig +12155550121 \
        --dest +12155550131 --attest A
}
verify() { # $1 = log name, $2 = identity value, rest = extra options
    local name=$1 value=$2; shift 2
    timeout -k 5 60 "$SIPWARDEN" stir verify --ca sti-root.pem --tls-ca tls-ca.pem "$@" "$value" \
        > "$logs/$name.out" 2>&1
}

# 1. fetch ok, then a cache hit without a second request; the chain stays with the leaf.
v=$(sign "$BASE/chain.pem")
verify fetch-ok "$v" --allow-private --allow-port "$port" --repeat 3
rc=$?
out=$logs/fetch-ok.out
if [ $rc = 0 ] && grep -q '^certificate\[0\]: fetched, chain of 2' "$out" \
    && grep -q '^certificate\[1\]: cached, chain of 2' "$out" && grep -q '^certificate\[2\]: cached, chain of 2' "$out" \
    && [ "$(grep -c '^verdict: valid' "$out")" = 3 ] && grep -q '^fetches: 1$' "$out"; then
    ok "fetched once, two cache hits, chain of 2 kept, all valid"
else
    bad "fetch/cache (rc $rc): $(tr '\n' '|' < "$out")"
fi

# 2. a bundle with the leaf alone does not chain to the root.
verify leaf-only "$(sign "$BASE/leaf-only.pem")" --allow-private --allow-port "$port"
[ $? = 1 ] && grep -q CERT_UNTRUSTED "$logs/leaf-only.out" && grep -q '^sip: 437' "$logs/leaf-only.out" \
    && ok "leaf without its chain fails (437)" || bad "leaf-only bundle accepted"

# 3. no-store: verified, but fetched again each time.
verify nostore "$(sign "$BASE/nostore.pem")" --allow-private --allow-port "$port" --repeat 2
[ $? = 0 ] && grep -q '^fetches: 2$' "$logs/nostore.out" && ok "no-store is not cached" || bad "no-store cached or failed"

# 4. redirects are not followed.
verify redirect "$(sign "$BASE/redirect.pem")" --allow-private --allow-port "$port"
[ $? = 1 ] && grep -q 'redirect (HTTP 302) refused' "$logs/redirect.out" && grep -q '^sip: 436' "$logs/redirect.out" \
    && ok "redirect refused" || bad "redirect: $(tr '\n' '|' < "$logs/redirect.out")"

# 5. oversize bodies, with and without Content-Length.
for f in big-cl big; do
    verify "$f" "$(sign "$BASE/$f.pem")" --allow-private --allow-port "$port"
    [ $? = 1 ] && grep -q 'larger than 65536 bytes refused' "$logs/$f.out" && ok "$f refused" \
        || bad "$f: $(tr '\n' '|' < "$logs/$f.out")"
done

# 6. loopback is refused unless allowed (no connection is made).
verify loopback "$(sign "$BASE/chain.pem")" --allow-port "$port"
[ $? = 1 ] && grep -q 'private or loopback' "$logs/loopback.out" && grep -q '^fetches: 1$' "$logs/loopback.out" \
    && ok "loopback refused by default" || bad "loopback: $(tr '\n' '|' < "$logs/loopback.out")"

# 7. a port outside the allowed list (443/8443 by default).
verify port "$(sign "$BASE/chain.pem")" --allow-private
[ $? = 1 ] && grep -q "port $port is not in the allowed list" "$logs/port.out" && ok "port not allowed" \
    || bad "port: $(tr '\n' '|' < "$logs/port.out")"

# 8. http:// is refused (sipwarden will not even sign it; the token check stops it first).
sign "http://127.0.0.1:$port/chain.pem" > /dev/null 2>&1 && bad "signed with an http x5u"

# 9. a host name: resolved here, checked, pinned with CURLOPT_RESOLVE; TLS checks the name.
verify name "$(sign "https://localhost:$port/chain.pem")" --allow-private --allow-port "$port"
[ $? = 0 ] && ok "localhost resolved, pinned and verified" || bad "localhost: $(tr '\n' '|' < "$logs/name.out")"
verify name-refused "$(sign "https://localhost:$port/chain.pem")" --allow-port "$port"
[ $? = 1 ] && grep -q 'resolves to a private or loopback address' "$logs/name-refused.out" \
    && ok "a name that resolves to loopback is refused" || bad "localhost accepted without --allow-private"

# 10. the server is gone: connection refused, reported as 436.
kill "$server_pid"; wait "$server_pid" 2> /dev/null; server_pid=
verify down "$(sign "$BASE/chain.pem")" --allow-private --allow-port "$port"
[ $? = 1 ] && grep -q 'CERT_FETCH' "$logs/down.out" && ok "server down -> CERT_FETCH" || bad "server down"

[ $fail = 0 ] && echo "stir_fetch: ok"
exit $fail
