#!/bin/sh
# --resume auto, snapshot_keep and snapshot_interval_seconds on a tiny net
# (HDF5Data with shuffle, Dropout, Adam: every piece of state a resume must
# restore). The job-script loop: the same command killed with SIGTERM and
# SIGKILL at random moments and rerun ends with the weights of an
# uninterrupted run, bit for bit (h5diff). Also: a file that does not read
# back whole is skipped with a warning naming it; the newest is chosen by the
# iteration stored inside; snapshots that do not fit the solver are an error,
# not a fresh start; retention keeps K pairs, cleans a half-deleted pair and
# survives kills during deletion; time-based snapshots land on iterations.
# Usage: sh tests/unattended.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$(pwd)/$BUILD/train
case $BUILD in /*) TRAIN=$BUILD/train ;; esac
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
SUITE=unattended
. tests/report.sh  # ok, fail, check, section

/usr/bin/python3 - "$tmp" << 'PY' || { fail setup "python3 numpy/h5py"; exit 0; }
import sys, numpy as np, h5py
d = sys.argv[1]
r = np.random.RandomState(3)
for name, n in (("train", 256), ("test", 64)):
    x = r.randn(n, 32).astype("f4")
    y = np.clip((np.abs(x[:, 0]) * 2).astype(int), 0, 2).astype("f4")
    with h5py.File(f"{d}/{name}.h5", "w") as f:
        f["data"] = x
        f["label"] = y
    open(f"{d}/{name}.txt", "w").write(f"{d}/{name}.h5\n")
PY
cat > "$tmp/s.prototxt" << NET
net_param { name: "ra"
  layer { name: "d" type: "HDF5Data" top: "data" top: "label" include { phase: TRAIN }
          hdf5_data_param { source: "$tmp/train.txt" batch_size: 32 shuffle: true } }
  layer { name: "d" type: "HDF5Data" top: "data" top: "label" include { phase: TEST }
          hdf5_data_param { source: "$tmp/test.txt" batch_size: 16 } }
  layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "h"
          inner_product_param { num_output: 256 weight_filler { type: "xavier" } } }
  layer { name: "relu" type: "ReLU" bottom: "h" top: "h" }
  layer { name: "drop" type: "Dropout" bottom: "h" top: "h" dropout_param { dropout_ratio: 0.3 } }
  layer { name: "ip2" type: "InnerProduct" bottom: "h" top: "p"
          inner_product_param { num_output: 3 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "p" bottom: "label" top: "loss" }
  layer { name: "acc" type: "Accuracy" bottom: "p" bottom: "label" top: "acc"
          include { phase: TEST } } }
test_iter: 4 test_interval: 100
base_lr: 0.001 lr_policy: "fixed" type: "Adam" max_iter: 400 display: 0 random_seed: 1
snapshot: 40
NET
run() { "$TRAIN" "$tmp/s.prototxt" "$@"; }
# start LOG ARGS...: train in the background, $pid its own process id (a
# backgrounded function would give the subshell's, and a kill would miss train)
start() {
    log=$1
    shift
    "$TRAIN" "$tmp/s.prototxt" "$@" > "$log" 2>&1 &
    pid=$!
}
: > "$tmp/h5diff"
same() { # same A B: the weights of two .caffemodel.h5 files are equal, bit for bit
    h5diff "$1" "$2" > "$tmp/h5diff" 2>&1
}

run --set "snapshot_prefix=$tmp/ref/r" > "$tmp/ref.log" 2>&1 ||
    { fail reference "$(tail -n 3 "$tmp/ref.log")"; exit 0; }
REF=$tmp/ref/r_iter_400.caffemodel.h5

# ---- the job script: rerun the same command until it finishes ----
if section job_script; then
    # delays from /dev/urandom, printed so that a failure can be replayed by hand
    n=0 done= delays=
    while [ $n -lt 14 ] && [ -z "$done" ]; do
        n=$((n + 1))
        start "$tmp/job$n.log" --resume auto --set "snapshot_prefix=$tmp/job/r" --set snapshot_keep=2
        if [ $n -le 8 ]; then
            ms=$(($(od -An -N2 -tu2 /dev/urandom) % 400 + 20))
            sig=TERM
            [ $((n % 2)) -eq 0 ] && sig=KILL
            delays="$delays $sig@${ms}ms"
            sleep "$(printf '0.%03d' "$ms")"
            kill -$sig $pid 2>/dev/null
        fi
        wait $pid 2>/dev/null
        rc=$?
        pid=
        grep -q "Optimization Done" "$tmp/job$n.log" && [ $rc -eq 0 ] && done=$n
    done
    check job_script_bit_exact "after $n runs ($delays): $(cat "$tmp/h5diff" 2>/dev/null | head -c 300)" \
        sh -c '[ -n "$1" ] && h5diff "$2" "$3" > /dev/null 2>&1' _ "$done" "$REF" "$tmp/job/r_iter_400.caffemodel.h5"
    check job_script_history_bit_exact "history differs" \
        sh -c 'h5diff "$1" "$2" /history /history > /dev/null 2>&1' _ \
        "$tmp/ref/r_iter_400.solverstate.h5" "$tmp/job/r_iter_400.solverstate.h5"
    pairs=$(ls "$tmp/job" | grep -c '\.solverstate\.h5$')
    models=$(ls "$tmp/job" | grep -c '\.caffemodel\.h5$')
    check job_script_keeps_2 "$pairs states, $models models: $(ls "$tmp/job" | tr '\n' ' ')" \
        test "$pairs" -eq 2 -a "$models" -eq 2
    # (the first runs may be killed before they print anything)
    check fresh_start_line "$(head -n 3 "$tmp/job1.log")" \
        grep -q -- "--resume auto: no complete snapshot of $tmp/job/r_iter_\*: starting fresh" "$tmp"/job*.log
    # rerun once more after the end: resumes at 400, exits 0, writes nothing new
    before=$(ls -l --time-style=+%s.%N "$tmp/job" | md5sum)
    run --resume auto --set "snapshot_prefix=$tmp/job/r" --set snapshot_keep=2 > "$tmp/again.log" 2>&1
    rc=$?
    after=$(ls -l --time-style=+%s.%N "$tmp/job" | grep -v metrics | md5sum)
    before=$(echo "$before")
    check rerun_after_end_is_done "rc $rc: $(tail -n 2 "$tmp/again.log")" \
        sh -c 'test $1 -eq 0 && grep -q "Resuming from .*r_iter_400.solverstate.h5" "$2" &&
               grep -q "Optimization Done" "$2" && ! grep -q "Snapshotting" "$2" &&
               ! grep -q "starting fresh" "$2"' _ $rc "$tmp/again.log"
fi

# ---- which file: the iteration stored inside; broken files skipped ----
if section which_file; then
    mkdir -p "$tmp/c"
    cp "$tmp"/ref/r_iter_360.* "$tmp"/ref/r_iter_400.* "$tmp"/ref/r_iter_40.* "$tmp/c/"
    # a name that lies: iteration 40's pair under the name 9999, and the newest mtime
    cp "$tmp/ref/r_iter_40.solverstate.h5" "$tmp/c/r_iter_9999.solverstate.h5"
    cp "$tmp/ref/r_iter_40.caffemodel.h5" "$tmp/c/r_iter_9999.caffemodel.h5"
    touch "$tmp"/c/r_iter_40.*
    # the newest by iteration does not read back whole
    head -c 3000 "$tmp/ref/r_iter_400.solverstate.h5" > "$tmp/c/r_iter_400.solverstate.h5"
    run --resume auto --set "snapshot_prefix=$tmp/c/r" --set max_iter=400 --set snapshot=0 \
        > "$tmp/c.log" 2>&1
    rc=$?
    check broken_newest_skipped_with_warning "rc $rc: $(grep -i 'skip\|resum' "$tmp/c.log" | head -n 3)" \
        sh -c 'test $1 -eq 0 && grep -q "skipping $2/r_iter_400.solverstate.h5: " "$3" &&
               grep -q "Resuming from $2/r_iter_360.solverstate.h5" "$3"' _ $rc "$tmp/c" "$tmp/c.log"
    check resumed_from_skip_is_bit_exact "$(head -c 300 "$tmp/h5diff")" same "$REF" "$tmp/c/r_iter_400.caffemodel.h5"
fi

# ---- snapshots that read but do not fit: an error, not a fresh start ----
if section mismatch; then
    rm -rf "$tmp/m" && mkdir -p "$tmp/m" && cp "$tmp"/ref/r_iter_400.* "$tmp/m/"
    run --resume auto --set "snapshot_prefix=$tmp/m/r" \
        --set 'net_param.layer[2].inner_product_param.num_output=128' > "$tmp/m.log" 2>&1
    rc=$?
    check mismatch_is_an_error "rc $rc: $(tail -n 2 "$tmp/m.log")" \
        sh -c 'test $1 -eq 1 && grep -q "none of the 1 readable snapshot(s)" "$2" &&
               test "$(ls "$3" | grep -cv "\.lock$")" -eq 2' _ $rc "$tmp/m.log" "$tmp/m"
    "$TRAIN" "$tmp/s.prototxt" --resume auto --set snapshot=0 > "$tmp/np.log" 2>&1
    rc=$?
    check no_prefix_is_an_error "rc $rc: $(cat "$tmp/np.log")" \
        sh -c 'test $1 -eq 1 && grep -q "needs a snapshot_prefix" "$2"' _ $rc "$tmp/np.log"
fi

# ---- retention ----
if section retention; then
    # a pair half deleted by a kill (state gone, model left) is cleaned up; files
    # of other names and pairs past this run's iteration are never touched
    rm -rf "$tmp/k" && mkdir -p "$tmp/k"
    cp "$tmp"/ref/r_iter_40.caffemodel.h5 "$tmp/k/r_iter_7.caffemodel.h5" # orphan model
    cp "$tmp"/ref/r_iter_400.caffemodel.h5 "$tmp/k/r_last_good_iter_7.caffemodel.h5"
    cp "$tmp"/ref/r_iter_400.* "$tmp/k/"                      # another timeline, past 200
    run --set "snapshot_prefix=$tmp/k/r" --set max_iter=200 --set snapshot_keep=2 > "$tmp/k.log" 2>&1
    left=$(ls "$tmp/k" | grep -v "metrics\|\.lock$" | tr '\n' ' ')
    check keep_2_cleans_orphan "left: $left" test "$left" = "r_iter_160.caffemodel.h5 r_iter_160.solverstate.h5 r_iter_200.caffemodel.h5 r_iter_200.solverstate.h5 r_iter_400.caffemodel.h5 r_iter_400.solverstate.h5 r_last_good_iter_7.caffemodel.h5 "
    # the file resumed from goes once a newer pair is complete; a pair past this
    # run's iteration (another run's, longer) stays with keep 1
    rm -rf "$tmp/p" && mkdir -p "$tmp/p" && cp "$tmp"/ref/r_iter_40.* "$tmp"/ref/r_iter_80.* "$tmp/p/"
    run --set "snapshot_prefix=$tmp/p/r" --set snapshot_keep=1 --set max_iter=60 --set snapshot=0 \
        --resume "$tmp/p/r_iter_40.solverstate.h5" > "$tmp/p.log" 2>&1
    left=$(ls "$tmp/p" | grep -v "metrics\|\.lock$" | tr '\n' ' ')
    check resumed_file_goes_after_newer "left: $left" test "$left" = "r_iter_60.caffemodel.h5 r_iter_60.solverstate.h5 r_iter_80.caffemodel.h5 r_iter_80.solverstate.h5 "

    # kills during deletion: a snapshot and a deletion every iteration, SIGKILL at
    # random moments; every kill leaves a resumable state, and the run that ends
    # has the reference's weights and keeps one pair
    rm -rf "$tmp/d"
    n=0 bad= seen=
    while [ $n -lt 6 ]; do
        n=$((n + 1))
        start "$tmp/d$n.log" --resume auto --set "snapshot_prefix=$tmp/d/r" --set snapshot=1 \
            --set snapshot_keep=1 --set max_iter=80
        sleep "$(printf '0.%03d' $(($(od -An -N2 -tu2 /dev/urandom) % 250 + 50)))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        pid=
        # once a pair exists, every kill leaves at least one whole pair (a kill right
        # after a snapshot, before its deletions, may leave more than keep + 1)
        pairs=0
        for st in "$tmp"/d/r_iter_*.solverstate.h5; do
            [ -f "$st" ] && [ -f "${st%.solverstate.h5}.caffemodel.h5" ] && pairs=$((pairs + 1))
        done
        [ "$pairs" -ge 1 ] && seen=1
        [ -n "$seen" ] && [ "$pairs" -eq 0 ] && bad="$bad run$n:no-pair"
    done
    run --resume auto --set "snapshot_prefix=$tmp/d/r" --set snapshot=1 --set snapshot_keep=1 \
        --set max_iter=80 > "$tmp/dlast.log" 2>&1
    rc=$?
    left=$(ls "$tmp/d" | grep -v "metrics\|\.lock$" | tr '\n' ' ')
    check kill_during_deletion "rc $rc, $bad; left: $left; $(head -c 200 "$tmp/h5diff")" \
        sh -c 'test $1 -eq 0 && test -z "$2" && test "$3" = "r_iter_80.caffemodel.h5 r_iter_80.solverstate.h5 " &&
               h5diff "$4" "$5" > /dev/null 2>&1' _ $rc "$bad" "$left" "$tmp/ref/r_iter_80.caffemodel.h5" \
        "$tmp/d/r_iter_80.caffemodel.h5"
fi

# ---- snapshot_interval_seconds ----
if section interval; then
    # a tiny interval: a snapshot after every iteration (at iteration boundaries)
    run --set "snapshot_prefix=$tmp/i/r" --set snapshot=0 --set max_iter=12 \
        --set snapshot_interval_seconds=1e-9 > "$tmp/i.log" 2>&1
    check interval_every_iteration "$(ls "$tmp/i" | tr '\n' ' ')" \
        test "$(ls "$tmp/i" | grep -c '^r_iter_[0-9]*\.solverstate\.h5$')" -eq 12
    # with `snapshot`: both; a time-based one resumes to the reference's weights
    run --set "snapshot_prefix=$tmp/j/r" --set snapshot=200 --set snapshot_interval_seconds=0.01 \
        > "$tmp/j.log" 2>&1
    odd=$(ls "$tmp/j" | sed -n 's/^r_iter_\([0-9]*\)\.solverstate\.h5$/\1/p' | grep -v '^200$\|^400$' | head -n 1)
    check interval_with_snapshot "files: $(ls "$tmp/j" | tr '\n' ' ')" \
        sh -c 'test -f "$1/r_iter_200.solverstate.h5" && test -f "$1/r_iter_400.solverstate.h5" && test -n "$2"' \
        _ "$tmp/j" "$odd"
    if [ -n "$odd" ]; then
        run --set "snapshot_prefix=$tmp/j2/r" --resume "$tmp/j/r_iter_$odd.solverstate.h5" > "$tmp/j2.log" 2>&1
        check interval_snapshot_resumes_bit_exact "from $odd: $(tail -n 1 "$tmp/j2.log")" \
            same "$REF" "$tmp/j2/r_iter_400.caffemodel.h5"
    fi
fi

# ---- train --test (Caffe's `caffe test`) ----
if section test_mode; then
    # the outputs training printed at its last test are printed again, the same
    grep 'Test net output' "$tmp/ref.log" | tail -n 2 > "$tmp/trained.txt"
    run --test --weights "$REF" --set "snapshot_prefix=$tmp/t/r" > "$tmp/t.log" 2>&1
    rc=$?
    grep 'Test net output' "$tmp/t.log" > "$tmp/tested.txt"
    check test_reproduces_training "rc $rc: trained '$(cat "$tmp/trained.txt")', tested '$(cat "$tmp/tested.txt")'" \
        sh -c 'test $1 -eq 0 && test -s "$2" && cmp -s "$2" "$3" && test ! -e "$4"' _ $rc \
        "$tmp/trained.txt" "$tmp/tested.txt" "$tmp/t"
    acc=$(sed -n 's/.*#1: acc = \([0-9.]*\).*/\1/p' "$tmp/trained.txt")
    run --test --weights "$REF" --log-format json --iterations 2 --set "snapshot_prefix=$tmp/t/r" > "$tmp/tj.log" 2>&1
    rc=$?
    totals=$(grep '"event":"test_totals"' "$tmp/tj.log")
    check test_json_totals "rc $rc: $totals" \
        sh -c 'test $1 -eq 0 && test $(grep -c test_totals "$2") -eq 1 &&
               echo "$3" | grep -q "\"iterations\":2,\"outputs\":\[{\"output\":0,\"name\":\"loss\"" &&
               echo "$3" | grep -q "{\"output\":1,\"name\":\"acc\",\"mean\":"' _ $rc "$tmp/tj.log" "$totals"
    run --test --weights "$REF" --log-format json --set "snapshot_prefix=$tmp/t/r" > "$tmp/tj4.log" 2>&1
    check test_json_mean_is_printed_mean "acc $acc: $(grep test_totals "$tmp/tj4.log")" \
        grep -q "\"name\":\"acc\",\"mean\":$acc," "$tmp/tj4.log"
    run --test > "$tmp/tn.log" 2>&1
    rc=$?
    check test_needs_weights "rc $rc: $(cat "$tmp/tn.log")" \
        sh -c 'test $1 -eq 2 && grep -q "needs --weights" "$2"' _ $rc "$tmp/tn.log"
    # a net whose output overflows: DummyData of ones into an InnerProduct with
    # huge (finite) weights, its top the test net's output
    cat > "$tmp/o.prototxt" << NET
net_param { name: "o"
  layer { name: "d" type: "DummyData" top: "x" top: "y"
          dummy_data_param { shape { dim: 2 dim: 4 } shape { dim: 2 dim: 1 }
                             data_filler { type: "constant" value: 1 } } }
  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p" inner_product_param { num_output: 1 } }
  layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" include { phase: TRAIN } }
  layer { name: "out" type: "Power" bottom: "p" top: "out" include { phase: TEST } } }
test_iter: 3 test_interval: 100 base_lr: 0.01 lr_policy: "fixed" max_iter: 1 display: 0
snapshot_prefix: "$tmp/o/r"
NET
    "$TRAIN" "$tmp/o.prototxt" > "$tmp/o.log" 2>&1
    /usr/bin/python3 - "$tmp/o/r_iter_1.caffemodel.h5" << 'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f["data/ip/0"][...] = 3e38
PY
    "$TRAIN" "$tmp/o.prototxt" --test --weights "$tmp/o/r_iter_1.caffemodel.h5" > "$tmp/tnan.log" 2>&1
    rc=$?
    check test_nonfinite_is_an_error "rc $rc: $(tail -n 2 "$tmp/tnan.log")" \
        sh -c 'test $1 -eq 4 && grep -q "error: --test: test net #0 output #2 .out. is inf over 3 batches" "$2"' _ $rc "$tmp/tnan.log"
fi

# ---- the non-finite guard's last good state: retention never deletes it ----
if section last_good; then
    # The step policy multiplies the lr by 1e30 every 7 iterations: at 14 the
    # step overflows and recovery stop ends the run (exit 4) with the last good
    # state (13) saved as r_iter_13.lastgood.*, newer than the one regular pair
    # snapshot_keep 1 left (10). The same command with gamma 1 and --resume auto
    # resumes 10, not the newer last good state, and snapshots four more times:
    # the last good pair survives them, named by auto.
    cat > "$tmp/g.prototxt" << NET
net_param { name: "g"
  layer { name: "d" type: "DummyData" top: "x" top: "y"
          dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 }
                             data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: 1 } } }
  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p"
          inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "p" bottom: "y" top: "loss" } }
base_lr: 0.1 lr_policy: "step" stepsize: 7 gamma: 1e30 max_iter: 30 display: 0 random_seed: 1
recovery: "stop" recovery_interval: 1 snapshot: 5 snapshot_keep: 1 snapshot_prefix: "$tmp/g/r"
NET
    "$TRAIN" "$tmp/g.prototxt" > "$tmp/g1.log" 2>&1
    rc=$?
    good=$(ls "$tmp/g" | sed -n 's/^r_iter_\([0-9]*\)\.lastgood\.solverstate\.h5$/\1/p')
    check guard_saves_last_good_apart "rc $rc, files: $(ls "$tmp/g" | tr '\n' ' ')" \
        sh -c 'test $1 -eq 4 && test -n "$2" && test -f "$3/r_iter_$2.lastgood.caffemodel.h5" &&
               grep -q "Last good state saved in $3/r_iter_$2.lastgood.solverstate.h5" "$4"' \
        _ $rc "$good" "$tmp/g" "$tmp/g1.log"
    "$TRAIN" "$tmp/g.prototxt" --resume auto --set gamma=1 > "$tmp/g2.log" 2>&1
    rc=$?
    check last_good_survives_retention "rc $rc, files: $(ls "$tmp/g" | tr '\n' ' ')" \
        sh -c 'test $1 -eq 0 && test -n "$2" && test -f "$3/r_iter_$2.lastgood.solverstate.h5" &&
               test -f "$3/r_iter_$2.lastgood.caffemodel.h5" && test -f "$3/r_iter_30.solverstate.h5" &&
               test "$(ls "$3" | grep -c "^r_iter_.*\.solverstate\.h5$")" -eq 2 &&
               test "$(grep -c "removed .*(snapshot_keep 1)" "$4")" -eq 8' \
        _ $rc "$good" "$tmp/g" "$tmp/g2.log"
    check resume_auto_names_last_good "$(grep -i 'resum' "$tmp/g2.log" | head -n 3)" \
        sh -c 'grep -q "not resuming $2/r_iter_$1.lastgood.solverstate.h5, the last good state" "$3" &&
               grep -q "Resuming from $2/r_iter_10.solverstate.h5" "$3" &&
               ! grep -q "Resuming from .*lastgood" "$3"' _ "$good" "$tmp/g" "$tmp/g2.log"
    # explicitly, it resumes (and finishes, the lr fixed)
    "$TRAIN" "$tmp/g.prototxt" --resume "$tmp/g/r_iter_$good.lastgood.solverstate.h5" --set gamma=1 \
        --set "snapshot_prefix=$tmp/g2/r" > "$tmp/g3.log" 2>&1
    rc=$?
    check last_good_resumes_explicitly "rc $rc: $(tail -n 2 "$tmp/g3.log")" \
        sh -c 'test $1 -eq 0 && grep -q "Optimization Done" "$2"' _ $rc "$tmp/g3.log"
fi

# ---- one run per snapshot_prefix: the second one stops at once (exit 1) ----
if section prefix_lock; then
    # (--resume auto, as a requeued job would run while its first copy still runs)
    start "$tmp/l1.log" --resume auto --set "snapshot_prefix=$tmp/l/r" --set max_iter=1000000 \
        --set snapshot=50
    holder=$pid
    i=0
    while [ $i -lt 200 ] && ! grep -q "^$holder\$" "$tmp/l/r.lock" 2> /dev/null; do sleep 0.05; i=$((i + 1)); done
    run --resume auto --set "snapshot_prefix=$tmp/l/r" > "$tmp/l2.log" 2>&1
    rc=$?
    check second_run_on_prefix_refused "rc $rc: $(tail -n 2 "$tmp/l2.log")" \
        sh -c 'test $1 -eq 1 && grep -q "error: snapshot_prefix .$2. is in use by another run (pid $3 holds .$2.lock.)" "$4" &&
               ! grep -q "Resuming\|Snapshotting\|starting fresh" "$4"' _ $rc "$tmp/l/r" $holder "$tmp/l2.log"
    # --test writes nothing under the prefix: it may run beside the training run
    run --test --weights "$REF" --set "snapshot_prefix=$tmp/l/r" > "$tmp/l3.log" 2>&1
    rc=$?
    check test_beside_a_run "rc $rc: $(tail -n 2 "$tmp/l3.log")" test $rc -eq 0
    kill -KILL $holder 2>/dev/null
    wait $holder 2>/dev/null
    pid=
    # the holder killed outright: the lock went with it, the file stays harmless
    run --resume auto --set "snapshot_prefix=$tmp/l/r" --set max_iter=60 > "$tmp/l4.log" 2>&1
    rc=$?
    check lock_freed_by_kill "rc $rc: $(tail -n 2 "$tmp/l4.log")" \
        sh -c 'test $1 -eq 0 && test -f "$2/r.lock" && grep -q "Optimization Done" "$3"' _ $rc "$tmp/l" "$tmp/l4.log"
fi
