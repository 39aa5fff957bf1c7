#!/bin/bash
# bench/mpi.sh BUILD: the data-parallel row of `make bench` (bench/run.sh includes
# its output in results.md; it runs alone too and prints Markdown to stdout).
# LeNet (configs/lenet_solver.prototxt, Fashion-MNIST, clip_gradients 1) at the same
# global batch of 64 two ways, interleaved in BENCH_RUNS rounds:
#   2 ranks x 1 thread: mpirun -np 2, batch 32 per rank, one allreduce of the
#                       gradient slab per iteration;
#   1 rank x 2 threads: batch 64, OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=2.
# Iterations per second from the last display window (BENCH_MPI_ITERS iterations
# after the first, no test, no snapshot); the allreduce time per iteration is rank 0's own figure
# (train prints it after a multi-rank run), waits for the slower rank included.
# CPU time per iteration: each run under /usr/bin/time (mpirun's figure
# includes its ranks, which it waits for), less the CPU time of the same
# command at 1 iteration (start-up: MPI, the net, reading the data), over the
# ITERS iterations; with the load average before and after the rounds, since
# on a shared machine it/s falls with the load while CPU time per iteration
# moves much less (busy-waiting in the allreduce counts as CPU time).
# Then the cluster estimate: a ring allreduce moves 2(N-1)/N x the gradient's
# bytes through each rank's link, so at bandwidth B one iteration costs
# t_compute + 2(N-1)/N x bytes / B (no overlap with backward: one allreduce after it).
set -u
export LC_ALL=C
BUILD=${1:-build}
TRAIN=$BUILD/train
RUNS=${BENCH_RUNS:-3}
ITERS=${BENCH_MPI_ITERS:-200}
SOLVER=configs/lenet_solver.prototxt
LOGS=$BUILD/bench/logs
mkdir -p "$LOGS"
ROOT=""
[ "$(id -u)" -eq 0 ] && ROOT=--allow-run-as-root
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_plm_rsh_agent=false
BATCH=net_param.layer[0].hdf5_data_param.batch_size
# display at 0 and at ITERS: the second window holds iterations 1..ITERS (no warm-up)
SETS="--set display=$ITERS --set test_interval=1000000 --set test_initialization=false --set snapshot=0 --set snapshot_after_train=false --set snapshot_prefix=\"$BUILD/bench/mpi/lenet\""

# it_s LOG: iterations per second of the last display window.
it_s() { sed -n 's/.*skipped, \([0-9.e+]*\) it\/s.*/\1/p' "$1" | tail -1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }

# two_ranks ITERS LOG / one_rank ITERS LOG: one run of each configuration, its
# CPU seconds (user + system) on the log's last line ("cpu_s X").
two_ranks() {
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/time -a -o "$2" -f "cpu_s %U %S" \
        timeout 600 mpirun $ROOT --oversubscribe -np 2 "$TRAIN" "$SOLVER" $SETS \
        --set max_iter=$(($1 + 1)) --set "$BATCH=32" < /dev/null >> "$2" 2>&1
}
one_rank() {
    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 /usr/bin/time -a -o "$2" -f "cpu_s %U %S" \
        timeout 600 "$TRAIN" "$SOLVER" $SETS --set max_iter=$(($1 + 1)) --set "$BATCH=64" \
        < /dev/null >> "$2" 2>&1
}
cpu_s() { awk '$1 == "cpu_s" { s = $2 + $3 } END { print s + 0 }' "$1"; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$LOGS"/mpi_*.log
two_ranks 0 "$LOGS/mpi_2r1t_start.log"
one_rank 0 "$LOGS/mpi_1r2t_start.log"
for r in $(seq "$RUNS"); do
    two_ranks "$ITERS" "$LOGS/mpi_2r1t_$r.log"
    one_rank "$ITERS" "$LOGS/mpi_1r2t_$r.log"
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
R2=$(for r in $(seq "$RUNS"); do it_s "$LOGS/mpi_2r1t_$r.log"; done | median)
R1=$(for r in $(seq "$RUNS"); do it_s "$LOGS/mpi_1r2t_$r.log"; done | median)
# CPU ms per iteration, start-up taken off (median over the rounds)
cpu_it() {
    s0=$(cpu_s "$LOGS/mpi_$1_start.log")
    for r in $(seq "$RUNS"); do
        awk -v a="$(cpu_s "$LOGS/mpi_$1_$r.log")" -v s="$s0" -v n="$ITERS" \
            'BEGIN { printf "%.2f\n", 1000 * (a - s) / n }'
    done | median
}
C2=$(cpu_it 2r1t)
C1=$(cpu_it 1r2t)
AR=$(for r in $(seq "$RUNS"); do
    sed -n 's/^allreduce: .*, \([0-9.]*\) ms per call/\1/p' "$LOGS/mpi_2r1t_$r.log"; done | median)
FLOATS=$(sed -n 's/^allreduce: .* of \([0-9]*\) floats.*/\1/p' "$LOGS/mpi_2r1t_1.log" | head -1)
FLOATS=${FLOATS:-0}
# a rank's compute at batch 32: half the work of one process at batch 64, from
# its CPU time (the load moves it much less than the wall clock)
TC=$(awk -v c="$C1" 'BEGIN { printf "%.2f", c / 2 }')

cat << EOF
## Data-parallel training over MPI (LeNet, global batch 64)

Median of $RUNS interleaved rounds of $ITERS iterations each (logs \`$LOGS/mpi_*\`),
measured at load average $LOAD0 (1, 5, 15 min) before the rounds and $LOAD1 after,
on $(nproc) cores. The load averages include this bench's own runs (2 busy cores read as about 2); on
a shared machine the it/s figures also fall with other users' load (the "CPU used by
other processes" of the bench's header says how much there was), while CPU time per
iteration depends much less on it.

| configuration | it/s | CPU per iteration (all ranks) | allreduce per iteration (rank 0) |
| --- | --- | --- | --- |
| 2 ranks x 1 thread, batch 32 each (\`mpirun -np 2\`) | $R2 | $C2 ms | $AR ms |
| 1 rank x 2 threads, batch 64 | $R1 | $C1 ms | — |

CPU per iteration: user + system time of the run (under \`/usr/bin/time\`; mpirun's
includes its ranks), less that of the same command at 1 iteration (start-up), over the
$ITERS iterations. Two ranks spend CPU time busy-waiting in the allreduce for the
slower rank, and on an oversubscribed machine that wait grows with the load.

Gradient slab: $FLOATS floats = $(awk -v f="$FLOATS" 'BEGIN { printf "%.2f", 4 * f / 1e6 }') MB per allreduce. On
one machine the two ranks reduce through shared memory (OpenMPI's vader), so the
allreduce figure is mostly the wait for the slower rank, not bandwidth.

Cluster estimate (ring allreduce: each rank sends and receives 2(N-1)/N x the slab; one
allreduce per iteration, after backward, not overlapped). Compute per iteration of a rank
at batch 32: half the CPU time per iteration of 1 rank at batch 64 (the same work split in
two; the 2-rank wall clock, 1000 / it/s - allreduce, is distorted by the load), t = $TC ms. Ring time per
iteration, and the efficiency t / (t + ring) (samples per second against N x one rank
without communication; network latency, about 2(N-1) x 5 us per ring, not counted):

| link | N = 2 | N = 8 | N = 64 |
| --- | --- | --- | --- |
$(for bw in 1.25e9:"10 Gb/s Ethernet" 12.5e9:"100 Gb/s InfiniBand"; do
    awk -v f="$FLOATS" -v b="${bw%%:*}" -v name="${bw#*:}" -v tc="$TC" 'BEGIN {
        printf "| %s |", name
        split("2 8 64", ns, " ")
        for (i = 1; i <= 3; i++) {
            n = ns[i]; ring = 1e3 * 2 * (n - 1) / n * 4 * f / b
            printf " %.3f ms, %.0f%% |", ring, 100 * tc / (tc + ring)
        }
        printf "\n" }'
done)

The ring time barely grows with N (2(N-1)/N tends to 2), so scaling is set by the ratio
of the slab's bytes to the compute per iteration: LeNet computes a batch of 32 in a few
milliseconds, so its 1.7 MB slab already costs a good share of an iteration on 10 Gb/s
Ethernet (a larger batch per rank amortizes it), little on 100 Gb/s InfiniBand; CaffeNet
(61 M parameters, 244 MB) would need about 0.4 s per iteration on 10 Gb/s Ethernet; there,
buckets overlapping backward would be worth their complexity.

Commands:

\`\`\`
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/time -f "cpu_s %U %S" mpirun $ROOT --oversubscribe -np 2 $TRAIN $SOLVER $SETS --set max_iter=$((ITERS + 1)) --set $BATCH=32
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 /usr/bin/time -f "cpu_s %U %S" $TRAIN $SOLVER $SETS --set max_iter=$((ITERS + 1)) --set $BATCH=64
(start-up: the same with --set max_iter=1)
\`\`\`
EOF
