# Sourced by the *.test.sh scripts after they set SUITE: each case prints
# "ok SUITE/NAME" or "FAIL SUITE/NAME: why" (the lines tests/run.sh counts).
ok() { echo "ok $SUITE/$1"; }
fail() { echo "FAIL $SUITE/$1: $2"; }
# check NAME WHY-IF-FALSE COMMAND...: ok when the command succeeds.
check() {
    name=$1 why=$2
    shift 2
    if "$@"; then ok "$name"; else fail "$name" "$why"; fi
}
