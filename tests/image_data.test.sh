#!/bin/sh
# ImageData through train (tools/train.c): a folder of PNG files made by
# tools/stripes_images trains the stripes convnet (configs/stripes.prototxt)
# from chance to a held-out accuracy of 0.9 or more, a resume from a snapshot
# mid-epoch (shuffled order, random mirrors) ends with the same weights bit
# for bit, and a list naming a missing image stops train with the data exit
# code and the list's file:line.
# Usage: sh tests/image_data.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
SUITE=image_data
. tests/report.sh
if [ ! -x "$TRAIN" ] || [ ! -x "$BUILD/stripes_images" ]; then
    fail setup "no $TRAIN or $BUILD/stripes_images"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BUILD/stripes_images" --out "$tmp/train" --count 300 --seed 1 > /dev/null &&
    "$BUILD/stripes_images" --out "$tmp/test" --count 100 --seed 2 > /dev/null
check generates "no images" test -s "$tmp/train/00299.png" -a -s "$tmp/test/list.txt"
# the example net with this folder's paths; max_iter 150, snapshots every 70
sed -e "s|build/data/stripes/|$tmp/|g" configs/stripes.prototxt > "$tmp/net.prototxt"
solver() {
    sed -e "s|^net: .*|net: \"$tmp/net.prototxt\"|" -e "s|^snapshot_prefix: .*|snapshot_prefix: \"$1\"|" \
        -e 's|^max_iter: .*|max_iter: 150|' -e 's|^snapshot: .*|snapshot: 70|' \
        -e 's|^test_iter: .*|test_iter: 2|' -e 's|^test_interval: .*|test_interval: 150|' \
        -e 's|^display: .*|display: 10|' configs/stripes_solver.prototxt > "$tmp/solver.prototxt"
}
mkdir "$tmp/a" "$tmp/b"
solver "$tmp/a/s"
"$TRAIN" "$tmp/solver.prototxt" > "$tmp/a.log" 2>&1; rc=$?
acc=$(grep 'accuracy = ' "$tmp/a.log" | sed 's/.*accuracy = \([0-9.e-]*\).*/\1/')
first=$(echo "$acc" | head -n 1) last=$(echo "$acc" | tail -n 1)
check learns "rc $rc, accuracy $first -> $last: $(tail -n 2 "$tmp/a.log")" \
    sh -c 'test $1 -eq 0 && awk -v a="$2" -v b="$3" "BEGIN { exit !(a < 0.8 && b >= 0.9) }"' \
    _ $rc "$first" "$last"
solver "$tmp/b/s"
"$TRAIN" "$tmp/solver.prototxt" --resume "$tmp/a/s_iter_70.solverstate.h5" > "$tmp/b.log" 2>&1
rc=$?
h5diff "$tmp/a/s_iter_150.caffemodel.h5" "$tmp/b/s_iter_150.caffemodel.h5" > "$tmp/h5diff" 2>&1
check resume_bit_exact "rc $rc, $(head -c 300 "$tmp/h5diff") $(tail -n 2 "$tmp/b.log")" \
    sh -c 'test $1 -eq 0 && test $2 -eq 0' _ $rc $?
# a missing image: the data exit code (3), the list's file:line and the path
sed -i '5s/^[0-9]*\.png/gone.png/' "$tmp/train/list.txt"
"$TRAIN" "$tmp/solver.prototxt" > "$tmp/c.log" 2>&1; rc=$?
check missing_image "rc $rc: $(tail -n 2 "$tmp/c.log")" \
    sh -c 'test $1 -eq 3 && grep -q "train/list.txt:5: image .*gone.png" "$2"' _ $rc "$tmp/c.log"
