#!/usr/bin/env bash
# SIGHUP reloads the configuration without dropping calls in progress: calls with a 3 s
# hold are up while the file is changed and reloaded (once valid, once broken); every
# call still completes, the broken file is refused with its file, line and key, and the
# running configuration stays. A reload that adds an [acl] deny range silences that
# range at once (the gate is part of the reloaded generation).
source "$(dirname "$0")/../lib.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
write_conf() { # LOG_LEVEL MAX_CALLS [DENY]
    it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "log_level = $1"
    cat >> gw.conf <<CONF
max_calls = $2
CONF
    [ -z "${3:-}" ] || printf '[acl]\ndeny = %s\n' "$3" >> gw.conf
}
probe() { # SRC: the first line of the gateway's answer to one OPTIONS, or "silence"
    python3 - "$1" "$gw_port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
port = int(sys.argv[2])
req = ("OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bKprobe%d\r\n"
       "From: <sip:probe@%s>;tag=p\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: probe-%d\r\n"
       "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
       % (sys.argv[1], s.getsockname()[1], port, sys.argv[1], port)).encode()
s.settimeout(1.5)
s.sendto(req, ("127.0.0.1", port))
try:
    print(s.recv(65535).split(b"\r\n", 1)[0].decode())
except socket.timeout:
    print("silence")
PY
}
write_conf notice 10
it_start_gateway gw.conf
timeout 40 sipp -sn uas -i 127.0.0.1 -p "$pbx_port" -m 6 -nostdin -timeout 35s > uas.out 2>&1 &
uas=$!
IT_PIDS+=("$uas")
sleep 0.3
timeout 40 sipp "127.0.0.1:$gw_port" -sn uac -s 15551230010 -i 127.0.0.2 -p "$prov_port" -m 6 -r 3 -d 3000 \
    -nostdin -timeout 35s -timeout_error > uac.out 2>&1 &
uac=$!
IT_PIDS+=("$uac")
sleep 1.5
write_conf info 20
kill -HUP "$GW_PID"
sleep 0.5
grep -q 'reload: configuration reloaded' gateway.log || it_fail "no reload"
echo "bogus_key = 1" >> gw.conf
kill -HUP "$GW_PID"
sleep 0.5
grep -q 'reload: configuration refused' gateway.log || it_fail "a broken file was not refused"
grep -q 'gw.conf:[0-9]*: .*bogus_key' gateway.log || it_fail "the refusal does not name file, line and key"
rc=0
wait "$uac" || rc=$?
wait "$uas" || true
ok=$(it_sipp_stat uac.out 'Successful call')
it_log "calls across two reloads: rc=$rc successful=$ok"
[ "$rc" = 0 ] && [ "$ok" = 6 ] || it_fail "calls were lost across the reload"
# [acl] deny by reload: the address is answered before, silenced after.
before=$(probe 127.0.0.9)
[ "$before" != silence ] || it_fail "127.0.0.9 got no answer before the deny"
write_conf info 20 127.0.0.9/32
kill -HUP "$GW_PID"
it_wait_grep 'reload: configuration reloaded.*' gateway.log 5 || true
sleep 0.5
after=$(probe 127.0.0.9)
it_log "127.0.0.9 before the deny: $before; after: $after"
[ "$after" = silence ] || it_fail "127.0.0.9 still answered after [acl] deny was reloaded: $after"
[ "$(probe 127.0.0.10)" != silence ] || it_fail "127.0.0.10 silenced by a deny of 127.0.0.9"
it_gateway_alive
it_stop_gateway
it_log "ok"
