#!/bin/sh
# Caffe's CaffeNet example (configs/caffe_caffenet_*), cheaply:
#   faithful          the configs are Caffe's bvlc_reference_caffenet files
#                     (tests/caffe/) with only the source:, mean_file:, net: and
#                     snapshot_prefix: paths changed;
#   dry_run_batch_256 on a tiny LMDB (3 images of 256 x 256 through
#                     stripes_images, convert_imageset, compute_image_mean) the
#                     config parses and --dry-run builds the nets as Caffe's file
#                     has them: data 256x3x227x227 (TRAIN), 50x3x227x227 (TEST);
#   memory_bound      --dry-run states each term of the memory bound with its
#                     bytes: parameters and gradients (60965224 floats each),
#                     the history (SGD: 1 slab, held twice), the recovery ring
#                     (skip: 2 states of weights + history), activations,
#                     workspace, the prefetch queues (4 batches of 256 and 4 of
#                     50 images, labels included), and a total that is their sum.
# Usage: sh tests/caffenet.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
SUITE=caffenet
. tests/report.sh
for t in train convert_imageset compute_image_mean stripes_images; do
    [ -x "$BUILD/$t" ] || { fail setup "no $BUILD/$t"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

undo() {
    sed -e 's|build/data/imagenet-like/train_lmdb|examples/imagenet/ilsvrc12_train_lmdb|' \
        -e 's|build/data/imagenet-like/val_lmdb|examples/imagenet/ilsvrc12_val_lmdb|' \
        -e 's|build/data/imagenet-like/mean.binaryproto|data/ilsvrc12/imagenet_mean.binaryproto|' \
        -e 's|configs/caffe_caffenet_train_val.prototxt|models/bvlc_reference_caffenet/train_val.prototxt|' \
        -e 's|build/caffe_caffenet/caffenet_train|models/bvlc_reference_caffenet/caffenet_train|' "$1"
}
bad=
undo configs/caffe_caffenet_train_val.prototxt |
    cmp -s - tests/caffe/bvlc_reference_caffenet_train_val.prototxt || bad="$bad train_val"
undo configs/caffe_caffenet_solver.prototxt |
    cmp -s - tests/caffe/bvlc_reference_caffenet_solver.prototxt || bad="$bad solver"
check faithful "differ from tests/caffe beyond paths:$bad" test -z "$bad"

# The configs with the scratch folder's paths; one tiny LMDB serves TRAIN and TEST.
sed -e "s|build/data/imagenet-like/[a-z]*_lmdb|$tmp/lmdb|" \
    -e "s|build/data/imagenet-like/|$tmp/|" configs/caffe_caffenet_train_val.prototxt > "$tmp/net.prototxt"
sed -e "s|configs/caffe_caffenet_train_val.prototxt|$tmp/net.prototxt|" \
    -e "s|snapshot_prefix: .*|snapshot_prefix: \"$tmp/snap\"|" configs/caffe_caffenet_solver.prototxt > "$tmp/solver.prototxt"
"$BUILD/stripes_images" --out "$tmp/im" --size 256 --classes 10 --count 3 --seed 5 > /dev/null &&
    "$BUILD/convert_imageset" "$tmp/im/" "$tmp/im/list.txt" "$tmp/lmdb" > /dev/null &&
    "$BUILD/compute_image_mean" "$tmp/lmdb" "$tmp/mean.binaryproto" > /dev/null
rc=$?
"$TRAIN" "$tmp/solver.prototxt" --dry-run > "$tmp/dry.out" 2> "$tmp/dry.err"; rc2=$?
check dry_run_batch_256 "rc $rc/$rc2: $(head -c 400 "$tmp/dry.err")" sh -c '
    test $1 -eq 0 && test $2 -eq 0 &&
    grep -q "^  data  *Data  *-> data 256x3x227x227, label 256 " "$3" &&
    grep -q "^  data  *Data  *-> data 50x3x227x227, label 50 " "$3"' _ $rc $rc2 "$tmp/dry.out"

# bytes TERM: the bytes --dry-run states for a term of the memory bound.
bytes() {
    awk -v t="$1" 'f && index($0, "  " t " ") == 1 { s = substr($0, length(t) + 3)
        split(s, a, " "); print a[1]; exit } /^memory bound/ { f = 1 }' "$tmp/dry.out"
}
P=$((60965224 * 4))
PF=$(( (4 * (256 * 3 * 227 * 227 + 256) + 4 * (50 * 3 * 227 * 227 + 50)) * 4 ))
par=$(bytes parameters) grad=$(bytes gradients) hist=$(bytes "solver history")
ring=$(bytes "recovery ring") act=$(bytes activations) ws=$(bytes workspace)
pf=$(bytes "prefetch queues") tot=$(bytes total)
check memory_bound "parameters '$par' gradients '$grad' history '$hist' ring '$ring' activations '$act' workspace '$ws' prefetch '$pf' total '$tot' (want $P $P $((2 * P)) $((4 * P)) >0 >0 $PF sum)" \
    sh -c 'test "$1" = "$7" && test "$2" = "$7" && test "$3" = "$((2 * $7))" &&
           test "$4" -gt 0 && test "$5" -gt 0 && test "$6" = "$8" && test "${10}" = "$((4 * $7))" &&
           test "$9" = "$(($1 + $2 + $3 + $4 + $5 + $6 + ${10}))"' \
    _ "$par" "$grad" "$hist" "$act" "$ws" "$pf" "$P" "$PF" "$tot" "$ring"
