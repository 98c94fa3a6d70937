#!/usr/bin/env bash
# A cluster of two gateways sharing Redis (issue #15): a digest guesser alternating its
# guesses between node a (127.0.0.11) and node b (127.0.0.12) gets at most maxretry (3)
# answered guesses in all, not 3 per node, and is then banned on both (each node's
# security log has the BanAdded, the one that did not decide learned it from Redis).
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_cluster.sh"

tools=$IT_DIR/../tools
PBX_PORT=$(it_free_port)
PROV_PORT=$(it_free_port)
it_redis_start
port=$(it_free_port)
it_cluster_conf a a.conf "$port"
it_cluster_conf b b.conf "$port"
it_node_start a a.conf
it_node_start b b.conf

timeout 60 python3 "$tools/digest_guesser.py" 127.0.0.20 0 1001 --mode new-call-id \
    --targets "127.0.0.11:$port,127.0.0.12:$port" --guesses 20 --seconds 30 \
    --silence-ms 500 --give-up-ms 2000 > guesser.out
cat guesser.out
grep -q '^cracked=' guesser.out && it_fail "the guesser cracked the account"
answered=$(sed -n 's/^answered=//p' guesser.out)
it_log "guesser alternating between two nodes: $answered answered guesses (maxretry 3)"
[ "$answered" -le 3 ] || it_fail "$answered answered guesses across the cluster, at most 3 allowed"
[ "$answered" -ge 2 ] || it_fail "only $answered answered guesses: the guesser did not reach both nodes"
for node in a b; do
    it_wait_grep 'BanAdded.*IPV4/UDP/127\.0\.0\.20/0' "security-$node.log" ||
        it_fail "the guesser is not banned on node $node"
done
grep -q 'ClusterFailures=3' gateway-a.log gateway-b.log ||
    it_fail "no node banned on the cluster's count"
it_log "banned on both nodes after 3 guesses in all"

it_node_stop a
it_node_stop b
it_redis_stop
it_log "ok"
