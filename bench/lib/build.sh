# shellcheck shell=bash disable=SC2034  # bin and source_note are for the caller
# Sourced by bench/*/run.sh: builds the sipwarden to measure and checks the tools.
#   bench_build NAME BUILD BIN HEAD  sets $bin (the binary) and $source_note (what it is)
# NAME names the default build directory (build/bench-NAME, -head with HEAD=1) and the
# snapshot folder. With BIN, that binary is measured as it is. With HEAD=1, a snapshot of
# the committed HEAD (git archive) is built, so that other engineers' uncommitted files
# neither break nor change the measurement; otherwise the working tree. Release mode.
bench_build() {
    local name=$1 build=$2 given=$3 head=$4
    local root
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    local commit
    commit=$(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown)
    if [ -n "$given" ]; then
        bin=$given
        source_note="given binary $given (repository at $commit)"
        return 0
    fi
    local src=$root
    if [ "$head" = 1 ]; then
        build=${build:-$root/build/bench-$name-head}
        # A fixed source path per checkout, so that the build directory is reused from run
        # to run, and two checkouts (git worktrees) measuring at once do not share one.
        src=/tmp/sipwarden-bench-$name-src-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
        rm -rf "$src"
        mkdir -p "$src"
        git -C "$root" archive HEAD | tar -x -C "$src"
        source_note="HEAD $commit"
    else
        build=${build:-$root/build/bench-$name}
        local dirty
        dirty=$(git -C "$root" status --porcelain -- src 2> /dev/null | head -1)
        source_note="working tree at $commit${dirty:+ with uncommitted changes in src/}"
    fi
    # A build directory made from another source folder (an older snapshot path) is made anew:
    # cmake refuses to switch.
    if [ -f "$build/CMakeCache.txt" ] &&
        ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$build/CMakeCache.txt"; then
        rm -rf "$build"
    fi
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
    cmake --build "$build" --target sipwarden -j2 > /dev/null
    bin=$build/src/sipwarden
}

# bench_check_tools: the tools are installed and no other kamailio runs (it would share
# the cores, maybe the ports); exits 2 otherwise.
bench_check_tools() {
    local tool
    for tool in sipp kamailio kamcmd python3; do
        command -v "$tool" > /dev/null || { echo "run.sh: $tool not installed" >&2; exit 2; }
    done
    if pgrep -x kamailio > /dev/null; then
        echo "run.sh: a kamailio process is already running; stop it first:" >&2
        pgrep -a -x kamailio >&2
        exit 2
    fi
}

# bench_main NAME SCRIPT ARGS...: run.sh's whole work. Reads --build DIR, --sipwarden BIN
# and --head from ARGS, builds (bench_build), checks the tools, and runs the python SCRIPT
# with --sipwarden and the other ARGS, with SW_BENCH_SOURCE naming what was built.
bench_main() {
    local name=$1 script=$2
    shift 2
    local build='' given='' head=0
    local args=()
    while [ $# -gt 0 ]; do
        case $1 in
        --build) build=$2; shift 2 ;;
        --sipwarden) given=$2; shift 2 ;;
        --head) head=1; shift ;;
        *) args+=("$1"); shift ;;
        esac
    done
    bench_build "$name" "$build" "$given" "$head"
    bench_check_tools
    SW_BENCH_SOURCE=$source_note exec python3 "$script" --sipwarden "$bin" "${args[@]}"
}
