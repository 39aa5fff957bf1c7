#!/bin/sh
# The clip policies from the solver file and from --set (clip_policy,
# clip_param.*): each trains a tiny DummyData net and says on its display line
# and in the metrics file what it did; bad parameters are errors positioned at
# the field (file:line:col, or the --set that wrote it).
# Usage: sh tests/clip_policies.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
if [ ! -x "$TRAIN" ]; then echo "FAIL clip_policies: no $TRAIN"; exit 1; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SUITE=clip_policies
. tests/report.sh

# solver FILE [LINES...]: a three-iteration solver (lines 1-14 fixed).
solver() {
    f=$1
    shift
    {
        echo 'net_param {'
        echo '  layer { name: "d" type: "DummyData" top: "x" top: "y"'
        echo '    dummy_data_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 }'
        echo '      data_filler { type: "gaussian" std: 10 } data_filler { type: "gaussian" } } }'
        echo '  layer { name: "ip" type: "InnerProduct" bottom: "x" top: "p"'
        echo '    inner_product_param { num_output: 2 weight_filler { type: "xavier" } } }'
        echo '  layer { name: "loss" type: "EuclideanLoss" bottom: "p" bottom: "y" top: "loss" }'
        echo '}'
        echo 'max_iter: 3'
        echo 'display: 1'
        echo 'random_seed: 1'
        echo 'base_lr: 0.1'
        echo "snapshot_prefix: \"$tmp/snap/s\""
        echo 'snapshot_after_train: false'
        for line in "$@"; do echo "$line"; done
    } > "$f"
}

# input_error NAME EXPECTED-STDERR ARGS...: exit 1, one exact line on stderr ($tmp as T).
input_error() {
    name=$1 want=$2
    shift 2
    "$TRAIN" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
    got=$(sed "s|$tmp|T|g" "$tmp/err")
    if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then ok "$name"
    else fail "$name" "rc $rc, stderr '$got', want '$want'"; fi
}

# runs NAME WANT-ON-DISPLAY ARGS...: trains, exit 0, a "clip <policy>:" line
# matching WANT, and train rows in the metrics file with the two clip columns.
runs() {
    name=$1 want=$2
    shift 2
    rm -rf "$tmp/snap"
    "$TRAIN" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
    rows=$(grep -c '^train,[0-9]*,.*,[-0-9.e]*,[0-9.e]*$' "$tmp/snap/s_metrics.csv" 2>/dev/null)
    check "$name" "rc $rc, $rows metrics rows, stderr '$(head -c 300 "$tmp/err")', display: $(grep -m1 'clip ' "$tmp/out")" \
        sh -c 'test $1 -eq 0 && test "$2" = 3 && grep -q "$3" "$4"' _ $rc "$rows" "$want" "$tmp/out"
}

solver "$tmp/base.prototxt"
runs global_norm_from_set 'clip global_norm: scale [0-9.e-]*, threshold 0.5$' \
    "$tmp/base.prototxt" --set clip_gradients=0.5
runs value_from_set 'clip value: scale .*, threshold 0.01, [0-9]* of 8 elements clipped' \
    "$tmp/base.prototxt" --set clip_policy=value --set clip_gradients=0.01
runs lr_adjusted_from_set 'clip lr_adjusted: .*threshold 0.1, [0-9]* of 8 elements clipped' \
    "$tmp/base.prototxt" --set clip_policy=lr_adjusted --set clip_gradients=0.01
runs adaptive_from_set 'clip adaptive: .*threshold 0.001, 3 of 3 units clipped (100%)' \
    "$tmp/base.prototxt" --set clip_policy=adaptive --set clip_param.lambda=0.001 \
    --set clip_param.exclude_last=false
runs percentile_from_set 'clip percentile: .*threshold' \
    "$tmp/base.prototxt" --set clip_policy=percentile --set clip_param.warmup=1 \
    --set clip_param.percentile=50 --set clip_param.history=8
runs zscore_from_set 'clip zscore: .*(warming up)' \
    "$tmp/base.prototxt" --set clip_policy=zscore --set 'clip_param={ alpha: 0.9 z_thresh: 3 }'
solver "$tmp/z.prototxt" 'clip_policy: "zscore"' 'clip_param { warmup: 1 z_thresh: 1.5 }'
runs zscore_from_file 'clip zscore: scale .*, threshold [0-9]' "$tmp/z.prototxt"
solver "$tmp/p.prototxt" 'clip_policy: "percentile"' 'clip_param { warmup: 0 percentile: 0 }'
runs percentile_from_file 'clip percentile: scale .*, threshold [0-9]' "$tmp/p.prototxt"
solver "$tmp/a.prototxt" 'clip_policy: "auto"' 'clip_gradients: 1'
"$TRAIN" "$tmp/a.prototxt" > "$tmp/out" 2>&1; rc=$?
check auto_names_its_policy "rc $rc, $(grep -m1 'Solving' "$tmp/out")" \
    sh -c 'test $1 -eq 0 && grep -q "clip_gradients 1 [a-z_]*, " "$2" && ! grep -q "clip auto" "$2"' \
    _ $rc "$tmp/out"

# ---- errors, positioned -------------------------------------------------------------
solver "$tmp/pct.prototxt" 'clip_policy: "percentile"' 'clip_param {' '  percentile: 120' '}'
input_error percentile_above_100 \
    "T/pct.prototxt:17:3: error: clip_policy 'percentile': percentile must be <= 100 (got 120)" \
    "$tmp/pct.prototxt" --dry-run
solver "$tmp/ex.prototxt" 'clip_policy: "adaptive"' 'clip_param { exclude: "ip" exclude: "fc" }'
input_error exclude_unknown_layer \
    "T/ex.prototxt:16:28: error: clip_policy 'adaptive': exclude names 'fc', which is no layer with parameters in the train net" \
    "$tmp/ex.prototxt" --dry-run
input_error lambda_zero_from_set \
    "--set clip_param.lambda=0: error: clip_policy 'adaptive': lambda must be > 0 and finite (got 0)" \
    "$tmp/base.prototxt" --set clip_policy=adaptive --set clip_param.lambda=0 --dry-run
input_error alpha_one_from_set \
    "--set clip_param.alpha=1: error: clip_policy 'zscore': alpha must be < 1 (got 1): the statistics would never move" \
    "$tmp/base.prototxt" --set clip_policy=zscore --set clip_param.alpha=1 --dry-run
solver "$tmp/v.prototxt" 'clip_policy: "value"'
input_error value_needs_clip_gradients \
    "T/v.prototxt:15:1: error: clip_policy 'value' clips at clip_gradients, which is not set (-1): give clip_gradients >= 0" \
    "$tmp/v.prototxt" --dry-run
input_error unknown_field \
    "--set clip_param.lamda=1: error: GradClipParameter has no field 'lamda' (did you mean 'lambda'?)" \
    "$tmp/base.prototxt" --set clip_param.lamda=1 --dry-run

# ---- the gradient report (--grad-report = debug_info) -------------------------------
# Plain SGD (no momentum, no decay) at iteration 0 steps lr * s * g, s the clip
# scale: each blob's update/weight ratio is lr * s * |g| / |w|, and the squares
# of the blobs' gradient norms add up to the global norm's.
rm -rf "$tmp/snap"
"$TRAIN" "$tmp/base.prototxt" --grad-report --set clip_gradients=2 --set max_iter=1 \
    > "$tmp/out" 2> "$tmp/err"; rc=$?
m="$tmp/snap/s_metrics.csv"
why=$(awk -F, '
    $1 == "train" && $2 == 0 { lr = $5; g = $6; s = $7 }
    $1 == "grad_norm" { gn[$10] = $11; sum += $11 * $11 }
    $1 == "weight_norm" { wn[$10] = $11 }
    $1 == "update_ratio" { ur[$10] = $11; n++ }
    END {
        if (n != 2) { print n " update_ratio rows"; exit }
        if (s >= 1) { print "not clipped (scale " s ")"; exit }
        if (sqrt(sum) / g - 1 > 1e-6 || g / sqrt(sum) - 1 > 1e-6) { print "blob norms " sqrt(sum) " vs " g; exit }
        for (b in ur) { want = lr * s * gn[b] / wn[b]
            if (ur[b] / want - 1 > 1e-5 || want / ur[b] - 1 > 1e-5) { print b ": ratio " ur[b] " want " want; exit } }
    }' "$m" 2>&1)
check grad_report_closed_form "rc $rc, $why, stderr '$(head -c 200 "$tmp/err")'" \
    test $rc -eq 0 -a -z "$why"
check grad_report_lines "$(grep -A4 'clip global_norm' "$tmp/out")" sh -c '
    grep -q "^Iteration 0:     ip/0: weight [0-9.e+-]*, grad [0-9.e+-]* ([0-9.]*% of the norm^2), update/weight [0-9.e+-]*$" "$1" &&
    grep -q "^Iteration 0:     ip/1: weight" "$1" &&
    grep -q "^Iteration 0:     clipped: most of the norm^2 in ip/[01] ([0-9.]*%), ip/[01] ([0-9.]*%)$" "$1"' _ "$tmp/out"
# the shares add up to 100% (one decimal each), the clipped line lists the
# largest first
check grad_report_shares "$(grep -E 'norm\^2' "$tmp/out")" sh -c '
    grep "^Iteration 0:     ip/[01]: weight" "$1" | sed "s/.*(\([0-9.]*\)% of.*/\1/" |
        awk "{ t += \$1 } END { exit !(NR == 2 && t > 99.8 && t < 100.2) }" &&
    grep "clipped: most" "$1" | sed "s/[^(]*(\([0-9.]*\)%)[^(]*(\([0-9.]*\)%)/\1 \2/" |
        awk "{ exit !(NR == 1 && \$1 + 0 >= \$2 + 0) }"' _ "$tmp/out"
"$TRAIN" "$tmp/base.prototxt" --grad-report --print-config > "$tmp/out" 2>&1
check grad_report_is_debug_info "$(grep debug_info "$tmp/out")" grep -qx 'debug_info: true' "$tmp/out"

# ---- recovery from --set: a rate growing 1e10-fold per iteration -----------------
# (lr_policy exp) makes a step non-finite within a few iterations: recovery=stop
# stops at the first bad step (exit 4); rollback goes back twice with lr x 0.5
# each time, then (max_rollbacks 2) stops at the third event.
rm -rf "$tmp/snap"
"$TRAIN" "$tmp/base.prototxt" --set lr_policy=exp --set gamma=1e10 --set max_iter=20 --set recovery=stop \
    > "$tmp/out" 2>&1; rc=$?
check recovery_stop_from_set "rc $rc: $(tail -n 2 "$tmp/out")" \
    sh -c 'test $1 -eq 4 && grep -q "event,[0-9]*,.*,nonfinite," "$2"' _ $rc "$tmp/snap/s_metrics.csv"
rm -rf "$tmp/snap"
"$TRAIN" "$tmp/base.prototxt" --set lr_policy=exp --set gamma=1e10 --set max_iter=20 --set recovery=rollback \
    --set max_rollbacks=2 --set recovery_interval=1 > "$tmp/out" 2>&1; rc=$?
check recovery_rollback_from_set "rc $rc, $(grep -c ',rollback,' "$tmp/snap/s_metrics.csv") rollback rows: $(tail -n 2 "$tmp/out")" \
    sh -c 'test $1 -eq 4 && test "$(grep -c ",rollback," "$2")" = 2' _ $rc "$tmp/snap/s_metrics.csv"
