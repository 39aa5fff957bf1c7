# Sourced by the *.test.sh scripts after they set SUITE (and, for usage_error,
# TRAIN and a scratch folder tmp): each case prints "ok SUITE/NAME" or
# "FAIL SUITE/NAME: why" (the lines tests/run.sh counts); failed is set after
# the first failure.
failed=
ok() { echo "ok $SUITE/$1"; }
fail() { echo "FAIL $SUITE/$1: $2"; failed=1; }
# section NAME: whether the section NAME runs. CLIFF_TEST_ONLY=a,b runs only
# those sections (the setup above them always runs); CLIFF_TEST_FAILFAST=1
# skips the sections after a failure; CLIFF_TEST_TRACE=1 prints "run NAME"
# first. tests/check.c has the same three for C test programs; tools/mutants.py
# uses them to try a mutation on the section that killed it last time first.
section() {
    case ",${CLIFF_TEST_ONLY:-$1}," in *",$1,"*) ;; *) return 1 ;; esac
    [ -n "$failed" ] && [ "${CLIFF_TEST_FAILFAST:-0}" != 0 ] && return 1
    [ "${CLIFF_TEST_TRACE:-0}" != 0 ] && echo "run $1"
    return 0
}
# check NAME WHY-IF-FALSE COMMAND...: ok when the command succeeds.
check() {
    name=$1 why=$2
    shift 2
    if "$@"; then ok "$name"; else fail "$name" "$why"; fi
}

# usage_error NAME EXPECTED-STDERR ARGS...: exit 2, one exact line on stderr, no stdout
# (TRAIN is the train command, tmp a scratch folder).
usage_error() {
    name=$1 want=$2
    shift 2
    "$TRAIN" "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
    got=$(cat "$tmp/err")
    if [ $rc -eq 2 ] && [ "$got" = "$want" ] && [ ! -s "$tmp/out" ]; then ok "$name"
    else fail "$name" "rc $rc, stderr '$got', want '$want'"; fi
}
