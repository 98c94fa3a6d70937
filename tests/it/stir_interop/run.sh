#!/usr/bin/env bash
# STIR/SHAKEN interop with an independent implementation, the openssl command line:
#   1. a PASSporT signed by `sipwarden stir sign` verifies with `openssl dgst -verify`
#      over the JWS signing input (R||S converted to DER here with openssl asn1parse);
#   2. a PASSporT built and signed with openssl alone (its own key and certificate)
#      verifies with `sipwarden stir verify`, and fails once tampered;
#   3. the exit-status contract and the key-permission refusal of the tool.
set -u
: "${SIPWARDEN:?path of the sipwarden binary}"
logs=${SW_IT_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }

b64url() { basenc --base64url -w0 | tr -d '='; }
b64url_decode() { # pads and decodes base64url from stdin
    local s; s=$(cat); while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
    printf '%s' "$s" | basenc --base64url -d
}
# R||S (64 bytes, base64url) -> DER ECDSA-Sig-Value file $2.
raw_to_der() {
    local hex; hex=$(printf '%s' "$1" | b64url_decode | od -An -v -tx1 | tr -d ' \n')
    printf 'asn1=SEQUENCE:sig\n[sig]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${hex:0:64}" "${hex:64:64}" > "$work/sig.cnf"
    openssl asn1parse -genconf "$work/sig.cnf" -out "$2" -noout > /dev/null
}
# DER ECDSA-Sig-Value file $1 -> R||S base64url on stdout.
der_to_raw() {
    local ints; ints=$(openssl asn1parse -inform DER -in "$1" | sed -n 's/.*INTEGER *:\([0-9A-F]*\).*/\1/p')
    local r s; r=$(echo "$ints" | sed -n 1p); s=$(echo "$ints" | sed -n 2p)
    printf '%064s%064s' "$r" "$s" | tr ' ' 0 | xxd -r -p | b64url
}

X5U=https://cert.example.net/shaken.pem

# --- 1. sipwarden signs, openssl verifies -------------------------------------------------
"$SIPWARDEN" stir keygen --out "$work/sw" > "$logs/keygen.out" 2>&1 || bad "keygen failed"
[ "$(stat -c %a "$work/sw/shaken.key")" = 600 ] || bad "key mode is not 600"
openssl x509 -in "$work/sw/shaken.pem" -pubkey -noout > "$work/sw/pub.pem" || bad "cert unreadable by openssl"
value=$("$SIPWARDEN" stir sign --key "$work/sw/shaken.key" --cert "$work/sw/shaken.pem" \
        --x5u "$X5U" --orig +12155550121 --dest +12155550131 --attest A 2> "$logs/sign.err")
echo "$value" > "$logs/sw-identity.txt"
token=${value%%;*}
[[ "$value" == "$token;info=<$X5U>;alg=ES256;ppt=shaken" ]] || bad "Identity parameters: $value"
IFS=. read -r h c s <<< "$token"
printf '%s.%s' "$h" "$c" > "$work/input1"
raw_to_der "$s" "$work/sig1.der"
if openssl dgst -sha256 -verify "$work/sw/pub.pem" -signature "$work/sig1.der" "$work/input1" > /dev/null; then
    ok "sipwarden signature verifies with openssl dgst"
else
    bad "openssl does not verify sipwarden's signature"
fi
# The decoded parts are canonical JSON (sorted keys, no white space).
hdr=$(printf '%s' "$h" | b64url_decode)
[ "$hdr" = '{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"'"$X5U"'"}' ] || bad "header: $hdr"
claims=$(printf '%s' "$c" | b64url_decode)
[[ "$claims" =~ ^\{\"attest\":\"A\",\"dest\":\{\"tn\":\[\"12155550131\"\]\},\"iat\":[0-9]+,\"orig\":\{\"tn\":\"12155550121\"\},\"origid\":\"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\"\}$ ]] \
    || bad "claims: $claims"
# A changed signing input no longer verifies under openssl either (positive control).
printf '%s.%sx' "$h" "$c" > "$work/input1x"
openssl dgst -sha256 -verify "$work/sw/pub.pem" -signature "$work/sig1.der" "$work/input1x" > /dev/null 2>&1 \
    && bad "openssl verified a modified input"

# --- 2. openssl signs, sipwarden verifies --------------------------------------------------
mkdir -p "$work/ossl"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ossl/ec.pem" 2> /dev/null
openssl pkey -in "$work/ossl/ec.pem" -out "$work/ossl/key.pem"
chmod 600 "$work/ossl/key.pem"
openssl req -x509 -new -key "$work/ossl/key.pem" -subj "/C=US/O=interop/CN=SHAKEN 9999" -days 2 \
    -out "$work/ossl/cert.pem" 2> /dev/null || bad "openssl req failed"
# The verification time comes after the certificate's notBefore (now, to the second): read
# before it, a slow machine judged the certificate "not yet valid".
NOW=$(date +%s)
ossl_token() { # $1 = claims JSON, $2 = x5u; prints the Identity value
    local hb cb; hb=$(printf '{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"%s"}' "$2" | b64url)
    cb=$(printf '%s' "$1" | b64url)
    printf '%s.%s' "$hb" "$cb" > "$work/input2"
    openssl dgst -sha256 -sign "$work/ossl/key.pem" -out "$work/sig2.der" "$work/input2"
    printf '%s.%s.%s;info=<%s>;alg=ES256;ppt=shaken' "$hb" "$cb" "$(der_to_raw "$work/sig2.der")" "$2"
}
claims2=$(printf '{"attest":"B","dest":{"tn":["442079460000"]},"iat":%s,"orig":{"tn":"12155550199"},"origid":"5f0c1c9e-2d55-4c1a-9d2e-2b1c5b7f0a11"}' "$NOW")
value2=$(ossl_token "$claims2" "$X5U")
echo "$value2" > "$logs/ossl-identity.txt"
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" --orig +12155550199 --dest +442079460000 \
    --now "$NOW" "$value2" > "$logs/verify-ossl.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '^verdict: valid' "$logs/verify-ossl.out" && grep -q '^attest: B' "$logs/verify-ossl.out" \
    && ok "openssl-signed PASSporT verifies in sipwarden" || bad "openssl token rejected (rc $rc)"
# National numbers with a country setting match the token's E.164 numbers.
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" --country 44 --orig +1-215-555-0199 --dest "020 7946 0000" \
    --now "$NOW" "$value2" > /dev/null 2>&1 || bad "national --dest did not match"
# Tampered claims (attest B -> A in the JSON, signature unchanged).
forged=$(printf '%s' "$claims2" | sed 's/"attest":"B"/"attest":"A"/' | b64url)
IFS=. read -r h2 _c2 s2 <<< "${value2%%;*}"
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" --now "$NOW" "$h2.$forged.$s2;info=<$X5U>;alg=ES256;ppt=shaken" \
    > "$logs/verify-forged.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'BAD_SIGNATURE' "$logs/verify-forged.out" && grep -q '^verstat: TN-Validation-Failed' "$logs/verify-forged.out" \
    && ok "tampered token fails with BAD_SIGNATURE" || bad "tampered token: rc $rc"
# Wrong caller, stale iat, the other key.
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" --orig +12155550100 --now "$NOW" "$value2" > "$logs/verify-orig.out" 2>&1
[ $? = 1 ] && grep -q ORIG_MISMATCH "$logs/verify-orig.out" || bad "orig mismatch not reported"
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" --now $((NOW + 61)) "$value2" > "$logs/verify-stale.out" 2>&1
[ $? = 1 ] && grep -q '^sip: 403 Stale Date' "$logs/verify-stale.out" || bad "stale token not reported"
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" --now $((NOW + 100)) --window 120 "$value2" > /dev/null 2>&1 \
    || bad "--window 120 did not widen the window"
"$SIPWARDEN" stir verify --cert "$work/sw/shaken.pem" --now "$NOW" "$value2" > "$logs/verify-otherkey.out" 2>&1
[ $? = 1 ] && grep -q BAD_SIGNATURE "$logs/verify-otherkey.out" || bad "other key accepted"
# An http x5u is refused before anything is fetched.
value3=$(ossl_token "$claims2" "http://cert.example.net/shaken.pem")
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" --now "$NOW" "$value3" > "$logs/verify-http.out" 2>&1
[ $? = 1 ] && grep -q 'BAD_X5U' "$logs/verify-http.out" && grep -q '^sip: 436' "$logs/verify-http.out" \
    || bad "http x5u not refused"
# sipwarden verifies its own token and the compact "y:" header line form.
"$SIPWARDEN" stir verify --cert "$work/sw/shaken.pem" --orig 12155550121 --dest 12155550131 "y: $value" \
    > "$logs/verify-own.out" 2>&1 && ok "own token verifies" || bad "own token rejected"

# --- 3. tool contract ------------------------------------------------------------------------
cp "$work/sw/shaken.key" "$work/open.key"; chmod 644 "$work/open.key"
"$SIPWARDEN" stir sign --key "$work/open.key" --x5u "$X5U" --orig +12155550121 --dest +12155550131 \
    --attest A > /dev/null 2> "$logs/open-key.err"
[ $? = 1 ] && grep -q 'chmod 600' "$logs/open-key.err" && ok "readable key refused" || bad "readable key accepted"
"$SIPWARDEN" stir sign --key "$work/sw/shaken.key" --cert "$work/ossl/cert.pem" --x5u "$X5U" \
    --orig +12155550121 --dest +12155550131 --attest A > /dev/null 2> "$logs/mismatch.err"
[ $? = 1 ] && grep -q 'does not match' "$logs/mismatch.err" || bad "key/cert mismatch accepted"
"$SIPWARDEN" stir keygen --out "$work/sw" > /dev/null 2>&1 && bad "keygen overwrote a key"
"$SIPWARDEN" stir sign --key k --x5u "$X5U" --orig 1 --dest 2 --attest D > /dev/null 2>&1; [ $? = 2 ] || bad "bad --attest: not 2"
"$SIPWARDEN" stir verify --cert a --ca b x > /dev/null 2>&1; [ $? = 2 ] || bad "--cert with --ca: not 2"
"$SIPWARDEN" stir verify --cert a > /dev/null 2>&1; [ $? = 2 ] || bad "no value: not 2"
"$SIPWARDEN" stir bogus > /dev/null 2>&1; [ $? = 2 ] || bad "unknown subcommand: not 2"
"$SIPWARDEN" stir verify --bogus x > /dev/null 2>&1; [ $? = 2 ] || bad "unknown option: not 2"
"$SIPWARDEN" stir verify --cert "$work/ossl/cert.pem" "not a token" > /dev/null 2>&1; [ $? = 1 ] || bad "garbage: not 1"

[ $fail = 0 ] && echo "stir_interop: ok"
exit $fail
