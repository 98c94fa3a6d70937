#!/usr/bin/env bash
# A cluster of two gateways when Redis fails (issue #15). Redis runs with ACLs: the default
# user is off and the nodes log in as "sipwarden" with a password read from a file only
# they may read (a group-readable one is refused with file:line).
#  1. Calls through both nodes at up to 8 in progress (trunk max_calls 10, local_share 50)
#     while Redis is killed with -9 and started again: no call fails. While Redis is away a
#     guesser is banned on node a alone (its local count); once Redis is back the ban
#     reaches node b. Both nodes log ClusterDegraded and ClusterRestored.
#  2. Redis killed again, both nodes asked for far more than the cap: the PBX never sees
#     more than 10 + 5 (the cap plus one node's local share) calls at once (here 5 + 5).
#  3. Node b killed with -9; a ban made on node a meanwhile; node b started again holds
#     it before it serves.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_cluster.sh"

tools=$IT_DIR/../tools
PBX_PORT=$(it_free_port)
PROV_PORT=$(it_free_port)
REDIS_PASSWORD=pw-$RANDOM-$RANDOM-cluster
it_redis_start
port=$(it_free_port)
IT_MAX_CALLS=10
it_cluster_conf a a.conf "$port"
it_cluster_conf b b.conf "$port"

# A password file others can read is refused, with the file and line of the key.
cp a.conf open.conf
sed -i 's/^password_file = .*/password_file = open.pw/' open.conf
echo "$REDIS_PASSWORD" > open.pw
chmod 640 open.pw
if "$SIPWARDEN" check-config open.conf > open.out 2>&1; then
    it_fail "a group-readable Redis password file was accepted"
fi
grep -qE "open.conf:[0-9]+: cluster.password_file: .*chmod 600" open.out ||
    { cat open.out; it_fail "no file:line error for the open password file"; }

it_node_start a a.conf
it_node_start b b.conf

pbx_start() { # the PBX stand-in, until pbx_stop
    python3 "$tools/pbx_counter.py" 127.0.0.5 "$PBX_PORT" --seconds 40 --out pbx.stat &
    pbx=$!
    IT_PIDS+=("$pbx")
    sleep 0.3
}
pbx_stop() { # stops it once the callers are done; its final counts are in pbx.stat
    wait "$uac_a" || true
    wait "$uac_b" || true
    kill -TERM "$pbx"
    wait "$pbx" || true
}
callers() { # tag calls rate hold_ms: one sipp caller per node, in the background
    local node ip
    for node in a b; do
        ip=127.0.0.11
        [ "$node" = b ] && ip=127.0.0.12
        timeout 40 sipp "$ip:$port" -sn uac -s 15551230010 -i 127.0.0.6 -p "$(it_free_port)" \
            -m "$2" -r "$3" -d "$4" -nostdin -timeout 30s -timeout_error \
            -trace_err -error_file "uac-$1-$node.err" > "uac-$1-$node.out" 2>&1 &
        eval "uac_$node=\$!"
        IT_PIDS+=("$!")
    done
}

# 1. Legitimate calls across an outage: 2 a second per node, each held 1.5 s (at most 4 in
#    progress per node: under each node's share, and under the cap with both spares held).
pbx_start
callers legit 12 2 1500
sleep 2
it_redis_stop KILL
it_wait_grep 'ClusterDegraded' security-a.log 5 || it_fail "node a raised no ClusterDegraded"
it_wait_grep 'ClusterDegraded' security-b.log 5 || it_fail "node b raised no ClusterDegraded"
timeout 30 python3 "$tools/digest_guesser.py" 127.0.0.21 0 1001 --mode new-call-id \
    --targets "127.0.0.11:$port" --guesses 10 --seconds 10 --silence-ms 400 --give-up-ms 1000 \
    > guesser-outage.out
answered=$(sed -n 's/^answered=//p' guesser-outage.out)
[ "$answered" = 3 ] || it_fail "the guesser got $answered answered guesses on node a during the outage"
it_wait_grep 'BanAdded.*IPV4/UDP/127\.0\.0\.21/0' security-a.log || it_fail "no local ban on node a during the outage"
grep -q 'BanAdded.*127\.0\.0\.21/' security-b.log && it_fail "node b learned a ban while Redis was down"
it_redis_start
pbx_stop
for node in a b; do
    ok=$(it_sipp_stat "uac-legit-$node.out" 'Successful call')
    failed=$(it_sipp_stat "uac-legit-$node.out" 'Failed call')
    it_log "legitimate calls through node $node across the outage: $ok answered, $failed failed"
    [ "$ok" = 12 ] && [ "$failed" = 0 ] || it_fail "node $node: $ok of 12 calls, $failed failed"
done
it_wait_grep 'BanAdded.*IPV4/UDP/127\.0\.0\.21/0' security-b.log 10 ||
    it_fail "the ban made during the outage did not reach node b once Redis was back"
it_wait_grep 'ClusterRestored' security-a.log 10 || it_fail "node a raised no ClusterRestored"
it_wait_grep 'ClusterRestored' security-b.log 10 || it_fail "node b raised no ClusterRestored"
it_log "outage: no call failed, the local ban reached node b once Redis was back"

# 2. Redis away and far more calls asked for than the cap: each node holds its share.
it_redis_stop KILL
for i in $(seq 1 100); do # both nodes on their local shares again
    [ "$(grep -c ClusterDegraded security-a.log)" -ge 2 ] &&
        [ "$(grep -c ClusterDegraded security-b.log)" -ge 2 ] && break
    sleep 0.05
done
pbx_start
callers over 18 12 2000
pbx_stop
cat pbx.stat
max=$(sed -n 's/^max_concurrent=//p' pbx.stat)
it_log "Redis down, about 24 calls at once asked of each node: at most $max at once at the PBX"
[ "$max" -le 15 ] || it_fail "$max calls at once while Redis was down: more than cap 10 + one share of 5"
[ "$max" -ge 6 ] || it_fail "only $max calls at once: the local shares were not used"
it_redis_start

# 3. Node b killed with -9, a ban on node a meanwhile, node b back with it.
sleep 1.5 # both nodes have found Redis again
kill -9 "${NODE_PID[b]}"
wait "${NODE_PID[b]}" 2>/dev/null || true
"$SIPWARDEN" ban add 198.51.100.77 -c a.conf > ban-add.out 2>&1 || it_fail "ban add failed: $(cat ban-add.out)"
for i in $(seq 1 50); do
    it_redis_cli --scan --pattern 'it*ban:198.51.100.77' | grep -q . && break
    sleep 0.1
done
it_node_start b b.conf
"$SIPWARDEN" ban list -c b.conf > bans-b.txt 2>&1 || it_fail "ban list on node b failed"
grep -q '198\.51\.100\.77' bans-b.txt || { cat bans-b.txt; it_fail "node b restarted without the cluster's ban"; }
it_log "node b killed with -9 restarted holding the ban node a made while it was away"

it_node_stop a
it_node_stop b
it_redis_stop
it_log "ok"
