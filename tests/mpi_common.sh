# Sourced by the MPI test scripts (tests/mpi*.test.sh) after they set BUILD,
# TRAIN and SUITE and source tests/report.sh: checks that mpirun is there,
# makes the scratch folder $tmp, sets OpenMPI up for tests, and defines
# mpi (a bounded launch), close, same and one_error.
PY=/usr/bin/python3
if [ ! -x "$TRAIN" ]; then fail setup "no $TRAIN"; exit 1; fi
if ! command -v mpirun > /dev/null; then
    fail setup "no mpirun (tools/install-deps.sh installs openmpi-bin)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_plm_rsh_agent=false
# A sanitizer build: OpenMPI's plugins leak at exit by design; they stay
# loaded (disable_dlclose) so that their frames can be named, unwound without
# frame pointers (fast_unwind_on_malloc=0), and suppressed by library name
# (tests/lsan_mpi.supp). Leaks of cliff's own code are still reported.
if ldd "$TRAIN" 2> /dev/null | grep -q libasan; then
    export OMPI_MCA_mca_base_component_disable_dlclose=1
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
    export LSAN_OPTIONS="suppressions=$PWD/tests/lsan_mpi.supp:print_suppressions=0"
fi
ROOT=""
[ "$(id -u)" -eq 0 ] && ROOT=--allow-run-as-root
# mpi N ARGS...: train on N ranks, at most 60 s.
mpi() {
    n=$1
    shift
    timeout 60 mpirun $ROOT --oversubscribe -np "$n" "$TRAIN" "$@" < /dev/null
}

# close NAME A B [BLOBS]: the weights of two caffemodels (BLOBS blobs, 4 by
# default) within 1e-5.
close() {
    if d=$($PY - "$2" "$3" "${4:-4}" << 'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
worst, n = 0.0, 0
for layer in a['data']:
    for i in a['data'][layer]:
        x, y = np.asarray(a['data'][layer][i]), np.asarray(b['data'][layer][i])
        worst, n = max(worst, float(np.max(np.abs(x - y)))), n + 1
print('max |diff| %.3g over %d blobs' % (worst, n))
sys.exit(0 if n == int(sys.argv[3]) and worst <= 1e-5 else 1)
EOF
    ); then ok "$1"; else fail "$1" "weights differ: $d"; fi
}
# same NAME A B: two snapshots (weights and state) with the same bits.
same() {
    for f in caffemodel solverstate; do
        if [ -s "$2.$f.h5" ] && h5diff -q --exclude-path /learned_net "$2.$f.h5" "$3.$f.h5" \
            > "$tmp/diff" 2>&1; then ok "$1_$f"
        else fail "$1_$f" "$(head -c 300 "$tmp/diff")"; fi
    done
}
# one_error NAME WANT_RC RC LOG PATTERN: a failed run's combined output holds
# exactly one line saying "error" (in any case; mpirun's own notes on the exit
# status say none), matching PATTERN, the launcher exited WANT_RC, and no
# snapshot (nor .tmp) was written.
one_error() {
    n=$(grep -ci 'error' "$4")
    if [ "$3" -eq "$2" ] && [ "$n" -eq 1 ] && grep -i 'error' "$4" | grep -q "$5" &&
        ! ls "$tmp/$1"_iter_* > /dev/null 2>&1; then ok "$1"
    else fail "$1" "rc $3 (want $2), $n error lines: $(grep -i error "$4" | head -c 600)"; fi
}
