#!/bin/sh
# tools/study on a tiny grid (seconds): the adding problem at T 4 with an RNN
# of 6 units, 2 learning rates x 2 seeds x 2 settings, one of them at a rate
# that diverges. Checks the table (one row per cell, outcomes, the target
# column), the PNG, resuming (finished runs are not rerun), Ctrl-C leaving a
# valid partial table, and bad arguments.
# Usage: sh tests/study.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
ok() { echo "ok study/$1"; }
fail() { echo "FAIL study/$1: $2"; }

"$BUILD/adding_problem" --out "$d/train" --length 4 --count 80 --streams 8 --seed 1 >/dev/null &&
"$BUILD/adding_problem" --out "$d/test" --length 4 --count 16 --streams 8 --seed 2 >/dev/null ||
    { fail setup "adding_problem"; exit 0; }
sed -e "s|build/data/adding/train.txt|$d/train.txt|; s|build/data/adding/test.txt|$d/test.txt|" \
    -e 's/batch_size: 50/batch_size: 4/; s/slice_point: 49/slice_point: 3/' \
    -e 's/num_output: 64/num_output: 6/; s/dim: 64/dim: 6/' configs/adding.prototxt > "$d/net.prototxt"
cat > "$d/solver.prototxt" <<EOF
net: "$d/net.prototxt"
test_iter: 2
test_interval: 5
type: "SGD"
lr_policy: "fixed"
display: 5
base_lr: 0.01
test_initialization: false
EOF

study() {
    python3 tools/study "$d/solver.prototxt" --out "$d/s" --train "$BUILD/train" \
        --lr 0.05,1e6 --seeds 1,2 --iters 20 --metric test0/loss --target '<=0.2' \
        --setting 'none:clip_gradients=-1' --setting 'clip:clip_gradients=0.5,max_bad_steps=2' \
        --jobs 2 "$@"
}

study > "$d/log1" 2>&1; rc=$?
t="$d/s/study.md"
if [ $rc -eq 0 ] && [ -s "$t" ] && [ "$(grep -c '^| none \|^| clip ' "$t")" -eq 4 ] &&
   grep -q '^| none | 0.05 | 2 | 2 | 0 | 0 | ' "$t" &&
   grep -q '^| none | 1e6 | 2 | 0 | 0 | 2 | — | 0/2 | — |' "$t" &&
   ! grep -q PARTIAL "$t"; then
    ok table
else
    fail table "rc $rc: $(cat "$d/log1" "$t" 2>/dev/null | tail -20)"
fi
# at 0.05 the loss target 0.2 is met (the baseline is 0.08) at the first test, after 5 iterations
grep -q '^| none | 0.05 | 2 | 2 | 0 | 0 | 0.1[0-9]* | 2/2 | 5 |' "$t" && ok target ||
    fail target "$(grep '^| none | 0.05' "$t")"
[ "$(head -c 8 "$d/s/study.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] &&
    ok png || fail png "no PNG: $(tail -3 "$d/log1")"
grep -q 'runs done' "$d/log1" && grep -q 'ETA' "$d/log1" && ok progress || fail progress "$(cat "$d/log1")"

# resumable: nothing is rerun (the result files are untouched)
before=$(ls -l --time-style=+%s.%N "$d"/s/runs/*/result.json | md5sum)
study > "$d/log2" 2>&1
after=$(ls -l --time-style=+%s.%N "$d"/s/runs/*/result.json | md5sum)
[ "$before" = "$after" ] && grep -q '8 done already, 0 to run' "$d/log2" && ok resume ||
    fail resume "$(cat "$d/log2")"

# Ctrl-C: a partial table of the runs finished so far, status 130; the rest runs next time
rm -rf "$d/s2"
python3 tools/study "$d/solver.prototxt" --out "$d/s2" --train "$BUILD/train" \
    --lr 0.05 --seeds 1,2,3,4,5,6 --iters 2000 --metric test0/loss --target '<=0.5' \
    --setting 'none:' --jobs 1 > "$d/log3" 2>&1 &
pid=$!
n=0
while [ $n -lt 100 ] && ! grep -q 'runs done' "$d/log3"; do sleep 0.2; n=$((n + 1)); done
kill -INT $pid
wait $pid; rc=$?
if [ $rc -eq 130 ] && grep -q PARTIAL "$d/s2/study.md" && grep -q '^| none | 0.05 | [1-5] |' "$d/s2/study.md" &&
   ! pgrep -f "$d/s2/runs" >/dev/null; then
    ok interrupt
else
    fail interrupt "rc $rc: $(cat "$d/log3" "$d/s2/study.md" 2>/dev/null | tail -12)"
fi

python3 tools/study "$d/solver.prototxt" --out "$d/s3" --lr 0.1 --seeds 1 --iters 5 \
    --metric test0/loss --target '~0.5' --setting 'a:' > /dev/null 2>&1
[ $? -eq 2 ] && ok bad_target || fail bad_target "expected status 2"
python3 tools/study "$d/solver.prototxt" --out "$d/s3" --lr 0.1 --seeds 1 --iters 5 \
    --metric test0/loss --target '<=0.5' --setting 'a b:x=1' > /dev/null 2>&1
[ $? -eq 2 ] && ok bad_setting || fail bad_setting "expected status 2"
