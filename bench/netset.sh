# bench/netset.sh: the benchmark set of issue 11, sourced by bench/run.sh (it uses
# run.sh's helpers: calc, med, col, verdict, under_load, run_cliff_time, fail...).
#
# Per net of the set and thread count (1, 2): cliff's it/s (`train --time`), its
# PyTorch twin's it/s, cliff's matrix work (conv+ip GFLOP/s over the whole
# iteration, as `train --time` counts it) against the core's FMA peak at that
# thread count, the 2-thread speed-up, and cliff's peak RSS against the bytes the
# dry run lists; with BENCH_BASELINE=path/to/old/train, an older binary's it/s on
# the nets marked for it, in the same rounds.
#
# The set, one net per line: name, solver, timed iterations for cliff (after
# train --time's 3 warm-up ones), PyTorch twin (script and arguments), the twin's
# image layouts to try (nchw: PyTorch's default; nhwc: --channels-last; the table
# shows the faster, as PyTorch at its best), compared with the baseline binary
# (yes/no). LeNet's rows reuse run.sh's
# own LeNet runs (cliff_1t/2t, torch_1t/2t), so it has no entry of its own here.
#   - cifar10_quick: ~40 ms per step at 1 thread; 50 timed iterations.
#   - CaffeNet: ~3 s per step at 1 thread (61 M parameters, 512 MiB of
#     activations): BENCH_CAFFENET_ITERS (default 4) timed iterations after 3
#     warm-up ones; the twin 4 after 1, in NHWC only (BENCH_CAFFENET_LAYOUTS,
#     default "nhwc": 10% faster than NCHW in one loaded run here; "nchw nhwc"
#     tries both at ~1.5 more minutes a round). With 3 rounds this net costs ~4
#     minutes.
#   - caffenet_data: Caffe's own CaffeNet train_val (configs/caffe_caffenet_*) at
#     its own batch, 256, fed by the Data layer from LMDB (make imagenet-lmdb: crop
#     227, mirror, mean file; prefetch 4), ~10 s per step at 1 thread:
#     BENCH_CAFFENET_DATA_ITERS (default 2) timed iterations after 3 warm-up ones;
#     the twin (caffenet_torch.py --batch 256, one random batch, no data reading)
#     as many after 1, NHWC. Its own table gives forward and backward time per
#     image. With 3 rounds this net costs ~8 minutes on a quiet machine.
#   - char-LSTM (issue 12): Embed -> LSTM 256 -> LSTM 256 -> InnerProduct over 100
#     symbols, T = 64 x N = 32, on random ids (make lstm-bench-data); ~100-300 ms
#     per step at 1 thread. Its twin bench/char_lstm_torch.py (nn.LSTM) holds
#     PyTorch's second LSTM bias (b_hh) at zero and frozen, so the parameter
#     counts are the same, as for every net.
CIFAR_ITERS=${BENCH_CIFAR_ITERS:-50}
CAFFENET_ITERS=${BENCH_CAFFENET_ITERS:-4}
LSTM_ITERS=${BENCH_LSTM_ITERS:-50}
CAFFENET_LAYOUTS=${BENCH_CAFFENET_LAYOUTS:-nhwc}
CAFFENET_DATA_ITERS=${BENCH_CAFFENET_DATA_ITERS:-2}
CAFFENET_DATA_BATCH=256 # configs/caffe_caffenet_train_val.prototxt's TRAIN batch
NETSET_TABLE="
cifar10_quick|bench/nets/cifar10_quick_solver.prototxt|$CIFAR_ITERS|bench/cifar10_quick_torch.py --iters $CIFAR_ITERS --warmup 5|nchw nhwc|yes
caffenet|bench/nets/caffenet_solver.prototxt|$CAFFENET_ITERS|bench/caffenet_torch.py --iters $CAFFENET_ITERS --warmup 1|$CAFFENET_LAYOUTS|no
caffenet_data|configs/caffe_caffenet_solver.prototxt|$CAFFENET_DATA_ITERS|bench/caffenet_torch.py --batch $CAFFENET_DATA_BATCH --iters $CAFFENET_DATA_ITERS --warmup 1|$CAFFENET_LAYOUTS|no
char_lstm|bench/nets/char_lstm_solver.prototxt|$LSTM_ITERS|bench/char_lstm_torch.py --iters $LSTM_ITERS --warmup 5|nchw|no
"
BASELINE=${BENCH_BASELINE:-}
# "No slower than the baseline": new/old it/s at least this (medians of the same
# rounds; the allowance is run-to-run noise on a quiet machine).
BASE_MIN_RATIO=0.98

# Per net: NS_SOLVER, NS_ITERS, NS_TWIN, NS_LAYOUTS, NS_BASE, NS_PRESENT (solver file exists).
declare -A NS_SOLVER NS_ITERS NS_TWIN NS_LAYOUTS NS_BASE NS_PRESENT
# BENCH_NETS: the nets of the table to run (default all, and LeNet). Without
# "lenet" in it, only those nets run (run.sh's SET_ONLY=1: it then skips LeNet's
# sections, snapshots and MPI, and writes the set's section alone).
ONLY_NETS=${BENCH_NETS:-}
NETSET_NAMES=""
[ $SET_ONLY = 1 ] && [ -z "${BENCH_OUT:-}" ] && OUT=$WORK/results_nets.md
if [ $SET_ONLY = 0 ]; then
    NETSET_NAMES="lenet"
    NS_SOLVER[lenet]=$SOLVER NS_ITERS[lenet]=$ITERS NS_BASE[lenet]=yes NS_PRESENT[lenet]=1
    NS_TWIN[lenet]="$SHARED/lenet_torch.py" NS_LAYOUTS[lenet]=nchw  # run by run.sh itself
fi
while IFS='|' read -r n s i tw l b; do
    [ -n "$n" ] || continue
    [ -z "$ONLY_NETS" ] || [[ " $ONLY_NETS " == *" $n "* ]] || continue
    NETSET_NAMES="$NETSET_NAMES $n"
    NS_SOLVER[$n]=$s NS_ITERS[$n]=$i NS_TWIN[$n]=$tw NS_LAYOUTS[$n]=$l NS_BASE[$n]=$b
    NS_PRESENT[$n]=$([ -e "$s" ] && echo 1 || echo 0)
done <<< "$NETSET_TABLE"

if [ -n "$BASELINE" ] && [ ! -x "$BASELINE" ]; then
    fail "BENCH_BASELINE=$BASELINE is not an executable (baseline columns read n/a)"
    BASELINE=""
fi

# run_twin LOG THREADS SCRIPT ARGS...: a PyTorch twin in the peers' environment
# under /usr/bin/time; appends "iter_per_s params maxrss_bytes logfile fwd_ms bwd_ms"
# (forward with the loss, and backward, per iteration) to LOG.tsv.
run_twin() {
    local log=$1 t=$2
    shift 2
    local f="$LOGS/$log.$(date +%s%N).txt" ok=1
    echo "load $(loadavg)" > "$f"
    load_begin
    timeout 900 "${PEER_ENV[@]}" OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" \
        /usr/bin/time -f "maxrss_kib %M" "$PY" "$@" --threads "$t" >> "$f" 2>&1 || ok=0
    load_end "$log"
    if [ $ok = 0 ]; then
        fail "$(basename "$1") ($log), see $f"
        return
    fi
    awk -v f="$f" '/^RESULT/ { for (i = 1; i <= NF; i++) { if ($i == "iter_per_s") r = $(i + 1)
                                                         if ($i == "params") p = $(i + 1)
                                                         if ($i == "iters") n = $(i + 1)
                                                         if ($i == "fwd_s") fw = $(i + 1)
                                                         if ($i == "bwd_s") bw = $(i + 1) } }
                   $1 == "maxrss_kib" { m = sprintf("%.0f", $2 * 1024) }
                   END { if (r != "") print r, p, m, f, (n ? 1000 * fw / n : "n/a"),
                                            (n ? 1000 * bw / n : "n/a") }' "$f" >> "$LOGS/$log.tsv"
}

# netset_round: one run of every configuration of the set (LeNet's cliff and
# PyTorch runs are run.sh's own; the LeNet baseline runs here).
netset_round() {
    local n t
    for n in $NETSET_NAMES; do
        [ "${NS_PRESENT[$n]}" = 1 ] || continue
        for t in 1 2; do
            if [ "$n" != lenet ]; then
                RUN_SOLVER=${NS_SOLVER[$n]} run_cliff_time "${n}_cliff_${t}t" "$t" "${NS_ITERS[$n]}"
                local lay
                for lay in ${NS_LAYOUTS[$n]}; do
                    # shellcheck disable=SC2086 # the twin's arguments are words
                    [ $TORCH = 1 ] && [ -e "${NS_TWIN[$n]%% *}" ] &&
                        run_twin "${n}_torch_${lay}_${t}t" "$t" ${NS_TWIN[$n]} \
                            $([ "$lay" = nhwc ] && echo --channels-last)
                done
            fi
            [ -n "$BASELINE" ] && [ "${NS_BASE[$n]}" = yes ] &&
                RUN_TRAIN=$BASELINE RUN_SOLVER=${NS_SOLVER[$n]} \
                    run_cliff_time "${n}_base_${t}t" "$t" "${NS_ITERS[$n]}"
        done
    done
}

# Logs of the set: cliff's and the twin's runs of net N at T threads.
ns_cliff() { [ "$1" = lenet ] && echo "cliff_${2}t" || echo "${1}_cliff_${2}t"; }
# The twin's log at T threads: the layout with the higher median it/s.
ns_torch() {
    [ "$1" = lenet ] && { echo "torch_${2}t"; return; }
    local lay best="" bv=-1 v
    for lay in ${NS_LAYOUTS[$1]}; do
        v=$(med "${1}_torch_${lay}_${2}t" 1)
        isnum "$v" && awk -v a="$v" -v b="$bv" 'BEGIN { exit !(a > b) }' && { bv=$v; best=$lay; }
    done
    echo "${1}_torch_${best:-${NS_LAYOUTS[$1]%% *}}_${2}t"
}
# layout_of LOG: "NCHW" / "NHWC" from a twin's log name.
layout_of() { case $1 in *_nhwc_*) echo NHWC ;; *_nchw_*) echo NCHW ;; *) echo NCHW ;; esac; }

# netset_dry: per net, the bytes --dry-run lists: NS_NPARAM, NS_NHIST, NS_ACT (data
# + diff of every net the solver builds: train and test), NS_WS (the workspaces
# --dry-run states, summed over the nets; "none" when it states none: counted as 0),
# NS_DATA (LeNet: its data set, loaded whole by HDF5Data) and NS_LISTED.
declare -A NS_NPARAM NS_NHIST NS_ACT NS_WS NS_PF NS_RING NS_DATA NS_LISTED NS_TYPE
# The program itself before any net (code, libraries, their static buffers):
# the peak RSS of `train --version`, part of every listed total.
NS_PROGRAM=$( { /usr/bin/time -f "maxrss_kib %M" "$TRAIN" --version > /dev/null; } 2>&1 |
    awk '$1 == "maxrss_kib" { printf "%.0f", $2 * 1024 }')
NS_PROGRAM=${NS_PROGRAM:-0}
netset_dry() {
    local n f typ
    for n in $NETSET_NAMES; do
        NS_NPARAM[$n]=n/a NS_NHIST[$n]=n/a NS_ACT[$n]=n/a NS_WS[$n]=n/a NS_PF[$n]=0 NS_RING[$n]=0 NS_DATA[$n]=0
        NS_LISTED[$n]=n/a NS_TYPE[$n]=""
        [ "${NS_PRESENT[$n]}" = 1 ] || continue
        f=$LOGS/${n}_dry_run.txt
        if ! "$TRAIN" "${NS_SOLVER[$n]}" --dry-run > "$f" 2>&1; then
            fail "train ${NS_SOLVER[$n]} --dry-run, see $f"
            continue
        fi
        # Per net the solver builds (train first): "total: P learnable parameters ...
        # activations V U (data + diff)", "workspace V U (layers' scratch ...)" and,
        # with data layers that prefetch, "prefetch queues V U (...)"; parameters are
        # the train net's (the nets share them). The exact bytes of "memory bound"
        # replace the rounded per-net figures when --dry-run prints that block,
        # which also states the recovery ring (copies of weights + history).
        read -r NS_NPARAM[$n] NS_ACT[$n] NS_WS[$n] NS_PF[$n] NS_RING[$n] < <(awk '
            function b(v, u) { return v * (u ~ /^KiB/ ? 1024 : u ~ /^MiB/ ? 1048576 : u ~ /^GiB/ ? 1073741824 : 1) }
            /^memory bound/ { mb = 1 }
            mb && $1 == "activations" { xact = $2 }
            mb && $1 == "workspace" { xws = $2 }
            mb && $1 == "prefetch" && $2 == "queues" { xpf = $3 }
            mb && $1 == "recovery" && $2 == "ring" { ring = $3 }
            mb { next }
            /^ *total: / {
                if (!np) np = $2
                for (i = 1; i <= NF; i++) if ($i == "activations") act += b($(i + 1), $(i + 2))
            }
            $1 == "workspace" && $2 ~ /^[0-9.]+$/ { ws += b($2, $3); seen = 1 }
            $1 == "prefetch" && $2 == "queues" { pf += b($3, $4) }
            END { if (xact != "") { act = xact; ws = xws; pf = xpf; seen = 1 }
                  printf "%s %.0f %s %.0f %.0f\n", np, act, seen ? sprintf("%.0f", ws) : "none", pf, ring }' "$f")
        typ=$("$TRAIN" "${NS_SOLVER[$n]}" --print-config 2>/dev/null | awk -F'"' '/^type:/ { print $2 }')
        NS_TYPE[$n]=${typ:-SGD}
        # History slabs as the solver holds them (--dry-run's "solver: history ... (N
        # slabs ...), held twice": the next history is written apart and swapped in
        # only when finite); by the solver type if that line is missing.
        NS_NHIST[$n]=$(awk '/^solver: history/ { for (i = 1; i <= NF; i++) if ($i ~ /^\([0-9]+$/) {
            k = substr($i, 2); if ($0 ~ /held twice/) k *= 2; print k; exit } }' "$f")
        if [ -z "${NS_NHIST[$n]}" ]; then
            case "${NS_TYPE[$n]}" in Adam|AdaDelta) NS_NHIST[$n]=2 ;; *) NS_NHIST[$n]=1 ;; esac
        fi
        [ "$n" = lenet ] && NS_DATA[$n]=$DATA_BYTES
        # The twin must be the same net: its parameter count (RESULT line) is cliff's.
        local tp
        for tp in $(cat "$LOGS/${n}"_torch_*.tsv 2>/dev/null | awk '{ print $2 }' | grep -E '^[0-9]+$' | sort -u); do
            [ "$tp" = "${NS_NPARAM[$n]}" ] ||
                fail "${NS_TWIN[$n]%% *} has $tp parameters, ${NS_SOLVER[$n]} ${NS_NPARAM[$n]}"
        done
        local ws=${NS_WS[$n]}
        [ "$ws" = none ] && ws=0
        NS_LISTED[$n]=$(calc "4 * ${NS_NPARAM[$n]} * (2 + ${NS_NHIST[$n]}) + ${NS_ACT[$n]} + $ws + ${NS_PF[$n]} + ${NS_RING[$n]} + ${NS_DATA[$n]} + $NS_PROGRAM" 0)
    done
}

# rss_max LOG...: the largest peak RSS (bytes, column 6 of cliff's runs) over the runs.
rss_max() {
    local l
    for l in "$@"; do col "$l" 6; done | grep -E '^[0-9]+$' | sort -n | tail -1
}
# it/s to 3 significant figures or more (CaffeNet runs at a fraction of 1).
sig() { isnum "$1" && awk -v v="$1" 'BEGIN { printf (v >= 100 ? "%.1f" : v >= 1 ? "%.2f" : "%.3f"), v }' || echo n/a; }
ipsr() { local m; m=$(med "$1" 1); calc "1000 / $m" 6; }   # cliff it/s of the median run
ips() { sig "$(ipsr "$1")"; }                                 # the same, for display
# nspread LOG [INV]: min–max of column 1 (INV=1: ms turned into it/s).
nspread() {
    [ -s "$LOGS/$1.tsv" ] || { echo n/a; return; }
    local lo hi
    read -r lo hi < <(awk -v inv="${2:-0}" '{ v = inv ? 1000 / $1 : $1; if (NR == 1 || v < lo) lo = v
                                           if (NR == 1 || v > hi) hi = v } END { print lo, hi }' "$LOGS/$1.tsv")
    echo "$(sig "$lo")–$(sig "$hi")"
}

# netset_report: the set's section of results.md (markdown on stdout). Needs
# run.sh's figures (FMA512) and netset_dry's.
netset_report() {
    local n t c tl gf fma
    cat <<EOF
## The benchmark set

Per net and thread count, medians of the $RUNS interleaved rounds (min–max in brackets).
cliff: \`train SOLVER --time --iterations N\` (N timed iterations after 3 warm-up ones;
the whole solver iteration: data, forward, backward, update, with each net's own data
layer timed: LeNet and char_lstm read HDF5Data held in memory, cifar10_quick and
caffenet DummyData, which refills its gaussian batch at every step as in Caffe,
caffenet_data Caffe's Data layer on an LMDB). PyTorch: the net's twin (same layers,
fillers, solver and lr policy, written in PyTorch operations; one random batch
generated before the loop), its steady-state it/s after its own warm-up, in
the peers' environment, in the faster of the image layouts tried (NCHW, PyTorch's default;
NHWC, \`--channels-last\`; named in brackets). Matrix work: the Convolution, InnerProduct and LSTM FLOPs of an
iteration (2 x multiply-adds, forward and backward, as \`train --time\` counts them) over
the whole iteration's time, against the core's 512-bit FMA peak at the same thread count
(bench/fma_peak, best round: ${FMA512[1]} / ${FMA512[2]} GFLOP/s at 1 / 2 threads).
$( [ -n "$BASELINE" ] && echo "Baseline: the binary \`$BASELINE\` on the same solver, in the same rounds." ||
   echo "Baseline: none given (\`BENCH_BASELINE=path/to/old/train make bench\` adds one).")

| net | threads | timed iterations | cliff it/s | PyTorch it/s | cliff / PyTorch | matrix work GFLOP/s | % of FMA peak | baseline it/s | cliff / baseline |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
    for n in $NETSET_NAMES; do
        if [ "${NS_PRESENT[$n]}" != 1 ]; then
            echo "| $n | | | not in the tree yet (${NS_SOLVER[$n]}) | | | | | | |"
            continue
        fi
        for t in 1 2; do
            c=$(ns_cliff "$n" "$t") tl=$(ns_torch "$n" "$t")
            gf=$(med "$c" 3)
            fma=${FMA512[$t]}
            local base="" bratio=""
            if [ -n "$BASELINE" ] && [ "${NS_BASE[$n]}" = yes ]; then
                base="$(ips "${n}_base_${t}t") ($(nspread "${n}_base_${t}t" 1))"
                bratio="$(calc "$(ipsr "$c") / $(ipsr "${n}_base_${t}t")" 3)x"
            fi
            echo "| $n | $t | ${NS_ITERS[$n]} | **$(ips "$c")** ($(nspread "$c" 1)) | $(sig "$(med "$tl" 1)") ($(nspread "$tl"); $(layout_of "$tl")) | $(calc "$(ipsr "$c") / $(med "$tl" 1)" 2)x | $(r1 "$gf") | $(pct "$gf" "$fma")% | $base | $bratio |"
        done
    done
    for n in $NETSET_NAMES; do
        [ "${NS_PRESENT[$n]}" = 1 ] && [ "$n" != lenet ] || continue
        for t in 1 2; do
            local lg
            lg=$(median_log "$(ns_cliff "$n" "$t")")
            [ -n "$lg" ] || continue
            printf '\n%s, %s thread%s: per-layer timing of the median run\n\n```\n' "$n" "$t" \
                "$([ "$t" = 2 ] && echo s)"
            sed -n '/^Timing/,$p' "$lg" | grep -v '^maxrss_kib'
            printf '```\n'
        done
    done
    [ $SET_ONLY = 1 ] || echo "(LeNet's per-layer tables are in its own section below.)"
    cat <<EOF

Two threads against one (medians), and memory: cliff's peak resident set (ru_maxrss via
/usr/bin/time, the largest over its 1- and 2-thread \`--time\` runs) against the bytes
its dry run lists (next table); PyTorch's peak RSS (the whole Python process) for scale.

| net | cliff 2-thread speed-up | PyTorch 2-thread speed-up | cliff peak RSS | listed bytes | RSS / listed | PyTorch peak RSS |
| --- | --- | --- | --- | --- | --- | --- |
EOF
    for n in $NETSET_NAMES; do
        [ "${NS_PRESENT[$n]}" = 1 ] || { echo "| $n | not in the tree yet | | | | | |"; continue; }
        local rss trss
        rss=$(rss_max "$(ns_cliff "$n" 1)" "$(ns_cliff "$n" 2)")
        trss=$(cat "$LOGS/$(ns_torch "$n" 1).tsv" "$LOGS/$(ns_torch "$n" 2).tsv" 2>/dev/null |
               awk '{ print $3 }' | grep -E '^[0-9]+$' | sort -n | tail -1)
        echo "| $n | $(calc "$(ipsr "$(ns_cliff "$n" 2)") / $(ipsr "$(ns_cliff "$n" 1)")" 2)x | $(calc "$(med "$(ns_torch "$n" 2)" 1) / $(med "$(ns_torch "$n" 1)" 1)" 2)x | $(mib "${rss:-n/a}") MiB | $(mib "${NS_LISTED[$n]}") MiB | $(calc "${rss:-n/a} / ${NS_LISTED[$n]}" 2)x | $( [ -n "$trss" ] && echo "$(mib "$trss") MiB" || echo "not measured") |"
    done
    cat <<EOF

Listed bytes, from \`train SOLVER --dry-run\` (train and test nets; a parameter is 4
bytes; the solver history is 1 slab per parameter for SGD, 2 for Adam and AdaDelta, and
the solver holds it twice — the next history is written apart and swapped in only when
every value is finite, so a bad step is never half applied — as \`--dry-run\` states;
the recovery ring keeps good states, each a copy of the weights and the history, 2 of
them under the default recovery (skip; a run shorter than recovery_interval, 10
iterations, fills only one), as \`--dry-run\`'s "memory bound" states; the prefetch
queues are the Data layers' batches decoded ahead; every total includes the program itself, $(mib "$NS_PROGRAM") MiB: the peak RSS of
\`train --version\`, code and libraries before any net):

| net | parameters | gradients | solver history | recovery ring | activations (data + diff) | workspace | prefetch queues | data set in memory | listed total | PyTorch twin's parameters |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
    for n in $NETSET_NAMES; do
        [ "${NS_PRESENT[$n]}" = 1 ] || continue
        local pb ws
        pb=$(calc "4 * ${NS_NPARAM[$n]}" 0)
        ws="$(mib "${NS_WS[$n]}") MiB"
        [ "${NS_WS[$n]}" = none ] && ws="0 (--dry-run states none)"
        # The twin's own count (the RESULT line; lenet_torch.py prints none).
        local tp
        tp=$(col "$(ns_torch "$n" 1)" 2 | grep -E '^[0-9]+$' | head -1)
        if [ -z "$tp" ]; then tp="not printed"
        elif [ "$tp" = "${NS_NPARAM[$n]}" ]; then tp="$tp (same)"
        else tp="**$tp: differs**"; fi
        echo "| $n | ${NS_NPARAM[$n]} floats = $(mib "$pb") MiB | $(mib "$pb") MiB | ${NS_TYPE[$n]}: $(mib "$(calc "$pb * ${NS_NHIST[$n]}" 0)") MiB | $(mib "${NS_RING[$n]}") MiB | $(mib "${NS_ACT[$n]}") MiB | $ws | $(mib "${NS_PF[$n]}") MiB | $(mib "${NS_DATA[$n]}") MiB | **$(mib "${NS_LISTED[$n]}") MiB** | $tp |"
    done
    [[ " $NETSET_NAMES " == *" caffenet_data "* ]] && [ "${NS_PRESENT[caffenet_data]}" = 1 ] &&
        caffenet_data_report
    cat <<EOF

### Targets of the set

A speed verdict is marked not conclusive when, during the runs it rests on, other
processes used more than the cores those runs left free plus $LOAD_SLACK. "No slower"
means cliff / baseline >= $BASE_MIN_RATIO (medians of the same rounds; the allowance is
run-to-run noise).

| target | net | measured | result |
| --- | --- | --- | --- |
EOF
    for n in $NETSET_NAMES; do
        [ "${NS_PRESENT[$n]}" = 1 ] || { echo "| every target | $n | not in the tree yet | n/a |"; continue; }
        local c1 c2 p1 sp rss ratio
        c1=$(ns_cliff "$n" 1) c2=$(ns_cliff "$n" 2)
        p1=$(calc "100 * $(med "$c1" 3) / ${FMA512[1]}" 3)
        echo "| matrix work >= 65% of the FMA peak, 1 thread | $n | $(r1 "$p1")% | $(met "$(verdict "$p1" ">=" 65)")$(under_load 1 "$c1") |"
        rss=$(rss_max "$c1" "$c2")
        ratio=$(calc "${rss:-n/a} / ${NS_LISTED[$n]}" 3)
        echo "| peak RSS <= 1.1x listed bytes | $n | $(r2 "$ratio")x$( [ "${NS_WS[$n]}" = none ] && echo " (no workspace stated)") | $(met "$(verdict "$ratio" "<=" 1.1)") |"
        sp=$(calc "$(ipsr "$c2") / $(ipsr "$c1")" 3)
        echo "| 2-thread speed-up >= 1.8x | $n | $(r2 "$sp")x | $(met "$(verdict "$sp" ">=" 1.8)")$(under_load 2 "$c1" "$c2") |"
        [ "${NS_BASE[$n]}" = yes ] || continue
        for t in 1 2; do
            local b r what="no slower than the baseline, $t thread$([ "$t" = 2 ] && echo s)"
            if [ -z "$BASELINE" ]; then
                echo "| $what | $n | no baseline given | n/a |"
                continue
            fi
            b=${n}_base_${t}t
            r=$(calc "$(ipsr "$(ns_cliff "$n" "$t")") / $(ipsr "$b")" 3)
            echo "| $what | $n | $(r3 "$r")x | $(met "$(verdict "$r" ">=" "$BASE_MIN_RATIO")")$(under_load "$t" "$(ns_cliff "$n" "$t")" "$b") |"
        done
    done
}
# caffenet_data_report: the CaffeNet-on-Data row's time per image (markdown).
caffenet_data_report() {
    local n=caffenet_data b=$CAFFENET_DATA_BATCH t c tl
    cat <<EOF

### CaffeNet on the Data layer, batch $b: time per image

cliff: \`train ${NS_SOLVER[$n]} --time --iterations ${NS_ITERS[$n]}\`, Caffe's
bvlc_reference_caffenet train_val and solver (paths aside) reading its LMDB through the
Data layer (\`make imagenet-lmdb\`: 800 images of 256 x 256; crop 227, mirror, mean
file, prefetch 4). Its forward includes the data layer's part, shown apart: the wait for
the prefetch thread plus the copy of the batch. PyTorch: \`caffenet_torch.py --batch $b\`,
the same net on one random batch made before the loop (it reads no data); its forward
includes the loss. Medians of the $RUNS rounds, in ms per image (the iteration's time
over $b). Peak RSS: the larger over the rounds at that thread count; cliff's includes
the LMDB pages it has read (memory-mapped file pages, up to the database's 154 MiB),
which the listed bytes leave out.

| threads | cliff forward | of which data layer | cliff backward | cliff whole step | PyTorch forward | PyTorch backward | PyTorch whole step | cliff / PyTorch speed | cliff peak RSS | listed bytes | PyTorch peak RSS |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
EOF
    for t in 1 2; do
        c=$(ns_cliff "$n" "$t") tl=$(ns_torch "$n" "$t")
        local ips rss trss
        ips=$(med "$tl" 1)
        rss=$(rss_max "$c")
        trss=$(col "$tl" 3 | grep -E '^[0-9]+$' | sort -n | tail -1)
        echo "| $t | $(calc "$(med "$c" 7) / $b" 2) | $(calc "$(med "$c" 9) / $b" 3) | $(calc "$(med "$c" 8) / $b" 2) | **$(calc "$(med "$c" 1) / $b" 2)** | $(calc "$(med "$tl" 5) / $b" 2) | $(calc "$(med "$tl" 6) / $b" 2) | **$(calc "1000 / ($ips * $b)" 2)** | $(calc "$(ipsr "$c") / $ips" 2)x | $(mib "${rss:-n/a}") MiB | $(mib "${NS_LISTED[$n]}") MiB ($(calc "${rss:-n/a} / ${NS_LISTED[$n]}" 2)x) | $( [ -n "$trss" ] && echo "$(mib "$trss") MiB" || echo "not measured") |"
    done
}

# met PASS|MISS|n/a: the issue's wording.
met() { case $1 in PASS) echo met ;; MISS) echo "**missed**" ;; *) echo "$1" ;; esac; }

# netset_commands: the set's commands, for results.md's Commands section.
netset_commands() {
    local n t
    for n in $NETSET_NAMES; do
        [ "${NS_PRESENT[$n]}" = 1 ] && [ "$n" != lenet ] || continue
        for t in 1 2; do
            echo "OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t /usr/bin/time -f \"maxrss_kib %M\" $TRAIN ${NS_SOLVER[$n]} --time --iterations ${NS_ITERS[$n]}"
            local lay
            for lay in ${NS_LAYOUTS[$n]}; do
                [ -e "${NS_TWIN[$n]%% *}" ] &&
                    echo "$PEER_ENV_TXT OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t /usr/bin/time -f \"maxrss_kib %M\" $PY ${NS_TWIN[$n]} --threads $t$([ "$lay" = nhwc ] && echo " --channels-last")"
            done
            [ -n "$BASELINE" ] && [ "${NS_BASE[$n]}" = yes ] &&
                echo "OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t /usr/bin/time -f \"maxrss_kib %M\" $BASELINE ${NS_SOLVER[$n]} --time --iterations ${NS_ITERS[$n]}"
        done
    done
    if [ -n "$BASELINE" ]; then
        for t in 1 2; do
            echo "OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t /usr/bin/time -f \"maxrss_kib %M\" $BASELINE $SOLVER --time --iterations $ITERS"
        done
    fi
}

# netset_only_results OUT: the file a BENCH_NETS run without LeNet writes: the run's
# settings, the set's section and its commands (run.sh's START_* and load figures).
netset_only_results() {
    local elapsed=$(( $(date +%s) - START_S ))
    {
        cat <<EOF
# cliff benchmark: $ONLY_NETS

Written by \`$(env | grep -E '^BENCH_[A-Z_]+=' | sort | paste -sd' ') bench/run.sh $BUILD\` (BENCH_NETS
without lenet: these nets of the set alone; \`make bench\` runs them all and writes
bench/results.md). Started $START_DATE at load $START_LOAD; $elapsed s; commit
$(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo).
Logs: \`$LOGS/\`.

$(netset_report)

## Commands

\`\`\`
$(for t in 1 2; do echo "$WORK/fma_peak $t"; done)
$(netset_commands)
\`\`\`
EOF
        if [ -n "$failures" ]; then printf '\n**Measurements that failed:** %s\n' "${failures#; }"; fi
    } > "$1.tmp"
    mv "$1.tmp" "$1"
}
