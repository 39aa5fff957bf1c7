#!/bin/sh
# Data-parallel training over MPI (solver/comm.h, solver/dist.c, net_shard.c):
#   two_vs_one    2 ranks at batch 4 == 1 rank at batch 8 after 20 iterations,
#                 clipping active at every one (float tolerance: the allreduce
#                 sums in OpenMPI's order, one process in batch order);
#   three_vs_one  3 ranks (--oversubscribe) at batch 4 == 1 rank at batch 12;
#   text_two_vs_one  TextData: 2 ranks at 4 time steps == 1 rank at 8;
#   image_two_vs_one ImageData: 2 ranks at batch 4 == 1 rank at batch 8
#                 (shuffled epochs, mirror draws);
#   ranks_agree   the ranks hold the same weights, history, RNG and cursors bit
#                 for bit (every snapshot checks it; a mismatch fails the run);
#   resume_exact  a 2-rank run resumed from its iteration-10 snapshot ends with
#                 the same bits as the uninterrupted run;
#   resume_one    that snapshot resumed by 1 rank at batch 8 (re-sharded) ends
#                 within float tolerance of it;
#   bad           a bad label that only rank 1 reads ends both ranks at
#                 iteration 0: one error line in the combined output ("rank 1:
#                 error: ..."), exit 3, no snapshot (tests/mpi_data.test.sh:
#                 the same for a Data layer's record);
#   nan           a NaN only rank 1 reads: a non-finite gradient on every rank,
#                 max_bad_steps 1 stops them together, rank 0 says it, exit 4;
#   term          SIGTERM to the launcher (once), the ranks logging every
#                 iteration (rank 0's stdout pipe fills once mpirun stops
#                 reading): every rank stops at the same iteration, rank 0
#                 writes one whole snapshot, which resumes, none .tmp left, the
#                 job ends within 30 s;
#   int           SIGINT to rank 1 alone: both ranks stop at the same iteration
#                 (agreed through the allreduce), snapshot, exit 0;
#   sigkill       one rank killed (SIGKILL): the launcher ends the job within
#                 30 s with its one message, no snapshot, no hang.
# Each launch is bounded by `timeout`. mpirun runs as root only with
# --allow-run-as-root (CI runs as root); --oversubscribe lets 2 or 3 ranks run
# on a 1-core machine; vader's single-copy mechanism (CMA) is switched off, as
# containers often forbid it; plm_rsh_agent points at `false` since no remote
# node is ever started (mpirun refuses to start without ssh otherwise).
# Usage: sh tests/mpi.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
SUITE=mpi
. tests/report.sh
. tests/mpi_common.sh

# 96 rows of 20 features, labels in [0, 5); bad.h5: the label of row 5 is 99;
# nan.h5: feature 3 of row 5 is NaN.
$PY - "$tmp" << 'EOF' || { fail setup "numpy/h5py (python3-numpy python3-h5py)"; exit 1; }
import sys, numpy as np, h5py
d = sys.argv[1]
r = np.random.RandomState(3)
x = r.randn(96, 20).astype('f4')
y = (r.rand(96) * 5).astype('i4').astype('f4')
xnan = x.copy()
xnan[5, 3] = np.nan
for name, data, lab in (('good', x, y), ('bad', x, np.where(np.arange(96) == 5, 99, y).astype('f4')),
                        ('nan', xnan, y)):
    with h5py.File('%s/%s.h5' % (d, name), 'w') as f:
        f['data'] = data
        f['label'] = lab
    open('%s/%s.txt' % (d, name), 'w').write('%s/%s.h5\n' % (d, name))
EOF
# A 20-16-5 perceptron, SGD with momentum, the gradient clipped to 0.5 (every
# iteration of the 20 is clipped).
cat > "$tmp/solver.prototxt" << EOF
net_param {
  layer { name: "d" type: "HDF5Data" top: "data" top: "label"
          hdf5_data_param { source: "$tmp/good.txt" batch_size: 8 } }
  layer { name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
          inner_product_param { num_output: 16 weight_filler { type: "xavier" } } }
  layer { name: "relu" type: "ReLU" bottom: "ip1" top: "ip1" }
  layer { name: "ip2" type: "InnerProduct" bottom: "ip1" top: "ip2"
          inner_product_param { num_output: 5 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip2" bottom: "label" top: "loss" }
}
base_lr: 0.1 momentum: 0.9 lr_policy: "fixed" display: 1 max_iter: 20
clip_gradients: 0.5 random_seed: 7 snapshot_after_train: true
EOF
S=$tmp/solver.prototxt
batch() { echo "net_param.layer[0].hdf5_data_param.batch_size=$1"; }
prefix() { echo "snapshot_prefix=\"$tmp/$1\""; }
clipped_all() { grep -q "Optimization Done: 20 of 20 iterations clipped" "$1"; }

# run_two: the 2-rank run at batch 4 (snapshots at 10 and 20), which the
# sections two_vs_one and resume compare against.
run_two() {
    mpi 2 "$S" --set "$(batch 4)" --set "$(prefix two)" --set snapshot=10 > "$tmp/two.log" 2>&1 ||
        fail two "exit $?: $(tail -5 "$tmp/two.log")"
}

# Sections (tests/report.sh: CLIFF_TEST_ONLY=NAME runs one): two_vs_one, text,
# image, resume, bad, nan, term, int, sigkill.
if section two_vs_one; then
"$TRAIN" "$S" --set "$(batch 8)" --set "$(prefix one8)" > "$tmp/one8.log" 2>&1 ||
    fail one8 "exit $?: $(tail -3 "$tmp/one8.log")"
"$TRAIN" "$S" --set "$(batch 12)" --set "$(prefix one12)" > "$tmp/one12.log" 2>&1 ||
    fail one12 "exit $?: $(tail -3 "$tmp/one12.log")"
run_two
mpi 3 "$S" --set "$(batch 4)" --set "$(prefix three)" > "$tmp/three.log" 2>&1 ||
    fail three "exit $?: $(tail -5 "$tmp/three.log")"
check clipping "not every iteration clipped (clipping must be active)" \
    clipped_all "$tmp/one8.log"
check clipping_two "not every iteration clipped on 2 ranks" clipped_all "$tmp/two.log"
check log_once "rank 1 printed to stdout" test "$(grep -c 'Optimization Done' "$tmp/two.log")" -eq 1
close two_vs_one "$tmp/one8_iter_20.caffemodel.h5" "$tmp/two_iter_20.caffemodel.h5"
# the logged loss of 2 ranks is their mean: the loss of the batch of 8
loss19() { sed -n 's/^Iteration 19\/20: loss = \([^ ]*\) .*/\1/p' "$1"; }
a=$(loss19 "$tmp/one8.log") b=$(loss19 "$tmp/two.log")
check loss_mean "loss $b on 2 ranks, $a on 1" \
    awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-4 && d > -1e-4) }' 
close three_vs_one "$tmp/one12_iter_20.caffemodel.h5" "$tmp/three_iter_20.caffemodel.h5"
# the snapshots at 10 and 20 were written only after every rank's hash agreed
check ranks_agree "no 2-rank snapshot at 10 and 20" test -s "$tmp/two_iter_10.solverstate.h5" \
    -a -s "$tmp/two_iter_20.solverstate.h5"
fi

if section text; then
# TextData: 2 ranks at 4 time steps == 1 rank at 8 (interleaved batches: rank
# 1 reads steps 4..7 of what one process reads as steps 0..7). A net that
# carries no state across batches (Embed, InnerProduct, softmax per step).
$PY -c "
import random
r = random.Random(5)
open('$tmp/text.txt', 'w').write('abcde' + ''.join(r.choice('abcde') for _ in range(400)))
open('$tmp/text_list.txt', 'w').write('$tmp/text.txt\n')"
cat > "$tmp/text_solver.prototxt" << EOF
net_param {
  layer { name: "d" type: "TextData" top: "ids" top: "next" top: "cont"
          text_data_param { source: "$tmp/text_list.txt" time_steps: 8 streams: 3 } }
  layer { name: "silence" type: "Silence" bottom: "cont" }
  layer { name: "embed" type: "Embed" bottom: "ids" top: "e"
          embed_param { num_output: 6 input_dim: 5 weight_filler { type: "xavier" } } }
  layer { name: "out" type: "InnerProduct" bottom: "e" top: "logits"
          inner_product_param { num_output: 5 axis: 2 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "logits" bottom: "next" top: "loss"
          softmax_param { axis: 2 } }
}
base_lr: 0.5 momentum: 0.9 lr_policy: "fixed" display: 1 max_iter: 20
clip_gradients: 0.5 random_seed: 7 snapshot_after_train: true
EOF
steps() { echo "net_param.layer[0].text_data_param.time_steps=$1"; }
"$TRAIN" "$tmp/text_solver.prototxt" --set "$(steps 8)" --set "$(prefix text1)" \
    > "$tmp/text1.log" 2>&1 || fail text_one "exit $?: $(tail -3 "$tmp/text1.log")"
mpi 2 "$tmp/text_solver.prototxt" --set "$(steps 4)" --set "$(prefix text2)" \
    > "$tmp/text2.log" 2>&1 || fail text_two "exit $?: $(tail -5 "$tmp/text2.log")"
close text_two_vs_one "$tmp/text1_iter_20.caffemodel.h5" "$tmp/text2_iter_20.caffemodel.h5"
fi

if section image; then
# ImageData: 2 ranks at batch 4 == 1 rank at batch 8, through shuffled epochs
# (40 images: a wrap every 5 iterations) and mirror draws (every rank makes
# every batch, so the transform RNG advances alike).
"$BUILD/stripes_images" --out "$tmp/img" --count 40 --size 8 --seed 3 > /dev/null ||
    fail image_setup "stripes_images failed"
cat > "$tmp/img_solver.prototxt" << EOF
net_param {
  layer { name: "d" type: "ImageData" top: "data" top: "label"
          image_data_param { source: "$tmp/img/list.txt" root_folder: "$tmp/img/"
                             batch_size: 8 shuffle: true }
          transform_param { scale: 0.00390625 mirror: true } }
  layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
          inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
}
base_lr: 0.1 momentum: 0.9 lr_policy: "fixed" display: 1 max_iter: 20
clip_gradients: 0.5 random_seed: 7 snapshot_after_train: true
EOF
ibatch() { echo "net_param.layer[0].image_data_param.batch_size=$1"; }
"$TRAIN" "$tmp/img_solver.prototxt" --set "$(ibatch 8)" --set "$(prefix img1)" \
    > "$tmp/img1.log" 2>&1 || fail image_one "exit $?: $(tail -3 "$tmp/img1.log")"
mpi 2 "$tmp/img_solver.prototxt" --set "$(ibatch 4)" --set "$(prefix img2)" \
    > "$tmp/img2.log" 2>&1 || fail image_two "exit $?: $(tail -5 "$tmp/img2.log")"
close image_two_vs_one "$tmp/img1_iter_20.caffemodel.h5" "$tmp/img2_iter_20.caffemodel.h5" 2
fi

if section resume; then
[ -s "$tmp/two_iter_20.caffemodel.h5" ] || run_two
mpi 2 "$S" --set "$(batch 4)" --set "$(prefix res)" --resume "$tmp/two_iter_10.solverstate.h5" \
    > "$tmp/res.log" 2>&1 || fail resume "exit $?: $(tail -5 "$tmp/res.log")"
same resume_exact "$tmp/two_iter_20" "$tmp/res_iter_20"
"$TRAIN" "$S" --set "$(batch 8)" --set "$(prefix resone)" \
    --resume "$tmp/two_iter_10.solverstate.h5" > "$tmp/resone.log" 2>&1 ||
    fail resume_one "exit $?: $(tail -3 "$tmp/resone.log")"
close resume_one "$tmp/two_iter_20.caffemodel.h5" "$tmp/resone_iter_20.caffemodel.h5"
fi

# Row 5 is in rank 1's first batch (rows 4..7) only: a label out of range
# (bad data, exit 3), or a NaN feature (a non-finite gradient, stopped at the
# first bad step: exit 4, every rank at once, rank 0 reports it).
if section bad; then
mpi 2 "$S" --set "$(batch 4)" --set "$(prefix bad)" \
    --set "net_param.layer[0].hdf5_data_param.source=\"$tmp/bad.txt\"" > "$tmp/bad.log" 2>&1
one_error bad 3 $? "$tmp/bad.log" '^rank 1: error: iteration 0, train net: .*value 99'
fi
if section nan; then
mpi 2 "$S" --set "$(batch 4)" --set "$(prefix nan)" --set max_bad_steps=1 \
    --set "net_param.layer[0].hdf5_data_param.source=\"$tmp/nan.txt\"" > "$tmp/nan.log" 2>&1
one_error nan 4 $? "$tmp/nan.log" '^rank 0: error: iteration 0: 1 consecutive bad steps'
fi

# kids PID: PID's children, from /proc/*/stat (no procps needed; field 4 is
# the parent's pid; cat goes on past processes that ended meanwhile).
kids() { cat /proc/[0-9]*/stat 2> /dev/null | awk -v p="$1" '$4 == p { print $1 }'; }
# rank_pid R: the pid of rank R of the run started by long (a child of mpirun
# whose environment says OMPI_COMM_WORLD_RANK=R).
rank_pid() {
    for p in $(kids "$mpirun"); do
        tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" &&
            echo "$p"
    done
}
# long NAME [WRAP...]: a 2-rank run of 10^8 iterations in the background (its
# pid in $mpirun; timeout's in $bg, which only bounds it: timeout passes a
# signal on to mpirun and to its own process group, so mpirun would get it
# twice, and a second SIGINT/SIGTERM makes mpirun kill the ranks at once),
# displaying every $display iterations, until it has logged iteration 0 and
# run half a second more (10 s at most). mpirun's SIGCONT-SIGTERM-SIGKILL
# steps are 4 s apart (odls_base_sigkill_timeout, 1 s by default): a loaded
# machine has time for the stop and the snapshot, and a rank that ends by
# itself (1 s after the stop) does so well before the SIGKILL.
display=20000
long() {
    name=$1
    shift
    OMPI_MCA_odls_base_sigkill_timeout=4 timeout 60 mpirun $ROOT --oversubscribe -np 2 \
        "$@" "$TRAIN" "$S" --set "$(batch 4)" --set "$(prefix $name)" --set max_iter=100000000 \
        --set display=$display < /dev/null > "$tmp/$name.log" 2> "$tmp/$name.err" &
    bg=$!
    for i in $(seq 100); do
        mpirun=$(kids "$bg")
        [ -n "$mpirun" ] && grep -q '^Iteration 0/' "$tmp/$name.log" && sleep 0.5 && return 0
        sleep 0.1
    done
    return 1
}
# stopped NAME RC T0 MAXRC [QUIET]: the run ended in 30 s (not hung) with an
# exit code <= MAXRC, one snapshot pair that reads back whole, no .tmp, and
# (unless QUIET: its log lines may be dropped) the log says it stopped early.
# The snapshot is written only after every rank's hash of weights, history
# and data cursors agreed, i.e. the ranks stopped at the same iteration.
stopped() {
    took=$(($(date +%s) - $3))
    st=$(ls "$tmp/$1"_iter_*.solverstate.h5 2> /dev/null)
    n=${st##*_iter_}
    n=${n%%.*}
    if [ "$2" -le "$4" ] && [ "$took" -le 30 ] && [ "$(echo "$st" | wc -w)" -eq 1 ] &&
        h5ls "$st" > /dev/null 2>&1 && h5ls "${st%.solverstate.h5}.caffemodel.h5" > /dev/null 2>&1 &&
        ! ls "$tmp/$1"_iter_*.tmp > /dev/null 2>&1 &&
        { [ -n "$5" ] || grep -q "^Iteration $n: Optimization stopped early" "$tmp/$1.log"; } &&
        ! grep -q 'error' "$tmp/$1.err"; then
        ok "$1"
    else fail "$1" "rc $2, ${took} s, snapshot '$st': $(tail -c 300 "$tmp/$1.log") $(head -c 300 "$tmp/$1.err")"; fi
}

# SIGTERM to mpirun (once), the ranks logging every iteration: mpirun sends
# the ranks SIGCONT, SIGTERM 4 s later, SIGKILL 4 s after that, and stops
# reading their output at once, so rank 0's stdout pipe (64 KB) fills within
# the 4 s. Its writes wait for room only until the SIGTERM, then drop what
# does not fit (tools/cli/stop_output.h: before it, rank 0 blocked in write
# while rank 1 waited in the allreduce, and the SIGKILL came first, with no
# snapshot). The ranks agree at the next allreduce, rank 0 snapshots, all
# stop, and each rank exits by itself (status 0) before the SIGKILL: a shell
# around each rank writes its status (the shell ignores SIGTERM; mpirun's
# SIGKILL would end it and its rank before it writes). mpirun itself exits 1
# (it was killing the job). The snapshot resumes (2 ranks, one iteration).
if section term; then
display=1
if long term sh -c "trap '' TERM; \"\$0\" \"\$@\"; echo \$? > $tmp/status.\$OMPI_COMM_WORLD_RANK"; then
    t0=$(date +%s)
    kill -TERM "$mpirun"
    wait "$bg"
    stopped term $? "$t0" 1 quiet
    st=$(cat "$tmp/status.0" "$tmp/status.1" 2> /dev/null | tr '\n' ' ')
    check term_ranks_exit "the ranks' exit statuses: '$st' (none: killed by mpirun)" \
        test "$st" = "0 0 "
    at=$n # (mpi sets n)
    mpi 2 "$S" --set "$(batch 4)" --set "$(prefix termres)" --set display=0 \
        --set max_iter=$((at + 1)) --resume "$tmp/term_iter_$at.solverstate.h5" \
        > "$tmp/termres.log" 2>&1
    check term_resumes "resume from iteration '$at': $(tail -c 300 "$tmp/termres.log")" \
        test -n "$at" -a -s "$tmp/termres_iter_$((at + 1)).solverstate.h5"
else fail term "no progress: $(head -c 300 "$tmp/term.err")"; kill "$bg"; fi
display=20000
fi

# SIGINT to rank 1 alone: rank 0 learns of it through the allreduce and stops
# at the same iteration; mpirun, not killing anything, exits 0. A run still
# going 15 s after the signal has not stopped (it stops within a second): it is
# ended (status 124) rather than left to timeout's 60 s.
if section int; then
if long int; then
    r1=$(rank_pid 1)
    t0=$(date +%s)
    kill -INT "$r1"
    i=0
    while kill -0 "$bg" 2> /dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$bg" 2> /dev/null && kill -TERM "$mpirun" 2> /dev/null
    wait "$bg"
    rc=$?
    [ $i -ge 150 ] && rc=124
    stopped int $rc "$t0" 0
else fail int "no progress: $(head -c 300 "$tmp/int.err")"; kill "$bg"; fi
fi

# One rank killed outright: mpirun ends the job (the other rank, waiting in the
# allreduce, gets SIGTERM and SIGKILL) within 30 s; the one message is
# mpirun's (no rank prints an error), and no snapshot is written.
if section sigkill; then
if long kill; then
    r1=$(rank_pid 1)
    t0=$(date +%s)
    kill -KILL "$r1"
    wait "$bg"
    rc=$?
    took=$(($(date +%s) - t0))
    if [ -n "$r1" ] && [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$took" -le 30 ] &&
        [ "$(grep -c 'exited on signal 9' "$tmp/kill.err")" -eq 1 ] &&
        ! grep -q 'error' "$tmp/kill.err" && ! ls "$tmp"/kill_iter_* > /dev/null 2>&1; then
        ok sigkill
    else fail sigkill "rank 1 pid '$r1', rc $rc (124: hung), ${took} s: $(head -c 300 "$tmp/kill.err")"; fi
else fail sigkill "no progress: $(head -c 300 "$tmp/kill.err")"; kill "$bg"; fi
fi
