# An rtpengine of the test's own for the media tests (sourced after lib.sh): userspace
# forwarding on 127.0.0.1, its own ng, CLI and media ports, stopped by PID.

# it_rtpengine_ports: picks RTPENGINE_NG_PORT, RTPENGINE_CLI_PORT and a media range
# RTP_MIN-RTP_MAX of 100 ports derived from the ng port, so that parallel tests differ.
it_rtpengine_ports() {
    command -v rtpengine >/dev/null || it_fail "rtpengine not installed (scripts/deps.sh --test)"
    RTPENGINE_NG_PORT=$(it_free_port)
    RTPENGINE_CLI_PORT=$(it_free_port) # 2224 unless told, which parallel runs would share
    RTP_MIN=$((30000 + (RTPENGINE_NG_PORT % 300) * 100))
    RTP_MAX=$((RTP_MIN + 99))
}

# it_start_rtpengine [LOG]: starts rtpengine on the ports of it_rtpengine_ports (again on
# the same ones after a kill) and waits until it serves; RTPENGINE_PID is its PID. The log
# is appended to, so that a restart keeps the first run's lines.
#   --config-file=none: the packaged /etc/rtpengine/rtpengine.conf would add an HTTP
#     listener on the fixed port 2225, which two tests running at once would fight over.
#   --endpoint-learning=off: the gateway asks for trust-address and strict-source, but
#     rtpengine 10.5's default (delayed) still lets any source take a stream over during
#     its first 3 s (measured: a third address then got the callee's RTP and the caller's
#     was dropped). With learning off, the SDP's addresses are the only ones accepted.
it_start_rtpengine() {
    local log=${1:-rtpengine.log} started i
    started=$(grep -c 'Startup complete' "$log" 2>/dev/null || true)
    rtpengine --config-file=none --foreground --log-stderr --table=-1 --interface=127.0.0.1 \
        --listen-ng=127.0.0.1:"$RTPENGINE_NG_PORT" --listen-cli=127.0.0.1:"$RTPENGINE_CLI_PORT" \
        --port-min="$RTP_MIN" --port-max="$RTP_MAX" --endpoint-learning=off --delete-delay=0 \
        --log-level=6 --no-redis-required >>"$log" 2>&1 &
    RTPENGINE_PID=$!
    IT_PIDS+=("$RTPENGINE_PID")
    for i in $(seq 1 200); do
        [ "$(grep -c 'Startup complete' "$log" 2>/dev/null || true)" -gt "${started:-0}" ] && return 0
        kill -0 "$RTPENGINE_PID" 2>/dev/null || { tail -5 "$log" >&2; it_fail "rtpengine exited"; }
        sleep 0.05
    done
    it_fail "rtpengine did not start within 10 s"
}

# it_stop_rtpengine: SIGKILL, as a crash would, and waits until it is gone.
it_stop_rtpengine() {
    kill -KILL "$RTPENGINE_PID" 2>/dev/null || true
    wait "$RTPENGINE_PID" 2>/dev/null || true
}

# it_sipp_received FILE: the messages a sipp trace (-trace_msg) shows it received.
it_sipp_received() { awk '/message received/ { k = 1 } /message sent/ { k = 0 } k' "$1"; }

# it_media_anchored FILE FORBIDDEN: every SDP the sipp trace FILE received names a port of
# rtpengine's range (RTP_MIN-RTP_MAX), there is one, and nothing received names FORBIDDEN.
it_media_anchored() {
    local port n=0
    for port in $(it_sipp_received "$1" | awk '/^m=audio / { print $2 }'); do
        [ "$port" -ge "$RTP_MIN" ] && [ "$port" -le "$RTP_MAX" ] ||
            it_fail "$1: media port $port is not rtpengine's"
        n=$((n + 1))
    done
    [ "$n" -ge 1 ] || it_fail "$1: no SDP received"
    if it_sipp_received "$1" | grep -nF "$2"; then
        it_fail "$1 names $2"
    fi
}
