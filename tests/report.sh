# Sourced by the *.test.sh scripts after they set SUITE (and, for usage_error,
# TRAIN and a scratch folder tmp): each case prints "ok SUITE/NAME" or
# "FAIL SUITE/NAME: why" (the lines tests/run.sh counts).
ok() { echo "ok $SUITE/$1"; }
fail() { echo "FAIL $SUITE/$1: $2"; }
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
