#!/bin/bash
# bench/run.sh BUILD: the driver of `make bench`. Measures cliff's training speed
# and memory on this machine next to its peers and the machine's ceilings: the
# benchmark set (LeNet, cifar10_quick, CaffeNet, a slot for the char-LSTM; see
# bench/netset.sh) and LeNet in detail; checks the targets of the issues, and
# writes everything to bench/results.md. Run from the repository root after
# `make BUILD=... $BUILD/train $BUILD/bench/snapshot_time $BUILD/bench/fma_peak data`.
#
# Duration: about 6 minutes per round on a quiet 2-core machine (LeNet ~1,
# cifar10_quick ~0.3, CaffeNet ~1.5: 4 timed iterations after 3 warm-up ones, at 1
# and 2 threads, and its PyTorch twin; CaffeNet from LMDB at batch 256 ~3: 2 after 3
# at ~10 s / ~5.5 s an iteration, and its twin), so the default 3 rounds take ~20
# minutes, with bench/prefetch.sh (~2 minutes) and bench/mpi.sh after them.
#
# Peers and ceilings:
#   - PyTorch (Debian's python3-torch) running Caffe's LeNet solver, and an OpenBLAS
#     sgemm timer: lenet_torch.py and sgemm_peak.c from the project's shared
#     reference folder ($BENCH_SHARED, by default ../shared/bench beside the
#     repository; not part of it). Without that folder those rows read n/a.
#   - bench/fma_peak: the core's own FP32 ceiling (register-only FMA loops).
#   - BVLC Caffe: figures quoted from the project's reference notes (measured on
#     another machine), never measured here.
# The peers run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from their own
# commands' environment (this machine's environment forces OpenBLAS's Haswell
# kernels; unset, OpenBLAS picks its AVX-512 ones), each at 1 and 2 threads, and
# PyTorch with cliff's clip_gradients. cliff runs in the environment as set.
#
# Speed runs are interleaved in rounds (each round runs every configuration once)
# so that load from other users of the machine falls on all of them alike; a
# figure is the median over the rounds (ceilings: the best round, since load only
# ever lowers them). Logs of every run: $BUILD/bench/logs/.
#
# BENCH_NETS without "lenet" (e.g. BENCH_NETS=caffenet_data) runs only those nets of
# the set, each against its PyTorch twin, with the FMA peak, and writes their section
# alone to BENCH_OUT (default $BUILD/bench/results_nets.md, so bench/results.md stays
# whole).
#
# Environment: BENCH_ITERS (LeNet's timed iterations at batch 64, default 300),
# BENCH_RUNS (rounds, default 3), BENCH_SNAPSHOT_REPS (default 20),
# BENCH_OUT (default bench/results.md), BENCH_SHARED (default ../shared/bench),
# BENCH_CIFAR_ITERS (default 50), BENCH_CAFFENET_ITERS (default 4),
# BENCH_CAFFENET_DATA_ITERS (default 2), BENCH_NETS (the set's nets to run, default
# all: "lenet cifar10_quick caffenet caffenet_data char_lstm"; without lenet, see above),
# BENCH_BASELINE (an older train binary timed on LeNet and cifar10_quick in the
# same rounds: the "no slower than before" target).
# Exit status 0 when every measurement ran (whatever the targets say), else 1;
# results.md is written in both cases.
set -u
export LC_ALL=C

BUILD=${1:-build}
ITERS=${BENCH_ITERS:-300}
RUNS=${BENCH_RUNS:-3}
SNAP_REPS=${BENCH_SNAPSHOT_REPS:-20}
OUT=${BENCH_OUT:-bench/results.md}
SHARED=${BENCH_SHARED:-../shared/bench}
SOLVER=configs/lenet_solver.prototxt
DATA=build/data/fashion-mnist
PY=/usr/bin/python3
WORK=$BUILD/bench
LOGS=$WORK/logs
TRAIN=$BUILD/train
BATCH_PATH=net_param.layer[0].hdf5_data_param.batch_size

# BVLC Caffe 1.0 (CPU, Debian's OpenBLAS 0.3.21), LeNet batch 64 with
# clip_gradients 1: quoted from the project's reference notes, measured by the
# project on another 2-core AMD EPYC Zen 5 (AVX-512, Debian 12), not on this one
# and not by this script. Best / median of three interleaved rounds, it/s.
CAFFE_1T=58.6 CAFFE_1T_MED=57.0       # 1 thread, OPENBLAS_CORETYPE unset (AVX-512 kernels): its best
CAFFE_1T_HW=47.1 CAFFE_1T_HW_MED=43.5 # 1 thread, OPENBLAS_CORETYPE=Haswell
CAFFE_2T=37.9 CAFFE_2T_MED=35.6       # 2 threads, OPENBLAS_CORETYPE=Haswell (not measured unset)
# PyTorch 1.13 (lenet_torch.py --clip 1) in that same run, OPENBLAS_CORETYPE=Haswell:
# set against the same command here, it scales that machine to this one.
QTORCH_1T=44.5 QTORCH_1T_MED=38.0
QTORCH_2T=45.2 QTORCH_2T_MED=39.7

# The peers' environment: OpenBLAS free to pick its kernels for this CPU. Only
# their own commands drop these variables; cliff (and the tests, and CI) keep
# them as set.
PEER_UNSET="OPENBLAS_CORETYPE OPENBLAS_L2_SIZE"
PEER_ENV=(env)
ENV_AS_SET=""
for v in $PEER_UNSET; do
    PEER_ENV+=(-u "$v")
    ENV_AS_SET="$ENV_AS_SET${ENV_AS_SET:+ }$v=${!v-(unset)}"
done
PEER_ENV_TXT="${PEER_ENV[*]}"

failures=""
fail() { failures="$failures; $*"; echo "bench: FAILED: $*" >&2; }

# BENCH_NETS without lenet: the set's nets alone (see above; bench/netset.sh).
SET_ONLY=0
[ -n "${BENCH_NETS:-}" ] && [[ " $BENCH_NETS " != *" lenet "* ]] && SET_ONLY=1
NEEDED=("$TRAIN" "$WORK/fma_peak")
[ $SET_ONLY = 1 ] || NEEDED+=("$WORK/snapshot_time" "$DATA/train.txt" "$DATA/test.txt" "$SOLVER")
for f in "${NEEDED[@]}"; do
    [ -e "$f" ] || { echo "bench/run.sh: missing $f (run it through make bench)" >&2; exit 1; }
done
rm -rf "$LOGS" "$WORK/snap" "$WORK/rss"
mkdir -p "$LOGS" "$WORK/snap" "$WORK/rss" "$(dirname "$OUT")"

# ---------- small helpers ----------
isnum() { [[ "${1:-}" =~ ^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }
# calc EXPR [DECIMALS]: awk arithmetic on numbers; "n/a" if any operand is not one.
calc() {
    local e=$1 d=${2:-1} tok
    for tok in $(echo "$e" | tr -s '()*/+-' ' '); do
        isnum "$tok" || { echo "n/a"; return; }
    done
    awk "BEGIN { v = $e; printf \"%.${d}f\", v }" 2>/dev/null || echo "n/a"
}
# Rounded for display (the ratios and verdicts use the unrounded medians).
r1() { calc "$1" 1; }
r2() { calc "$1" 2; }
r3() { calc "$1" 3; }
mib() { calc "$1 / 1048576" 1; }
# pct A B: A as a percentage of B, one decimal.
pct() { calc "100 * $1 / $2" 1; }
# median of the numeric arguments ("n/a" when none).
median() {
    printf '%s\n' "$@" | grep -E '^-?[0-9.]+$' | sort -g |
        awk '{ v[NR] = $1 } END { if (!NR) print "n/a";
             else if (NR % 2) print v[(NR + 1) / 2];
             else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# verdict VALUE OP LIMIT: PASS / MISS / n/a.
verdict() {
    isnum "$1" && isnum "$3" || { echo "n/a"; return; }
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? (v >= l) : (v <= l); print ok ? "PASS" : "MISS" }'
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# Busy and steal jiffies of the whole machine since boot.
cpu_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat; }
# OUR_CPU: CPU seconds used by this script's finished children, from bash `times`
# (line 2). Call it directly, never in $(...): a subshell reports its own, empty, figures.
our_cpu() {
    times > "$WORK/times.txt"
    OUR_CPU=$(tail -1 "$WORK/times.txt" | awk '{ s = 0; for (i = 1; i <= 2; i++) {
                  split($i, a, /[ms]/); s += a[1] * 60 + a[2] } print s }')
}
# load_begin; RUN; load_end LOG: appends to LOG.load the CPU that other processes
# used while RUN ran (machine busy time less this script's children, over the wall
# time), in cores: 0 on a quiet machine.
load_begin() {
    read -r LB0 _ < <(cpu_jiffies)
    LT0=$(date +%s.%N)
    our_cpu
    LC0=$OUR_CPU
}
load_end() {
    local b1 t1
    read -r b1 _ < <(cpu_jiffies)
    t1=$(date +%s.%N)
    our_cpu
    awk -v b="$((b1 - LB0))" -v hz="$HZ" -v c="$OUR_CPU" -v c0="$LC0" -v t="$t1" -v t0="$LT0" \
        'BEGIN { v = (b / hz - (c - c0)) / (t - t0); printf "%.2f\n", (v > 0 ? v : 0) }' \
        >> "$LOGS/$1.load"
}
# mean_load LOG: mean other-process load over the runs of LOG.
mean_load() {
    [ -s "$LOGS/$1.load" ] && awk '{ s += $1 } END { printf "%.2f", s / NR }' "$LOGS/$1.load" ||
        echo n/a
}

# run_cliff_time LOG THREADS ITERS [--set ...]: `train --time` under /usr/bin/time
# (with EXTRA_ENV, a list of VAR=VALUE, added to the environment; RUN_TRAIN and
# RUN_SOLVER, when set, replace $TRAIN and $SOLVER); appends to LOG.tsv
# "iter_ms step_ms gflops_whole convip_ms logfile maxrss_bytes fwd_ms bwd_ms data_ms"
# (the last three per iteration: forward, backward, the data layers' part of
# forward), or nothing on failure.
EXTRA_ENV=""
run_cliff_time() {
    local log=$1 t=$2 n=$3
    shift 3
    local f="$LOGS/$log.$(date +%s%N).txt"
    local ok=1
    echo "load $(loadavg)" > "$f"
    load_begin
    timeout 900 env OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" $EXTRA_ENV \
        /usr/bin/time -f "maxrss_kib %M" "${RUN_TRAIN:-$TRAIN}" "${RUN_SOLVER:-$SOLVER}" \
        --time --iterations "$n" "$@" >> "$f" 2>&1 || ok=0
    load_end "$log"
    if [ $ok = 0 ]; then
        fail "${RUN_TRAIN:-$TRAIN} ${RUN_SOLVER:-$SOLVER} --time ($log), see $f"
        return
    fi
    awk -v f="$f" '
        $2 == "Convolution" || $2 == "InnerProduct" { convip += $3 + $4 }
        /solver step \(/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "ms") step = $i }
        /^ *iteration [0-9.]+ ms:/ { it = $2; for (i = 1; i <= NF; i++) if ($i == "conv+ip") gf = $(i + 1) }
        $1 == "maxrss_kib" { rss = sprintf("%.0f", $2 * 1024) }
        /^  forward [0-9.]+ ms, backward [0-9.]+ ms, of which data loading/ { fw = $2; bw = $5; dl = $11 }
        END { if (it != "" && step != "" && gf != "") print it, step, gf, convip, f, rss, fw, bw, dl }' "$f" \
        >> "$LOGS/$log.tsv"
}
# run_torch LOG THREADS ITERS ENV...: lenet_torch.py with cliff's clip_gradients
# under the environment command ENV... ("${PEER_ENV[@]}" or plain env) and
# /usr/bin/time; appends "iter_per_s logfile maxrss_bytes" to LOG.tsv.
run_torch() {
    local log=$1 t=$2 n=$3
    shift 3
    local f="$LOGS/$log.$(date +%s%N).txt"
    local ok=1
    echo "load $(loadavg)" > "$f"
    load_begin
    timeout 900 "$@" OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
        /usr/bin/time -f "maxrss_kib %M" "$PY" "$SHARED/lenet_torch.py" --data "$DATA" --iters "$n" --threads "$t" \
        --clip "$CLIP" --display 0 >> "$f" 2>&1 || ok=0
    load_end "$log"
    if [ $ok = 0 ]; then
        fail "lenet_torch.py ($log), see $f"
        return
    fi
    awk -v f="$f" '/^RESULT/ { for (i = 1; i <= NF; i++) if ($i == "iter_per_s") r = $(i + 1) }
                   $1 == "maxrss_kib" { m = sprintf("%.0f", $2 * 1024) }
                   END { if (r != "") print r, f, m }' "$f" >> "$LOGS/$log.tsv"
}
# col LOG K: column K of every run of LOG.
col() { [ -s "$LOGS/$1.tsv" ] && awk -v k="$2" '{ print $k }' "$LOGS/$1.tsv"; }
med() { median $(col "$1" "$2"); }
# Per run: conv+ip GFLOP/s over the conv+ip layers' own time.
med_layer_gflops() {
    [ -s "$LOGS/$1.tsv" ] || { echo n/a; return; }
    median $(awk '$4 > 0 { printf "%.2f\n", $3 * $1 / $4 }' "$LOGS/$1.tsv")
}
# The log of the run whose iteration time is the median (for its layer table).
median_log() {
    local m
    m=$(med "$1" 1)
    [ -s "$LOGS/$1.tsv" ] && awk -v m="$m" '$1 == m { print $5; exit }' "$LOGS/$1.tsv"
}

# under_load THREADS LOG...: a warning for a verdict when, in the runs of any LOG,
# other processes used on average more than the cores a THREADS-thread run leaves
# free, plus LOAD_SLACK (empty otherwise).
LOAD_SLACK=0.25
under_load() {
    local worst=0 l lim
    lim=$(calc "$(nproc) - $1 + $LOAD_SLACK" 2)
    shift
    for l in "$@"; do
        l=$(mean_load "$l")
        isnum "$l" && awk -v a="$l" -v b="$worst" 'BEGIN { exit !(a > b) }' && worst=$l
    done
    awk -v w="$worst" -v lim="$lim" 'BEGIN { if (w >= lim)
        printf " (not conclusive: other processes used %.2f cores meanwhile)", w }'
}

# The benchmark set (cifar10_quick, CaffeNet, the char-LSTM's slot; LeNet's rows
# are this script's own runs): its nets, rounds and results.md section.
. bench/netset.sh

# ---------- start ----------
START_S=$(date +%s)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
START_LOAD=$(loadavg)
read -r BUSY0 STEAL0 < <(cpu_jiffies)
HZ=$(getconf CLK_TCK)
echo "bench: $(nproc) cores, load $START_LOAD, $RUNS rounds of $ITERS iterations"

# PyTorch clips as cliff's config does (Caffe's default, -1, is off).
CLIP=$("$TRAIN" "$SOLVER" --print-config 2>/dev/null | awk '$1 == "clip_gradients:" { print $2; exit }')
: "${CLIP:=-1}"
TORCH=1
if [ $SET_ONLY = 0 ] && [ ! -e "$SHARED/lenet_torch.py" ]; then
    fail "$SHARED/lenet_torch.py not found (the PyTorch rows read n/a)"
    TORCH=0
fi

# ---------- ceilings: the core's FMA peak, OpenBLAS sgemm ----------
# Run once per round; a ceiling is the best round (load only ever lowers it).
# run_fma THREADS: appends "gflops_512 gflops_256" to fma_THREADS.tsv.
run_fma() {
    local t=$1 f="$LOGS/fma_$1.$(date +%s%N).txt" ok=1
    load_begin
    timeout 300 "$WORK/fma_peak" "$t" > "$f" 2>&1 || ok=0
    load_end "fma_$t"
    if [ $ok = 0 ]; then
        fail "fma_peak at $t threads, see $f"
        return
    fi
    awk '$1 == "fma_peak" { g[$5] = $7 } END { if (g[512] != "") print g[512], g[256] }' "$f" \
        >> "$LOGS/fma_$t.tsv"
}
SGEMM=$WORK/sgemm_peak
SGEMM_CMD="cc -O2 $SHARED/sgemm_peak.c \$(pkg-config --cflags --libs openblas) -o $SGEMM"
if [ $SET_ONLY = 1 ]; then
    SGEMM=""  # the set alone: no sgemm ceiling (LeNet's sections use it)
elif ! cc -O2 "$SHARED/sgemm_peak.c" $(pkg-config --cflags --libs openblas) -o "$SGEMM" \
    > "$LOGS/sgemm_build.txt" 2>&1; then
    fail "compiling $SHARED/sgemm_peak.c (see $LOGS/sgemm_build.txt)"
    SGEMM=""
fi
# run_sgemm NAME THREADS ENV...: sgemm_peak under the environment command ENV...;
# appends "peak<TAB>n<TAB>all sizes" to sgemm_NAME_THREADS.tsv.
run_sgemm() {
    [ -n "$SGEMM" ] || return
    local name=sgemm_$1_$2 t=$2
    shift 2
    local f="$LOGS/$name.$(date +%s%N).txt" ok=1
    load_begin
    timeout 300 "$@" OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$SGEMM" > "$f" 2>&1 || ok=0
    load_end "$name"
    if [ $ok = 0 ]; then
        fail "sgemm_peak ($name), see $f"
        return
    fi
    awk -F'[= ]' '/GFLOP/ { if ($4 > p) { p = $4; n = $2 } row = row sep $2 ": " $4; sep = ", " }
                  END { if (p) printf "%s\t%s\t%s\n", p, n, row }' "$f" >> "$LOGS/$name.tsv"
}

# ---------- speed rounds ----------
Q4=$(( ITERS / 4 > 10 ? ITERS / 4 : 10 ))
for r in $(seq 1 "$RUNS"); do
    echo "bench: round $r/$RUNS (load $(loadavg))"
    run_fma 1
    run_fma 2
    [ $SET_ONLY = 1 ] || run_sgemm peer 1 "${PEER_ENV[@]}"
    [ $SET_ONLY = 1 ] || run_sgemm peer 2 "${PEER_ENV[@]}"
    [ $SET_ONLY = 1 ] || run_sgemm env 1 env
    [ $SET_ONLY = 1 ] || run_sgemm env 2 env
    if [ $SET_ONLY = 1 ]; then  # the set's nets alone
        netset_round
        continue
    fi
    run_cliff_time cliff_1t 1 "$ITERS"
    run_cliff_time cliff_1t_noclip 1 "$ITERS" --set clip_gradients=-1
    run_cliff_time cliff_1t_b16 1 "$ITERS" --set "$BATCH_PATH=16"
    run_cliff_time cliff_1t_b256 1 "$Q4" --set "$BATCH_PATH=256"
    if [ $TORCH = 1 ]; then
        run_torch torch_1t 1 "$ITERS" "${PEER_ENV[@]}"
        run_torch torch_1t_env 1 "$ITERS" env
    fi
    run_cliff_time cliff_2t 2 "$ITERS"
    EXTRA_ENV=OMP_WAIT_POLICY=passive run_cliff_time cliff_2t_passive 2 "$ITERS"
    [ $TORCH = 1 ] && run_torch torch_2t 2 "$ITERS" "${PEER_ENV[@]}"
    netset_round
done

# The core's FMA peak: the best round (load only ever lowers it).
declare -A FMA512 FMA256
for t in 1 2; do
    FMA512[$t]=n/a FMA256[$t]=n/a
    [ -s "$LOGS/fma_$t.tsv" ] &&
        read -r FMA512[$t] FMA256[$t] < <(sort -k1,1gr "$LOGS/fma_$t.tsv" | head -1)
done

# ---------- the set alone (BENCH_NETS without lenet): its section, then stop ----------
if [ $SET_ONLY = 1 ]; then
    netset_dry
    netset_only_results "$OUT"
    echo "bench: wrote $OUT"
    [ -z "$failures" ] && exit 0
    echo "bench: some measurements failed:${failures#;}" >&2
    exit 1
fi

# ---------- snapshot write / read ----------
declare -A SNAP_W SNAP_R SNAP_SIZE
for fmt in HDF5 BINARYPROTO; do
    echo "bench: snapshot $fmt"
    f=$LOGS/snapshot_$fmt.txt
    if OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 timeout 300 "$WORK/snapshot_time" "$SOLVER" \
        "$SNAP_REPS" "snapshot_prefix=$WORK/snap/$fmt/lenet" "snapshot_format=$fmt" > "$f" 2>&1; then
        SNAP_W[$fmt]=$(awk '$1 == "write_ms" { print $2 " (" $3 "–" $4 ")" }' "$f")
        SNAP_R[$fmt]=$(awk '$1 == "read_ms" { print $2 " (" $3 "–" $4 ")" }' "$f")
        SNAP_SIZE[$fmt]=$(du -cb "$WORK/snap/$fmt"/lenet_iter_2.* 2>/dev/null | awk 'END { printf "%.2f", $1 / 1e6 }')
    else
        fail "snapshot_time $fmt, see $f"
        SNAP_W[$fmt]=n/a SNAP_R[$fmt]=n/a SNAP_SIZE[$fmt]=n/a
    fi
done

# ---------- memory ----------
echo "bench: memory"
# Bytes the run needs by construction: from the dry run (parameters, activations
# of the train and test nets, data + diff) and the data set files.
DRY=$LOGS/dry_run.txt
NPARAM=n/a ACT_TRAIN=n/a ACT_TEST=0 NHIST=n/a
if "$TRAIN" "$SOLVER" --dry-run > "$DRY" 2>&1; then
    NPARAM=$(awk '/^ *total: / { print $2; exit }' "$DRY")
    # "total: ... activations 9.6 MiB (data + diff)": the first is the train net's.
    read -r ACT_TRAIN ACT_TEST < <(awk '/^ *total: / {
        for (i = 1; i <= NF; i++) if ($i == "activations") { v = $(i + 1); u = $(i + 2) }
        m = (u == "KiB") ? 1024 : (u == "MiB") ? 1048576 : (u == "GiB") ? 1073741824 : 1
        if (++n == 1) train = v * m; else test += v * m }
        END { printf "%.0f %.0f\n", train, test }' "$DRY")
else
    fail "train --dry-run, see $DRY"
fi
TYPE=$("$TRAIN" "$SOLVER" --print-config 2>/dev/null | awk -F'"' '/^type:/ { print $2 }')
case "${TYPE:-SGD}" in Adam|AdaDelta) NHIST=2 ;; *) NHIST=1 ;; esac
# Data set: every .h5 listed by the train and test sources, stored as float32 in memory.
DATA_BYTES=0
for list in "$DATA/train.txt" "$DATA/test.txt"; do
    while read -r h5; do
        [ -n "$h5" ] || continue
        b=$(h5ls "$h5" 2>/dev/null | awk -F'[{}]' '/Dataset/ { n = 1; split($2, d, ", ");
                for (i in d) n *= d[i]; s += 4 * n } END { print s + 0 }')
        DATA_BYTES=$(( DATA_BYTES + ${b:-0} ))
    done < "$list"
done
[ "$DATA_BYTES" -gt 0 ] || fail "reading the data set shapes with h5ls"
PARAM_BYTES=$(calc "4 * $NPARAM" 0)
HIST_BYTES=$(calc "4 * $NPARAM * $NHIST" 0)
LISTED=$(calc "2 * $PARAM_BYTES + $HIST_BYTES + $ACT_TRAIN + $ACT_TEST + $DATA_BYTES" 0)
RSS_ITERS=200
RSS_SETS="--set max_iter=$RSS_ITERS --set test_interval=100 --set display=50 --set snapshot=0"
declare -A RSS CLIPPED
for t in 1 2; do
    f=$LOGS/rss_$t.txt
    if OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t timeout 900 /usr/bin/time -f "maxrss_kib %M" \
        "$TRAIN" "$SOLVER" $RSS_SETS --set "snapshot_prefix=$WORK/rss/t$t/lenet" > "$f" 2>&1; then
        RSS[$t]=$(awk '$1 == "maxrss_kib" { print $2 * 1024 }' "$f")
        CLIPPED[$t]=$(grep -o 'Optimization Done: [0-9]* of [0-9]* iterations clipped' "$f" |
                      awk '{ print $3 " of " $5 }')
    else
        fail "training run for peak RSS at $t threads, see $f"
        RSS[$t]=n/a CLIPPED[$t]=n/a
    fi
done
RSS_MAX=$(printf '%s\n' "${RSS[1]}" "${RSS[2]}" | grep -E '^[0-9]+$' | sort -n | tail -1)
: "${RSS_MAX:=n/a}"
netset_dry

# ---------- figures ----------
# Ceilings: the best round. PEAK[peer_T] is OpenBLAS with the peers' environment,
# PEAK[env_T] with the environment as set; FMA512/FMA256[T] the core's FMA loops.
declare -A PEAK PEAK_N SGEMM_ROWS
for k in peer_1 peer_2 env_1 env_2; do
    PEAK[$k]=n/a PEAK_N[$k]="" SGEMM_ROWS[$k]=n/a
    [ -s "$LOGS/sgemm_$k.tsv" ] &&
        IFS=$'\t' read -r PEAK[$k] PEAK_N[$k] SGEMM_ROWS[$k] < <(sort -t$'\t' -k1,1gr "$LOGS/sgemm_$k.tsv" | head -1)
done
END_S=$(date +%s)
END_LOAD=$(loadavg)
read -r BUSY1 STEAL1 < <(cpu_jiffies)
our_cpu
OURS=$OUR_CPU
ELAPSED=$(( END_S - START_S ))
OTHERS_CORES=$(calc "(($BUSY1 - $BUSY0) / $HZ - $OURS) / $ELAPSED" 2)
STEAL_PCT=$(calc "100 * ($STEAL1 - $STEAL0) / $HZ / $ELAPSED / $(nproc)" 1)

ms() { med "$1" 1; }
C1=$(ms cliff_1t); C2=$(ms cliff_2t); C1NC=$(ms cliff_1t_noclip)
C16=$(ms cliff_1t_b16); C256=$(ms cliff_1t_b256)
S1=$(med cliff_1t 2); S1NC=$(med cliff_1t_noclip 2)
T1=$(med torch_1t 1); T2=$(med torch_2t 1); T1E=$(med torch_1t_env 1)
IPS1=$(calc "1000 / $C1" 2); IPS2=$(calc "1000 / $C2" 2)
# best_of A TA B TB: "value threads" of the faster of two it/s figures.
best_of() {
    isnum "$1" || { isnum "$3" && echo "$3 $4" || echo "n/a -"; return; }
    isnum "$3" || { echo "$1 $2"; return; }
    awk -v a="$1" -v b="$3" -v ta="$2" -v tb="$4" 'BEGIN { print (b > a) ? b " " tb : a " " ta }'
}
read -r CB CB_T < <(best_of "$IPS1" 1 "$IPS2" 2)
read -r TB TB_T < <(best_of "$T1" 1 "$T2" 2)
BEST_T=$( [ "$CB_T" = 2 ] || [ "$TB_T" = 2 ] && echo 2 || echo 1)
# Caffe's best: 1 thread with OpenBLAS's AVX-512 kernels (its 2-thread figure is lower).
CAFFE_B=$CAFFE_1T
# That machine against this one: PyTorch 1 thread, environment as set, best round
# here over best round there (above 1: this machine is faster).
T1E_BEST=$( [ -s "$LOGS/torch_1t_env.tsv" ] && sort -g "$LOGS/torch_1t_env.tsv" | tail -1 | cut -d' ' -f1)
MACHINE_SCALE=$(calc "${T1E_BEST:-n/a} / $QTORCH_1T" 2)
C2P=$(ms cliff_2t_passive); IPS2P=$(calc "1000 / $C2P" 2)
GFW1=$(med cliff_1t 3); GFW2=$(med cliff_2t 3)
GFL1=$(med_layer_gflops cliff_1t); GFL2=$(med_layer_gflops cliff_2t)
CLIP_ITER_PCT=$(calc "100 * ($C1 - $C1NC) / $C1NC" 2)
CLIP_STEP_PCT=$(calc "100 * ($S1 - $S1NC) / $C1NC" 2)
RSS_RATIO=$(calc "$RSS_MAX / $LISTED" 2)
spread() { # min–max of column 1 as it/s, or ms
    [ -s "$LOGS/$1.tsv" ] || { echo n/a; return; }
    awk -v k="${2:-1}" -v inv="${3:-0}" '{ v = inv ? 1000 / $k : $k; if (NR == 1 || v < lo) lo = v;
        if (NR == 1 || v > hi) hi = v } END { printf "%.1f–%.1f", lo, hi }' "$LOGS/$1.tsv"
}
# How the bench was started: the make command with the BENCH_* settings given.
# (make exports MAKELEVEL to its recipes; without it the script was run by hand).
INVOKED="make BUILD=$BUILD bench"
[ -n "${MAKELEVEL:-}" ] || INVOKED="bench/run.sh $BUILD"
INVOKED="$(env | grep -E '^BENCH_[A-Z_]+=' | sort | paste -sd' ') $INVOKED"
INVOKED=${INVOKED# }
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# The binaries are built from the working tree: name what differs from the commit
# (modified tracked files, untracked sources of the library and tools).
DIRTY=$(git status --porcelain -- proto layers solver tools Makefile 2>/dev/null |
        awk '$2 !~ /results\.md$/ && ($1 != "??" || $2 ~ /\.[ch]$/) {
             printf "%s%s%s", sep, $2, ($1 == "??" ? " (untracked)" : ""); sep = ", " }')
blas_core() { cat "$LOGS"/sgemm_"$1"_1.*.txt 2>/dev/null | awk '/^Core:/ { print $2; exit }'; }
BLAS_CORE_PEER=$(blas_core peer); BLAS_CORE_ENV=$(blas_core env)
: "${BLAS_CORE_PEER:=unknown}" "${BLAS_CORE_ENV:=unknown}"
CPU_FAMILY=$(awk -F': ' '/^cpu family/ { f = $2 } /^model\t/ { m = $2 } f != "" && m != "" { print "family " f ", model " m; exit }' /proc/cpuinfo)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
CPU_FLAGS=$(grep -m1 -w flags /proc/cpuinfo | grep -o -w -E 'avx2|avx512f|fma' | sort -u | paste -sd' ')
MEM_TOTAL=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
TORCH_V=$("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo "not installed")
# The vector code PyTorch's own kernels dispatch to, in the peers' environment.
TORCH_CAP=$("${PEER_ENV[@]}" "$PY" -c 'import torch; print(torch.__config__.show())' 2>/dev/null |
            awk -F': ' '/CPU capability usage/ { print $2; exit }')
: "${TORCH_CAP:=unknown}"
TORCH_BLAS=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null)
BLAS_V=$(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo unknown)
CC_V=$(cc --version 2>/dev/null | head -1)
MED1_LOG=$(median_log cliff_1t)
MED2_LOG=$(median_log cliff_2t)

# A run shorter than the defaults is marked as such at the top of results.md.
SHORT_NOTE=""
if [ "$ITERS" -lt 300 ] || [ "$RUNS" -lt 3 ] || [ "$CIFAR_ITERS" -lt 50 ] || [ "$CAFFENET_ITERS" -lt 4 ] ||
   [ "$CAFFENET_DATA_ITERS" -lt 2 ] ||
   [ -n "$ONLY_NETS" ]; then
    SHORT_NOTE="**A short development run** ($RUNS rounds; LeNet $ITERS, cifar10_quick $CIFAR_ITERS, CaffeNet $CAFFENET_ITERS timed iterations$( [ -n "$ONLY_NETS" ] && echo "; nets: lenet $ONLY_NETS")): it shows the layout, its figures are not results.
"
fi
# The data-parallel row (2 ranks x 1 thread against 1 rank x 2 threads), appended.
bench/mpi.sh "$BUILD" > "$WORK/mpi.md" 2> "$LOGS/mpi.err" || failures="$failures; bench/mpi.sh"
# Prefetch against decoding (CaffeNet on encoded PNGs, prefetch 4 and 0), appended.
BENCH_PREFETCH_OUT=$WORK/prefetch.md bench/prefetch.sh "$BUILD" > "$LOGS/prefetch.out" 2>&1 ||
    failures="$failures; bench/prefetch.sh (see $LOGS/prefetch.out)"
R=$OUT.tmp
{
cat <<EOF
# cliff benchmark: LeNet, cifar10_quick, CaffeNet

$SHORT_NOTE
Written by \`make bench\` (bench/run.sh); rerun it to refresh. Every speed figure is the
median of $RUNS runs; runs were interleaved in rounds so that load from other users fell
on all configurations alike (min–max over the runs in brackets). Ceilings (FMA peak,
sgemm peak) are the best of the $RUNS rounds. Logs: \`$LOGS/\`.

## Machine and run

| | |
| --- | --- |
| CPU | $CPU_MODEL ($CPU_FAMILY; $(nproc) cores online; $CPU_FLAGS) |
| memory | $MEM_TOTAL |
| date | $START_DATE, $ELAPSED s for the whole bench |
| cliff commit | $COMMIT$( [ -n "$DIRTY" ] && echo ", plus uncommitted changes in the working tree the binaries were built from: $DIRTY") |
| compiler | $CC_V, flags \`$(cut -d' ' -f2- "$BUILD/flags.txt" 2>/dev/null | sed 's/ -I.*//')\` |
| OpenBLAS | $BLAS_V (Debian, pthread) |
| environment as set | \`$ENV_AS_SET\`: cliff runs with it (OpenBLAS then uses its ${BLAS_CORE_ENV} kernels); the peers run with both variables removed (\`$PEER_ENV_TXT\`; OpenBLAS then picks its ${BLAS_CORE_PEER} kernels) |
| PyTorch | $TORCH_V (Debian python3-torch; CPU capability $TORCH_CAP; BLAS $TORCH_BLAS) |
| load average (1, 5, 15 min) | $START_LOAD at start, $END_LOAD at end |
| CPU used by other processes | $OTHERS_CORES cores on average during the bench (of $(nproc)); steal $STEAL_PCT% |

The machine is shared with other engineers building and testing; when the "other
processes" figure above is well above 0 the speed figures are low and noisy (2-thread runs
suffer most: both cores are needed and one of them is busy).

$(netset_report)

# LeNet in detail

## What is compared

- **cliff**: \`train --time\` ($ITERS timed iterations after 3 warm-up ones; the whole
  solver iteration: data, forward, backward, norm, clip, decay, update), config
  \`$SOLVER\` (Caffe's LeNet and LeNet solver, clip_gradients $CLIP), in the environment
  as set.
- **PyTorch**: PyTorch $TORCH_V from Debian running the same net, solver and data:
  Caffe's LeNet (Xavier weights) and Caffe's SGD with the inv policy, momentum, weight
  decay and bias lr_mult 2, and the global-norm clip (\`--clip $CLIP\`, as cliff's config),
  written in PyTorch operations by the script lenet_torch.py from the project's shared
  reference folder (\`$SHARED\`), which is **not part of this repository**. Its figure is
  iterations per second of its training loop ($ITERS iterations, data already in
  memory, batch slicing included), at 1 and 2 threads
  (\`OMP_NUM_THREADS\`, \`OPENBLAS_NUM_THREADS\` and its \`--threads\`), with
  $(echo $PEER_UNSET | sed 's/ / and /g') removed from its environment. One extra 1-thread run per round in the
  environment as set serves only to scale the quoted Caffe figures (below).
- **BVLC Caffe 1.0** (CPU build, Debian's OpenBLAS 0.3.21), \`clip_gradients: 1\`:
  **quoted, not measured here**. The figures come from the project's reference notes
  (the same shared folder): measured by the project on a different machine, another
  2-core AMD EPYC Zen 5 with AVX-512 under Debian 12, in one run of three interleaved
  rounds (best round, median in brackets). Caffe's best there is 1 thread with
  OPENBLAS_CORETYPE unset (OpenBLAS's AVX-512 kernels); its 2-thread figure was measured
  only with OPENBLAS_CORETYPE=Haswell, and was lower than its 1-thread one. In that same
  run PyTorch (same script, \`--clip 1\`, 1 thread, OPENBLAS_CORETYPE=Haswell) reached
  $QTORCH_1T it/s; here the same command reaches $(r1 "${T1E_BEST:-n/a}") it/s (best round), so
  this machine runs this workload $(calc "${MACHINE_SCALE}" 2)x as fast as that one$(awk -v s="$MACHINE_SCALE" 'BEGIN {
  if (s + 0 > 1.05) printf ": the quoted Caffe figures are from a slower machine"
  else if (s != "n/a" && s + 0 < 0.95) printf " (or this bench ran under load)" }'), and the
  last Caffe row scales them by that factor (an estimate, not a measurement).
- **Ceilings**: bench/fma_peak (in this repository) times register-only FMA loops, the
  core's own FP32 peak, with 512-bit (AVX-512F) and 256-bit (AVX2, what OpenBLAS's
  Haswell kernels use) vectors. sgemm_peak.c (shared reference folder, not part of this
  repository) times OpenBLAS's cblas_sgemm on square matrices (n = 128 to 2048, best of
  3 repeats each); it is run with the peers' environment (OpenBLAS at its best on this
  CPU) and, for comparison, with the environment as set.

## LeNet training speed, batch 64

| system | 1 thread | 2 threads | best thread count |
| --- | --- | --- | --- |
| cliff (measured) | **$IPS1 it/s** ($(r2 "$C1") ms/iter; $(spread cliff_1t 1 1)) | **$IPS2 it/s** ($(r2 "$C2") ms/iter; $(spread cliff_2t 1 1)) | $(r1 "$CB") it/s ($CB_T) |
| PyTorch $TORCH_V, peers' environment (measured) | $(r1 "$T1") it/s ($(spread torch_1t)) | $(r1 "$T2") it/s ($(spread torch_2t)) | $(r1 "$TB") it/s ($TB_T) |
| PyTorch $TORCH_V, environment as set (measured; to scale the quoted rows) | $(r1 "$T1E") it/s ($(spread torch_1t_env)) | | |
| cliff, OMP_WAIT_POLICY=passive (diagnostic only) | | $IPS2P it/s ($(r2 "$C2P") ms/iter; $(spread cliff_2t_passive 1 1)) | |
| BVLC Caffe 1.0, OPENBLAS_CORETYPE unset (quoted, other machine) | $CAFFE_1T it/s ($CAFFE_1T_MED) | not measured | $CAFFE_B it/s (1) |
| BVLC Caffe 1.0, OPENBLAS_CORETYPE=Haswell (quoted, other machine) | $CAFFE_1T_HW it/s ($CAFFE_1T_HW_MED) | $CAFFE_2T it/s ($CAFFE_2T_MED) | |
| PyTorch 1.13 in Caffe's run, OPENBLAS_CORETYPE=Haswell (quoted, other machine) | $QTORCH_1T it/s ($QTORCH_1T_MED) | $QTORCH_2T it/s ($QTORCH_2T_MED) | |
| Caffe's best scaled to this machine by PyTorch's ratio ($(calc "${MACHINE_SCALE}" 2)x; estimate) | $(calc "$CAFFE_1T * $MACHINE_SCALE") it/s | | $(calc "$CAFFE_B * $MACHINE_SCALE") it/s |
| cliff / PyTorch (measured) | $(calc "$IPS1 / $T1" 2)x | $(calc "$IPS2 / $T2" 2)x | $(calc "$CB / $TB" 2)x |
| cliff / Caffe (quoted; 2 threads against its Haswell figure) | $(calc "$IPS1 / $CAFFE_1T" 2)x | $(calc "$IPS2 / $CAFFE_2T" 2)x | $(calc "$CB / $CAFFE_B" 2)x |
| cliff / Caffe scaled (estimate) | $(calc "$IPS1 / ($CAFFE_1T * $MACHINE_SCALE)" 2)x | | $(calc "$CB / ($CAFFE_B * $MACHINE_SCALE)" 2)x |

"Best thread count" sets each system at its own fastest thread count (in brackets)
against the others at theirs. The cliff figures are medians; the quoted Caffe figures
are best rounds, which favours Caffe.

Load from other processes during these runs (mean over the runs, in cores busy outside
this bench; 0 = quiet): cliff $(mean_load cliff_1t) (1 thread), $(mean_load cliff_2t) (2 threads);
PyTorch $(mean_load torch_1t) (1 thread), $(mean_load torch_2t) (2 threads).
Per run: \`$LOGS/*.load\`.

The diagnostic row differs from the 2-thread row only by OMP_WAIT_POLICY=passive: when it
is much faster, cliff's OpenMP threads spin-waiting between parallel regions are taking
the cores that OpenBLAS's own threads need (libgomp's default policy with two thread
pools on two cores). The targets use the plain 2-thread row.

### Against the core's peak and OpenBLAS's sgemm

| | 1 thread | 2 threads |
| --- | --- | --- |
| core FMA peak, 512-bit (fma_peak) | **${FMA512[1]} GFLOP/s** | **${FMA512[2]} GFLOP/s** |
| core FMA peak, 256-bit (fma_peak) | ${FMA256[1]} GFLOP/s | ${FMA256[2]} GFLOP/s |
| OpenBLAS sgemm, peers' environment (${BLAS_CORE_PEER} kernels; best n) | ${PEAK[peer_1]} GFLOP/s (n=${PEAK_N[peer_1]}) | ${PEAK[peer_2]} GFLOP/s (n=${PEAK_N[peer_2]}) |
| OpenBLAS sgemm, environment as set (${BLAS_CORE_ENV} kernels; best n) | ${PEAK[env_1]} GFLOP/s (n=${PEAK_N[env_1]}) | ${PEAK[env_2]} GFLOP/s (n=${PEAK_N[env_2]}) |
| sgemm by n, peers' environment (GFLOP/s, that run) | ${SGEMM_ROWS[peer_1]} | ${SGEMM_ROWS[peer_2]} |
| sgemm by n, environment as set (GFLOP/s, that run) | ${SGEMM_ROWS[env_1]} | ${SGEMM_ROWS[env_2]} |
| cliff conv+ip, over their own time | **$(r1 "$GFL1") GFLOP/s = $(pct "$GFL1" "${FMA512[1]}")% of the FMA peak** ($(pct "$GFL1" "${PEAK[peer_1]}")% of sgemm's) | **$(r1 "$GFL2") GFLOP/s = $(pct "$GFL2" "${FMA512[2]}")% of the FMA peak** ($(pct "$GFL2" "${PEAK[peer_2]}")% of sgemm's) |
| cliff conv+ip, over the whole iteration | $(r1 "$GFW1") GFLOP/s = $(pct "$GFW1" "${FMA512[1]}")% of the FMA peak ($(pct "$GFW1" "${PEAK[peer_1]}")% of sgemm's) | $(r1 "$GFW2") GFLOP/s = $(pct "$GFW2" "${FMA512[2]}")% of the FMA peak ($(pct "$GFW2" "${PEAK[peer_2]}")% of sgemm's) |

The FMA peak is the ceiling: no FP32 code on this core can do more multiply-adds per
second. "sgemm's" is OpenBLAS at its best here (peers' environment). With the
environment as set OpenBLAS runs 256-bit Haswell kernels, whose own ceiling is the
256-bit row, so a percentage of that sgemm figure can pass 100% and says little.

"Own time" is the conv+ip FLOPs of an iteration (2 x multiply-adds, forward and backward,
as \`train --time\` counts them) over the time of the Convolution and InnerProduct layers
alone (im2col, col2im and bias included); "whole iteration" divides by the full iteration.

Per-layer timing of the median 1-thread run:

\`\`\`
$( [ -n "$MED1_LOG" ] && sed -n '/^Timing/,$p' "$MED1_LOG" | grep -v '^maxrss_kib')
\`\`\`

Per-layer timing of the median 2-thread run:

\`\`\`
$( [ -n "$MED2_LOG" ] && sed -n '/^Timing/,$p' "$MED2_LOG" | grep -v '^maxrss_kib')
\`\`\`

## Iteration time against batch size (1 thread)

| batch | timed iterations | ms/iter | ms per example | per example vs batch 64 |
| --- | --- | --- | --- | --- |
| 16 | $ITERS | $(r2 "$C16") ($(spread cliff_1t_b16)) | $(calc "$C16 / 16" 3) | $(calc "($C16 / 16) / ($C1 / 64)" 2) |
| 64 | $ITERS | $(r2 "$C1") ($(spread cliff_1t)) | $(calc "$C1 / 64" 3) | 1.00 |
| 256 | $Q4 | $(r2 "$C256") ($(spread cliff_1t_b256)) | $(calc "$C256 / 256" 3) | $(calc "($C256 / 256) / ($C1 / 64)" 2) |

Linear cost means a constant time per example (last column near 1); above 1 at small
batches is fixed per-iteration overhead (solver step over all 431k parameters, layer calls).

## Gradient clipping on and off (1 thread, batch 64)

clip_gradients 1 (the config's; the pre-clip norm is above 1 on nearly every step, so it
really scales: ${CLIPPED[1]} iterations clipped in the memory run below) against
clip_gradients -1 (off). The global norm is computed either way (it is logged).

| | clip on | clip off | difference |
| --- | --- | --- | --- |
| iteration, ms | $(r3 "$C1") | $(r3 "$C1NC") | $CLIP_ITER_PCT% |
| solver step (zero, norm, clip, decay, update), ms | $(r3 "$S1") | $(r3 "$S1NC") | $(calc "$S1 - $S1NC" 3) ms = $CLIP_STEP_PCT% of the iteration |

The clip itself happens inside the solver step, so the step difference is the cost of
clipping; the whole-iteration difference carries the run-to-run noise of every layer
(compare the min–max ranges above) and is shown for completeness.

## Snapshots (LeNet, 431k parameters, SGD history)

bench/snapshot_time: cliff_solver_snapshot and cliff_solver_restore, $SNAP_REPS times each,
median (min–max) in ms; files written through the page cache (no fsync).

| format | write ms | read ms | weights + state bytes |
| --- | --- | --- | --- |
| HDF5 (.caffemodel.h5 + .solverstate.h5) | ${SNAP_W[HDF5]} | ${SNAP_R[HDF5]} | ${SNAP_SIZE[HDF5]} MB |
| binary proto (.caffemodel + .solverstate) | ${SNAP_W[BINARYPROTO]} | ${SNAP_R[BINARYPROTO]} | ${SNAP_SIZE[BINARYPROTO]} MB |

## Memory

Peak resident set (ru_maxrss via /usr/bin/time) of a LeNet training run of $RSS_ITERS
iterations with two test passes (100 batches of 100) and a final snapshot, next to the
bytes the run needs by construction (\`train --dry-run\` and the data set's shapes).

| what | bytes | MiB |
| --- | --- | --- |
| parameters ($NPARAM floats) | $PARAM_BYTES | $(mib "$PARAM_BYTES") |
| gradients | $PARAM_BYTES | $(mib "$PARAM_BYTES") |
| solver history (${TYPE:-SGD}: $NHIST per parameter) | $HIST_BYTES | $(mib "$HIST_BYTES") |
| activations, train net (data + diff, dry run) | $ACT_TRAIN | $(mib "$ACT_TRAIN") |
| activations, test net (data + diff, dry run) | $ACT_TEST | $(mib "$ACT_TEST") |
| data set in memory (train + test .h5 as float32) | $DATA_BYTES | $(mib "$DATA_BYTES") |
| **listed total** | **$LISTED** | **$(mib "$LISTED")** |
| peak RSS, 1 thread | ${RSS[1]} | $(mib "${RSS[1]}") ($(calc "${RSS[1]} / $LISTED" 2)x listed) |
| peak RSS, 2 threads | ${RSS[2]} | $(mib "${RSS[2]}") ($(calc "${RSS[2]} / $LISTED" 2)x listed) |

The rest of the resident set is code and libraries (OpenBLAS, HDF5, protobuf-c, libc),
OpenBLAS's work buffers, im2col buffers and allocator slack.

## LeNet targets

Each target with its measured value. A speed verdict is marked not conclusive when,
during the runs it rests on, other processes used more than the cores those runs left
free plus $LOAD_SLACK (on $(nproc) cores: more than $(calc "$(nproc) - 1 + $LOAD_SLACK" 2) for the 1-thread rows, more than
$(calc "$(nproc) - 2 + $LOAD_SLACK" 2) for the 2-thread rows). Memory does not depend on load.

| target | measured | result |
| --- | --- | --- |
| LeNet it/s >= 2x PyTorch, 1 thread | $IPS1 vs 2 x $(r1 "$T1") = $(calc "2 * $T1") | $(verdict "$IPS1" ">=" "$(calc "2 * $T1" 3)")$(under_load 1 cliff_1t torch_1t) |
| LeNet it/s >= 2x PyTorch, 2 threads | $IPS2 vs 2 x $(r1 "$T2") = $(calc "2 * $T2") | $(verdict "$IPS2" ">=" "$(calc "2 * $T2" 3)")$(under_load 2 cliff_2t torch_2t) |
| LeNet it/s >= 2x PyTorch, each at its best thread count | $(r2 "$CB") ($CB_T) vs 2 x $(r1 "$TB") ($TB_T) = $(calc "2 * $TB") | $(verdict "$CB" ">=" "$(calc "2 * $TB" 3)")$(under_load "$BEST_T" "cliff_${CB_T}t" "torch_${TB_T}t") |
| LeNet it/s >= 2x Caffe, 1 thread (Caffe quoted, other machine) | $IPS1 vs 2 x $CAFFE_1T = $(calc "2 * $CAFFE_1T") | $(verdict "$IPS1" ">=" "$(calc "2 * $CAFFE_1T" 3)")$(under_load 1 cliff_1t) |
| LeNet it/s >= 2x Caffe, 2 threads (Caffe quoted, other machine, Haswell kernels) | $IPS2 vs 2 x $CAFFE_2T = $(calc "2 * $CAFFE_2T") | $(verdict "$IPS2" ">=" "$(calc "2 * $CAFFE_2T" 3)")$(under_load 2 cliff_2t) |
| LeNet it/s >= 2x Caffe, each at its best thread count (Caffe quoted) | $(r2 "$CB") ($CB_T) vs 2 x $CAFFE_B (1) = $(calc "2 * $CAFFE_B") | $(verdict "$CB" ">=" "$(calc "2 * $CAFFE_B" 3)")$(under_load "$CB_T" "cliff_${CB_T}t") |
| clipping costs <= 1% of the iteration (solver-step difference) | $CLIP_STEP_PCT% | $(verdict "$CLIP_STEP_PCT" "<=" 1)$(under_load 1 cliff_1t cliff_1t_noclip) |
| clipping costs <= 1% of the iteration (whole-iteration difference, noisy) | $CLIP_ITER_PCT% | $(verdict "$CLIP_ITER_PCT" "<=" 1)$(under_load 1 cliff_1t cliff_1t_noclip) |
| conv+ip >= 50% of sgemm peak, 1 thread (layers' own time) | $(pct "$GFL1" "${PEAK[peer_1]}")% | $(verdict "$(calc "100 * $GFL1 / ${PEAK[peer_1]}" 3)" ">=" 50)$(under_load 1 cliff_1t sgemm_peer_1) |
| conv+ip >= 50% of sgemm peak, 2 threads (layers' own time) | $(pct "$GFL2" "${PEAK[peer_2]}")% | $(verdict "$(calc "100 * $GFL2 / ${PEAK[peer_2]}" 3)" ">=" 50)$(under_load 2 cliff_2t sgemm_peer_2) |
| conv+ip >= 50% of sgemm peak, 1 thread (whole iteration) | $(pct "$GFW1" "${PEAK[peer_1]}")% | $(verdict "$(calc "100 * $GFW1 / ${PEAK[peer_1]}" 3)" ">=" 50)$(under_load 1 cliff_1t sgemm_peer_1) |
| conv+ip >= 50% of sgemm peak, 2 threads (whole iteration) | $(pct "$GFW2" "${PEAK[peer_2]}")% | $(verdict "$(calc "100 * $GFW2 / ${PEAK[peer_2]}" 3)" ">=" 50)$(under_load 2 cliff_2t sgemm_peer_2) |
| peak RSS <= 1.25x listed bytes (larger of 1 and 2 threads) | ${RSS_RATIO}x | $(verdict "$RSS_RATIO" "<=" 1.25) |
$( [ -n "$failures" ] && printf '\n**Measurements that failed:** %s\n' "${failures#; }")

The sgemm peak of these targets is OpenBLAS's with its ${BLAS_CORE_PEER} kernels (the
peers' environment). Against the core's FMA peak, which no code can pass: conv+ip at
$(pct "$GFL1" "${FMA512[1]}")% (1 thread) and $(pct "$GFL2" "${FMA512[2]}")% (2 threads) over the layers' own time.

# Commands

Run from the repository root as \`$INVOKED\`. \`make bench\` first runs
\`CLIFF_EXTRA_PKGS="python3-torch time" tools/install-deps.sh\`, builds \`$TRAIN\`,
\`$WORK/snapshot_time\` and \`$WORK/fma_peak\`, and converts the data when $DATA is
missing (\`$BUILD/fmnist2h5 $DATA\`), then runs \`bench/run.sh $BUILD\`. Load average
when it started: $START_LOAD. \`$SHARED\` is the project's shared reference folder
(not part of this repository). Before the rounds:

\`\`\`
$SGEMM_CMD
$TRAIN $SOLVER --print-config    (clip_gradients: $CLIP, passed to lenet_torch.py)
\`\`\`

In each of $RUNS rounds, in this order:

\`\`\`
$WORK/fma_peak 1
$WORK/fma_peak 2
$PEER_ENV_TXT OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $SGEMM
$PEER_ENV_TXT OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 $SGEMM
OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $SGEMM
OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 $SGEMM
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $TRAIN $SOLVER --time --iterations $ITERS
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $TRAIN $SOLVER --time --iterations $ITERS --set clip_gradients=-1
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $TRAIN $SOLVER --time --iterations $ITERS --set $BATCH_PATH=16
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $TRAIN $SOLVER --time --iterations $Q4 --set $BATCH_PATH=256
$PEER_ENV_TXT OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $PY $SHARED/lenet_torch.py --data $DATA --iters $ITERS --threads 1 --clip $CLIP --display 0
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $PY $SHARED/lenet_torch.py --data $DATA --iters $ITERS --threads 1 --clip $CLIP --display 0
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 $TRAIN $SOLVER --time --iterations $ITERS
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive $TRAIN $SOLVER --time --iterations $ITERS
$PEER_ENV_TXT OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 $PY $SHARED/lenet_torch.py --data $DATA --iters $ITERS --threads 2 --clip $CLIP --display 0
$(netset_commands)
\`\`\`

Every \`$TRAIN ... --time\` command and every PyTorch command runs under
\`/usr/bin/time -f "maxrss_kib %M"\` (its peak RSS). The benchmark set's listed bytes come from \`$TRAIN SOLVER --dry-run\` on each
of its solvers, after the rounds.

Commands without \`$PEER_ENV_TXT\` run in the environment as set (\`$ENV_AS_SET\`).
After the rounds (T = 1 and 2, FORMAT = HDF5 and BINARYPROTO):

\`\`\`
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $WORK/snapshot_time $SOLVER $SNAP_REPS snapshot_prefix=$WORK/snap/FORMAT/lenet snapshot_format=FORMAT
$TRAIN $SOLVER --dry-run
h5ls FILE   (each file listed in $DATA/train.txt and test.txt)
OPENBLAS_NUM_THREADS=T OMP_NUM_THREADS=T /usr/bin/time -f "maxrss_kib %M" $TRAIN $SOLVER $RSS_SETS --set snapshot_prefix=$WORK/rss/tT/lenet
\`\`\`
EOF
echo
cat "$WORK/mpi.md"
echo
cat "$WORK/prefetch.md" 2>/dev/null
} > "$R"
mv "$R" "$OUT"
echo "bench: wrote $OUT in $ELAPSED s"
if [ -n "$failures" ]; then
    echo "bench: some measurements failed:${failures#;}" >&2
    exit 1
fi
