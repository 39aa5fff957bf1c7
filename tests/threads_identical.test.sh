#!/bin/sh
# Same bits on any thread count: Caffe's cifar10_quick (convolutions with
# padding, max and average pooling, InnerProduct, SGD with momentum and weight
# decay, random DummyData) trained 12 iterations on 1 and on 2 threads leaves
# identical weights and history. Every product and reduction must sum in an
# order fixed by the shapes, never by which thread ran what.
# Usage: sh tests/threads_identical.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=${TRAIN:-$BUILD/train}
SUITE=threads_identical
. tests/report.sh
if [ ! -x "$TRAIN" ]; then fail setup "no $TRAIN"; exit 1; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in 1 2; do
    OPENBLAS_NUM_THREADS=$t "$TRAIN" bench/nets/cifar10_quick_solver.prototxt \
        --set max_iter=12 --set snapshot_after_train=true \
        --set "snapshot_prefix=\"$tmp/t$t\"" > "$tmp/log$t" 2>&1 ||
        { fail "train_$t" "exit $?: $(tail -3 "$tmp/log$t")"; exit 1; }
done
for f in caffemodel solverstate; do
    a=$tmp/t1_iter_12.$f.h5 b=$tmp/t2_iter_12.$f.h5
    # the solverstate names its own weights file, which differs by design
    if [ -s "$a" ] && h5diff -q --exclude-path /learned_net "$a" "$b" > "$tmp/diff" 2>&1; then ok "cifar10_quick_$f"
    else fail "cifar10_quick_$f" "1 and 2 threads differ: $(head -c 300 "$tmp/diff")"; fi
done
