#!/usr/bin/env python3
"""make mutants: proves the suite catches broken code.

Reads tests/mutants.txt, a list of named source mutations. Each one is applied
to a scratch copy of the tracked tree (build/mutants/src), that copy is rebuilt
incrementally, and the test programs named for the mutation are run (the scratch
build links the library as a shared object, the Makefile's SHARED=1, so that a
mutation in it relinks the library alone, not every program). A mutation
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

Speed (CI runs every mutation): tests/mutants.kills remembers, per mutation,
the test that killed it last time and how long the mutation took. A mutation
whose remembered test still exists is first tried on that test alone
(CLIFF_TEST_ONLY: tests/check.c, and the sections of a shell test that has them); only when that test passes do its programs run
in full, stopping at the first failure (CLIFF_TEST_FAILFAST). Before any of
that, every remembered test is run alone on the unmutated tree, and one that
fails there (it depends on an earlier test of its program) is forgotten, so a
remembered test can only speed a kill up, never invent one. Mutations start
longest first, so the slow ones do not finish last on one worker. The file is
rewritten after every run; commit it with the list.
"""
import concurrent.futures
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "tests", "mutants.txt")
KILLS = os.path.join(ROOT, "tests", "mutants.kills")
WORK = os.path.join(ROOT, "build", "mutants")
SRC = os.path.join(WORK, "src")
BUILD = "build-mut"  # inside SRC: keeps the scratch build apart from the real one
TIMEOUT = 300        # seconds per test program: a hang counts as killed
MAKE = ["make", "--no-print-directory", "-j2", "BUILD=" + BUILD, "SHARED=1"]  # -O3 as shipped: tests run 3-4x faster than at -O1 and compiling one file stays well under a second
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
        shutil.copyfile(src, dst)  # a new mtime: make must see the file as newer than its object
        shutil.copymode(src, dst)


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


def run_tests(tests, tree=SRC, only=None):
    """Runs the test programs in order until one fails. only: a test name; then
    only that test of each program runs (C programs through tests/check.c; a
    shell test that has sections, like tests/unattended.test.sh, runs only that
    section; one without runs whole). Returns (killed, program, test): test is
    the one that was running at the first failure (the last "run NAME" line
    before it; after a crash or a hang, the last one started), or ''."""
    env = dict(os.environ, CLIFF_BUILD=BUILD, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               CLIFF_TEST_FAILFAST="1", CLIFF_TEST_TRACE="1")
    if only:
        env["CLIFF_TEST_ONLY"] = only
    for t in tests:
        cmd = ["sh", f"tests/{t}", BUILD] if t.endswith(".test.sh") else [f"{BUILD}/tests/{t}"]
        try:
            p = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, timeout=TIMEOUT)
            out, why = p.stdout.decode(errors="replace"), ""
        except subprocess.TimeoutExpired as e:
            out, why = (e.stdout or b"").decode(errors="replace"), " (timeout)"
            p = None
        running, case, failed = "", "", False
        for ln in out.splitlines():
            if ln.startswith("run "):
                running = ln[4:]
            elif ln.startswith("FAIL "):
                case, failed = running, True
                break
        if p is None or p.returncode != 0 or failed:
            return True, t + why, case if failed else running
    return False, "", ""


def read_kills():
    """{mutation name: (program, test, seconds)} from tests/mutants.kills."""
    kills = {}
    if os.path.exists(KILLS):
        with open(KILLS) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 4:
                    kills[parts[0]] = (parts[1], parts[2], float(parts[3]))
    return kills


def write_kills(kills):
    with open(KILLS, "w") as f:
        f.write("# Written by tools/mutants.py: per mutation, the program and test that killed\n"
                "# it last time, and the seconds the mutation took. Speeds make mutants up.\n")
        for name in sorted(kills):
            prog, case, secs = kills[name]
            f.write(f"{name}\t{prog}\t{case}\t{secs:.1f}\n")


# Library sources: their objects go only into the shared library, which make
# relinks whenever any object is newer than it (programs load it at run time).
LIB_DIRS = ("proto", "layers", "solver")


def saved_object(m, tree):
    """For a mutation of one library .c file: the paths and bytes and times of
    its unmutated object and dependency file, so that they can be put back with
    the source and the next mutation need not compile the file again (the
    library, which holds the mutated object, is then made out of date). None for
    any other file (a header's includers, a program's own objects: programs
    would not be relinked for an object put back with its old time)."""
    f = m["file"]
    if not f.endswith(".c") or f.split("/")[0] not in LIB_DIRS:
        return None
    saved = []
    for ext in (".o", ".d"):
        p = os.path.join(tree, BUILD, "obj", f[:-2] + ext)
        if not os.path.exists(p):
            return None
        st = os.stat(p)
        saved.append((p, open(p, "rb").read(), (st.st_atime_ns, st.st_mtime_ns)))
    return saved


def outdate_library(tree):
    """Makes the scratch library older than every object, so the next build
    links it again (make does not remake a missing order-only prerequisite of
    a program that is up to date, so deleting it would not do)."""
    lib = os.path.join(tree, BUILD, "libcliff.so")
    if os.path.exists(lib):
        os.utime(lib, ns=(0, 0))


def try_mutant(m, tree, remembered=None):
    """Applies m in the scratch tree, builds, runs its tests (the remembered
    (program, test) alone first), restores the file (with its old time, and a
    library file's object and dependency file as they were, so nothing is
    compiled again for it, and the library made out of date: the next build
    links it again). Returns (status, program, test): test is
    the killing test's name for a C program, else ''."""
    path = os.path.join(tree, m["file"])
    original = open(path).read()
    src_times = (os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns)
    obj = saved_object(m, tree)
    text = original
    for frm, to in m["edits"]:
        n = text.count(frm)
        if n != 1:
            return "INVALID", f"'from' occurs {n} times in {m['file']}: {frm[:60]}", ""
        text = text.replace(frm, to)
    with open(path, "w") as f:
        f.write(text)
    try:
        b = subprocess.run(MAKE_ONE + targets(m["tests"]), cwd=tree, capture_output=True)
        if b.returncode != 0:
            return "INVALID", "does not compile", ""
        if remembered:
            k, which, case = run_tests([remembered[0]], tree, only=remembered[1])
            if k:
                return "killed", which, case
        k, which, case = run_tests(m["tests"], tree)
        return ("killed", which, case) if k else ("SURVIVED", "", "")
    finally:
        with open(path, "w") as f:
            f.write(original)
        if obj:
            os.utime(path, ns=src_times)
            for p, data, times in obj:
                with open(p, "wb") as f:
                    f.write(data)
                os.utime(p, ns=times)
            outdate_library(tree)


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
    # MUTANTS_BASELINE=0 skips running them here, for a caller that has just
    # run the whole suite on the same sources (.ci/run, after make test).
    all_tests = sorted({t for m in mutants for t in m["tests"]})
    print(f"building the scratch tree ({len(mutants)} mutants, {len(all_tests)} test programs)",
          flush=True)
    subprocess.run(MAKE + targets(all_tests), cwd=SRC, check=True, stdout=subprocess.DEVNULL)
    if os.environ.get("MUTANTS_BASELINE", "1") != "0":
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            baseline = list(pool.map(lambda t: run_tests([t]), all_tests))
        for killed, which, case in baseline:
            if killed:
                sys.exit(f"the unmutated tree already fails {which} {case}: fix the suite first")

    # Remembered tests: only those that pass alone on the unmutated tree.
    kills = read_kills()
    pairs = sorted({(k[0], k[1]) for n, k in kills.items()
                    if k[1] and any(m["name"] == n and k[0] in m["tests"] for m in mutants)})
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        alone_fails = list(pool.map(lambda pc: run_tests([pc[0]], SRC, only=pc[1])[0], pairs))
    usable = {pc: not bad for pc, bad in zip(pairs, alone_fails)}
    print(f"{sum(usable.values())} of {len(pairs)} remembered tests pass alone", flush=True)
    mutants.sort(key=lambda m: -kills.get(m["name"], ("", "", 1e9))[2])

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
            k = kills.get(m["name"])
            remembered = k[:2] if k and usable.get(k[:2]) else None
            status, prog, case = try_mutant(m, tree, remembered)
            rows[i] = (m["name"], status, prog, case, time.time() - t0)
            detail = ("by " + prog + (":" + case if case else "")) if status == "killed" else prog
            with lock:
                print(f"{m['name']:<40} {status:<9} {detail} ({rows[i][4]:.0f} s)", flush=True)

    threads = [threading.Thread(target=worker, args=(t,)) for t in trees]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Leave the scratch build matching the unmutated sources (the library
    # still holds the last mutation when its object was put back).
    outdate_library(SRC)
    subprocess.run(MAKE + targets(all_tests), cwd=SRC, stdout=subprocess.DEVNULL)
    for name, status, prog, case, secs in rows:
        if status == "killed":
            kills[name] = (prog.replace(" (timeout)", ""), case, secs)
    known = {m["name"] for m in parse(LIST)}
    write_kills({n: k for n, k in kills.items() if n in known})
    n_killed = sum(r[1] == "killed" for r in rows)
    print(f"\nmutants: {n_killed} killed, {len(rows) - n_killed} not killed, {len(rows)} in all")
    return 0 if n_killed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
