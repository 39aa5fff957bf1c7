#!/bin/sh
# The fallback instruction sets on this machine: with CLIFF_ISA=avx2 and
# CLIFF_ISA=generic the matrix engine runs its AVX2 or portable tiles and every
# layer its non-AVX-512 path; the gradient checks, the convolution against a
# naive reference and the LeNet golden run must pass there too.
SUITE=isa_fallback
. "$(dirname "$0")/report.sh"
BUILD=${1:-build}
for isa in avx2 generic; do
    for prog in test_gradcheck test_conv_naive test_lenet_golden; do
        out=$(CLIFF_ISA=$isa "$BUILD/tests/$prog" 2>&1)
        rc=$?
        failed=$(printf '%s\n' "$out" | grep -c '^FAIL ')
        passed=$(printf '%s\n' "$out" | grep -c '^ok ')
        if [ $rc -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then
            ok "isa_${isa}_$prog ($passed cases)"
        else
            fail "isa_${isa}_$prog" "exit $rc, $failed failing: $(printf '%s\n' "$out" | grep '^FAIL ' | head -3)"
        fi
    done
done
