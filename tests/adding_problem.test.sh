#!/bin/sh
# tools/adding_problem: every sequence has exactly two markers, the first in
# the first half and the second in the second half; its target (at every
# step) is the sum of the two marked values; values lie in [0, 1); cont is 0
# exactly at each sequence's first step; the layout is time-major (S x N);
# the same seed gives the same file, another seed another; bad options exit 2.
# Usage: sh tests/adding_problem.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
GEN=$BUILD/adding_problem
SUITE=adding_problem
. tests/report.sh
if [ ! -x "$GEN" ]; then
    fail setup "no $GEN"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$GEN" --out "$tmp/a" --length 7 --count 60 --streams 4 --seed 9 > "$tmp/log" 2>&1; rc=$?
check writes "rc $rc: $(cat "$tmp/log")" \
    sh -c 'test $1 -eq 0 && test -s "$2.h5" && test "$(cat "$2.txt")" = "$(realpath "$2.h5")"' \
    _ $rc "$tmp/a"

# Checked from the file alone by Debian's python3 with python3-h5py (T 7, N 4, 15 blocks).
cat > "$tmp/check.py" <<'EOP'
import sys, h5py, numpy as np
T, N, count = 7, 4, 60
f = h5py.File(sys.argv[1], "r")
x, cont, target = f["x"][()], f["cont"][()], f["target"][()]
S = count // N * T
problems = []
if x.shape != (S, N, 2) or cont.shape != (S, N) or target.shape != (S, N):
    problems.append(f"shapes {x.shape} {cont.shape} {target.shape}")
else:
    for j in range(count):
        b, n = divmod(j, N)
        seq = x[b * T:(b + 1) * T, n]
        marks = np.flatnonzero(seq[:, 1])
        if not set(np.unique(seq[:, 1])) <= {0.0, 1.0} or len(marks) != 2:
            problems.append(f"sequence {j}: markers {seq[:, 1]}")
        elif not (marks[0] < T // 2 <= marks[1]):
            problems.append(f"sequence {j}: markers at {marks}")
        elif not np.all(target[b * T:(b + 1) * T, n] == np.float32(seq[marks[0], 0] + seq[marks[1], 0])):
            problems.append(f"sequence {j}: target {target[b * T, n]}")
        if not np.all((seq[:, 0] >= 0) & (seq[:, 0] < 1)):
            problems.append(f"sequence {j}: values out of [0, 1)")
        if list(cont[b * T:(b + 1) * T, n]) != [0.0] + [1.0] * (T - 1):
            problems.append(f"sequence {j}: cont {cont[b * T:(b + 1) * T, n]}")
    # both halves are used: over 60 sequences each position of each half shows up
    first = {int(np.flatnonzero(x[b * T:(b + 1) * T, n, 1])[0]) for b in range(count // N) for n in range(N)}
    if first != set(range(T // 2)):
        problems.append(f"first markers only at {sorted(first)}")
print("; ".join(problems[:3]))
EOP
out=$(/usr/bin/python3 "$tmp/check.py" "$tmp/a.h5" 2>&1)
check sequences "$out" test -z "$out"

"$GEN" --out "$tmp/b" --length 7 --count 60 --streams 4 --seed 9 > /dev/null 2>&1
"$GEN" --out "$tmp/c" --length 7 --count 60 --streams 4 --seed 10 > /dev/null 2>&1
h5diff -q "$tmp/a.h5" "$tmp/b.h5" > /dev/null 2>&1; same=$?
h5diff -q "$tmp/a.h5" "$tmp/c.h5" > /dev/null 2>&1; other=$?
check seeded "same seed differs: $same, other seed equal: $other" test $same -eq 0 -a $other -ne 0

bad() {
    name=$1 want=$2
    shift 2
    "$GEN" "$@" > /dev/null 2> "$tmp/err"; rc=$?
    check "$name" "rc $rc, stderr '$(cat "$tmp/err")'" \
        sh -c 'test $1 -eq 2 && grep -qF -- "$2" "$3"' _ $rc "$want" "$tmp/err"
}
bad no_out "missing --out PREFIX"
bad length_one "--length must be a whole number from 2 (got '1')" --out "$tmp/d" --length 1
bad count_streams "--count must be a multiple of --streams" --out "$tmp/d" --count 10 --streams 4
bad not_a_number "expected a whole number, got '5x'" --out "$tmp/d" --seed 5x
