#!/usr/bin/env bash
# Velocity levels on real calls (issue #11): with [fraud] concurrent_international_block = 2,
# two international calls held up make the third one get 403 "velocity
# concurrent-international" (nothing reaches the provider) while a national call passes;
# once they end an international call passes again. The trunk's own calls_per_minute_block
# (unset in [fraud]) then refuses the call over it; the records of the calls that passed
# carry the policy's action.
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
pbx2_port=$(it_free_port)
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port"
# The held calls keep the PBX's port: the other calls come from a second port of its address.
sed -i 's/^\[pbx\]$/[pbx]\nmatch_port = no/' gw.conf
cat >> gw.conf <<CONF
country_code = 49
calls_per_minute_block = 5
[fraud]
allowed_countries = DE, FR
concurrent_international_block = 2
CONF
it_start_gateway gw.conf
caller_port=$pbx2_port
source "$IT_DIR/../lib_fraud.sh"
fraud_provider_start

# Two international calls held for 6 s.
printf 'SEQUENTIAL\n+33123456781\n+33612345678\n' > held.csv
timeout 40 sipp "127.0.0.1:$gw_port" -sf "$list_xml" -inf held.csv -d 6000 \
    -i 127.0.0.1 -p "$pbx_port" -m 2 -r 20 -nostdin -timeout 30s -timeout_error \
    -trace_err -error_file held.err > held.out 2>&1 &
held=$!
IT_PIDS+=("$held")
for _ in $(seq 1 50); do
    [ "$(invites)" -ge 2 ] && break
    sleep 0.1
done
[ "$(invites)" = 2 ] || it_fail "the two held calls did not reach the provider ($(invites))"

call third "$refused_xml" +33491234567 || it_fail "the third international call was not refused"
grep -qF 'text="velocity concurrent-international' third.log || it_fail "third: $(cat third.log)"
call national "$list_xml" 030123456 || it_fail "a national call failed beside the held ones"
[ "$(invites)" = 3 ] || it_fail "the provider got $(invites) INVITEs, expected 3"
it_log "third international call refused, national call passed"

wait "$held" || it_fail "the held calls failed: $(tail -3 held.err)"
[ "$(it_sipp_stat held.out 'Successful call')" = 2 ] || it_fail "held calls: $(tail -5 held.out)"
call after "$list_xml" +33556789012 || it_fail "an international call after the held ones failed"
it_log "the held calls ended: an international call passed again"

# Six calls within the minute: the trunk's calls_per_minute_block = 5 refuses the sixth.
call sixth "$refused_xml" +33240987654 || it_fail "the sixth call was not refused"
grep -qF 'text="velocity calls-per-minute' sixth.log || it_fail "sixth: $(cat sixth.log)"
[ "$(invites)" = 4 ] || it_fail "the provider got $(invites) INVITEs, expected 4"

it_gateway_alive
blocks=$(grep -c 'SecurityEvent="FraudBlock"' security.log)
[ "$blocks" = 2 ] || it_fail "$blocks FraudBlock events, expected 2"
it_stop_gateway
# The call records name the action the policy took on each of the four calls that passed.
allowed=$(grep -c '"allow","' Master.csv || true)
[ "$allowed" = 4 ] || it_fail "$allowed call records with the action allow, expected 4"
it_log "ok"
