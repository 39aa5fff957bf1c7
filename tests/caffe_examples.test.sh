#!/bin/sh
# Caffe's own example nets (configs/caffe_lenet_*, configs/caffe_cifar10_quick_*)
# on data written by cliff's converters, in a scratch folder:
#   faithful      the configs are Caffe's files (tests/caffe/) with only the
#                 source:, mean_file:, net: and snapshot_prefix: paths changed;
#   lenet_trains  Fashion-MNIST's test set through convert_mnist_data feeds
#                 Caffe's LeNet: 30 iterations lower the training loss;
#   cifar_trains  a small CIFAR-shaped set (stripes_images --classes 10 --size 32)
#                 through convert_imageset -shuffle and compute_image_mean feeds
#                 cifar10_quick with its mean_file: 10 iterations run, finite loss.
# Usage: sh tests/caffe_examples.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
SUITE=caffe_examples
. tests/report.sh
for t in train convert_mnist_data convert_imageset compute_image_mean stripes_images; do
    [ -x "$BUILD/$t" ] || { fail setup "no $BUILD/$t"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# faithful: undo the path changes and compare with Caffe's files
undo() {
    sed -e 's|build/data/fashion-mnist-lmdb/train_lmdb|examples/mnist/mnist_train_lmdb|' \
        -e 's|build/data/fashion-mnist-lmdb/test_lmdb|examples/mnist/mnist_test_lmdb|' \
        -e 's|configs/caffe_lenet_train_test.prototxt|examples/mnist/lenet_train_test.prototxt|' \
        -e 's|build/caffe_lenet/lenet|examples/mnist/lenet|' \
        -e 's|build/data/cifar-like/mean.binaryproto|examples/cifar10/mean.binaryproto|' \
        -e 's|build/data/cifar-like/train_lmdb|examples/cifar10/cifar10_train_lmdb|' \
        -e 's|build/data/cifar-like/test_lmdb|examples/cifar10/cifar10_test_lmdb|' \
        -e 's|configs/caffe_cifar10_quick_train_test.prototxt|examples/cifar10/cifar10_quick_train_test.prototxt|' \
        -e 's|build/caffe_cifar10_quick/cifar10_quick|examples/cifar10/cifar10_quick|' "$1"
}
bad=
for f in lenet_train_test lenet_solver cifar10_quick_train_test cifar10_quick_solver; do
    undo configs/caffe_$f.prototxt | cmp -s - tests/caffe/$f.prototxt || bad="$bad $f"
done
check faithful "differ from tests/caffe beyond paths:$bad" test -z "$bad"

# the configs with the scratch folder's paths (nothing else changed)
here() {
    sed -e "s|build/data/fashion-mnist-lmdb/|$tmp/|" -e "s|build/data/cifar-like/|$tmp/|" \
        -e "s|configs/caffe_|$tmp/caffe_|" -e "s|snapshot_prefix: .*|snapshot_prefix: \"$tmp/snap\"|" \
        configs/$1 > "$tmp/$1"
}
for f in caffe_lenet_train_test caffe_lenet_solver caffe_cifar10_quick_train_test caffe_cifar10_quick_solver; do
    here $f.prototxt
done

# lenet_trains: the 10000 test images as both databases (only 30 iterations run)
SRC=/usr/share/datasets/fashion-mnist
if [ -r $SRC/t10k-images-idx3-ubyte.gz ]; then
    "$BUILD/convert_mnist_data" $SRC/t10k-images-idx3-ubyte.gz $SRC/t10k-labels-idx1-ubyte.gz \
        "$tmp/train_lmdb" > /dev/null && cp -r "$tmp/train_lmdb" "$tmp/test_lmdb"
    "$TRAIN" "$tmp/caffe_lenet_solver.prototxt" --set max_iter=30 --set display=10 \
        --set test_iter=[] --set test_iter=2 --set test_interval=1000 --set snapshot=0 --set random_seed=1 \
        > "$tmp/lenet.log" 2>&1; rc=$?
    l0=$(grep '^Iteration 0/' "$tmp/lenet.log" | sed 's/.*loss = \([0-9.e+-]*\).*/\1/')
    l30=$(grep '^Iteration 30/\|^Iteration 20/' "$tmp/lenet.log" | tail -n 1 | sed 's/.*loss = \([0-9.e+-]*\).*/\1/')
    check lenet_trains "rc $rc, loss $l0 -> $l30: $(tail -n 3 "$tmp/lenet.log")" \
        sh -c 'test $1 -eq 0 && awk -v a="$2" -v b="$3" "BEGIN { exit !(b < a) }"' _ $rc "$l0" "$l30"
    rm -rf "$tmp/train_lmdb" "$tmp/test_lmdb"
else
    fail lenet_trains "no $SRC (tools/install-deps.sh installs dataset-fashion-mnist)"
fi

# cifar_trains: 300 + 100 images, shuffled databases, the training set's mean
"$BUILD/stripes_images" --out "$tmp/tr" --count 300 --size 32 --classes 10 --seed 3 > /dev/null &&
    "$BUILD/stripes_images" --out "$tmp/te" --count 100 --size 32 --classes 10 --seed 4 > /dev/null &&
    "$BUILD/convert_imageset" -shuffle "$tmp/tr/" "$tmp/tr/list.txt" "$tmp/train_lmdb" > /dev/null &&
    "$BUILD/convert_imageset" "$tmp/te/" "$tmp/te/list.txt" "$tmp/test_lmdb" > /dev/null &&
    "$BUILD/compute_image_mean" "$tmp/train_lmdb" "$tmp/mean.binaryproto" > /dev/null
rc=$?
"$TRAIN" "$tmp/caffe_cifar10_quick_solver.prototxt" --set max_iter=10 --set display=10 \
    --set test_iter=[] --set test_iter=1 --set test_interval=10 --set snapshot=0 --set random_seed=1 \
    > "$tmp/cifar.log" 2>&1; rc2=$?
check cifar_trains "rc $rc/$rc2: $(tail -n 3 "$tmp/cifar.log")" \
    sh -c 'test $1 -eq 0 && test $2 -eq 0 && grep -q "^Iteration 0/10: loss = [0-9]" "$3" &&
           grep -q "accuracy = " "$3"' _ $rc $rc2 "$tmp/cifar.log"
