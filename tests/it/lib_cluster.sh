# Helpers of the cluster tests (issue #15): a redis-server of their own on a free port,
# and gateways on distinct loopback addresses (127.0.0.11, .12, .13) sharing it.
# Sourced after lib.sh.

# The commands (and key and channel patterns) sipwarden's Redis user needs, as docs/cluster.md
# gives them; used when REDIS_PASSWORD is set.
REDIS_ACL_COMMANDS=(-@all +@connection +get +set +del +publish +subscribe +scan +eval +incr +hget
                    +pexpire +hgetall +hset +hdel +exists)

# it_redis_cli ARGS...: redis-cli against this test's server (logged in when REDIS_PASSWORD).
it_redis_cli() {
    if [ -n "${REDIS_PASSWORD:-}" ]; then
        redis-cli -p "$REDIS_PORT" --user sipwarden --pass "$REDIS_PASSWORD" --no-auth-warning "$@"
    else
        redis-cli -p "$REDIS_PORT" "$@"
    fi
}

# it_redis_start: starts redis-server on REDIS_PORT (chosen here when unset), no persistence.
# With REDIS_PASSWORD set, the default user is off and only user "sipwarden" (that
# password, keys and channels it*, REDIS_ACL_COMMANDS) may log in.
it_redis_start() {
    REDIS_PORT=${REDIS_PORT:-$(it_free_port)}
    local acl=()
    if [ -n "${REDIS_PASSWORD:-}" ]; then
        acl=(--user default off --user sipwarden on ">$REDIS_PASSWORD" '~it*' '&it*'
             "${REDIS_ACL_COMMANDS[@]}")
    fi
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$IT_LOGS" "${acl[@]}" >> redis.log 2>&1 &
    REDIS_PID=$!
    IT_PIDS+=("$REDIS_PID")
    local i
    for i in $(seq 1 100); do
        it_redis_cli ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.05
    done
    it_fail "redis-server did not start within 5 s"
}

# it_redis_stop [SIGNAL]: stops the redis-server this test started.
it_redis_stop() {
    kill "-${1:-TERM}" "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
}

# it_cluster_conf NODE FILE PORT [EXTRA]: node NODE (a, b, c -> 127.0.0.11, .12, .13) listens
# on udp PORT, keeps its own database (bans and call records, tagged with NODE), Master.csv,
# log and control socket, and shares through Redis.
# The PBX is 127.0.0.5:PBX_PORT, the provider 127.0.0.6:PROV_PORT (set by the caller);
# account 1001 exists. EXTRA lines go to [general]. The trunk's max_calls is IT_MAX_CALLS
# (default 30), its node name NODE.
it_cluster_conf() {
    local node=$1 file=$2 port=$3 extra=${4:-}
    local ip
    case $node in
    a) ip=127.0.0.11 ;;
    b) ip=127.0.0.12 ;;
    *) ip=127.0.0.13 ;;
    esac
    cat > "$file" <<CONF
[general]
listen = udp:$ip:$port
workers = 2
control_socket = gw-$node.ctl
$extra
[admin]
listen =
[log]
security_log = security-$node.log
[state]
backend = redis
path = bans-$node.db
redis = 127.0.0.1:$REDIS_PORT
redis_prefix = it$$:
[cluster]
node = $node
local_share = 50
$(if [ -n "${REDIS_PASSWORD:-}" ]; then
    printf '%s\n' "$REDIS_PASSWORD" > "redis-$node.pw"
    chmod 600 "redis-$node.pw"
    printf 'user = sipwarden\npassword_file = redis-%s.pw\n' "$node"
fi)
[cdr]
csv = Master-$node.csv
[pbx]
address = udp:127.0.0.5:$PBX_PORT
[provider]
type = trunk
provider = udp:127.0.0.6:$PROV_PORT
permit = 127.0.0.6/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
max_call_rate = 1000
max_calls = ${IT_MAX_CALLS:-30}
[1001]
type = account
secret = Str0ng-1001-xQ7v
CONF
}

# it_node_start NODE CONF: starts gateway NODE (its log appended to gateway-NODE.log), waits
# until this start serves; its pid in NODE_PID[NODE].
declare -A NODE_PID
it_node_start() {
    local node=$1 conf=$2 i before
    before=$(grep -c 'serving with' "gateway-$node.log" 2>/dev/null || true)
    "$SIPWARDEN" run -c "$conf" >> "gateway-$node.log" 2>&1 &
    NODE_PID[$node]=$!
    IT_PIDS+=("$!")
    for i in $(seq 1 100); do
        [ "$(grep -c 'serving with' "gateway-$node.log")" -gt "${before:-0}" ] && return 0
        kill -0 "${NODE_PID[$node]}" 2>/dev/null || { tail -20 "gateway-$node.log" >&2; it_fail "node $node exited at start"; }
        sleep 0.05
    done
    it_fail "node $node did not start within 5 s"
}

# it_node_stop NODE: SIGTERM, and the exit must be clean.
it_node_stop() {
    local node=$1 rc=0
    kill -TERM "${NODE_PID[$node]}"
    wait "${NODE_PID[$node]}" || rc=$?
    [ "$rc" = 0 ] || { tail -20 "gateway-$node.log" >&2; it_fail "node $node exited with $rc"; }
}
