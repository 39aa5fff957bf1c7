#!/bin/sh
# A full disk, for real: a 64 KiB tmpfs (needs root and mount, which CI has;
# elsewhere every case is skipped with a line saying so). A snapshot that does
# not fit, a snapshot into an already full disk (HDF5 and binary), and a
# metrics file on a full disk: each stops the run with exit 6 (I/O failure), names the file
# and the system's reason, and leaves no temporary behind.
# Usage: sh tests/disk_full.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
tmp=$(mktemp -d)
small=$tmp/small
mounted=
trap '[ -n "$mounted" ] && umount "$small"; rm -rf "$tmp"' EXIT
mkdir -p "$small" "$tmp/out"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=64k tmpfs "$small" 2> /dev/null; then
    echo "skip disk_full: not root or no tmpfs mount here (4 cases not run)"
    exit 0
fi
mounted=1
# a sanitizer build: HDF5's own allocation on a failed create is not a leak of
# cliff's (tests/lsan_hdf5.supp), and LSan's exit code would hide exit 6
if ldd "$TRAIN" 2> /dev/null | grep -q libasan; then
    export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan_hdf5.supp:print_suppressions=0"
fi
# 20100 parameters: the weights alone (80 KB) do not fit in 64 KiB.
cat > "$tmp/s.prototxt" << 'NET'
net_param { name: "df"
  layer { name: "d" type: "DummyData" top: "x" top: "y"
          dummy_data_param { shape { dim: 4 dim: 200 } shape { dim: 4 dim: 100 }
                             data_filler { type: "gaussian" std: 1 } } }
  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p"
          inner_product_param { num_output: 100 weight_filler { type: "gaussian" std: 0.01 } } }
  layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" } }
base_lr: 0.01 lr_policy: "fixed" max_iter: 3 display: 0 random_seed: 1
NET

# run NAME EXPECTED-TEXT... -- ARGS: ok when train exits 6 (I/O failure), its stderr holds
# every expected text, and no *.tmp is left in the small disk.
run() {
    name=$1
    shift
    want=
    while [ "$1" != "--" ]; do want="$want|$1"; shift; done
    shift
    "$TRAIN" "$tmp/s.prototxt" "$@" > "$tmp/out.log" 2> "$tmp/err.log"
    rc=$?
    missing=
    old_ifs=$IFS IFS='|'
    for w in ${want#|}; do grep -qF -- "$w" "$tmp/err.log" || missing="$missing '$w'"; done
    IFS=$old_ifs
    left=$(ls "$small" | grep '\.tmp$')
    if [ $rc -eq 6 ] && [ -z "$missing" ] && [ -z "$left" ]; then
        echo "ok disk_full/$name"
    else
        echo "FAIL disk_full/$name: rc $rc, missing:$missing, left: $left; stderr: $(cat "$tmp/err.log")"
    fi
}

run snapshot_does_not_fit "r_iter_3.caffemodel.h5.tmp" "ip/0" "No space left on device" -- \
    --set "snapshot_prefix=$small/r" --set "metrics_file=$tmp/m.csv"
# fill the disk to the last block
dd if=/dev/zero of="$small/fill" bs=1k 2> /dev/null
run create_on_full_disk "cannot create '$small/r_iter_3.caffemodel.h5.tmp'" \
    "No space left on device" -- --set "snapshot_prefix=$small/r" --set "metrics_file=$tmp/m.csv"
run binary_on_full_disk "$small/r_iter_3.caffemodel.tmp" "No space left on device" -- \
    --set "snapshot_prefix=$small/r" --set snapshot_format=BINARYPROTO \
    --set "metrics_file=$tmp/m.csv"
run metrics_on_full_disk "cannot write metrics file '$small/m.csv'" "No space left on device" -- \
    --set "snapshot_prefix=$tmp/out/r" --set "metrics_file=$small/m.csv"
