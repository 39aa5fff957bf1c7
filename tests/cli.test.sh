#!/bin/sh
# The train command line, end to end (tools/train.c): --help documents every
# option the source accepts, --version, --list-layers lists the registry, usage
# errors exit 2, input errors exit 1 with positioned messages, --print-config
# round-trips (and YAML twins print like their prototxt), --dry-run of every
# solver under configs/ succeeds, a short LeNet run on a tiny Fashion-MNIST
# stand-in lowers the loss and snapshots, resuming continues bit for bit, SIGINT
# leaves a resumable snapshot, and kill -9 never leaves a broken *.h5 behind.
# Usage: sh tests/cli.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
FMNIST=$BUILD/fmnist2h5
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 # bit-exact resume needs fixed threads
if [ ! -x "$TRAIN" ] || [ ! -x "$FMNIST" ]; then
    echo "FAIL cli: no $TRAIN or $FMNIST"
    exit 1
fi
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

SUITE=cli
. tests/report.sh

# ---- help, version, layers, usage errors --------------------------------------

"$TRAIN" --help > "$tmp/help" 2> "$tmp/err"; rc=$?
missing=
# Options are the literals train.c compares arguments with.
for opt in $(grep -oE '(strcmp\(a, |&i, )"--[a-z][a-z-]*"' tools/train.c | grep -o -- '--[a-z-]*' | sort -u); do
    grep -qE -- "(^|[ ,])$opt([ ,=]|\$)" "$tmp/help" || missing="$missing $opt"
done
check help "rc $rc, stderr '$(cat "$tmp/err")', undocumented:$missing" \
    test $rc -eq 0 -a -z "$missing" -a ! -s "$tmp/err" -a "$(head -n 1 "$tmp/help")" = "Usage: train SOLVER [options]"
"$TRAIN" -h | cmp -s - "$tmp/help"
check help_short "-h differs from --help" test $? -eq 0

out=$("$TRAIN" --version); rc=$?
check version "rc $rc, '$out'" sh -c 'test $1 -eq 0 && echo "$2" | grep -qE "^cliff train [0-9]+\.[0-9]+\.[0-9]+$"' _ $rc "$out"

# --list-layers: "N layer types:" then one line per type, the same set as the
# registry in layers/*.c and as the list an unknown type's error gives.
"$TRAIN" --list-layers > "$tmp/layers"; rc=$?
n=$(head -n 1 "$tmp/layers" | sed -n 's/^\([0-9]*\) layer types:$/\1/p')
tail -n +2 "$tmp/layers" | awk '{print $1}' | sort > "$tmp/listed"
grep -ho '^const CliffLayerOps cliff_ops_[A-Za-z0-9_]*' layers/*.c | sed 's/.*cliff_ops_//' | sort > "$tmp/registry"
printf 'layer { name: "x" type: "NoSuchType" }\n' > "$tmp/unknown_net.prototxt"
printf 'net: "%s"\nbase_lr: 0.1\nmax_iter: 1\n' "$tmp/unknown_net.prototxt" > "$tmp/unknown_solver.prototxt"
"$TRAIN" --dry-run "$tmp/unknown_solver.prototxt" 2>&1 >/dev/null |
    sed -n 's/.*known: \(.*\))$/\1/p' | tr -d ' ' | tr ',' '\n' | sort > "$tmp/known"
check list_layers "rc $rc, count '$n', listed vs registry: $(diff "$tmp/listed" "$tmp/registry" | tr '\n' ' ')" \
    sh -c 'test $1 -eq 0 && test "$2" = "$(wc -l < "$3")" && test "$2" -ge 40 && cmp -s "$3" "$4"' \
    _ $rc "$n" "$tmp/listed" "$tmp/registry"
check unknown_type_lists_layers "the unknown-type error lists other types than --list-layers" \
    cmp -s "$tmp/listed" "$tmp/known"

usage_error unknown_option "train: error: unknown option '--bogus' (see train --help)" \
    configs/lenet_solver.prototxt --bogus
usage_error no_solver "train: error: missing SOLVER file (see train --help)" --dry-run
usage_error two_solvers "train: error: more than one solver file given ('b.prototxt') (see train --help)" \
    a.prototxt b.prototxt
usage_error bad_iterations "train: error: --iterations needs a positive integer, got 'x' (see train --help)" \
    configs/lenet_solver.prototxt --time --iterations x
usage_error set_without_value "train: error: --set needs FIELD=VALUE, got 'base_lr' (see train --help)" \
    configs/lenet_solver.prototxt --set base_lr

# input_error NAME EXPECTED-STDERR ARGS...: exit 1, one exact line on stderr.
input_error() {
    name=$1 want=$2
    shift 2
    "$TRAIN" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
    got=$(cat "$tmp/err")
    if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then ok "$name"
    else fail "$name" "rc $rc, stderr '$got', want '$want'"; fi
}
input_error missing_solver_file "$tmp/none.prototxt: error: cannot open: No such file or directory" \
    "$tmp/none.prototxt" --dry-run
input_error set_unknown_field \
    "--set base_lrr=0.1: error: SolverParameter has no field 'base_lrr' (did you mean 'base_lr'?)" \
    configs/lenet_solver.prototxt --set base_lrr=0.1 --print-config
input_error set_unknown_nested_field \
    "--set net_param.layer[0].hdf5_data_param.sorce=x: error: HDF5DataParameter has no field 'sorce' (did you mean 'source'?)" \
    configs/lenet_solver.prototxt --set 'net_param.layer[0].hdf5_data_param.sorce=x' --print-config
input_error caffe_solver_without_its_tree \
    "tests/caffe/lenet_solver.prototxt:2:1: error: net file 'examples/mnist/lenet_train_test.prototxt' not found (looked in tests/caffe/examples/mnist/lenet_train_test.prototxt and ./examples/mnist/lenet_train_test.prototxt)" \
    tests/caffe/lenet_solver.prototxt --print-config

# ---- --print-config ----------------------------------------------------------

# roundtrip NAME ARGS...: the printed config, read back, prints identically.
roundtrip() {
    name=$1
    shift
    if "$TRAIN" "$@" --print-config > "$tmp/$name.a.prototxt" 2> "$tmp/err" &&
       "$TRAIN" "$tmp/$name.a.prototxt" --print-config > "$tmp/$name.b.prototxt" 2>> "$tmp/err" &&
       cmp -s "$tmp/$name.a.prototxt" "$tmp/$name.b.prototxt" && grep -q '^net_param {' "$tmp/$name.a.prototxt"
    then ok "print_config_roundtrip/$name"
    else fail "print_config_roundtrip/$name" "$(head -c 400 "$tmp/err") $(diff "$tmp/$name.a.prototxt" "$tmp/$name.b.prototxt" | head -5)"; fi
}
for s in configs/*_solver.prototxt configs/*_solver.yaml; do
    roundtrip "$(basename "$s" | tr . _)" "$s"
done
# YAML twins print exactly like their prototxt.
for s in configs/*_solver.yaml; do
    b=$(basename "$s" .yaml)
    check "yaml_twin_prints_like_prototxt/$b" "differs from ${b}.prototxt" \
        cmp -s "$tmp/${b}_yaml.a.prototxt" "$tmp/${b}_prototxt.a.prototxt"
done
# Caffe's own solvers print once their net file is given (their net: path is
# relative to a Caffe checkout); the V1 LeNet prints like the current one.
roundtrip caffe_lenet tests/caffe/lenet_solver.prototxt --set net=tests/caffe/lenet_train_test.prototxt
roundtrip caffe_cifar10_quick tests/caffe/cifar10_quick_solver.prototxt \
    --set net=tests/caffe/cifar10_quick_train_test.prototxt
check caffe_lenet_prints_caffe_fields "no solver_mode: GPU / Data layer in the print" \
    sh -c 'grep -q "^solver_mode: GPU$" "$1" && grep -q "^    type: \"Data\"$" "$1"' _ "$tmp/caffe_lenet.a.prototxt"
"$TRAIN" tests/caffe/lenet_solver.prototxt --set net=tests/caffe/lenet_v1.prototxt --print-config 2>&1 |
    cmp -s - "$tmp/caffe_lenet.a.prototxt"
check caffe_v1_lenet_prints_upgraded "the V1 LeNet does not print like Caffe's current LeNet" test $? -eq 0

# ---- --dry-run of every solver under configs/ ---------------------------------

# The tiny Fashion-MNIST stand-in (needs Debian's dataset-fashion-mnist).
if "$FMNIST" "$tmp/data" --train-limit 256 --test-limit 128 > "$tmp/fmnist.log" 2>&1; then
    ok fmnist_stand_in
else
    fail fmnist_stand_in "$(cat "$tmp/fmnist.log")"
fi

# Stand-ins for the sequence examples: 60000 characters of English for TextData
# (the char-LSTM reads fortunes) and 100 adding-problem sequences of 50 steps.
mkdir -p "$tmp/data"
yes "the quick brown fox jumps over the lazy dog." | head -c 60000 > "$tmp/data/text.txt"
echo "$tmp/data/text.txt" > "$tmp/data/text.list"
for split in train test; do
    "$BUILD/adding_problem" --out "$tmp/data/adding_$split" --length 50 --count 100 --streams 50 \
        > /dev/null 2>&1 || fail adding_stand_in "$BUILD/adding_problem failed"
done
# and 40 + 20 stripes PNGs for ImageData
"$BUILD/stripes_images" --out "$tmp/data/stripes_train" --count 40 > /dev/null 2>&1 &&
    "$BUILD/stripes_images" --out "$tmp/data/stripes_test" --count 20 --seed 2 > /dev/null 2>&1 ||
    fail stripes_stand_in "$BUILD/stripes_images failed"

# data_sets SOLVER: --set arguments pointing every data layer of net_param at
# a stand-in: HDF5Data at Fashion-MNIST's (train.txt unless the layer's source
# names test data) or the adding problem's (a source naming "adding"),
# TextData at the text, ImageData at the stripes PNGs.
data_sets() {
    "$TRAIN" "$1" --print-config 2>/dev/null | awk -v d="$tmp/data" '
        /^  layer \{/ { i++ }
        /^    type: "HDF5Data"$/ { h[i] = 1 }
        /^    type: "TextData"$/ { x[i] = 1 }
        /^    type: "ImageData"$/ { im[i] = 1 }
        /^      source: / { s[i] = $2 }
        END { for (k = 1; k <= i; k++) {
                  if (h[k])
                      printf "--set net_param.layer[%d].hdf5_data_param.source=%s/%s%s.txt\n",
                             k - 1, d, (s[k] ~ /adding/ ? "adding_" : ""),
                             (s[k] ~ /test/ ? "test" : "train")
                  if (x[k])
                      printf "--set net_param.layer[%d].text_data_param.source=%s/text.list\n",
                             k - 1, d
                  if (im[k]) {
                      f = d "/stripes_" (s[k] ~ /test/ ? "test" : "train")
                      printf "--set net_param.layer[%d].image_data_param.source=%s/list.txt\n",
                             k - 1, f
                      printf "--set net_param.layer[%d].image_data_param.root_folder=%s/\n",
                             k - 1, f } } }'
}

# dry NAME SOLVER ARGS...: --dry-run exits 0 with a train net summary.
dry() {
    name=$1
    shift
    if "$TRAIN" --dry-run "$@" > "$tmp/dry.out" 2> "$tmp/dry.err" &&
       grep -q '^train: net ' "$tmp/dry.out" && [ ! -s "$tmp/dry.err" ]
    then ok "dry_run/$name"
    else fail "dry_run/$name" "$(head -c 600 "$tmp/dry.err")"; fi
}
# configs/caffe_* read LMDBs that `make mnist-lmdb` / `make cifar-lmdb` write:
# tests/caffe_examples.test.sh builds small ones and trains those configs.
for s in configs/*_solver.prototxt configs/*_solver.yaml; do
    case $s in configs/caffe_*) continue ;; esac
    # shellcheck disable=SC2046 # one --set argument per line, no spaces in them
    dry "$(basename "$s")" "$s" $(data_sets "$s")
done
# --dry-run states the layers' scratch: a workspace column (a convolution holds
# some; ReLU none) and a total line after the parameter total.
"$TRAIN" --dry-run configs/lenet_solver.prototxt $(data_sets configs/lenet_solver.prototxt) \
    > "$tmp/ws.out" 2>&1
check dry_run_workspace "no workspace figures: $(head -c 600 "$tmp/ws.out")" sh -c '
    grep -q "^  layer .* workspace$" "$1" &&
    grep -qE "^  conv1 .* [0-9.]+ (B|KiB|MiB)$" "$1" && grep -qE "^  relu1 .* -$" "$1" &&
    grep -A1 "^  total: " "$1" | grep -qE "^  workspace [0-9.]+ (B|KiB|MiB|GiB) "' _ "$tmp/ws.out"
# --time on every example config: a per-layer table and an iterations/s line.
for s in configs/*_solver.prototxt configs/*_solver.yaml; do
    case $s in configs/caffe_*) continue ;; esac # as for dry_run above
    # shellcheck disable=SC2046
    if "$TRAIN" "$s" --time --iterations 3 $(data_sets "$s") > "$tmp/time.out" 2> "$tmp/time.err" &&
       grep -q '^  conv1 \|^  ip1 ' "$tmp/time.out" &&
       grep -q 'iterations/s' "$tmp/time.out" && [ ! -s "$tmp/time.err" ]
    then ok "time/$(basename "$s")"
    else fail "time/$(basename "$s")" "$(head -c 600 "$tmp/time.err")"; fi
done
# Caffe's solvers: their net file, Data layers switched to HDF5Data on the
# stand-in (LeNet) or to DummyData of CIFAR-10's shape (no CIFAR-10 here).
for s in tests/caffe/*_solver.prototxt; do
    case $(basename "$s") in
    lenet_solver.prototxt)
        # the switched copy drops transform_param, which HDF5Data refuses, as in Caffe
        dry caffe/lenet_solver.prototxt "$s" --set net=tests/nets/caffe_lenet_hdf5.prototxt \
            --set "net_param.layer[0].hdf5_data_param.source=$tmp/data/train.txt" \
            --set "net_param.layer[1].hdf5_data_param.source=$tmp/data/test.txt" ;;
    cifar10_quick_solver.prototxt)
        dry caffe/cifar10_quick_solver.prototxt "$s" --set net=tests/caffe/cifar10_quick_train_test.prototxt \
            --set 'net_param.layer[0].type=DummyData' \
            --set 'net_param.layer[0].dummy_data_param={shape {dim: 100 dim: 3 dim: 32 dim: 32} shape {dim: 100}}' \
            --set 'net_param.layer[1].type=DummyData' \
            --set 'net_param.layer[1].dummy_data_param={shape {dim: 100 dim: 3 dim: 32 dim: 32} shape {dim: 100}}' ;;
    bvlc_reference_caffenet_solver.prototxt)
        # DummyData at batch 2 here; tests/caffenet.test.sh builds it on an LMDB at 256
        dry caffe/bvlc_reference_caffenet_solver.prototxt "$s" \
            --set net=tests/caffe/bvlc_reference_caffenet_train_val.prototxt \
            --set 'net_param.layer[0].type=DummyData' \
            --set 'net_param.layer[0].dummy_data_param={shape {dim: 2 dim: 3 dim: 227 dim: 227} shape {dim: 2}}' \
            --set 'net_param.layer[1].type=DummyData' \
            --set 'net_param.layer[1].dummy_data_param={shape {dim: 2 dim: 3 dim: 227 dim: 227} shape {dim: 2}}' ;;
    *) fail "dry_run/caffe/$(basename "$s")" "no recipe in tests/cli.test.sh for this solver" ;;
    esac
done

# ---- training, resume, signals ------------------------------------------------

# LeNet (configs/lenet_solver.prototxt: SGD, clip_gradients 1, batch 64) on the
# stand-in: 60 iterations, display every 10, snapshots at 30 and 60. LENET is
# split on spaces (none of its words has one); `lenet` runs it in the
# foreground; background runs use $LENET itself so that $! is train's pid.
LENET="$TRAIN configs/lenet_solver.prototxt $(data_sets configs/lenet_solver.prototxt | tr '\n' ' ')
    --set max_iter=60 --set display=10 --set test_interval=1000 --set test_iter[0]=2 --set snapshot=30"
lenet() {
    # shellcheck disable=SC2086
    $LENET "$@"
}
lenet --set "snapshot_prefix=$tmp/a/lenet" > "$tmp/a.log" 2>&1; rc=$?
first=$(sed -n 's/^Iteration 0\/60: loss = \([0-9.e+-]*\) .*/\1/p' "$tmp/a.log")
last=$(sed -n 's/^Iteration [0-9]*\/60: loss = \([0-9.e+-]*\) .*/\1/p' "$tmp/a.log" | tail -n 1)
lines=$(grep -c '^Iteration [0-9]*/60: loss = ' "$tmp/a.log")
check train_loss_decreases "rc $rc, $lines loss lines, first '$first', last '$last'" \
    awk -v rc=$rc -v n="$lines" -v f="$first" -v l="$last" \
        'BEGIN { exit !(rc == 0 && n == 6 && f > 1.5 && l > 0 && l < 0.75 * f) }'
all_snaps=yes
for it in 30 60; do
    for kind in caffemodel solverstate; do
        h5ls "$tmp/a/lenet_iter_$it.$kind.h5" > /dev/null 2>&1 || all_snaps="no ($it $kind)"
    done
done
check train_snapshots "$all_snaps" test "$all_snaps" = yes

# Resume from iteration 30 into another prefix: the log continues at 30, and
# the weights and optimizer state at 60 equal the uninterrupted run's.
lenet --set "snapshot_prefix=$tmp/b/lenet" --resume "$tmp/a/lenet_iter_30.solverstate.h5" > "$tmp/b.log" 2>&1
rc=$?
check resume_continues "rc $rc, log: $(head -c 300 "$tmp/b.log")" \
    sh -c 'test $1 -eq 0 && grep -q "^Iteration 30: Resuming from " "$2" &&
           test "$(grep -o "^Iteration [0-9]*/60" "$2" | head -n 1)" = "Iteration 30/60" &&
           ! grep -q "^Iteration [12]\{0,1\}[0-9]/60" "$2"' _ $rc "$tmp/b.log"
# Displayed losses after 30 are the same numbers in both runs.
grep '^Iteration [3-6]0/60: loss' "$tmp/a.log" | sed 's/, last .*//' > "$tmp/a.loss"
grep '^Iteration [3-6]0/60: loss' "$tmp/b.log" | sed 's/, last .*//' > "$tmp/b.loss"
check resume_same_losses "$(diff "$tmp/a.loss" "$tmp/b.loss" | head -4)" cmp -s "$tmp/a.loss" "$tmp/b.loss"
h5diff "$tmp/a/lenet_iter_60.caffemodel.h5" "$tmp/b/lenet_iter_60.caffemodel.h5" > "$tmp/h5diff" 2>&1
check resume_same_weights "$(head -c 300 "$tmp/h5diff")" test $? -eq 0
same_state=yes
for obj in /iter /current_step /history /cliff; do
    h5diff "$tmp/a/lenet_iter_60.solverstate.h5" "$tmp/b/lenet_iter_60.solverstate.h5" "$obj" \
        > "$tmp/h5diff" 2>&1 || same_state="no: $obj $(head -c 200 "$tmp/h5diff")"
done
check resume_same_solver_state "$same_state" test "$same_state" = yes

# Resume in place (same prefix, after the run went on to 60): the metrics file
# keeps its rows before 30 and the rows from 30 on are those of the resumed
# run, each train iteration exactly once.
cp -r "$tmp/a" "$tmp/c"
lenet --set "snapshot_prefix=$tmp/c/lenet" --resume "$tmp/c/lenet_iter_30.solverstate.h5" > "$tmp/c.log" 2>&1
rows=$(grep -c '^train,' "$tmp/c/lenet_metrics.csv")
dups=$(grep '^train,' "$tmp/c/lenet_metrics.csv" | cut -d, -f2 | sort | uniq -d | head -n 3 | tr '\n' ' ')
check resume_metrics_rows_once "$rows train rows, duplicated iterations: '$dups'" \
    sh -c 'test "$1" -eq 60 && test -z "$2" && head -n 1 "$3" | grep -q "^kind,iter,"' \
    _ "$rows" "$dups" "$tmp/c/lenet_metrics.csv"

# SIGINT: stop after the current iteration with a snapshot, exit 0; the
# snapshot resumes.
# shellcheck disable=SC2086
$LENET --set max_iter=100000 --set snapshot=0 --set "snapshot_prefix=$tmp/int/lenet" > "$tmp/int.log" 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && ! grep -qs '^Iteration 10/' "$tmp/int.log"; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
pid=
state=$(ls "$tmp"/int/lenet_iter_*.solverstate.h5 2>/dev/null | head -n 1)
stop=$(echo "$state" | sed -n 's/.*lenet_iter_\([0-9]*\)\.solverstate\.h5$/\1/p')
check sigint_snapshot "rc $rc, state '$state', log tail: $(tail -n 2 "$tmp/int.log")" \
    sh -c 'test $1 -eq 0 && test -n "$2" && test "$2" -ge 10 && grep -q "stopped early" "$3"' \
    _ $rc "$stop" "$tmp/int.log"
if [ -n "$stop" ]; then
    lenet --set max_iter=$((stop + 2)) --set snapshot=0 --set "snapshot_prefix=$tmp/int2/lenet" \
        --resume "$state" > "$tmp/int2.log" 2>&1
    rc=$?
    check sigint_snapshot_resumes "rc $rc, $(tail -n 2 "$tmp/int2.log")" \
        sh -c 'test $1 -eq 0 && grep -q "^Iteration $2: Resuming from" "$3" &&
               test -f "$4/int2/lenet_iter_$(($2 + 2)).solverstate.h5"' _ $rc "$stop" "$tmp/int2.log" "$tmp"
else
    fail sigint_snapshot_resumes "no snapshot to resume"
fi

# kill -9 at arbitrary moments of a run that snapshots every iteration (the
# snapshots overwrite each other's names across runs): every *.h5 left behind
# opens (temporary files have other names).
mkdir -p "$tmp/k9"
for delay in 0.25 0.4 0.55 0.7 0.85; do
    # shellcheck disable=SC2086
    $LENET --set max_iter=100000 --set snapshot=1 --set "snapshot_prefix=$tmp/k9/lenet" \
        > /dev/null 2>&1 &
    pid=$!
    # the delays count from the first snapshot on disk (start-up time varies
    # with the machine's load); at most 30 s of waiting for it
    waited=0
    while [ $waited -lt 300 ] && ! ls "$tmp"/k9/*.h5 > /dev/null 2>&1; do
        sleep 0.1
        waited=$((waited + 1))
    done
    sleep $delay
    kill -9 $pid
    wait $pid 2>/dev/null
    pid=
done
broken= count=0
for f in "$tmp"/k9/*.h5; do
    [ -e "$f" ] || continue
    count=$((count + 1))
    h5ls -r "$f" > /dev/null 2>&1 || broken="$broken $(basename "$f")"
done
check kill9_no_broken_snapshot "$count files, broken:$broken" test -z "$broken" -a $count -ge 2
