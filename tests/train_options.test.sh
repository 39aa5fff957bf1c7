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
SUITE=train_options
. tests/report.sh

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

# ---- bounds of solver fields: errors positioned at the field ----------------------

# input_error NAME EXPECTED-STDERR ARGS...: exit 1 (or $want_rc), one exact line on
# stderr ($tmp written as T).
input_error() {
    name=$1 want=$2
    shift 2
    "$TRAIN" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
    got=$(sed "s|$tmp|T|g" "$tmp/err")
    if [ $rc -eq "${want_rc:-1}" ] && [ "$got" = "$want" ]; then ok "$name"
    else fail "$name" "rc $rc, stderr '$got', want '$want'"; fi
}
solver "$tmp/clip_nan.prototxt" 'base_lr: 0.01' 'clip_gradients: nan'
input_error clip_gradients_nan "T/clip_nan.prototxt:14:1: error: clip_gradients must be a number (got nan)" \
    "$tmp/clip_nan.prototxt" --dry-run
solver "$tmp/clip_off.prototxt" 'base_lr: 0.01' 'clip_gradients: -1'
"$TRAIN" "$tmp/clip_off.prototxt" --dry-run > /dev/null 2> "$tmp/err"; rc=$?
check clip_gradients_negative_is_off "rc $rc, $(cat "$tmp/err")" test $rc -eq 0
for v in inf nan -0.5; do
    solver "$tmp/lr.prototxt" "base_lr: $v"
    input_error "base_lr_$v" "T/lr.prototxt:13:1: error: base_lr must be >= 0 and finite (got $v)" \
        "$tmp/lr.prototxt" --dry-run
done
input_error base_lr_from_set "--set base_lr=-2: error: base_lr must be >= 0 and finite (got -2)" \
    "$tmp/s.prototxt" --set base_lr=-2 --dry-run
solver "$tmp/ti.prototxt" 'base_lr: 0.1' 'test_iter: 1' 'test_interval: 0'
input_error test_interval_zero_with_test_nets \
    "T/ti.prototxt:15:1: error: test_interval must be > 0 when there are test nets (got 0)" \
    "$tmp/ti.prototxt" --dry-run
solver "$tmp/titer.prototxt" 'base_lr: 0.1' 'test_iter: 2' 'test_iter: -2' 'test_interval: 5'
input_error test_iter_negative "T/titer.prototxt:15:1: error: test_iter[1] must be >= 0 (got -2)" \
    "$tmp/titer.prototxt" --dry-run
solver "$tmp/ts.prototxt" 'base_lr: 0.1' 'test_iter: 1' 'test_iter: 1' 'test_interval: 5' \
    'test_state { stage: "a" }'
input_error test_state_count \
    "T/ts.prototxt:17:1: error: test_state must be given once per test net (2 test nets, 1 test_state)" \
    "$tmp/ts.prototxt" --dry-run
mkdir "$tmp/netdir"
printf 'base_lr: 0.1\nnet: "netdir"\n' > "$tmp/netdir.prototxt"
input_error net_is_directory "T/netdir.prototxt:2:1: error: net file 'T/netdir': cannot open: Is a directory" \
    "$tmp/netdir.prototxt" --dry-run
solver "$tmp/mdir.prototxt" 'base_lr: 0.1' "metrics_file: \"$tmp\""
want_rc=6 # I/O failure
input_error metrics_file_reason "error: cannot open metrics file 'T' for writing: Is a directory" \
    "$tmp/mdir.prototxt"
want_rc=1

# ---- command-line faults -----------------------------------------------------------

usage_error weights_twice \
    "train: error: --weights given twice (list several files as --weights A,B) (see train --help)" \
    "$tmp/s.prototxt" --weights a.caffemodel --weights=b.caffemodel
usage_error resume_twice "train: error: --snapshot/--resume given twice (see train --help)" \
    "$tmp/s.prototxt" --resume a.solverstate --resume b.solverstate
usage_error snapshot_and_resume "train: error: --snapshot/--resume given twice (see train --help)" \
    "$tmp/s.prototxt" --snapshot=a.solverstate --resume b.solverstate
# strtol saturates at LONG_MAX, which used to become -1 as an int
for n in 99999999999999999999 3000000000 2147483648; do
    usage_error "iterations_too_large_$n" \
        "train: error: --iterations must be at most 1000000000, got '$n' (see train --help)" \
        "$tmp/s.prototxt" --time --iterations $n
done

# --set on a repeated field appends, as a second line in the file would.
solver "$tmp/rep.prototxt" 'base_lr: 0.1' 'test_iter: 2' 'test_interval: 5'
"$TRAIN" "$tmp/rep.prototxt" --set test_iter=3 --set 'test_iter=[4, 5]' --print-config > "$tmp/out" 2>&1
rc=$?
got=$(grep '^test_iter: ' "$tmp/out" | tr '\n' ' ')
check set_repeated_appends "rc $rc, got '$got'" test $rc -eq 0 -a "$got" = "test_iter: 2 test_iter: 3 test_iter: 4 test_iter: 5 "
"$TRAIN" "$tmp/rep.prototxt" --set 'test_iter[0]=7' --print-config > "$tmp/out" 2>&1
rc=$?
got=$(grep '^test_iter: ' "$tmp/out" | tr '\n' ' ')
check set_repeated_index_replaces "rc $rc, got '$got'" test $rc -eq 0 -a "$got" = "test_iter: 7 "
