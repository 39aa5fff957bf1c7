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
SETS="--set max_iter=$((ITERS + 1)) --set display=$ITERS --set test_interval=1000000 --set test_initialization=false --set snapshot=0 --set snapshot_after_train=false --set snapshot_prefix=\"$BUILD/bench/mpi/lenet\""

# it_s LOG: iterations per second of the last display window.
it_s() { sed -n 's/.*skipped, \([0-9.e+]*\) it\/s.*/\1/p' "$1" | tail -1; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }

for r in $(seq "$RUNS"); do
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 timeout 600 mpirun $ROOT --oversubscribe -np 2 \
        "$TRAIN" "$SOLVER" $SETS --set "$BATCH=32" < /dev/null > "$LOGS/mpi_2r1t_$r.log" 2>&1
    OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 timeout 600 \
        "$TRAIN" "$SOLVER" $SETS --set "$BATCH=64" < /dev/null > "$LOGS/mpi_1r2t_$r.log" 2>&1
done
R2=$(for r in $(seq "$RUNS"); do it_s "$LOGS/mpi_2r1t_$r.log"; done | median)
R1=$(for r in $(seq "$RUNS"); do it_s "$LOGS/mpi_1r2t_$r.log"; done | median)
AR=$(for r in $(seq "$RUNS"); do
    sed -n 's/^allreduce: .*, \([0-9.]*\) ms per call/\1/p' "$LOGS/mpi_2r1t_$r.log"; done | median)
FLOATS=$(sed -n 's/^allreduce: .* of \([0-9]*\) floats.*/\1/p' "$LOGS/mpi_2r1t_1.log" | head -1)
FLOATS=${FLOATS:-0}
TC=$(awk -v r="$R2" -v a="$AR" 'BEGIN { if (r + 0 > 0) printf "%.2f", 1000 / r - a; else print 0 }')

cat << EOF
## Data-parallel training over MPI (LeNet, global batch 64)

Median of $RUNS interleaved rounds of $ITERS iterations each (logs \`$LOGS/mpi_*\`).

| configuration | it/s | allreduce per iteration (rank 0) |
| --- | --- | --- |
| 2 ranks x 1 thread, batch 32 each (\`mpirun -np 2\`) | $R2 | $AR ms |
| 1 rank x 2 threads, batch 64 | $R1 | — |

Gradient slab: $FLOATS floats = $(awk -v f="$FLOATS" 'BEGIN { printf "%.2f", 4 * f / 1e6 }') MB per allreduce. On
one machine the two ranks reduce through shared memory (OpenMPI's vader), so the
allreduce figure is mostly the wait for the slower rank, not bandwidth.

Cluster estimate (ring allreduce: each rank sends and receives 2(N-1)/N x the slab; one
allreduce per iteration, after backward, not overlapped). Compute per iteration of a rank
at batch 32, from the 2-rank row: t = 1000 / it/s - allreduce = $TC ms. Ring time per
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
of the slab's bytes to the compute per iteration: LeNet's small slab reduces cheaply
against its few milliseconds of compute, while CaffeNet (61 M parameters, 244 MB) would
need about 0.4 s per iteration on 10 Gb/s Ethernet; there, buckets overlapping backward
would be worth their complexity.

Commands:

\`\`\`
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 mpirun $ROOT --oversubscribe -np 2 $TRAIN $SOLVER $SETS --set $BATCH=32
OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 $TRAIN $SOLVER $SETS --set $BATCH=64
\`\`\`
EOF
