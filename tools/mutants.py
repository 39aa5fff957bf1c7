#!/usr/bin/env python3
"""make mutants: proves the suite catches broken code.

Reads tests/mutants.txt, a list of named source mutations. Each one is applied
to a scratch copy of the tracked tree (build/mutants/src), that copy is rebuilt
incrementally, and the test programs named for the mutation are run. A mutation
is KILLED when a named test fails, crashes or times out; it SURVIVES when they
all pass. A mutation whose text no longer occurs exactly once in its file, or
that does not compile, is INVALID: the list has drifted from the code. Prints a
table and exits non-zero unless every mutation is killed. MUTANT_JOBS mutations
(default: the number of cores) are tried at once, each in its own scratch copy.

List format (blank lines and lines starting with '#' are ignored):

    mutant NAME
    file   PATH                 (relative to the repository root)
    tests  PROG [PROG ...]      (test_X = build/tests/test_X; X.test.sh = tests/X.test.sh)
    from   TEXT                 (exact text, must occur once in PATH)
    to     TEXT                 (replacement)

`from`/`to` may repeat for a mutation that needs several edits in one file; the
pairs apply in order. Usage: tools/mutants.py [NAME ...] (default: all).
"""
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "tests", "mutants.txt")
WORK = os.path.join(ROOT, "build", "mutants")
SRC = os.path.join(WORK, "src")
BUILD = "build-mut"  # inside SRC: keeps the scratch build apart from the real one
TIMEOUT = 300        # seconds per test program: a hang counts as killed
MAKE = ["make", "--no-print-directory", "-j2", "BUILD=" + BUILD, "OPT=-O1"]
MAKE_ONE = MAKE[:2] + ["-j1"] + MAKE[3:]  # one per worker


def parse(path):
    mutants, cur = [], None
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, _, val = line.partition(" ")
            val = val.lstrip(" ")
            if key == "mutant":
                cur = {"name": val, "edits": [], "tests": [], "line": lineno}
                mutants.append(cur)
            elif cur is None:
                sys.exit(f"{path}:{lineno}: '{key}' before the first 'mutant'")
            elif key == "file":
                cur["file"] = val
            elif key == "tests":
                cur["tests"] = val.split()
            elif key == "from":
                cur["edits"].append([val, None])
            elif key == "to":
                if not cur["edits"] or cur["edits"][-1][1] is not None:
                    sys.exit(f"{path}:{lineno}: 'to' without a 'from'")
                cur["edits"][-1][1] = val
            else:
                sys.exit(f"{path}:{lineno}: unknown key '{key}'")
    names = set()
    for m in mutants:
        where = f"{path}:{m['line']}: mutant '{m['name']}'"
        if "file" not in m or not m["tests"] or not m["edits"]:
            sys.exit(f"{where}: needs file, tests and at least one from/to")
        if any(to is None for _, to in m["edits"]):
            sys.exit(f"{where}: a 'from' has no 'to'")
        if m["name"] in names:
            sys.exit(f"{where}: duplicate name")
        names.add(m["name"])
    return mutants


def scratch_copy():
    """A copy of the files git tracks or would track (the tree as it stands)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True).stdout.decode().split("\0")
    tracked = set(filter(None, files))
    # Files that left the repository must leave the copy too (the Makefile's
    # wildcards would still build them); the scratch build stays.
    for dirpath, dirnames, filenames in os.walk(SRC):
        if dirpath == SRC and BUILD in dirnames:
            dirnames.remove(BUILD)
        for fn in filenames:
            rel = os.path.relpath(os.path.join(dirpath, fn), SRC)
            if rel not in tracked:
                os.remove(os.path.join(dirpath, fn))
    # Copy only what changed, so the scratch build stays incremental.
    for rel in tracked:
        src, dst = os.path.join(ROOT, rel), os.path.join(SRC, rel)
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.exists(dst) and open(src, "rb").read() == open(dst, "rb").read():
            continue
        shutil.copy2(src, dst)


def runs_tools(test):
    """A shell test, or a test program that runs the tools ($CLIFF_BUILD/train, or
    through tests/tool_fixture.h)."""
    if test.endswith(".test.sh"):
        return True
    with open(os.path.join(ROOT, "tests", test + ".c")) as f:
        text = f.read()
        return "CLIFF_BUILD" in text or "tool_fixture.h" in text


def targets(tests):
    """The programs the tests run: their test programs; for a test that runs the
    tools, every tool and train's man page (tests/install.test.sh installs it)."""
    tools = sorted(f"{BUILD}/{os.path.splitext(f)[0]}" for f in os.listdir(os.path.join(ROOT, "tools"))
                   if f.endswith(".c")) + [f"{BUILD}/man/train.1"]
    return [f"{BUILD}/tests/{t}" for t in tests if not t.endswith(".test.sh")] + \
        (tools if any(runs_tools(t) for t in tests) else [])


def run_tests(tests, tree=SRC):
    """Returns (killed, which test killed it)."""
    env = dict(os.environ, CLIFF_BUILD=BUILD, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    for t in tests:
        cmd = ["sh", f"tests/{t}", BUILD] if t.endswith(".test.sh") else [f"{BUILD}/tests/{t}"]
        try:
            p = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return True, t + " (timeout)"
        out = p.stdout.decode(errors="replace")
        if p.returncode != 0 or "\nFAIL " in "\n" + out:
            return True, t
    return False, ""


def try_mutant(m, tree):
    """Applies m in the scratch tree, builds, runs its tests, restores the file.
    Returns (status, detail)."""
    path = os.path.join(tree, m["file"])
    original = open(path).read()
    text = original
    for frm, to in m["edits"]:
        n = text.count(frm)
        if n != 1:
            return "INVALID", f"'from' occurs {n} times in {m['file']}: {frm[:60]}"
        text = text.replace(frm, to)
    with open(path, "w") as f:
        f.write(text)
    try:
        b = subprocess.run(MAKE_ONE + targets(m["tests"]), cwd=tree, capture_output=True)
        if b.returncode != 0:
            return "INVALID", "does not compile"
        k, which = run_tests(m["tests"], tree)
        return ("killed", "by " + which) if k else ("SURVIVED", "")
    finally:
        with open(path, "w") as f:
            f.write(original)


def main():
    mutants = parse(LIST)
    wanted = set(sys.argv[1:])
    if wanted:
        unknown = wanted - {m["name"] for m in mutants}
        if unknown:
            sys.exit("unknown mutants: " + ", ".join(sorted(unknown)))
        mutants = [m for m in mutants if m["name"] in wanted]
    os.makedirs(SRC, exist_ok=True)
    scratch_copy()
    # Build the unmutated tree once; its tests must pass, or kills mean nothing.
    all_tests = sorted({t for m in mutants for t in m["tests"]})
    print(f"building the scratch tree ({len(mutants)} mutants, {len(all_tests)} test programs)",
          flush=True)
    subprocess.run(MAKE + targets(all_tests), cwd=SRC, check=True, stdout=subprocess.DEVNULL)
    killed, which = run_tests(all_tests)
    if killed:
        sys.exit(f"the unmutated tree already fails {which}: fix the suite first")

    # Workers: the first works in SRC; each other one in a copy of it, build
    # included (cp -a keeps the times, so its builds stay incremental). Each
    # worker builds with one make job, so JOBS workers keep JOBS cores busy.
    jobs = max(1, min(int(os.environ.get("MUTANT_JOBS", os.cpu_count() or 1)), len(mutants)))
    trees = [SRC]
    for k in range(1, jobs):
        tree = f"{SRC}{k}"
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["cp", "-a", SRC, tree], check=True)
        trees.append(tree)
    waiting = queue.Queue()
    for i, m in enumerate(mutants):
        waiting.put((i, m))
    rows = [None] * len(mutants)
    lock = threading.Lock()

    def worker(tree):
        while True:
            try:
                i, m = waiting.get_nowait()
            except queue.Empty:
                return
            t0 = time.time()
            status, detail = try_mutant(m, tree)
            rows[i] = (m["name"], status, detail, time.time() - t0)
            with lock:
                print(f"{m['name']:<40} {status:<9} {detail} ({rows[i][3]:.0f} s)", flush=True)

    threads = [threading.Thread(target=worker, args=(t,)) for t in trees]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Leave the scratch build matching the unmutated sources.
    subprocess.run(MAKE + targets(all_tests), cwd=SRC, stdout=subprocess.DEVNULL)
    n_killed = sum(r[1] == "killed" for r in rows)
    print(f"\nmutants: {n_killed} killed, {len(rows) - n_killed} not killed, {len(rows)} in all")
    return 0 if n_killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
