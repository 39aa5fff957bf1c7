#!/bin/sh
# train's exit codes (tools/exit_codes.h), one case per row that a run can
# reach here, and the first-contact errors: a net definition given as the
# solver (prototxt and YAML) and an empty solver. The table printed by
# train --help must be the README's. (Dead run, 5: the error kind is checked
# in tests/test_recovery.c; I/O failure on a real full disk is disk_full.test.sh.)
# Usage: sh tests/exit_codes.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok exit_codes/$1"; }
fail() { echo "FAIL exit_codes/$1: $2"; }

# expect NAME CODE STDERR-TEXT ARGS...: train exits CODE and stderr holds the text.
expect() {
    name=$1 code=$2 text=$3
    shift 3
    "$TRAIN" "$@" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ $rc -eq "$code" ] && { [ -z "$text" ] || grep -qF -- "$text" "$tmp/err"; }; then ok "$name"
    else fail "$name" "rc $rc (want $code), stderr: $(head -c 400 "$tmp/err")"; fi
}

# A net that trains in milliseconds; LR and data are set per case.
net() { # net LR DATA-LAYER
    cat << NET
net_param { name: "x"
  $2
  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p"
          inner_product_param { num_output: 2 weight_filler { type: "gaussian" std: 0.1 } } }
  layer { name: "loss" type: "SoftmaxWithLoss" bottom: "p" bottom: "y" top: "loss" } }
base_lr: $1 lr_policy: "fixed" max_iter: 4 display: 0 random_seed: 1 max_bad_steps: 2
snapshot_prefix: "$tmp/snap/r"
NET
}
dummy='layer { name: "d" type: "DummyData" top: "x" top: "y"
          dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 }
                             data_filler { type: "gaussian" std: 1 } data_filler { type: "constant" value: VALUE } } }'
net 0.1 "$(echo "$dummy" | sed 's/VALUE/1/')" > "$tmp/good.prototxt"
expect success 0 "" "$tmp/good.prototxt"
net 0.1 "$(echo "$dummy" | sed 's/VALUE/1/')" | sed 's/lr_policy: "fixed"/lr_policy: "fixd"/' \
    > "$tmp/config.prototxt"
expect bad_config 1 "unknown lr_policy 'fixd'" "$tmp/config.prototxt"
expect usage 2 "unknown option '--frobnicate'" "$tmp/good.prototxt" --frobnicate
# a label of 7 for 2 classes: the forward stops on it
net 0.1 "$(echo "$dummy" | sed 's/VALUE/7/')" > "$tmp/data.prototxt"
expect bad_data 3 "label" "$tmp/data.prototxt"
# inputs of 1e30 and an lr of 1e30 overflow the weights: every step is bad,
# max_bad_steps stops the run
net 1e30 "$(echo "$dummy" | sed 's/VALUE/1/; s/std: 1 }/std: 1e30 }/')" > "$tmp/nan.prototxt"
expect non_finite_stop 4 "consecutive bad steps" "$tmp/nan.prototxt" --set clip_gradients=-1
# the snapshot folder's parent is a file: nothing can be written there
: > "$tmp/file"
expect io_failure 6 "cannot" "$tmp/good.prototxt" --set "snapshot_prefix=$tmp/file/r"

# ---- first contact ----
printf 'name: "N"\nlayer { name: "d" type: "Input" top: "x" input_param { shape { dim: 1 } } }\n' \
    > "$tmp/net.prototxt"
expect net_as_solver 1 "$tmp/net.prototxt: error: this is a net definition (net 'N', 1 layers), not a solver" \
    "$tmp/net.prototxt"
grep -qxF '  net: "net.prototxt"' "$tmp/err" && ok net_as_solver_shows_solver ||
    fail net_as_solver_shows_solver "$(cat "$tmp/err")"
printf 'name: N\nlayer:\n  - name: d\n    type: Input\n    top: x\n' > "$tmp/net.yaml"
expect net_as_solver_yaml 1 "this is a net definition (net 'N', 1 layers)" "$tmp/net.yaml"
grep -qxF '  net: net.yaml' "$tmp/err" && ok net_as_solver_yaml_shows_solver ||
    fail net_as_solver_yaml_shows_solver "$(cat "$tmp/err")"
: > "$tmp/empty.prototxt"
expect empty_solver 1 "$tmp/empty.prototxt: error: the solver file sets nothing" \
    "$tmp/empty.prototxt" --print-config
[ -s "$tmp/out" ] && fail empty_solver_prints_nothing "$(cat "$tmp/out")" || ok empty_solver_prints_nothing
printf '# only a comment\n' > "$tmp/comment.prototxt"
expect comment_only_solver 1 "the solver file sets nothing" "$tmp/comment.prototxt"
# a real solver error is still the solver's
printf 'base_lr: 0.1\nnmae: 3\n' > "$tmp/typo.prototxt"
expect solver_typo_kept 1 "$tmp/typo.prototxt:2:1: error: SolverParameter has no field 'nmae'" \
    "$tmp/typo.prototxt"

# ---- the table: train --help's rows are the README's ----
"$TRAIN" --help | sed -n '/^Exit status:/,$p' | sed -n 's/^  \([0-9]\)  .*/\1/p' > "$tmp/codes"
missing=
for c in $(cat "$tmp/codes"); do
    grep -q "^| $c |" README.md || missing="$missing $c"
done
[ "$(wc -l < "$tmp/codes")" -ge 7 ] && [ -z "$missing" ] && ok table_in_readme ||
    fail table_in_readme "codes: $(tr '\n' ' ' < "$tmp/codes"); not in README:$missing"
