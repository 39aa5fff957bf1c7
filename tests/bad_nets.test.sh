#!/bin/sh
# Nets that must not build: each tests/bad_nets/NAME.prototxt (a net, or a
# solver when NAME starts with solver_) goes through `train --dry-run` (a net
# through a generated solver `net: "NAME.prototxt"`, run inside tests/bad_nets
# so paths in messages are short). train must exit with status 1, bad config
# (3, bad data, for the missing data files; tools/exit_codes.h) (no crash,
# no sanitizer report) and print exactly one line on stderr, equal to the
# first line of NAME.expected -- or, when that line ends with "...", starting
# with the text before the "...". Every error names its position and layer:
#   ./NAME.prototxt:LINE:COL: error: layer 'name' (Type): ...
# Usage: sh tests/bad_nets.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
TRAIN=$BUILD/train
if [ ! -x "$TRAIN" ]; then echo "FAIL bad_nets: no $TRAIN"; exit 1; fi
cd tests/bad_nets 2>/dev/null || { echo "FAIL bad_nets: run from the repository root"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in *.prototxt; do
    name=${f%.prototxt}
    if [ ! -f "$name.expected" ]; then
        echo "FAIL bad_nets/$name: no $name.expected"
        continue
    fi
    case $name in
        solver_*) solver=$f ;;
        *) solver=$tmp/$name.solver.prototxt
           printf 'net: "%s"\nbase_lr: 0.01\nmax_iter: 1\n' "$f" > "$solver" ;;
    esac
    "$TRAIN" --dry-run "$solver" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    case $name in missing_dataset|missing_hdf5_file|missing_hdf5_source) want_rc=3 ;;
        *) want_rc=1 ;; esac
    want=$(head -n 1 "$name.expected")
    got=$(head -n 1 "$tmp/err")
    lines=$(wc -l < "$tmp/err")
    why=
    if [ $rc -ne $want_rc ]; then why="exit status $rc, expected $want_rc"
    elif [ "$lines" -ne 1 ]; then why="$lines lines on stderr: $(head -c 600 "$tmp/err")"
    else
        case $want in
            *...) case $got in "${want%...}"*) ;; *) why="got  $got
  want $want" ;; esac ;;
            *) [ "$got" = "$want" ] || why="got  $got
  want $want" ;;
        esac
    fi
    if [ -n "$why" ]; then echo "FAIL bad_nets/$name: $why"; else echo "ok bad_nets/$name"; fi
done
# An .expected file without its case is a mistake too.
for e in *.expected; do
    [ -f "${e%.expected}.prototxt" ] || echo "FAIL bad_nets/${e%.expected}: no ${e%.expected}.prototxt"
done
