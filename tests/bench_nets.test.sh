#!/bin/sh
# The nets of `make bench` (bench/nets/*_solver.prototxt) stay buildable: each
# --dry-run exits 0 with a train net and no test net (the bench times the train
# step alone), and --print-config shows the solver takes no snapshots. The small
# ones also run one timed iteration; CaffeNet (~1 GB, seconds per step) is only
# built, never run, here. The bench scripts themselves at least parse (bash -n,
# python3's compiler: no PyTorch needed).
# Usage: sh tests/bench_nets.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
TRAIN=$BUILD/train
SUITE=bench_nets
. tests/report.sh
if [ ! -x "$TRAIN" ]; then fail setup "no $TRAIN"; exit 1; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The char-LSTM net reads random sequences from build/bench/char_lstm (make
# lstm-bench-data; written here when missing).
if [ ! -e build/bench/char_lstm/list.txt ] &&
   ! /usr/bin/python3 bench/char_lstm_data.py build/bench/char_lstm > "$tmp/lstm_data.err" 2>&1
then fail "char_lstm_data" "$(head -c 300 "$tmp/lstm_data.err")"; fi

n=0
for s in bench/nets/*_solver.prototxt; do
    [ -e "$s" ] || continue
    n=$((n + 1))
    b=$(basename "$s" _solver.prototxt)
    if "$TRAIN" "$s" --dry-run > "$tmp/$b.dry" 2> "$tmp/$b.err" &&
       grep -q '^train: net ' "$tmp/$b.dry" && ! grep -q '^test' "$tmp/$b.dry" &&
       grep -q '^ *total: [0-9]* learnable parameters' "$tmp/$b.dry" && [ ! -s "$tmp/$b.err" ]
    then ok "dry_run/$b"
    else fail "dry_run/$b" "$(head -c 600 "$tmp/$b.err") $(grep '^test' "$tmp/$b.dry" | head -2)"; fi
    if "$TRAIN" "$s" --print-config > "$tmp/$b.cfg" 2>&1 &&
       grep -q '^snapshot: 0$' "$tmp/$b.cfg" && grep -q '^snapshot_after_train: false$' "$tmp/$b.cfg"
    then ok "no_snapshots/$b"
    else fail "no_snapshots/$b" "snapshot is not 0 or snapshot_after_train not false"; fi
done
check found_nets "fewer than 3 bench/nets/*_solver.prototxt" test "$n" -ge 3

# One timed iteration of the small nets (cifar10_quick, the char-LSTM): the table
# and the matrix-work line that bench/run.sh parses.
for b in cifar10_quick char_lstm; do
    if "$TRAIN" "bench/nets/${b}_solver.prototxt" --time --iterations 1 > "$tmp/$b.time" 2> "$tmp/$b.terr" &&
       grep -q '^ *iteration [0-9.]* ms: .* conv+ip [0-9.]* GFLOP/s' "$tmp/$b.time" && [ ! -s "$tmp/$b.terr" ]
    then ok "time/$b"
    else fail "time/$b" "$(head -c 600 "$tmp/$b.terr")"; fi
done

# The driver and the PyTorch twins parse.
for f in bench/run.sh bench/netset.sh; do
    check "parses/$(basename "$f")" "bash -n fails: $(bash -n "$f" 2>&1 | head -c 300)" \
        sh -c 'bash -n "$1" 2>/dev/null' _ "$f"
done
for f in bench/*_torch.py bench/torch_twin.py; do
    check "parses/$(basename "$f")" "does not compile" \
        sh -c 'python3 -c "import ast, sys; ast.parse(open(sys.argv[1]).read())" "$1" 2>/dev/null' _ "$f"
done

# --dry-run states the solver's memory (the bench lists it): cifar10_quick's
# 145,578 parameters with SGD are one history slab of 0.56 MiB, held twice.
if "$TRAIN" bench/nets/cifar10_quick_solver.prototxt --dry-run 2>&1 |
   grep -q '^solver: history 0.6 MiB (1 slab of the parameters. size), held twice: 1.1 MiB$'
then ok "dry_run_solver_memory"
else fail "dry_run_solver_memory" "no or wrong 'solver: history' line"; fi
