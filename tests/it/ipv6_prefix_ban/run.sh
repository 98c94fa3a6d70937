#!/usr/bin/env bash
# #9 IPv6: an attacker rotating through the addresses of one /64 gets no fresh budget.
# In a network namespace this test creates (a dummy interface holding the addresses; the
# namespace's loopback when the dummy driver is missing), the gateway listens on
# 2001:db8:5:5::1 and only 2001:db8:9:9::/64 is permitted ([acl] permit, 403 to others).
# Three addresses of 2001:db8:1:2::/64 send one OPTIONS each: three FailedACL failures of
# one source, so the third bans the /64 ([ban] ipv6_prefix = 64, maxretry = 3). A fourth
# address of that /64 is then dropped unanswered, an address of another /64 still gets
# its answer, and the security log names each real address. (Before: each address had
# its own count of failures, and the fourth got its 403.)
# [ban] kernel_drop (on by default): the /64 reaches the socket filter's prefix trie, so
# the fourth address is dropped in the kernel (sipwarden_kernel_drops_total{reason=
# "banned"} = 1) and no worker sees it (sipwarden_gate_packets_total{result="banned"} = 0;
# before #13's trie, only the prefix's first address was in the kernel and the gate
# dropped it). Where BPF is refused, the gate's drop alone is checked.
source "$(dirname "$0")/../lib.sh"

command -v ip > /dev/null || it_fail "ip (iproute2) is not installed"
ns=sw-it-v6-$$
cleanup_ns() {
    it_cleanup
    ip netns del "$ns" 2> /dev/null || true
}
trap cleanup_ns EXIT
ip netns add "$ns" || it_fail "cannot create network namespace $ns (needs CAP_SYS_ADMIN)"
ip netns exec "$ns" ip link set lo up
dev=d6
if ip netns exec "$ns" ip link add "$dev" type dummy 2> /dev/null; then
    ip netns exec "$ns" ip link set "$dev" up
else
    it_log "no dummy interface driver here: the addresses go on the namespace's loopback"
    dev=lo
fi
for addr in 2001:db8:5:5::1/64 2001:db8:9:9::1/64 2001:db8:1:2::a/64 2001:db8:1:2::b/64 \
            2001:db8:1:2::c/64 2001:db8:1:2:ffff::d/64; do
    ip netns exec "$ns" ip addr add "$addr" dev "$dev" nodad
done

port=5060
admin_port=8080 # inside this test's own namespace
cat > gw.conf <<CONF
[general]
listen = udp:[2001:db8:5:5::1]:$port
workers = 2
[pbx]
address = udp:127.0.0.1:5090
[acl]
permit = 2001:db8:9:9::/64
deny_reply = 403
[ban]
maxretry = 3
ipv6_prefix = 64
[admin]
listen = 127.0.0.1:$admin_port
CONF
REAL_SIPWARDEN=$SIPWARDEN
cat > in-ns.sh <<SH
#!/usr/bin/env bash
exec ip netns exec "$ns" "$REAL_SIPWARDEN" "\$@"
SH
chmod +x in-ns.sh
SIPWARDEN=$IT_LOGS/in-ns.sh
it_start_gateway gw.conf

# probe SRC: one OPTIONS from SRC (inside the namespace); prints the status code or
# "none" when nothing came back within 2 s.
probe() {
    timeout 10 ip netns exec "$ns" python3 - "$1" "$port" <<'PY'
import socket, sys
src, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((src, 5070))
msg = (f"OPTIONS sip:gw@[2001:db8:5:5::1] SIP/2.0\r\n"
       f"Via: SIP/2.0/UDP [{src}]:5070;branch=z9hG4bK-{src.replace(':', '')}\r\n"
       "Max-Forwards: 70\r\n"
       f"From: <sip:probe@[{src}]>;tag=t1\r\n"
       "To: <sip:gw@[2001:db8:5:5::1]>\r\n"
       f"Call-ID: v6-{src.replace(':', '')}\r\n"
       "CSeq: 1 OPTIONS\r\n"
       "User-Agent: it-probe\r\n"
       "Content-Length: 0\r\n\r\n")
s.sendto(msg.encode(), ("2001:db8:5:5::1", port))
s.settimeout(2)
try:
    data = s.recv(4096).decode(errors="replace")
    print(data.split(" ", 2)[1])
except socket.timeout:
    print("none")
PY
}

for src in 2001:db8:1:2::a 2001:db8:1:2::b 2001:db8:1:2::c; do
    got=$(probe "$src")
    it_log "$src: $got"
    [ "$got" = 403 ] || it_fail "$src: expected 403 from the ACL, got $got"
done
it_wait_grep 'ban: 2001:db8:1:2::c as 2001:db8:1:2::/64 banned' gateway.log 5 ||
    it_fail "no ban of the /64 after three failures from three of its addresses"
got=$(probe 2001:db8:1:2:ffff::d)
it_log "2001:db8:1:2:ffff::d (same /64, new address): $got"
[ "$got" = none ] || it_fail "a fresh address of the banned /64 was answered ($got)"
# metric NAME{LABELS}: its value in metrics.txt (scraped by scrape_until_kernel_drop).
metric() {
    local v
    v=$(grep -F "$1 " metrics.txt | awk '{print $2}')
    echo "${v:-absent}"
}
# The housekeeping thread refreshes the kernel's counters once a second: poll up to 6 s.
scrape_until_kernel_drop() {
    for _ in $(seq 1 30); do
        sleep 0.2
        ip netns exec "$ns" curl -sf "http://127.0.0.1:$admin_port/metrics" > metrics.txt || true
        [ "$(metric 'sipwarden_kernel_drops_total{reason="banned"}')" = 0 ] || return 0
    done
}
if grep -q 'ban: kernel drop on' gateway.log; then
    scrape_until_kernel_drop
    kernel=$(metric 'sipwarden_kernel_drops_total{reason="banned"}')
    it_log "kernel drops of the banned /64: $kernel"
    [ "$kernel" = 1 ] || it_fail "the socket filter dropped $kernel packets of the /64, expected 1"
    gate=$(metric 'sipwarden_gate_packets_total{result="banned"}')
    [ "$gate" = 0 ] || it_fail "a worker saw $gate packets of the banned /64 (gate: $gate)"
else
    it_log "kernel drop unavailable here: the gate's drop alone is checked"
fi
got=$(probe 2001:db8:9:9::1)
it_log "2001:db8:9:9::1 (another /64): $got"
[ "$got" != none ] || it_fail "an address of another /64 got no answer"
# The security log names the real addresses, not the prefix.
for src in 2001:db8:1:2::a 2001:db8:1:2::b 2001:db8:1:2::c; do
    it_wait_grep "RemoteAddress=\"IPV6/UDP/$src/5070\"" security.log 3 ||
        it_fail "the security log does not name $src"
done
it_gateway_alive
it_stop_gateway
it_log "ok"
