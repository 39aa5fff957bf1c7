#!/bin/sh
# The cliff on the adding problem: a tanh RNN whose recurrent weights have a
# gain of about 3.2 (recurrent_weight_filler std 0.4 x sqrt(64)), trained by
# plain SGD at a high learning rate (0.4, inv decay), fixed seed. Without
# clipping the gradient explodes within a few dozen iterations (norms past
# 1e6, then inf) and the run stops at the non-finite guard (max_bad_steps;
# exit 4, tools/exit_codes.h); the same run with clip_gradients: 1 stays
# finite and its held-out loss falls below the baseline of always predicting
# 1 (EuclideanLoss 0.083, MSE 0.167).
# Control: with the recurrent gain at 0.8 (std 0.1) the unclipped run at the
# same rate learns, so the fall comes from the recurrent gain. A no-op clip
# makes the clipped run the unclipped one: the test fails then.
# T 4 (markers at steps 0-1 and 2-3), 1000 training and 500 test sequences in
# 50 streams (tools/adding_problem), 600 iterations: about a second.
# Usage: sh tests/adding_clip.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
GEN=$BUILD/adding_problem
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
SUITE=adding_clip
. tests/report.sh
if [ ! -x "$TRAIN" ] || [ ! -x "$GEN" ]; then
    fail setup "no $TRAIN or $GEN"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$GEN" --out "$tmp/train" --length 4 --count 1000 --streams 50 --seed 1 > /dev/null &&
    "$GEN" --out "$tmp/test" --length 4 --count 500 --streams 50 --seed 2 > /dev/null ||
    { fail setup "adding_problem failed"; exit 1; }

cat > "$tmp/solver.prototxt" <<EOF
net_param {
  layer { name: "data" type: "HDF5Data" top: "x" top: "cont" top: "target"
    include { phase: TRAIN } hdf5_data_param { source: "$tmp/train.txt" batch_size: 4 } }
  layer { name: "data" type: "HDF5Data" top: "x" top: "cont" top: "target"
    include { phase: TEST } hdf5_data_param { source: "$tmp/test.txt" batch_size: 4 } }
  layer { name: "rnn" type: "RNN" bottom: "x" bottom: "cont" top: "h"
    recurrent_param { num_output: 64 weight_filler { type: "uniform" min: -0.1 max: 0.1 }
      recurrent_weight_filler { type: "gaussian" std: 0.4 } } }
  layer { name: "last" type: "Slice" bottom: "h" top: "h_early" top: "h_last"
    slice_param { axis: 0 slice_point: 3 } }
  layer { name: "quiet" type: "Silence" bottom: "h_early" }
  layer { name: "flat" type: "Reshape" bottom: "h_last" top: "h_final"
    reshape_param { shape { dim: -1 dim: 64 } } }
  layer { name: "ip1" type: "InnerProduct" bottom: "h_final" top: "y"
    inner_product_param { num_output: 1 weight_filler { type: "uniform" min: -0.1 max: 0.1 }
      bias_filler { type: "constant" value: 1 } } }
  layer { name: "tlast" type: "Slice" bottom: "target" top: "t_early" top: "t_last"
    slice_param { axis: 0 slice_point: 3 } }
  layer { name: "tquiet" type: "Silence" bottom: "t_early" }
  layer { name: "tflat" type: "Reshape" bottom: "t_last" top: "t_final"
    reshape_param { shape { dim: -1 dim: 1 } } }
  layer { name: "loss" type: "EuclideanLoss" bottom: "y" bottom: "t_final" top: "loss" }
}
test_iter: 10 test_interval: 600
type: "SGD" base_lr: 0.4 momentum: 0 lr_policy: "inv" gamma: 0.01 power: 1
display: 10 max_iter: 600 random_seed: 1 snapshot_prefix: "$tmp/snap/adding"
EOF
mkdir "$tmp/snap"

# test_loss LOG: the last held-out loss of a run ("none" when there was none)
test_loss() {
    v=$(grep 'Test net output #0: loss = ' "$1" | tail -n 1 | sed 's/.*loss = \([^ ]*\) .*/\1/')
    echo "${v:-none}"
}
# below_baseline VALUE: a finite number under 0.083 (always predicting 1)
below_baseline() {
    awk -v v="$1" 'BEGIN { exit !(v ~ /^[0-9.e+-]+$/ && v + 0 < 0.083) }'
}

"$TRAIN" "$tmp/solver.prototxt" > "$tmp/none.log" 2>&1; rc=$?
max=$(grep -o 'grad norm = [^,]*' "$tmp/none.log" | awk '{ if ($4 + 0 > m) m = $4 + 0 } END { print m + 0 }')
check unclipped_falls_off_the_cliff \
    "rc $rc, largest gradient norm $max, held-out loss $(test_loss "$tmp/none.log"): $(tail -n 2 "$tmp/none.log")" \
    sh -c 'test $1 -eq 4 && grep -q "consecutive bad steps .*non-finite" "$2" &&
           awk -v m="$3" "BEGIN { exit !(m > 1e6) }"' _ $rc "$tmp/none.log" "$max"

"$TRAIN" "$tmp/solver.prototxt" --set clip_gradients=1 > "$tmp/clip.log" 2>&1; rc=$?
loss=$(test_loss "$tmp/clip.log")
clipped=$(sed -n 's/.*Optimization Done: \([0-9]*\) of .*/\1/p' "$tmp/clip.log")
check clipped_stays_finite \
    "rc $rc, held-out loss $loss, ${clipped:-no} steps clipped: $(tail -n 2 "$tmp/clip.log")" \
    sh -c 'test $1 -eq 0 && ! grep -q "skipped (non-finite)" "$3" && test $4 -gt 0' _ $rc "$loss" \
    "$tmp/clip.log" "${clipped:-0}"
check clipped_learns_below_baseline "held-out loss $loss, want below 0.083" below_baseline "$loss"

"$TRAIN" "$tmp/solver.prototxt" --set net_param.layer[2].recurrent_param.recurrent_weight_filler.std=0.1 \
    > "$tmp/low.log" 2>&1; rc=$?
loss=$(test_loss "$tmp/low.log")
check low_gain_unclipped_learns "rc $rc, held-out loss $loss: $(tail -n 2 "$tmp/low.log")" \
    sh -c 'test $1 -eq 0 && grep -q "Done: 0 of 600 iterations clipped, 0 skipped" "$2"' _ $rc \
    "$tmp/low.log"
check low_gain_loss_value "held-out loss $loss, want below 0.083" below_baseline "$loss"

# clip_policy auto on the cliff, with no clip_gradients in the solver: the
# recommended setting (global norm at 1, recovery rollback) keeps the run
# finite and learning, and the log and the metrics say what auto resolved to.
"$TRAIN" "$tmp/solver.prototxt" --set clip_policy=auto > "$tmp/auto.log" 2>&1; rc=$?
loss=$(test_loss "$tmp/auto.log")
check auto_survives_the_cliff "rc $rc, held-out loss $loss: $(tail -n 2 "$tmp/auto.log")" \
    sh -c 'test $1 -eq 0 && ! grep -q "skipped (non-finite)" "$2"' _ $rc "$tmp/auto.log"
check auto_learns_below_baseline "held-out loss $loss, want below 0.083" below_baseline "$loss"
check auto_says_what_it_is "$(grep -m1 'Solving' "$tmp/auto.log"); $(grep -m1 'clip global' "$tmp/auto.log")" \
    sh -c 'grep -q "clip_policy auto = global_norm at 1, recovery rollback$" "$1" &&
           grep -q "clip global_norm (auto): scale" "$1" &&
           grep -q "^setting,0,,,,,,,[0-9.]*,clip_policy auto = global_norm at 1, recovery rollback,1,," "$2"' \
    _ "$tmp/auto.log" "$tmp/snap/adding_metrics.csv"
# A recovery the solver names is kept; a clip_gradients it sets is the C.
"$TRAIN" "$tmp/solver.prototxt" --set clip_policy=auto --set recovery=skip --set clip_gradients=2 \
    > "$tmp/auto2.log" 2>&1; rc=$?
check auto_keeps_given_fields "rc $rc: $(grep -m1 'Solving' "$tmp/auto2.log")" \
    sh -c 'test $1 -eq 0 && grep -q "clip_policy auto = global_norm at 2, recovery skip$" "$2"' \
    _ $rc "$tmp/auto2.log"
