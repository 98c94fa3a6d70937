#!/usr/bin/env bash
# dist/sipwarden.service: `systemd-analyze security` rates its sandbox OK or better
# (offline, when the command exists here), and the daemon speaks the notify protocol
# the unit relies on (Type=notify, WatchdogSec=): READY once it serves, WATCHDOG pings,
# RELOADING then READY on SIGHUP, STOPPING on SIGTERM. A python socket stands in for
# systemd's NOTIFY_SOCKET.
source "$(dirname "$0")/../lib.sh"

root=$(readlink -f "$IT_DIR/../../..")
unit=$root/dist/sipwarden.service
[ -f "$unit" ] && [ -f "$root/dist/sipwarden.logrotate" ] || it_fail "dist/ files are missing"
if command -v systemd-analyze > /dev/null; then
    systemd-analyze security --offline=true "$unit" > security.txt 2>&1 || true
    verdict=$(grep -oE 'Overall exposure level for sipwarden.service: [0-9.]+ [A-Z]+' security.txt || true)
    it_log "systemd-analyze: ${verdict:-no verdict}"
    grep -qE 'level for sipwarden.service: [0-9.]+ (SAFE|OK)' security.txt ||
        { tail -5 security.txt; it_fail "the sandbox is rated worse than OK"; }
else
    it_log "systemd-analyze is not installed: rating skipped"
fi

sock=$IT_LOGS/notify.sock
python3 - "$sock" > notify.out <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 60
while time.time() < end:
    try:
        data = s.recv(4096).decode()
    except socket.timeout:
        continue
    print(data.replace("\n", " "), flush=True)
    if "STOPPING=1" in data:
        break
PY
IT_PIDS+=("$!")
for i in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
it_trunk_conf gw.conf udp "$(it_free_port)" "$(it_free_port)" "$(it_free_port)" "control_socket = gw.ctl"
cat >> gw.conf <<CONF
[admin]
listen =
[log]
security_log = security.log
[state]
path = bans.db
CONF
NOTIFY_SOCKET=$sock WATCHDOG_USEC=2000000 it_start_gateway gw.conf
it_wait_grep 'READY=1' notify.out 10 || it_fail "no READY=1"
it_wait_grep 'WATCHDOG=1' notify.out 10 || it_fail "no watchdog ping"
grep -q 'systemd: watchdog every 2000 ms' gateway.log || it_fail "the watchdog was not noticed"
kill -HUP "$GW_PID"
it_wait_grep 'RELOADING=1' notify.out 10 || it_fail "no RELOADING=1 on SIGHUP"
it_stop_gateway
it_wait_grep 'STOPPING=1' notify.out 10 || it_fail "no STOPPING=1"
[ "$(grep -c 'READY=1' notify.out)" -ge 2 ] || it_fail "no READY=1 after the reload"
it_log "notify: $(tr '\n' '|' < notify.out | cut -c1-200)"
it_log "ok"
