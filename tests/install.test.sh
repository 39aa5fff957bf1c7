#!/bin/sh
# make install / make uninstall into a temporary DESTDIR, with the programs
# BUILD already holds (make install-built: nothing is rebuilt). Checks that the
# installed tree is exactly the expected one (every program of tools/*.c,
# cliff-plot, train(1), the bash completion, every file of configs/ under
# share/cliff), that the installed programs run from DESTDIR on an installed
# example config, that `man -l` renders the installed page and that it
# documents every option of `train --help`, every cliff solver field of
# proto/cliff.proto (numbers 1000 and up) and every exit code of
# tools/exit_codes.h, that the completion file completes options and files by
# extension in bash, and that make uninstall leaves no file behind. man, bash
# and help2man are installed by tools/install-deps.sh: their absence is a
# failure here, not a skip.
# Usage: sh tests/install.test.sh BUILD_DIR (from the repository root).
BUILD=${1:-build}
ROOT=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=$tmp/dest
# A SHARED=1 build (tools/mutants.py's) links libcliff.so, which is not installed:
# the installed programs find it in BUILD. Static builds, as shipped, need nothing.
case $BUILD in /*) LIBDIR=$BUILD ;; *) LIBDIR=$ROOT/$BUILD ;; esac
[ -f "$BUILD/libcliff.so" ] && export LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ok() { echo "ok install/$1"; }
fail() { echo "FAIL install/$1: $2"; }
# make without the caller's make flags (the suite may run under make -j with
# BUILD=... overrides in MAKEFLAGS)
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory BUILD="$BUILD" \
           DESTDIR="$D" PREFIX=/usr "$@"; }

for tool in man bash; do
    command -v $tool > /dev/null || { fail tools "'$tool' missing (tools/install-deps.sh installs it)"; exit 0; }
done
[ -f "$BUILD/man/train.1" ] || { fail built "no $BUILD/man/train.1 (make all makes it with help2man)"; exit 0; }

if mk install-built > "$tmp/install.log" 2>&1; then ok install
else fail install "$(tail -3 "$tmp/install.log")"; exit 0; fi

# ---- the installed tree, against a list made from the source tree ----------
{
    for c in tools/*.c; do n=${c#tools/}; echo "usr/bin/${n%.c}"; done
    echo usr/bin/cliff-plot
    echo usr/share/man/man1/train.1
    echo usr/share/bash-completion/completions/train
    for f in configs/*; do echo "usr/share/cliff/$f"; done
} | sort > "$tmp/expected"
(cd "$D" && find . -type f -o -type l) | sed 's|^\./||' | sort > "$tmp/installed"
if cmp -s "$tmp/expected" "$tmp/installed"; then ok files
else fail files "missing: $(comm -23 "$tmp/expected" "$tmp/installed" | tr '\n' ' ')extra: $(comm -13 "$tmp/expected" "$tmp/installed" | tr '\n' ' ')"; fi
bad=
for p in "$D"/usr/bin/*; do [ -x "$p" ] || bad="$bad $p"; done
[ -z "$bad" ] && ok executable || fail executable "not executable:$bad"

# ---- the installed programs, from DESTDIR ------------------------------------
T=$D/usr/bin/train
v=$("$T" --version 2>&1)
case $v in "cliff train "*) [ "$v" = "$("$BUILD/train" --version)" ] && ok version ||
    fail version "installed '$v' differs from $BUILD/train's" ;;
*) fail version "train --version printed '$v'" ;; esac
# The example configs name their nets and data relative to share/cliff: a copy
# of it is a working folder; the adding problem's data comes from the
# installed adding_problem.
cp -R "$D/usr/share/cliff" "$tmp/work"
cd "$tmp/work" || exit 0
bad=
for s in configs/*solver*; do "$T" "$s" --print-config > /dev/null 2>> "$tmp/pc.err" || bad="$bad $s"; done
[ -z "$bad" ] && ok print-config-examples || fail print-config-examples "$bad: $(tail -1 "$tmp/pc.err")"
mkdir -p build/data/adding
for part in train test; do
    "$D/usr/bin/adding_problem" --out build/data/adding/$part --count 100 --seed 2 > /dev/null 2>&1 ||
        fail adding-data "installed adding_problem failed"
done
out=$("$T" configs/adding_solver.prototxt --dry-run 2>&1)
case $out in *InnerProduct*) ok dry-run ;; *) fail dry-run "$(echo "$out" | tail -2)" ;; esac
"$T" configs/adding_solver.prototxt --set max_iter=2 --set test_initialization=false \
    --set display=1 > "$tmp/run.log" 2>&1 && grep -q 'Iteration 2' "$tmp/run.log" &&
    [ -f build/adding/adding_iter_2.solverstate.h5 ] && ok trains ||
    fail trains "$(tail -2 "$tmp/run.log")"
cd "$ROOT" || exit 0

# ---- the man page, rendered by man -l ---------------------------------------
# Wide lines: no hyphenation splits a word; C locale: plain ASCII hyphens.
if LC_ALL=C MANWIDTH=1000 man -l "$D/usr/share/man/man1/train.1" > "$tmp/man.txt" 2> "$tmp/man.err" &&
    grep -q '^NAME' "$tmp/man.txt"; then ok man-renders
else fail man-renders "$(head -2 "$tmp/man.err")"; fi
# section NAME: the lines from its heading (column 0) to the next heading
section() { awk -v s="$1" '/^[A-Z]/ { on = ($0 == s); next } on' "$tmp/man.txt"; }

"$T" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u > "$tmp/options"
missing=
for o in $(cat "$tmp/options"); do
    grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$tmp/man.txt" || missing="$missing $o"
done
n=$(wc -l < "$tmp/options")
[ "$n" -ge 15 ] && [ -z "$missing" ] && ok man-options ||
    fail man-options "$n options in train --help; not in the page:$missing"

# cliff's solver fields, read from the schema here (not by the page's own awk)
python3 - proto/cliff.proto > "$tmp/fields" << 'PY'
import re, sys
text = re.sub(r"//[^\n]*", "", open(sys.argv[1]).read())
m = re.search(r"\bmessage\s+SolverParameter\s*\{", text)
i, depth, body = m.end(), 1, []
while depth:
    c = text[i]
    depth += (c == "{") - (c == "}")
    body.append(c if depth == 1 else (" " if c != "}" else ""))
    i += 1
for name, num in re.findall(r"(?:optional|repeated|required)\s+[\w.]+\s+(\w+)\s*=\s*(\d+)", "".join(body)):
    if int(num) >= 1000:
        print(name, num)
PY
section "CLIFF SOLVER FIELDS" > "$tmp/man.fields"
missing=
while read -r name num; do
    grep -qE "^ +$name \(.*field $num\)" "$tmp/man.fields" || missing="$missing $name"
done < "$tmp/fields"
n=$(wc -l < "$tmp/fields")
[ "$n" -ge 15 ] && [ -z "$missing" ] && ok man-solver-fields ||
    fail man-solver-fields "$n fields >= 1000 in proto/cliff.proto; not in the page:$missing"

# the exit-code table: every row of tools/exit_codes.h, with its meaning's start
section "EXIT STATUS" > "$tmp/man.exit"
grep -oE 'X\([A-Z_]+, [0-9]+, "[^"]{1,30}' tools/exit_codes.h | sed 's/^X([A-Z_]*, //' > "$tmp/codes"
missing=
while IFS= read -r row; do
    code=${row%%,*} start=${row#*\"}
    grep -qF "$code      $start" "$tmp/man.exit" || missing="$missing $code"
done < "$tmp/codes"
n=$(wc -l < "$tmp/codes")
[ "$n" -ge 7 ] && [ -z "$missing" ] && ok man-exit-codes ||
    fail man-exit-codes "$n codes in tools/exit_codes.h; not in EXIT STATUS:$missing"

# ---- bash completion ---------------------------------------------------------
mkdir "$tmp/c" "$tmp/c/sub" && cd "$tmp/c" || exit 0
touch s.prototxt n.yaml x.h5 r_iter_4.solverstate.h5 r_iter_4.caffemodel.h5
# comp WORD...: the completions of the last word after the others
cat > "$tmp/comp.sh" << 'SH'
. "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_cliff_train "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
SH
comp() { PATH=$D/usr/bin:$PATH bash "$tmp/comp.sh" "$D/usr/share/bash-completion/completions/train" "$@" 2>&1; }
expect() { # expect NAME WANT GOT
    [ "$2" = "$3" ] && ok "completion-$1" || fail "completion-$1" "want '$2', got '$3'"
}
expect option "--sighup-effect --sigint-effect " "$(comp train --sig)"
expect solver-files "n.yaml s.prototxt sub " "$(comp train '')"
expect resume "auto r_iter_4.solverstate.h5 sub " "$(comp train s.prototxt --resume '')"
expect weights "r_iter_4.caffemodel.h5 sub " "$(comp train s.prototxt --weights '')"
all=$(comp train --)
missing=
for o in $(cat "$tmp/options"); do case " $all" in *" $o "*) ;; *) missing="$missing $o" ;; esac; done
[ -z "$missing" ] && ok completion-every-option || fail completion-every-option "not completed:$missing"
bash -c ". '$D/usr/share/bash-completion/completions/train'; complete -p train" 2>&1 |
    grep -q -- '-F _cliff_train train$' && ok completion-registered ||
    fail completion-registered "complete -p train does not name _cliff_train"
cd "$ROOT" || exit 0

# ---- uninstall ---------------------------------------------------------------
if mk uninstall > "$tmp/uninstall.log" 2>&1; then
    left=$(cd "$D" && find . -type f -o -type l)
    [ -z "$left" ] && ok uninstall || fail uninstall "left behind: $(echo $left)"
else fail uninstall "$(tail -3 "$tmp/uninstall.log")"; fi
