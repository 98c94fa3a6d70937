#!/usr/bin/env bash
# The parser's torture run through the running daemon: every RFC 4475 / RFC 5118 message
# and a set of garbage inputs, over UDP and TCP, from a trusted source (the PBX: answered)
# and an unknown one (at most a uniform digest challenge). The daemon must never crash or
# hang, never tell an unknown source more, never accept an invalid message with 2xx, and
# keep serving calls.
source "$(dirname "$0")/../lib.sh"

data=${SW_TESTDATA:-$IT_DIR/../../data}
[ -d "$data/rfc4475" ] || it_fail "no test data at $data"
gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
cat > gw.conf <<CONF
[general]
listen = udp:127.0.0.1:$gw_port, tcp:127.0.0.1:$gw_port
workers = 2
call_timeout = 2
[pbx]
address = udp:127.0.0.1:$pbx_port
# The trusted sender is the PBX's address from any port (the messages come from send.py).
match_port = no
[provider]
type = trunk
max_call_rate = 1000
max_calls = 1000
provider = udp:127.0.0.2:$prov_port
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
CONF
it_start_gateway gw.conf
files=("$data"/rfc4475/*.dat "$data"/rfc5118/wire/*.dat)

# Unknown senders: a fresh address per input (127.0.1.* over UDP, 127.0.2.* over TCP).
net=1
for transport in udp tcp; do
    python3 "$IT_DIR/send.py" "$transport" 127.0.0.1 "$gw_port" "${files[@]}" > "trusted-$transport.txt"
    SEND_WAIT=0.05 python3 "$IT_DIR/send.py" "$transport" "127.0.$net.*" "$gw_port" "${files[@]}" \
        > "unknown-$transport.txt"
    it_gateway_alive
    net=$((net + 1))
done

# An unknown source learns nothing: it may be a remote account, so new requests get the
# same digest challenge whatever they say (policy/auth.h); malformed ones get silence. A
# closed connection and the "\r\n" answer to a keep-alive ping (RFC 5626 §3.5.1) are
# all else it may see.
answered() {
    awk -F'\t' '$2 != "-" && $2 != "" && $2 !~ /^send-error/ && $2 !~ /^SIP\/2.0 40[17] /' \
        unknown-udp.txt unknown-tcp.txt
}
if answered | grep -q .; then
    answered
    it_fail "an unknown source got an answer"
fi
# Invalid messages from a trusted source: refused, never accepted.
while IFS=$'\t' read -r name section title expected response reason; do
    [ "$expected" = invalid ] || continue
    got=$(awk -F'\t' -v n="$name.dat" '$1 == n {print $2}' trusted-udp.txt)
    case "$got" in
        "SIP/2.0 2"*) it_fail "$name (invalid) was accepted: $got" ;;
    esac
done < <(grep -v '^#' "$data/rfc4475/MANIFEST.tsv" | tail -n +2)
refused=$(grep -c 'SIP/2.0 4\|SIP/2.0 5' trusted-udp.txt || true)
it_log "trusted udp: $refused inputs refused with 4xx/5xx"
[ "$refused" -ge 10 ] || it_fail "too few refusals ($refused)"

# Still serving: ten calls from the provider complete.
timeout 60 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 10 -nostdin -timeout 50s > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
rc=0
timeout 60 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230010 -i 127.0.0.2 -p "$prov_port" -m 10 -r 10 -d 100 \
    -nostdin -timeout 50s -timeout_error > uac.out 2>&1 || rc=$?
wait "$uas" || true
[ "$rc" = 0 ] || it_fail "calls after the torture failed (rc $rc)"
it_gateway_alive
it_stop_gateway
it_log "ok"
