# Alert sinks for the alert tests (sourced after lib.sh).

# alerts_command_sink NAME: writes NAME.sh, a command that appends the alert it gets on
# its standard input (one JSON object) to NAME.out, and prints the [NAME] sink section.
alerts_command_sink() {
    cat > "$1.sh" <<SH
#!/bin/sh
cat >> $IT_LOGS/$1.out
SH
    chmod 700 "$1.sh"
    printf '[%s]\ntype = sink\nkind = command\ncommand = %s/%s.sh\n' "$1" "$IT_LOGS" "$1"
}

# alerts_webhook_sink NAME PORT: prints the [NAME] sink section of a webhook on
# 127.0.0.1:PORT (plain http, allowed for the test).
alerts_webhook_sink() {
    printf '[%s]\ntype = sink\nkind = webhook\nurl = http://127.0.0.1:%s/alerts\nallow_http = yes\n' \
        "$1" "$2"
}

# alerts_receiver PORT OUT [OPTION...]: starts tools/alert_receiver.py on 127.0.0.1:PORT
# (stopped by PID at exit, at most 240 s), which appends "receive-time-us body" lines to
# OUT, and waits until it accepts connections (at most 10 s).
alerts_receiver() {
    local port=$1 out=$2 i
    shift 2
    python3 "$IT_DIR/../tools/alert_receiver.py" "$port" "$out" --seconds 240 "$@" &
    IT_PIDS+=("$!")
    for i in $(seq 1 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && return 0
        sleep 0.1
    done
    it_fail "the webhook receiver did not start on port $port"
}

# alerts_gateway_conf RATE: the first sections of an alert test's gw.conf: a gateway on
# udp:127.0.0.1:$gw_port with a control socket and a security log, no scanner, 127.0.0.1
# never banned and REGISTER at RATE/s allowed (the guessing goes on long enough), the PBX
# 127.0.0.5:$pbx_port and a provider trunk 127.0.0.3:$prov_port. The test adds its own.
alerts_gateway_conf() {
    cat <<CONF
[general]
listen = udp:127.0.0.1:$gw_port
workers = 2
control_socket = gw.ctl
[admin]
listen =
[log]
security_log = security.log
[state]
path = bans.db
[scanner]
enabled = no
[ban]
never_ban = 127.0.0.1/32
[ratelimit]
register_rate = $1
register_burst = $1
[pbx]
address = udp:127.0.0.5:$pbx_port
[provider]
type = trunk
provider = udp:127.0.0.3:$prov_port
permit = 127.0.0.3/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
CONF
}
