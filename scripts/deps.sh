#!/usr/bin/env bash
# Installs what building, running and testing sipwarden needs on Debian 12, from Debian's
# packages only. Skips apt entirely when everything is already there.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh --test   plus the test tools (sipp, SIPVicious, fail2ban, ...)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config git libssl-dev libinih-dev libjansson-dev
            libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev libhiredis-dev libzxcvbn-dev
            libsystemd-dev openssl tzdata libbpf-dev clang libmaxminddb-dev liburing-dev)
test_pkgs=(libcmocka-dev clang clang-format clang-tidy libclang-rt-14-dev llvm sip-tester
           sipvicious sipsak baresip fail2ban redis-server tshark nftables iptables iproute2
           scdoc libosip2-dev kamailio valgrind python3 procps psmisc rtpengine-daemon
           prometheus chromium mmdb-bin)

pkgs=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
    pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# tshark asks whether non-root users may capture; the default (no) is what we want.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# The kamailio, redis and rtpengine packages start system services; the tests and the benchmark start
# their own instances on other ports, so stop the system ones where a service manager runs.
for svc in kamailio redis-server fail2ban rtpengine-daemon; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
        $SUDO systemctl stop "$svc" || true
    fi
done
