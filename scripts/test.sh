#!/usr/bin/env bash
# The test command of the README and of CI: installs what is missing, then runs, in order,
# the format check, the commit-subject check, the gcc -Werror build with its unit tests and
# the volume tests, the clang ASan+UBSan build with every test (clang-tidy and the fuzzing
# build beside them, at the lowest priority), and a short fuzzing smoke run.
#   SW_TEST_QUICK=1 scripts/test.sh   only the gcc build and every test (for development)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/deps.sh --test

# A user's clone is all there is: the full run builds and tests a copy of the repository
# (its files and history, uncommitted edits included) in an otherwise empty folder, so a
# test that reads anything beside the repository (a sibling folder of test data) fails
# here as it would for a user. The copy is removed when everything passed.
if [ "${SW_TEST_QUICK:-0}" != 1 ] && [ "${SW_TEST_LONE:-0}" != 1 ]; then
    lone=$(mktemp -d "${TMPDIR:-/tmp}/sipwarden-lone.XXXXXX")
    printf '\n== lone copy in %s\n' "$lone/sipwarden"
    mkdir "$lone/sipwarden"
    git ls-files -z --cached --others --exclude-standard |
        (while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
        tar --null -T - -cf - | tar -C "$lone/sipwarden" -xf -
    # The history, for the commit-subject check; HEAD is this checkout's (also in a worktree).
    cp -a "$(git rev-parse --git-common-dir)" "$lone/sipwarden/.git"
    git -C "$lone/sipwarden" update-ref --no-deref HEAD "$(git rev-parse HEAD)"
    SW_TEST_LONE=1 bash "$lone/sipwarden/scripts/test.sh"
    rm -rf "$lone"
    exit 0
fi

jobs=$(nproc)
# Each step is stamped with the seconds since the start, so a slow step shows in CI's log.
started=$SECONDS
step() { printf '\n== [%ds] %s\n' "$((SECONDS - started))" "$*"; }

step "format (clang-format --dry-run -Werror)"
bash scripts/check-format.sh

step "commit subjects"
bash scripts/check-commits.sh

cmake -S . -B build/gcc -DCMAKE_C_COMPILER=gcc -DSW_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if [ "${SW_TEST_QUICK:-0}" = 1 ]; then
    step "gcc build, -Werror, all tests"
    cmake --build build/gcc -j "$jobs"
    ctest --test-dir build/gcc --output-on-failure -j "$jobs"
    exit 0
fi
# Every test runs in the sanitized build below; the optimized build runs the unit, lint and
# fuzz-replay tests and the integration tests whose point is load at full speed (label
# volume), so that the integration suite does not run twice.
step "gcc build, -Werror, unit tests and the volume tests"
cmake --build build/gcc -j "$jobs"
ctest --test-dir build/gcc --output-on-failure -j "$jobs" -LE '^it$'
ctest --test-dir build/gcc --output-on-failure -j "$jobs" -L '^volume$'

step "ThreadSanitizer: the threading primitives' unit tests"
bash scripts/tsan.sh build/tsan

step "clang build, ASan+UBSan, all tests"
cmake -S . -B build/asan -DCMAKE_C_COMPILER=clang -DSW_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
      -DSW_SANITIZE=address,undefined >/dev/null
cmake --build build/asan -j "$jobs"
# The integration tests mostly wait (on sipp, timers, the serial load tests one at a time):
# clang-tidy and the fuzzing build use the idle processor meanwhile, at the lowest priority
# so that the tests' timing does not feel them. Their output is shown after the tests.
behind_log=$(mktemp)
(
    set -e
    renice -n 19 -p "$BASHPID" >/dev/null # before anything is started: all inherit it
    printf '\n== [%ds] clang-tidy (beside the tests, nice 19)\n' "$((SECONDS - started))"
    bash scripts/check-tidy.sh build/gcc
    printf '\n== [%ds] fuzzing build (beside the tests, nice 19)\n' "$((SECONDS - started))"
    cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DSW_FUZZ=ON \
          -DSW_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build build/fuzz -j "$jobs" --target fuzz_all > "$behind_log.fuzz" 2>&1 ||
        { tail -60 "$behind_log.fuzz"; exit 1; }
    printf '== [%ds] fuzzing build done\n' "$((SECONDS - started))"
) > "$behind_log" 2>&1 &
behind=$!
# Under the sanitizers the call tests run 200 calls per direction instead of 1,000: the
# point there is memory and undefined behaviour on every path, the volume ran with gcc.
tests_rc=0
SW_IT_CALLS=200 ctest --test-dir build/asan --output-on-failure -j "$jobs" || tests_rc=$?
behind_rc=0
wait "$behind" || behind_rc=$?
cat "$behind_log"
rm -f "$behind_log" "$behind_log.fuzz"
[ "$tests_rc" = 0 ] || { echo "the sanitized tests failed"; exit "$tests_rc"; }
[ "$behind_rc" = 0 ] || { echo "clang-tidy or the fuzzing build failed"; exit "$behind_rc"; }

step "fuzzing smoke run"
bash scripts/fuzz-smoke.sh build/fuzz "${SW_FUZZ_SECONDS:-10}"
cd "$root"
echo "all checks passed in $((SECONDS - started)) s"
