#!/usr/bin/env bash
# Registrations of remote accounts shared by a cluster (issue #15): a phone (127.0.0.7)
# registers through node a; the PBX calls its account through node b, which relays the
# INVITE, signed, to node a, which rings the phone. A peer's address without the signature
# gets 403. After the phone unregisters, the PBX's call for it gets 480 on both nodes; once
# registered again, node a is killed with -9 and node b answers 480 after a's lease lapsed.
source "$(dirname "$0")/../lib.sh"
source "$IT_DIR/../lib_cluster.sh"

SECRET='Str0ng-1001-xQ7v'
PBX_PORT=$(it_free_port)
PROV_PORT=$(it_free_port)
phone_port=$(it_free_port)
REDIS_PASSWORD=it-$$-pw
it_redis_start
port=$(it_free_port)
api_port=$(it_free_port)
TOKEN='cluster-registration-api-token-77'
printf 'peer-secret-%s-%s\n' "$$" "$RANDOM" > peer.secret
chmod 600 peer.secret
for node in a b; do
    ip=127.0.0.11
    [ "$node" = b ] && ip=127.0.0.12
    it_cluster_conf "$node" "$node.conf" "$port"
    sed -i "/^\[cluster\]/a address = udp:$ip:$port\npeers = 127.0.0.11/32, 127.0.0.12/32\npeer_secret_file = peer.secret" "$node.conf"
    printf '[auth]\nalgorithms = MD5\n' >> "$node.conf"
    if [ "$node" = b ]; then # node b's admin API tells which node holds 1001's binding
        sed -i "/^\[admin\]/{n;s/^listen =\$/listen = 127.0.0.12:$api_port\ntoken = $TOKEN/}" b.conf
    fi
    chmod 600 "$node.conf"
    it_node_start "$node" "$node.conf"
done

# it_pbx_register WHAT EXPIRES: the PBX stand-in takes one REGISTER while sipsak
# registers the phone through node a.
pbx_register() {
    local what=$1 expires=$2 rc=0
    timeout 20 sipp -sf "$IT_DIR/pbx-registrar.xml" -i 127.0.0.5 -p "$PBX_PORT" -m 1 -nostdin \
        -timeout 15s > "pbx-$what.out" 2>&1 &
    local pbx=$!
    IT_PIDS+=("$pbx")
    sleep 0.3
    timeout 10 sipsak -U -C "sip:1001@127.0.0.7:$phone_port" -s "sip:1001@127.0.0.11:$port" \
        -u 1001 -a "$SECRET" -H 127.0.0.7 --local-ip 127.0.0.7 -l "$phone_port" -S \
        -x "$expires" > "sipsak-$what.out" 2>&1 || rc=$?
    wait "$pbx" || true
    it_log "$what through node a: sipsak rc=$rc"
    [ "$rc" = 0 ] || it_fail "$what through node a failed"
}

# holder_on_b: the node node b's admin API names as 1001's holder ("None" = none).
holder_on_b() {
    curl -sS -m 5 -H "Authorization: Bearer $TOKEN" "http://127.0.0.12:$api_port/api/v1/accounts" |
        python3 -c 'import json,sys
a = [x for x in json.load(sys.stdin)["accounts"] if x["name"] == "1001"][0]
print((a["cluster_binding"] or {}).get("node"))'
}

# wait_holder_on_b NODE: polls (3 s at most) until node b names NODE as the holder.
wait_holder_on_b() {
    local i
    for i in $(seq 1 30); do
        [ "$(holder_on_b)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# pbx_call NODE_IP NAME: the PBX calls account 1001 through NODE_IP; sipp's rc.
pbx_call() {
    local rc=0
    timeout 20 sipp "$1:$port" -sn uac -s 1001 -i 127.0.0.5 -p "$PBX_PORT" -m 1 -d 200 \
        -nostdin -timeout 15s -timeout_error -trace_msg -message_file "$2.msg" \
        > "$2.out" 2>&1 || rc=$?
    echo "$rc"
}

# 1. The phone registers through node a; its binding reaches Redis, node b reads it.
pbx_register register 120
for i in $(seq 1 60); do
    it_redis_cli hget "it$$:regs" 1001 | grep -q '^a ' && break
    sleep 0.05
done
binding=$(it_redis_cli hget "it$$:regs" 1001)
it_log "binding in Redis: $binding"
[[ $binding == "a "*" udp:127.0.0.11:$port" ]] || it_fail "node a did not publish the binding"
wait_holder_on_b a || it_fail "node b's admin API does not show node a holding 1001's binding"

# 2. The PBX calls 1001 through node b: relayed to node a, the phone rings and answers.
timeout 30 sipp -sn uas -i 127.0.0.7 -p "$phone_port" -m 1 -nostdin -timeout 25s \
    -trace_msg -message_file phone.msg > phone.out 2>&1 &
phone=$!
IT_PIDS+=("$phone")
sleep 0.3
rc=$(pbx_call 127.0.0.12 call-b)
wait "$phone" || true
it_log "pbx -> node b -> node a -> phone: rc=$rc"
[ "$rc" = 0 ] || it_fail "the call through node b did not reach the phone"
grep -q "INVITE sip:1001@127.0.0.7:$phone_port" phone.msg || it_fail "the phone got no INVITE at its Contact"
# (The SDP keeps the PBX's media address: this test anchors no media.)
if grep -v '^[oc]=' phone.msg | grep -qi "X-Sipwarden-Peer\|127.0.0.5\|127.0.0.12"; then
    it_fail "the peers' signature, node b's or the PBX's address reached the phone"
fi
grep -q 'X-Sipwarden-Peer' call-b.msg && it_fail "the signature reached the PBX"

# 3. From a peer's address, unsigned: 403, and a FailedACL event on node a.
rc=0
timeout 20 sipp "127.0.0.11:$port" -sn uac -s 1001 -i 127.0.0.12 -p "$(it_free_port)" -m 1 \
    -nostdin -timeout 10s -timeout_error -trace_msg -message_file forged.msg \
    > forged.out 2>&1 || rc=$?
grep -q '^SIP/2.0 403' forged.msg || it_fail "an unsigned INVITE from a peer's address was not refused with 403"
it_wait_grep 'unsigned request from a peer' security-a.log || it_fail "no event for the unsigned INVITE"
sleep 0.2
# One for the INVITE; the ACK of the 403 is no new refusal.
[ "$(grep -c 'unsigned request from a peer' security-a.log)" = 1 ] || it_fail "not exactly one event"
it_log "unsigned INVITE from a peer's address: 403"

# 4. The phone unregisters: the binding leaves Redis, and the call gets 480 on both nodes.
pbx_register unregister 0
for i in $(seq 1 60); do
    [ -z "$(it_redis_cli hget "it$$:regs" 1001)" ] && break
    sleep 0.05
done
[ -z "$(it_redis_cli hget "it$$:regs" 1001)" ] || it_fail "the unregistration did not reach Redis"
wait_holder_on_b None || it_fail "node b still shows a holder of 1001's binding"
for ip in 127.0.0.11 127.0.0.12; do
    rc=$(pbx_call "$ip" "after-$ip")
    grep -q '^SIP/2.0 480' "after-$ip.msg" || it_fail "a call for the unregistered phone through $ip was not answered 480"
    it_log "after the unregistration, through $ip: 480"
done

# 5. Registered again, then node a dies (-9): its binding goes with its lease (5 s), and
# node b answers 480 rather than relay to a dead node.
pbx_register register-again 120
wait_holder_on_b a || it_fail "node b did not learn the new binding"
killed_ms=$(date +%s%3N)
kill -9 "${NODE_PID[a]}"
wait "${NODE_PID[a]}" 2>/dev/null || true
for i in $(seq 1 70); do # the lease lapses within 5 s, node b reads once a second
    [ "$(holder_on_b)" = None ] && break
    sleep 0.1
done
forgot_ms=$(( $(date +%s%3N) - killed_ms ))
[ "$(holder_on_b)" = None ] || it_fail "node b still knew node a's binding long after a died"
rc=$(pbx_call 127.0.0.12 after-death)
grep -q '^SIP/2.0 480' after-death.msg || it_fail "node b still relayed to node a after its lease lapsed"
it_log "node a killed: node b forgot its binding after $forgot_ms ms, then answers 480"

it_node_stop b
it_redis_stop
it_log "ok"
