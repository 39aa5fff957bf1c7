#!/bin/sh
# train's options that write config fields, and their faults (tools/train.c):
# --log-format and --time are --set overrides (visible in --print-config),
# on a tiny DummyData solver that trains in milliseconds.
# Usage: sh tests/train_options.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
if [ ! -x "$TRAIN" ]; then echo "FAIL train_options: no $TRAIN"; exit 1; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok train_options/$1"; }
fail() { echo "FAIL train_options/$1: $2"; }
check() {
    name=$1 why=$2
    shift 2
    if "$@"; then ok "$name"; else fail "$name" "$why"; fi
}

# solver FILE [FIELD LINES...]: a two-iteration solver without log_format.
solver() {
    f=$1
    shift
    {
        echo 'net_param {'
        echo '  layer { name: "d" type: "DummyData" top: "x" top: "y"'
        echo '    dummy_data_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 1 }'
        echo '      data_filler { type: "gaussian" } data_filler { type: "gaussian" } } }'
        echo '  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p"'
        echo '    inner_product_param { num_output: 1 weight_filler { type: "xavier" } } }'
        echo '  layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" }'
        echo '}'
        echo 'max_iter: 2'
        echo 'display: 1'
        echo 'random_seed: 1'
        echo "snapshot_prefix: \"$tmp/snap/s\""
        for line in "$@"; do echo "$line"; done
    } > "$f"
}
solver "$tmp/s.prototxt" 'base_lr: 0.01'

# ---- --log-format and --time are overrides --------------------------------------

# The solver leaves log_format at its default: the option used to free
# protobuf-c's static default string (munmap_chunk(): invalid pointer, 134).
for fmt in json kv; do
    "$TRAIN" "$tmp/s.prototxt" --log-format $fmt > "$tmp/out" 2> "$tmp/err"; rc=$?
    case $fmt in json) want='^{"event":"iter","iter":1,' ;; kv) want='^event=iter iter=1 ' ;; esac
    check "log_format_$fmt" "rc $rc, stderr '$(head -c 300 "$tmp/err")'" \
        sh -c 'test $1 -eq 0 && grep -q "$2" "$3" && ! grep -q "^Iteration" "$3"' _ $rc "$want" "$tmp/out"
done
"$TRAIN" "$tmp/s.prototxt" --log-format json --print-config > "$tmp/out" 2>&1; rc=$?
check log_format_printed "rc $rc, $(grep log_format "$tmp/out")" \
    sh -c 'test $1 -eq 0 && grep -qx "log_format: \"json\"" "$2"' _ $rc "$tmp/out"
"$TRAIN" "$tmp/s.prototxt" --time --iterations 5 --print-config > "$tmp/out" 2>&1; rc=$?
printf '%s\n' 'max_iter: 8' 'display: 0' 'snapshot: 0' 'test_interval: 2147483647' \
    'snapshot_after_train: false' 'test_initialization: false' 'metrics_file: "/dev/null"' > "$tmp/want"
missing=$(grep -vxF -f "$tmp/out" "$tmp/want" | tr '\n' ' ')
check time_overrides_printed "rc $rc, missing: $missing" test $rc -eq 0 -a -z "$missing"
"$TRAIN" "$tmp/s.prototxt" --time --iterations 2 --set "snapshot_prefix=$tmp/time/s" > "$tmp/out" 2>&1
rc=$?
check time_runs_without_files "rc $rc, $(tail -n 2 "$tmp/out"), $(ls "$tmp/time" 2>&1)" \
    sh -c 'test $1 -eq 0 && grep -q "^Timing 2 iterations" "$2" && test -z "$(ls "$3")"' \
    _ $rc "$tmp/out" "$tmp/time"
