#!/usr/bin/env bash
# make_certs.sh DIR: a test CA and server certificates for 127.0.0.1 and 127.0.0.2 (IP
# subjectAltNames), keys mode 0600. For the integration tests only.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=sipwarden test CA" -keyout ca.key -out ca.pem 2>/dev/null
for ip in 127.0.0.1 127.0.0.2; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$ip" \
        -keyout "$ip.key" -out "$ip.csr" 2>/dev/null
    printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$ip" > "$ip.ext"
    openssl x509 -req -in "$ip.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile "$ip.ext" -out "$ip.pem" 2>/dev/null
done
chmod 600 ./*.key
