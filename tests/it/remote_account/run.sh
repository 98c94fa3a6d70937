#!/usr/bin/env bash
# A remote phone (127.0.0.5) registers through the gateway with digest credentials
# (sipsak), the REGISTER reaches the PBX with the gateway as Contact, the PBX calls the
# phone's number and the call reaches the phone at its real address, the phone calls the
# PBX after answering the gateway's 407, and a wrong password gets nowhere.
source "$(dirname "$0")/../lib.sh"

SECRET='Str0ng-1001-xQ7v'
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
phone_port=$(it_free_port)
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
log_level = info
[pbx]
address = udp:127.0.0.1:$pbx_port
[auth]
algorithms = MD5
[1001]
type = account
secret = $SECRET
max_calls = 2
CONF
chmod 600 gw.conf
it_start_gateway gw.conf

# 1. Registration through the gateway, the PBX sees the gateway as the Contact.
timeout 20 sipp -sf "$IT_DIR/pbx-registrar.xml" -i 127.0.0.1 -p "$pbx_port" -m 1 -nostdin \
    -timeout 15s -trace_msg -message_file pbx-register.msg > pbx-register.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
rc=0
timeout 10 sipsak -U -C "sip:1001@127.0.0.5:$phone_port" -s "sip:1001@127.0.0.1:$gw_port" \
    -u 1001 -a "$SECRET" -H 127.0.0.5 --local-ip 127.0.0.5 -l "$phone_port" -S -x 120 \
    > sipsak-register.out 2>&1 || rc=$?
wait "$pbx" || true
it_log "register: sipsak rc=$rc"
[ "$rc" = 0 ] || it_fail "registration through the gateway failed"
grep -q "Contact: <sip:1001@127.0.0.1:$gw_port>" pbx-register.msg || it_fail "the PBX did not get the gateway as Contact"
if grep -q "127.0.0.5" pbx-register.msg; then
    it_fail "the phone's address reached the PBX"
fi

# 2. The PBX calls 1001: the call reaches the phone at its registered address.
timeout 30 sipp -sn uas -i 127.0.0.5 -p "$phone_port" -m 3 -nostdin -timeout 25s \
    > phone-uas.out 2>&1 &
phone=$!
IT_PIDS+=("$phone")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sn uac -s 1001 -i 127.0.0.1 -p "$pbx_port" -m 3 \
    -r 5 -d 100 -nostdin -timeout 25s -timeout_error > pbx-uac.out 2>&1 || rc=$?
wait "$phone" || true
it_log "pbx -> phone: rc=$rc successful=$(it_sipp_stat pbx-uac.out 'Successful call')"
[ "$rc" = 0 ] || it_fail "the PBX could not call the phone"

# 3. The phone calls the PBX after the gateway's challenge.
timeout 30 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 3 -nostdin -timeout 25s > pbx-uas.out 2>&1 &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3
rc=0
timeout 30 sipp "127.0.0.1:$gw_port" -sf "$IT_DIR/phone-call.xml" -s 200 -au 1001 -ap "$SECRET" \
    -i 127.0.0.5 -p "$(it_free_port)" -m 3 -r 5 -nostdin -timeout 25s -timeout_error \
    -trace_err -error_file phone-uac.err > phone-uac.out 2>&1 || rc=$?
wait "$pbx" || true
it_log "phone -> pbx: rc=$rc successful=$(it_sipp_stat phone-uac.out 'Successful call')"
[ "$rc" = 0 ] || it_fail "the phone could not call the PBX"

# 4. A wrong password: refused, reported as InvalidPassword, nothing reaches the PBX.
rc=0
timeout 10 sipsak -U -C "sip:1001@127.0.0.6:$phone_port" -s "sip:1001@127.0.0.1:$gw_port" \
    -u 1001 -a 'wrong-password' -H 127.0.0.6 --local-ip 127.0.0.6 -l "$phone_port" -S -x 120 \
    > sipsak-wrong.out 2>&1 || rc=$?
it_log "wrong password: sipsak rc=$rc"
[ "$rc" != 0 ] || it_fail "a wrong password registered"
it_wait_grep 'SecurityEvent="InvalidPassword"' security.log || it_fail "no InvalidPassword event in the security log"
it_gateway_alive
it_stop_gateway
it_log "ok"
