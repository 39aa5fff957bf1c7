# tests/check.c's selection, which tools/mutants.py relies on: CLIFF_TEST_ONLY
# runs exactly the named tests, CLIFF_TEST_TRACE announces each one first.
# Usage: sh tests/test_selection.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
# the selection this test checks, not the one it may be run under
unset CLIFF_TEST_ONLY CLIFF_TEST_TRACE CLIFF_TEST_FAILFAST
P=$BUILD/tests/test_update_rules
first=$("$P" | sed -n 's/^ok //p' | head -n 1)
all=$("$P" | grep -c '^ok ')
only=$(CLIFF_TEST_ONLY="$first" "$P")
none=$(CLIFF_TEST_ONLY=no_such_test "$P" | grep -c '^ok ')
traced=$(CLIFF_TEST_ONLY="$first" CLIFF_TEST_TRACE=1 "$P" | head -n 1)
if [ "$all" -gt 1 ] && [ "$only" = "ok $first" ] && [ "$none" -eq 0 ] && [ "$traced" = "run $first" ]; then
    echo "ok selection/only_and_trace"
else
    echo "FAIL selection/only_and_trace: all $all, only '$only', none $none, traced '$traced'"
fi
