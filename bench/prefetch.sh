#!/bin/bash
# bench/prefetch.sh [BUILD]: does the Data layer's prefetch thread hide decoding?
#
# Caffe's CaffeNet (configs/caffe_caffenet_solver.prototxt) reads an LMDB of
# ENCODED images, where making a batch costs real work (decode each PNG or JPEG,
# crop 227, mirror, subtract the mean), through `train --time` at one compute
# thread, with data_param.prefetch 4 (Caffe's default: batches made on the prefetch
# thread) and 0 (made on the training thread when the batch is taken), interleaved
# in rounds. From --time's data line, per configuration (medians of the rounds):
#   - wait: the training loop's wall time in the data layer before its batch was
#     ready, per batch;
#   - make: the wall and CPU time of making one batch, on whichever thread made it;
#   - the data layer's forward (wait + copying the batch into the net) and the
#     whole iteration.
# Prefetch hides decoding when, with prefetch 4, wait is near 0 while make stays
# what it is with prefetch 0 (where wait = make), and the iteration is shorter by
# about make. That needs a core for the prefetch thread besides the compute
# thread: run it on a quiet machine (2 cores: 1 compute thread + the producer).
#
# Data: $WORK/prefetch_data/, 400 images of 256 x 256 (tools/stripes_images,
# 10 classes) through convert_imageset -encoded (PNG: the files' own bytes; or
# -encode_type=jpg), and their mean (compute_image_mean). Made once, ~10 s.
#
# Environment: BENCH_PREFETCH_BATCH (default 64), BENCH_PREFETCH_ITERS (timed
# iterations, default 4, after --time's 3 warm-up ones), BENCH_PREFETCH_RUNS
# (rounds, default 3), BENCH_PREFETCH_ENCODE (png or jpg, default png),
# BENCH_PREFETCH_THREADS (compute threads, default 1), BENCH_PREFETCH_OUT (the
# markdown table, default $BUILD/bench/prefetch.md). Exit 0 when every run ran.
set -u
export LC_ALL=C
BUILD=${1:-build}
BATCH=${BENCH_PREFETCH_BATCH:-64}
ITERS=${BENCH_PREFETCH_ITERS:-4}
RUNS=${BENCH_PREFETCH_RUNS:-3}
ENC=${BENCH_PREFETCH_ENCODE:-png}
THREADS=${BENCH_PREFETCH_THREADS:-1}
WORK=$BUILD/bench
OUT=${BENCH_PREFETCH_OUT:-$WORK/prefetch.md}
SOLVER=configs/caffe_caffenet_solver.prototxt
DATA=$WORK/prefetch_data
LOGS=$WORK/prefetch_logs
for t in train stripes_images convert_imageset compute_image_mean; do
    [ -x "$BUILD/$t" ] || { echo "bench/prefetch.sh: missing $BUILD/$t (make $BUILD/$t)" >&2; exit 1; }
done
case $ENC in png|jpg) ;; *) echo "bench/prefetch.sh: BENCH_PREFETCH_ENCODE is png or jpg" >&2; exit 2 ;; esac
mkdir -p "$WORK" "$LOGS"
rm -f "$LOGS"/*

if [ ! -e "$DATA/$ENC/lmdb" ]; then
    echo "bench/prefetch.sh: making $DATA/$ENC/lmdb"
    rm -rf "$DATA/$ENC" && mkdir -p "$DATA/$ENC" || exit 1
    [ -e "$DATA/images/list.txt" ] ||
        "$BUILD/stripes_images" --out "$DATA/images" --size 256 --classes 10 --count 400 --seed 7 > /dev/null ||
        exit 1
    ENCFLAG=-encoded
    [ "$ENC" = jpg ] && ENCFLAG="-encoded -encode_type=jpg"
    # shellcheck disable=SC2086 # two flags for jpg
    "$BUILD/convert_imageset" $ENCFLAG "$DATA/images/" "$DATA/images/list.txt" "$DATA/$ENC/lmdb.partial" > /dev/null &&
        "$BUILD/compute_image_mean" "$DATA/$ENC/lmdb.partial" "$DATA/$ENC/mean.binaryproto" > /dev/null &&
        mv "$DATA/$ENC/lmdb.partial" "$DATA/$ENC/lmdb" || exit 1
fi

# Both data layers (TRAIN: layer 0, TEST: layer 1) read the encoded set; only the
# TRAIN net runs under --time.
SETS=()
for l in 0 1; do
    SETS+=(--set "net_param.layer[$l].data_param.source=$DATA/$ENC/lmdb"
           --set "net_param.layer[$l].transform_param.mean_file=$DATA/$ENC/mean.binaryproto")
done
SETS+=(--set "net_param.layer[0].data_param.batch_size=$BATCH")

failed=0
# run PREFETCH: one --time run; appends "iter_ms data_fwd_ms wait_ms make_ms make_cpu_ms" to p$1.tsv.
run() {
    local f="$LOGS/p$1.$(date +%s%N).txt"
    if ! OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS "$BUILD/train" "$SOLVER" --time \
        --iterations "$ITERS" "${SETS[@]}" --set "net_param.layer[0].data_param.prefetch=$1" > "$f" 2>&1; then
        echo "bench/prefetch.sh: prefetch $1 failed, see $f" >&2
        failed=1
        return
    fi
    awk '$1 == "data" && $2 == "Data" { fwd = $3 }
         /^  data layer .* the training loop waited/ {
             for (i = 1; i <= NF; i++) {
                 if ($i == "waited") wait = $(i + 1)
                 if ($i == "took") make = $(i + 1)
                 if ($i == "wall," && $(i + 2) == "ms") cpu = $(i + 1)
             } }
         /^  iteration [0-9.]+ ms:/ { it = $2 }
         END { print it, fwd, wait, make, cpu }' "$f" >> "$LOGS/p$1.tsv"
}
med() { # med PREFETCH COLUMN
    awk -v k="$2" '{ print $k }' "$LOGS/p$1.tsv" 2>/dev/null | sort -g |
        awk '{ v[NR] = $1 } END { if (!NR) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
             else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$RUNS"); do
    echo "bench/prefetch.sh: round $r/$RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
    run 4
    run 0
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

{
    cat <<EOF
## Prefetch on encoded images: CaffeNet on the Data layer

$START, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), load average $LOAD0 at start, $LOAD1 at end ($(nproc) cores).
\`bench/prefetch.sh $BUILD\` (BENCH_PREFETCH_BATCH=$BATCH BENCH_PREFETCH_ITERS=$ITERS
BENCH_PREFETCH_RUNS=$RUNS BENCH_PREFETCH_ENCODE=$ENC BENCH_PREFETCH_THREADS=$THREADS): Caffe's
CaffeNet train_val at batch $BATCH on 400 encoded ${ENC^^} images of 256 x 256 (crop 227,
mirror, mean file), $THREADS compute thread(s); medians of $RUNS interleaved rounds of
\`train --time --iterations $ITERS\` (after 3 warm-up iterations), ms.

| prefetch | iteration | data layer forward (wait + copy) | training loop's wait per batch | making a batch, wall | making a batch, CPU | made on |
| --- | --- | --- | --- | --- | --- | --- |
| 4 | $(med 4 1) | $(med 4 2) | **$(med 4 3)** | $(med 4 4) | $(med 4 5) | the prefetch thread |
| 0 | $(med 0 1) | $(med 0 2) | **$(med 0 3)** | $(med 0 4) | $(med 0 5) | the training thread, inside the wait |

Command per run (P = 4, 0):

\`\`\`
OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS $BUILD/train $SOLVER --time --iterations $ITERS ${SETS[*]} --set net_param.layer[0].data_param.prefetch=P
\`\`\`
EOF
} > "$OUT"
cat "$OUT"
exit $failed
