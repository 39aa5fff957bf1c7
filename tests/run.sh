#!/bin/sh
# Runs every test program in BUILD/tests and every tests/*.test.sh script; each
# prints "ok NAME" or "FAIL NAME: why" per case. Ends with "N passed, N failed"
# and a non-zero exit when anything failed or a program crashed.
BUILD=${1:-build}
export CLIFF_BUILD="$BUILD" OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
log=$(mktemp)
crashed=0
for t in "$BUILD"/tests/test_* tests/*.test.sh; do
    [ -e "$t" ] || continue
    case "$t" in *.d|*.o) continue ;; esac
    name=$(basename "$t")
    if [ "${t%.sh}" != "$t" ]; then sh "$t" "$BUILD" > "$log.one" 2>&1; rc=$?
    else "$t" > "$log.one" 2>&1; rc=$?; fi
    cat "$log.one" | tee -a "$log" | grep -v '^ok ' 
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$log.one"; then
        echo "FAIL $name: exited with status $rc and no failing case (crash?)" | tee -a "$log"
        crashed=1
    fi
done
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^FAIL ' "$log")
rm -f "$log" "$log.one"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $crashed -eq 0 ]
