#!/bin/sh
# How long SIGTERM takes to stop a training run: the iteration in progress is
# finished (a snapshot holds whole iterations), the snapshot pair written with
# fsync, the process gone. Per run: wall seconds from SIGTERM to "Snapshotting
# to" (the iteration finished), from there to exit, in all, and the CPU
# seconds the process spent after SIGTERM (from /proc at the signal and
# /usr/bin/time at exit: on a shared machine, CPU time is what the stop costs;
# the wall time depends on the load, printed too). One thread.
# Usage: bench/sigterm_stop.sh TRAIN SOLVER [RUNS] [ARGS...]   (from the folder
#        the solver's paths are relative to; ARGS go to train)
TRAIN=$1 SOLVER=$2 RUNS=${3:-3}
shift 3 2> /dev/null || shift $#
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)
now() { date +%s.%N; }
cpu() { awk -v hz="$hz" '{ print ($14 + $15) / hz }' "/proc/$1/stat" 2> /dev/null; }
echo "SIGTERM stop: $SOLVER, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ $r -lt "$RUNS" ]; do
    r=$((r + 1))
    rm -rf "$tmp/s" "$tmp/log"
    OPENBLAS_NUM_THREADS=1 /usr/bin/time -f '%e %U %S' -o "$tmp/time" "$TRAIN" "$SOLVER" \
        --set "snapshot_prefix=$tmp/s/r" --set display=1 --set snapshot=0 \
        --set max_iter=100000000 --set test_interval=100000000 --set test_initialization=false \
        "$@" > "$tmp/log" 2>&1 &
    tpid=$!
    # wait for the third iteration line, then a random part of a second
    while ! grep -q '^Iteration [3-9]\|^Iteration [1-9][0-9]' "$tmp/log" 2> /dev/null; do
        kill -0 $tpid 2> /dev/null || { echo "train ended: $(tail -n 2 "$tmp/log")"; exit 1; }
        sleep 0.02
    done
    sleep "0.$(($(od -An -N2 -tu2 /dev/urandom) % 900 + 100))"
    pid=$(pgrep -P $tpid)
    c0=$(cpu "$pid")
    t0=$(now)
    kill -TERM "$pid"
    t1=
    while kill -0 "$pid" 2> /dev/null; do
        [ -z "$t1" ] && grep -q 'Snapshotting to' "$tmp/log" && t1=$(now)
        sleep 0.01
    done
    wait $tpid
    t2=$(now)
    [ -z "$t1" ] && t1=$t2
    size=$(du -cm "$tmp"/s/r_iter_* 2> /dev/null | tail -n 1 | cut -f1)
    awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c0="$c0" -v sz="$size" -v r=$r \
        '{ printf "run %d: finish iteration %.2f s, write + exit %.2f s, in all %.2f s wall; CPU after SIGTERM %.2f s; snapshot %s MB\n",
                  r, t1 - t0, t2 - t1, t2 - t0, $2 + $3 - c0, sz }' "$tmp/time"
done
