#!/bin/sh
# Runs every test program in BUILD/tests and every tests/*.test.sh script; each
# prints "ok NAME" or "FAIL NAME: why" per case. Ends with "N passed, N failed"
# and a non-zero exit when anything failed or a program crashed.
#
# Programs run CLIFF_TEST_JOBS at a time (default: the number of cores), the
# longest first (their durations from the previous run are kept in
# BUILD/test-times; without it, the shell tests, which train, go first). Each
# program's output is kept apart and its failures are printed when it ends, so
# lines of two programs never interleave. Tests therefore never share a fixed
# path: every scratch file lives under mktemp or a pid-named directory.
#
# Usage: tests/run.sh [BUILD]            (internally: tests/run.sh --one TEST DIR)
if [ "${1:-}" = "--one" ]; then
    t=$2 dir=$3 name=$(basename "$2")
    start=$(date +%s.%N)
    if [ "${t%.sh}" != "$t" ]; then sh "$t" "$CLIFF_BUILD" > "$dir/$name.out" 2>&1; rc=$?
    else "$t" > "$dir/$name.out" 2>&1; rc=$?; fi
    end=$(date +%s.%N)
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$dir/$name.out"; then
        echo "FAIL $name: exited with status $rc and no failing case (crash?)" >> "$dir/$name.out"
    fi
    echo "$rc" > "$dir/$name.rc"
    awk -v s="$start" -v e="$end" -v n="$t" 'BEGIN { printf "%.2f %s\n", e - s, n }' > "$dir/$name.time"
    # One write per program, so concurrent programs' reports stay whole.
    grep -v '^ok ' "$dir/$name.out" > "$dir/$name.report"
    cat "$dir/$name.report"
    exit 0
fi

BUILD=${1:-build}
JOBS=${CLIFF_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
export CLIFF_BUILD="$BUILD" OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
times="$BUILD/test-times"

for t in "$BUILD"/tests/test_* tests/*.test.sh; do
    [ -e "$t" ] || continue
    case "$t" in *.d|*.o) continue ;; esac
    # Unknown durations: shell tests guessed at 10 s, programs at 1 s.
    guess=1; [ "${t%.sh}" != "$t" ] && guess=10
    known=$( [ -f "$times" ] && awk -v n="$t" '$2 == n { print $1; exit }' "$times")
    echo "${known:-$guess} $t"
done | sort -rn -k1,1 | awk '{ print $2 }' > "$dir/list"

xargs -P "$JOBS" -I{} sh "$0" --one {} "$dir" < "$dir/list"

passed=0 failed=0 crashed=0
: > "$dir/times"
while read -r t; do
    name=$(basename "$t")
    if [ ! -f "$dir/$name.rc" ]; then
        echo "FAIL $name: did not run"; failed=$((failed + 1)); continue
    fi
    passed=$((passed + $(grep -c '^ok ' "$dir/$name.out")))
    failed=$((failed + $(grep -c '^FAIL ' "$dir/$name.out")))
    [ "$(cat "$dir/$name.rc")" -ne 0 ] && crashed=1
    cat "$dir/$name.time" >> "$dir/times"
done < "$dir/list"
cp "$dir/times" "$times" 2>/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $crashed -eq 0 ]
