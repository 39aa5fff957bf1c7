#!/bin/sh
# TextData through train (tools/train.c): a small char-LSTM on a tiny text
# trains with a held-out test net, writes its vocabulary next to the snapshots
# (<snapshot_prefix>.vocab), a run that loads that vocabulary reads the same
# ids (same losses), and a resume from a snapshot continues bit for bit (the
# streams' cursors are in the snapshot).
# Usage: sh tests/text_data.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
SUITE=text_data
. tests/report.sh
if [ ! -x "$TRAIN" ]; then
    fail setup "no $TRAIN"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

i=0
while [ $i -lt 20 ]; do
    echo "the quick brown fox jumps over the lazy dog; $i grey wolves watch." >> "$tmp/a.txt"
    i=$((i + 1))
done
printf 'caf\303\251 na\303\257ve\n' >> "$tmp/a.txt"
echo "$tmp/a.txt" > "$tmp/list"
# V: the distinct code points of the text (the built vocabulary's size)
V=$(/usr/bin/python3 -c 'import sys; print(len(set(open(sys.argv[1], encoding="utf-8").read())))' "$tmp/a.txt")
# solver PREFIX [TEXT_DATA_EXTRA]: max_iter 6, snapshots at 3 and 6, a test
# net on the held-out tenth every 3 iterations.
solver() {
    cat > "$tmp/solver.prototxt" <<EOS
net_param {
  layer { name: "data" type: "TextData" top: "ids" top: "next" top: "cont"
    text_data_param { source: "$tmp/list" time_steps: 8 streams: 4 holdout_fraction: 0.1 $2 } }
  layer { name: "embed" type: "Embed" bottom: "ids" top: "e"
    embed_param { num_output: 8 input_dim: $V
      weight_filler { type: "uniform" min: -0.1 max: 0.1 } } }
  layer { name: "lstm" type: "LSTM" bottom: "e" bottom: "cont" top: "h"
    recurrent_param { num_output: 16 weight_filler { type: "uniform" min: -0.1 max: 0.1 } } }
  layer { name: "out" type: "InnerProduct" bottom: "h" top: "logits"
    inner_product_param { num_output: $V axis: 2 weight_filler { type: "xavier" } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "logits" bottom: "next" top: "loss"
    softmax_param { axis: 2 } }
}
test_iter: 2 test_interval: 3
base_lr: 0.5 lr_policy: "fixed" momentum: 0.9 clip_gradients: 1 display: 1 max_iter: 6
snapshot: 3 snapshot_prefix: "$1" random_seed: 5
EOS
}
mkdir "$tmp/a" "$tmp/b" "$tmp/c"
solver "$tmp/a/lm"
"$TRAIN" "$tmp/solver.prototxt" > "$tmp/a.log" 2>&1; rc=$?
check trains "rc $rc: $(tail -n 3 "$tmp/a.log")" \
    sh -c 'test $1 -eq 0 && grep -q "Test net output" "$2" && test -s "$3"' _ $rc "$tmp/a.log" \
    "$tmp/a/lm_iter_6.caffemodel.h5"
head=$(head -n 1 "$tmp/a/lm.vocab" 2>/dev/null)
check vocab_written "header '$head', want $V symbols" \
    test "$head" = "cliff-vocabulary CODEPOINT $V" -a "$(wc -l < "$tmp/a/lm.vocab")" -eq $((V + 1))

solver "$tmp/c/lm" "vocabulary_file: \"$tmp/a/lm.vocab\""
"$TRAIN" "$tmp/solver.prototxt" > "$tmp/c.log" 2>&1; rc=$?
grep 'loss = ' "$tmp/a.log" | sed 's/, last .*//' > "$tmp/a.loss"
grep 'loss = ' "$tmp/c.log" | sed 's/, last .*//' > "$tmp/c.loss"
check vocab_loads_same_ids "rc $rc, $(diff "$tmp/a.loss" "$tmp/c.loss" | head -n 4)" \
    sh -c 'test $1 -eq 0 && test -s "$2" && cmp -s "$2" "$3"' _ $rc "$tmp/a.loss" "$tmp/c.loss"

solver "$tmp/b/lm"
"$TRAIN" "$tmp/solver.prototxt" --resume "$tmp/a/lm_iter_3.solverstate.h5" > "$tmp/b.log" 2>&1
rc=$?
h5diff "$tmp/a/lm_iter_6.caffemodel.h5" "$tmp/b/lm_iter_6.caffemodel.h5" > "$tmp/h5diff" 2>&1
check resume_bit_exact "rc $rc, $(head -c 300 "$tmp/h5diff") $(tail -n 2 "$tmp/b.log")" \
    sh -c 'test $1 -eq 0 && test $2 -eq 0' _ $rc $?
