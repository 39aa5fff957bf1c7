#!/bin/sh
# train --dry-run states the memory of the recurrent layers' T steps: the
# workspace column of an LSTM (RNN) row counts its per-step buffers, 11 (4)
# floats per step, stream and hidden unit (layers/lstm.c, rnn.c), so doubling
# T adds exactly T x N x H x 11 (4) floats, and the figure is at least that.
# Run on the example configs (char-LSTM: T 64, N 32, H 256; adding: T 50,
# N 50, H 64) with stand-in data, at their T and at 2T.
# Usage: sh tests/recurrent_dry_run.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
SUITE=recurrent_dry_run
. tests/report.sh
if [ ! -x "$TRAIN" ] || [ ! -x "$BUILD/adding_problem" ]; then
    fail setup "no $TRAIN or $BUILD/adding_problem"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
yes "the quick brown fox jumps over the lazy dog." | head -c 120000 > "$tmp/text.txt"
echo "$tmp/text.txt" > "$tmp/text.list"
"$BUILD/adding_problem" --out "$tmp/adding" --length 50 --count 200 --streams 50 > /dev/null ||
    fail setup "adding_problem failed"

# workspace OUT LAYER: the layer's workspace figure of the train net in bytes
# (the column reads "23.3 MiB": to 0.1 of its unit), 0 for "-" or no row.
workspace() {
    awk -v l="$2" '/^test net/ { exit } $1 == l {
        u = $NF; v = $(NF - 1)
        m = u == "B" ? 1 : u == "KiB" ? 1024 : u == "MiB" ? 1048576 : u == "GiB" ? 1073741824 : 0
        printf "%.0f\n", v * m; found = 1; exit }
        END { if (!found) print 0 }' "$1"
}
# grows NAME OUT1 OUT2 LAYER PER_STEP_BYTES: the layer's workspace in OUT2 (2T)
# exceeds OUT1's (T) by PER_STEP_BYTES x T to within the printed rounding (0.1
# MiB), and OUT1's is at least that much.
grows() {
    a=$(workspace "$2" "$4") b=$(workspace "$3" "$4")
    check "$1" "workspace of '$4': $a B at T, $b B at 2T, want a difference of $5 B (and at least that at T)" \
        awk -v a="$a" -v b="$b" -v d="$5" 'BEGIN { e = b - a - d; if (e < 0) e = -e
            exit !(a >= d - 104858 && e <= 2 * 104858) }'
}

lstm() {
    "$TRAIN" --dry-run configs/char_lstm_solver.prototxt \
        --set "net_param.layer[0].text_data_param.source=$tmp/text.list" \
        --set "net_param.layer[0].text_data_param.time_steps=$1" > "$tmp/lstm$1.out" 2>&1 ||
        fail "dry_run_T$1" "$(head -c 400 "$tmp/lstm$1.out")"
}
lstm 64
lstm 128
# 64 steps x 32 streams x 256 units x 11 floats x 4 bytes
grows lstm1_steps_counted "$tmp/lstm64.out" "$tmp/lstm128.out" lstm1 $((64 * 32 * 256 * 11 * 4))
grows lstm2_steps_counted "$tmp/lstm64.out" "$tmp/lstm128.out" lstm2 $((64 * 32 * 256 * 11 * 4))
check lstm_total_line "no workspace total of 46 MiB or more at T 64: $(grep '^  workspace' "$tmp/lstm64.out" | head -n 1)" \
    sh -c 'grep -m1 "^  workspace " "$1" | awk "{ exit !(\$2 >= 46 && \$3 == \"MiB\") }"' _ "$tmp/lstm64.out"

adding() {
    "$TRAIN" --dry-run configs/adding_solver.prototxt \
        --set "net_param.layer[0].hdf5_data_param.source=$tmp/adding.txt" \
        --set "net_param.layer[1].hdf5_data_param.source=$tmp/adding.txt" \
        --set "net_param.layer[0].hdf5_data_param.batch_size=$1" \
        --set "net_param.layer[1].hdf5_data_param.batch_size=$1" > "$tmp/rnn$1.out" 2>&1 ||
        fail "dry_run_T$1" "$(head -c 400 "$tmp/rnn$1.out")"
}
adding 50
adding 100
# 50 steps x 50 streams x 64 units x 4 floats x 4 bytes
grows rnn_steps_counted "$tmp/rnn50.out" "$tmp/rnn100.out" rnn $((50 * 50 * 64 * 4 * 4))
