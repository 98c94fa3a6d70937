#!/usr/bin/env bash
# The CPU each cluster node's thread spends on Redis per call attempt with the spending
# cap and the velocity counts shared (issue #15): two nodes, one redis-server, account
# 1001's rated calls (3 s each) through both nodes at RATE calls/s per node for COUNT calls
# per node, under a daily cap of CAP (default 100000.00: never reached; CAP=no: none, call
# grants and velocity only).
#   SIPWARDEN=build/gcc/src/sipwarden bench/cluster/spend_cpu.sh [RATE] [COUNT]
# Prints per node: call attempts, spend grants sent, thread CPU and CPU per attempt.
set -euo pipefail
RATE=${1:-20}
COUNT=${2:-200}
CAP=${CAP:-100000.00}
export SW_IT_LOGS=${SW_IT_LOGS:-/tmp/sipwarden-bench/cluster_spend_cpu}
here=$(dirname "$(readlink -f "$0")")
it=$here/../../tests/it
source "$it/lib.sh"
source "$it/lib_cluster.sh"

SECRET='Str0ng-1001-xQ7v'
PBX_PORT=$(it_free_port)
PROV_PORT=$(it_free_port)
it_redis_start
port=$(it_free_port)
printf 'currency,EUR\nprefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label\n1212,6.00,0.05,1,1,New York\n' > deck.csv
# One phone address for all calls: its request budgets are raised for the load.
limits=$(printf '[ratelimit]\ninvite_rate = 2000\ninvite_burst = 4000\nother_rate = 2000\nother_burst = 4000')
for node in a b; do
    it_cluster_conf "$node" "$node.conf" "$port"
    cap=""
    [ "$CAP" != no ] && cap="daily_cap = $CAP"
    printf '%s\nmax_calls = 1000\n[fraud]\nratedeck = %s/deck.csv\n[auth]\nalgorithms = MD5\n%s\n' \
        "$cap" "$IT_LOGS" "$limits" >> "$node.conf"
    it_node_start "$node" "$node.conf"
done
timeout 120 sipp -sn uas -i 127.0.0.5 -p "$PBX_PORT" -m $((2 * COUNT)) -nostdin -timeout 100s \
    > pbx.out 2>&1 &
IT_PIDS+=("$!")
sleep 0.3
for node in a b; do
    ip=127.0.0.11
    [ "$node" = b ] && ip=127.0.0.12
    timeout 120 sipp "$ip:$port" -sf "$it/reload_accounts/phone-call-held.xml" -s +12125551234 \
        -au 1001 -ap "$SECRET" -i 127.0.0.20 -p "$(it_free_port)" -m "$COUNT" -r "$RATE" \
        -nostdin -timeout 100s > "phone-$node.out" 2>&1 &
    eval "phone_$node=\$!"
    IT_PIDS+=("$!")
done
wait "$phone_a" || true
wait "$phone_b" || true
for node in a b; do
    it_node_stop "$node"
done
it_redis_stop
for node in a b; do
    line=$(grep 'thread CPU' "gateway-$node.log" | tail -1)
    cpu=$(sed -n 's/.*thread CPU \([0-9]*\) us.*/\1/p' <<< "$line")
    spend=$(sed -n 's/.* \([0-9]*\) spend grants.*/\1/p' <<< "$line")
    ok=$(it_sipp_stat "phone-$node.out" 'Successful call')
    failed=$(it_sipp_stat "phone-$node.out" 'Failed call')
    attempts=$((ok + failed))
    echo "node $node: $attempts call attempts ($ok answered), $spend spend grants, thread CPU $cpu us: $((cpu / attempts)) us per attempt"
    echo "  $line"
done
