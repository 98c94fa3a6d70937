#!/usr/bin/env bash
# A trunk's max_calls = 10 holds for a cluster of two gateways (issue #15): sipp plays the
# provider towards node a (127.0.0.11) and node b (127.0.0.12) at once, each asking for
# far more than 10 calls in progress; the PBX stand-in counts the calls it answered and
# not yet ended, and never sees more than 10 at once, while both nodes carry calls. Each node
# keeps its own call records, tagged with its node name; one cdr export reads both.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_cluster.sh"

tools=$IT_DIR/../tools
PBX_PORT=$(it_free_port)
PROV_PORT=$(it_free_port)
it_redis_start
port=$(it_free_port)
IT_MAX_CALLS=10
it_cluster_conf a a.conf "$port"
it_cluster_conf b b.conf "$port"
it_node_start a a.conf
it_node_start b b.conf

python3 "$tools/pbx_counter.py" 127.0.0.5 "$PBX_PORT" --seconds 25 --out pbx.stat &
pbx=$!
IT_PIDS+=("$pbx")
sleep 0.3

# Each caller: 12 calls a second for 3 s, each held 2 s: about 24 in progress wanted per node.
for node in a b; do
    ip=127.0.0.11
    [ "$node" = b ] && ip=127.0.0.12
    timeout 40 sipp "$ip:$port" -sn uac -s 15551230010 -i 127.0.0.6 -p "$(it_free_port)" \
        -m 36 -r 12 -d 2000 -nostdin -timeout 30s -timeout_error \
        -trace_err -error_file "uac-$node.err" > "uac-$node.out" 2>&1 &
    eval "uac_$node=\$!"
    IT_PIDS+=("$!")
done
wait "$uac_a" || true
wait "$uac_b" || true
sleep 1.2 # the PBX stand-in writes its counts every second
cat pbx.stat
max=$(sed -n 's/^max_concurrent=//p' pbx.stat)
ok_a=$(it_sipp_stat uac-a.out 'Successful call')
ok_b=$(it_sipp_stat uac-b.out 'Successful call')
failed_a=$(it_sipp_stat uac-a.out 'Failed call')
failed_b=$(it_sipp_stat uac-b.out 'Failed call')
it_log "cap 10 over two nodes: at most $max calls at once at the PBX; node a $ok_a answered, $failed_a refused; node b $ok_b answered, $failed_b refused"
[ "$max" -le 10 ] || it_fail "$max calls in progress at once through the cluster, cap 10"
[ "$max" -ge 8 ] || it_fail "at most $max calls at once: the cluster did not use its cap"
[ "$ok_a" -ge 1 ] && [ "$ok_b" -ge 1 ] || it_fail "a node carried no call"
[ $((failed_a + failed_b)) -ge 1 ] || it_fail "no call was refused although twice the cap was asked for"
grep -q 'max_calls reached' security-a.log security-b.log || it_fail "no max_calls refusal logged"

it_node_stop a
it_node_stop b
# The CPU each node's cluster thread spent on Redis, per call attempt it judged.
for node in a b; do
    cpu=$(sed -n 's/.*cluster: .* thread CPU \([0-9]*\) us.*/\1/p' "gateway-$node.log" | tail -1)
    [ -n "$cpu" ] || it_fail "node $node logged no cluster statistics at stop"
    eval "calls=\$((ok_$node + failed_$node))"
    it_log "node $node: cluster thread CPU $cpu us for $calls call attempts: $((cpu / calls)) us per call"
done
it_redis_stop

# Each node kept its own call records, tagged with its name; one export reads both.
"$SIPWARDEN" cdr export --since 2000-01-01 --format json -c a.conf -c b.conf > cdr.json ||
    it_fail "cdr export of both nodes failed"
from_a=$(grep -c '"node":"a"' cdr.json || true)
from_b=$(grep -c '"node":"b"' cdr.json || true)
it_log "cdr export -c a.conf -c b.conf: $from_a records from node a, $from_b from node b"
# A call refused at max_calls never became a call: the answered ones have records.
[ "$from_a" = "$ok_a" ] && [ "$from_b" = "$ok_b" ] ||
    it_fail "expected $ok_a records of node a and $ok_b of node b"
it_log "ok"
