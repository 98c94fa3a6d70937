#!/usr/bin/env bash
# "trunk registration lost": the provider's registrar accepts the trunk's registration,
# then refuses its refresh (403). The built-in rule raises one high alert for the trunk;
# when the gateway's retry (register_retry = 2 s later) registers again at a registrar that
# accepts, the resolved message follows.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../lib_alerts.sh"

gw_port=$(it_free_port)
pbx_port=$(it_free_port)
prov_port=$(it_free_port)
registrar() { # scenario name
    timeout 70 sipp -sf "$1" -set user 15551230000 -set pass 'Trunk-Reg-Secret-9' -i 127.0.0.2 \
        -p "$prov_port" -m 1 -nostdin -timeout 60s > "registrar-$2.out" 2>&1 &
    REGISTRAR=$!
    IT_PIDS+=("$REGISTRAR")
    sleep 0.3
}
registrar "$IT_DIR/registrar-drop.xml" drop
it_trunk_conf gw.conf udp "$gw_port" "$pbx_port" "$prov_port" "control_socket = gw.ctl"
cat >> gw.conf <<CONF
username = 15551230000
secret = Trunk-Reg-Secret-9
register = yes
register_retry = 2
[admin]
listen =
[log]
security_log = security.log
[state]
path = state.db
$(alerts_command_sink pager)
CONF
chmod 600 gw.conf
it_start_gateway gw.conf
it_wait_grep 'trunk provider: registered' gateway.log 10 || it_fail "the trunk did not register"
it_wait_grep '"rule":"trunk_registration".*"state":"firing"' pager.out 15 ||
    it_fail "no alert when the refresh was refused"
grep -q '"rule":"trunk_registration".*"severity":"high".*"key":"provider"' pager.out ||
    it_fail "the alert does not name the trunk or is not high"
wait "$REGISTRAR" || true
registrar "$IT_DIR/../trunk_register/provider-registrar.xml" accept
it_wait_grep '"rule":"trunk_registration".*"state":"resolved"' pager.out 30 ||
    it_fail "no resolved message after the trunk registered again"
kill "$REGISTRAR" 2> /dev/null || true
n=$(grep -c '"rule":"trunk_registration"' pager.out)
[ "$n" = 2 ] || it_fail "$n trunk_registration messages, expected 2"
it_stop_gateway
it_log "ok"
