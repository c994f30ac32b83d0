#!/usr/bin/env python3
"""Mutation testing of the segment ownership protocol.

Every mutant of the catalogue (scripts/mutants.toml) is a small source edit.
For each one the script copies the tree into a work directory (one copy and
one build tree per kind: "normal" = gcc Release MI_DEBUG=2, "full" = the
same at MI_DEBUG=3 (full heap checks), "tsan" = clang ThreadSanitizer
MI_DEBUG=1), applies the edit, builds the test programs the
mutant needs, and runs them, each up to --runs times, until one fails. A
failure is a kill: crash, assertion, corruption, claim overlap, hang,
ThreadSanitizer report, or the test's own verdict. A mutant no run kills
SURVIVED.

Before the mutants, every test profile in use runs once on the unmutated
tree: a failure there means the tests cannot judge anything (exit 2).

Prints one table (mutant, what it breaks, killed by, runs until killed or
SURVIVED) and exits
  0  every mutant killed (argued-equivalent mutants may survive),
  1  some mutant survived,
  2  usage error, an edit that does not apply (its original text is not found
     exactly once), a build failure, or a failing baseline.

Usage:
  scripts/mutants.py                      full run (every mutant, --runs 3)
  scripts/mutants.py --reduced --runs 2   the CI subset (one mutant per group)
  scripts/mutants.py --only NAME[,NAME]   selected mutants
  scripts/mutants.py --list               the catalogue
  scripts/mutants.py --check              apply every edit (no build): detects rot
Logs: <work-dir>/logs/<mutant>/<profile>-<n>.log, builds: <work-dir>/<kind>/.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOGUE = os.path.join(ROOT, "scripts", "mutants.toml")

# Build trees by kind: cmake cache arguments.
KINDS = {
    "normal": ["-DCMAKE_BUILD_TYPE=Release", "-DMI_DEBUG=2", "-DMI_SANITIZE=",
               "-DCMAKE_C_COMPILER=gcc", "-DCMAKE_CXX_COMPILER=g++"],
    "full": ["-DCMAKE_BUILD_TYPE=Release", "-DMI_DEBUG=3", "-DMI_SANITIZE=",
             "-DCMAKE_C_COMPILER=gcc", "-DCMAKE_CXX_COMPILER=g++"],
    "tsan": ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DMI_DEBUG=1", "-DMI_SANITIZE=thread",
             "-DCMAKE_C_COMPILER=clang", "-DCMAKE_CXX_COMPILER=clang++"],
}
COMMON_CMAKE = ["-DMI_BUILD_TESTS=ON", "-DMI_BUILD_SHARED=OFF", "-DMI_BUILD_STATIC=ON",
                "-DMI_BUILD_OBJECT=OFF", "-DMI_LEGACY_OWNERSHIP=OFF", "-DMI_WERROR=OFF",
                "-DMI_TEST_LEGACY_REPORT=OFF", "-DMI_TEST_MUTANTS=OFF"]
TSAN_OPTIONS = "halt_on_error=1 report_signal_unsafe=0 exitcode=66 history_size=4"
COPY_IGNORE = {".git", "build", "out", "Testing", "__pycache__"}

RE_TSAN = re.compile(r"WARNING: ThreadSanitizer: ([\w -]+)")
RE_ASSERT = re.compile(r'mimalloc: assertion failed: at "([^"]*)":(\d+).*\n\s*assertion: "(.*)"')
RE_COUNTER = re.compile(r"^mi-test: (corruptions|claim_overlaps): (\d+)", re.M)
RE_FAIL = re.compile(r"^mi-test: FAIL: (.*)$", re.M)
RE_ALLOC_ERROR = re.compile(r"^mimalloc: error: (.*)$", re.M)
RE_WATCHDOG = re.compile(r"^mi-test: FAIL: watchdog", re.M)
RE_CHECK = re.compile(r"^(\S+:\d+): check failed: (.*)$", re.M)


class UsageError(Exception):
    pass


# ---------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------
def load_catalogue(path):
    with open(path, "rb") as f:
        data = tomllib.load(f)
    profiles = data.get("profiles", {})
    mutants = data.get("mutant", [])
    names = set()
    for p_name, p in profiles.items():
        if "test" not in p:
            raise UsageError("profile %s: no test" % p_name)
    for m in mutants:
        for key in ("name", "group", "kind", "breaks", "run", "edit"):
            if key not in m:
                raise UsageError("mutant %s: missing '%s'" % (m.get("name", "?"), key))
        if m["name"] in names:
            raise UsageError("mutant %s: duplicate name" % m["name"])
        names.add(m["name"])
        if m["kind"] not in KINDS:
            raise UsageError("mutant %s: unknown kind %s" % (m["name"], m["kind"]))
        for p in m["run"]:
            if p not in profiles:
                raise UsageError("mutant %s: unknown profile %s" % (m["name"], p))
        for e in m["edit"]:
            if e["original"] == e["replacement"]:
                raise UsageError("mutant %s: an edit changes nothing" % m["name"])
    return profiles, mutants


def apply_edits(tree, mutant):
    """Apply the mutant's edits in `tree`; returns {path: original text}."""
    saved = {}
    for e in mutant["edit"]:
        path = os.path.join(tree, e["file"])
        if path not in saved:
            with open(path) as f:
                saved[path] = f.read()
        with open(path) as f:
            text = f.read()
        count = text.count(e["original"])
        if count != 1:
            restore(saved)
            raise UsageError("mutant %s: the original text for %s occurs %d times (must be exactly once); "
                             "the source changed: update the mutant" % (mutant["name"], e["file"], count))
        with open(path, "w") as f:
            f.write(text.replace(e["original"], e["replacement"]))
    return saved


def restore(saved):
    for path, text in saved.items():
        with open(path, "w") as f:
            f.write(text)


# ---------------------------------------------------------------------------
# Trees and builds
# ---------------------------------------------------------------------------
def sync_tree(src, dst):
    """Make dst a copy of src's sources; copies only files that differ, so an
    unchanged file keeps its time stamp and is not rebuilt."""
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in COPY_IGNORE]
        rel = os.path.relpath(dirpath, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in filenames:
            s = os.path.join(dirpath, name)
            d = os.path.join(dst, rel, name)
            with open(s, "rb") as f:
                data = f.read()
            if os.path.exists(d):
                with open(d, "rb") as f:
                    if f.read() == data:
                        continue
            with open(d, "wb") as f:
                f.write(data)
            shutil.copymode(s, d)


def run_logged(cmd, log_path, cwd=None):
    with open(log_path, "a") as log:
        log.write("$ %s\n" % " ".join(cmd))
        log.flush()
        return subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)


class Tree:
    def __init__(self, work_dir, kind, jobs):
        self.kind = kind
        self.src = os.path.join(work_dir, kind, "src")
        self.build = os.path.join(work_dir, kind, "build")
        self.log = os.path.join(work_dir, "logs", "build-%s.log" % kind)
        self.jobs = jobs
        self.configured = False

    def prepare(self):
        sync_tree(ROOT, self.src)
        os.makedirs(self.build, exist_ok=True)
        open(self.log, "w").close()
        rc = run_logged(["cmake", "-S", self.src, "-B", self.build] + COMMON_CMAKE + KINDS[self.kind],
                        self.log)
        if rc != 0:
            raise UsageError("configure of the %s tree failed (log: %s)" % (self.kind, self.log))
        self.configured = True

    def build_targets(self, targets):
        cmd = ["cmake", "--build", self.build, "-j", str(self.jobs), "--target"] + sorted(targets)
        return run_logged(cmd, self.log) == 0

    def executable(self, test):
        return os.path.join(self.build, "test", test)


# ---------------------------------------------------------------------------
# Running a test and judging the run
# ---------------------------------------------------------------------------
def judge(output, returncode, timed_out):
    """None if the run passed, else what showed the failure (most direct evidence first)."""
    seen = []
    for m in RE_COUNTER.finditer(output):
        if int(m.group(2)) != 0:
            seen.append("%s %s" % (m.group(1).replace("_", " ").rstrip("s"), m.group(2)))
    m = RE_TSAN.search(output)
    if m:
        seen.append("TSan " + m.group(1).strip())
    m = RE_ASSERT.search(output)
    if m:
        seen.append("assert `%s` (%s:%s)" % (m.group(3).strip(), os.path.basename(m.group(1)), m.group(2)))
    m = RE_ALLOC_ERROR.search(output)
    if m and (seen or returncode != 0 or timed_out):
        # some tests provoke error messages on purpose: evidence only in a failed run
        seen.append("allocator error: " + m.group(1).strip())
    if timed_out or RE_WATCHDOG.search(output):
        seen.append("hang")
    elif returncode < 0:
        seen.append(signal.Signals(-returncode).name)
    if not seen and returncode != 0:
        m = RE_FAIL.search(output)
        c = RE_CHECK.search(output)
        if m:
            seen.append("verdict: " + m.group(1).strip())
        elif c:
            seen.append("check `%s` (%s)" % (c.group(2).strip(), os.path.basename(c.group(1))))
        else:
            seen.append("exit %d" % returncode)
    return "; ".join(seen) if seen else None


def run_test(tree, profile, log_path, timeout):
    if tree.kind == "tsan":
        timeout *= 3
    env = dict(os.environ)
    env.update({k: str(v) for k, v in profile.get("env", {}).items()})
    env.setdefault("MI_TEST_WATCHDOG_SECONDS", str(max(10, timeout - 10)))
    if tree.kind == "tsan":
        env["TSAN_OPTIONS"] = TSAN_OPTIONS
        watchdog = float(profile.get("env", {}).get("MI_TEST_WATCHDOG_SECONDS", 0))
        if watchdog > 0:
            env["MI_TEST_WATCHDOG_SECONDS"] = str(min(watchdog * 3, timeout - 10))
    cmd = [tree.executable(profile["test"])] + [str(a) for a in profile.get("args", [])]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            cwd=os.path.dirname(cmd[0]), start_new_session=True)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    seconds = time.monotonic() - start
    text = out.decode("utf-8", "replace")
    with open(log_path, "w") as log:
        log.write("$ %s\n%s" % (" ".join(cmd), text))
        log.write("\n[exit %s%s, %.1f s]\n" % (proc.returncode, ", timeout" if timed_out else "", seconds))
    return judge(text, proc.returncode, timed_out), seconds


# ---------------------------------------------------------------------------
# Mutants
# ---------------------------------------------------------------------------
class Result:
    def __init__(self, mutant):
        self.mutant = mutant
        self.killed_by = None   # profile name
        self.how = None
        self.runs = 0           # test executions until the kill (or in total)
        self.seconds = 0.0
        self.build_seconds = 0.0

    @property
    def status(self):
        if self.killed_by:
            return "killed"
        return "equivalent" if self.mutant.get("equivalent") else "SURVIVED"


def run_mutant(tree, mutant, profiles, runs, timeout, log_dir):
    result = Result(mutant)
    saved = apply_edits(tree.src, mutant)
    try:
        mlog = os.path.join(log_dir, mutant["name"])
        os.makedirs(mlog, exist_ok=True)
        built = set()
        budget = 1 if mutant.get("equivalent") else runs
        for n in range(1, budget + 1):
            for p in mutant["run"]:
                test = profiles[p]["test"]
                if test not in built:
                    # built on first use: a mutant killed by its first test builds nothing else
                    begin = time.monotonic()
                    if not tree.build_targets({test}):
                        raise UsageError("mutant %s does not build (log: %s); a build failure is no kill: "
                                         "fix the mutant" % (mutant["name"], tree.log))
                    result.build_seconds += time.monotonic() - begin
                    built.add(test)
                result.runs += 1
                how, seconds = run_test(tree, profiles[p], os.path.join(mlog, "%s-%d.log" % (p, n)), timeout)
                result.seconds += seconds
                if how:
                    result.killed_by, result.how = p, how
                    return result
        return result
    finally:
        restore(saved)


def baseline(tree, names, profiles, timeout, log_dir):
    """Run each profile once on the unmutated tree; raise if one fails."""
    if not tree.build_targets({profiles[p]["test"] for p in names}):
        raise UsageError("the unmutated %s tree does not build (log: %s)" % (tree.kind, tree.log))
    os.makedirs(os.path.join(log_dir, "baseline-" + tree.kind), exist_ok=True)
    flaky = []
    for p in sorted(names):
        # A test that fails once on the unmutated tree gets two more tries; one
        # that passes then is reported as flaky, one that fails again stops the run.
        for attempt in range(1, 4):
            how, seconds = run_test(tree, profiles[p], os.path.join(log_dir, "baseline-" + tree.kind,
                                                                    "%s-%d.log" % (p, attempt)), timeout)
            print("  baseline %-6s %-16s %s (%.1f s)" % (tree.kind, p, how or "pass", seconds), flush=True)
            if not how:
                break
            if attempt > 1:
                raise UsageError("baseline: %s fails on the unmutated %s tree (%s); no mutant can be judged"
                                 % (p, tree.kind, how))
            flaky.append("%s (%s)" % (p, how))
    return flaky


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
def table(results, runs):
    header = ["mutant", "group", "kind", "what it breaks", "killed by", "how", "runs", "seconds"]
    rows = []
    for r in results:
        m = r.mutant
        if r.killed_by:
            killed, runs_cell = r.killed_by, str(r.runs)
        elif r.status == "equivalent":
            killed, runs_cell = "equivalent (survived, see catalogue)", "%d" % r.runs
        else:
            killed, runs_cell = "SURVIVED", "%d" % r.runs
        rows.append([m["name"], m["group"], m["kind"], m["breaks"], killed, r.how or "-", runs_cell,
                     "%.1f" % r.seconds])
    return header, rows


def print_table(header, rows):
    widths = [len(h) for h in header]
    limit = [40, 14, 6, 60, 40, 60, 6, 8]
    cut = [[c if len(c) <= limit[i] else c[:limit[i] - 1] + "~" for i, c in enumerate(row)] for row in rows]
    for row in cut:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, header))
    print(line)
    print("-" * len(line))
    for row in cut:
        print("  ".join("%-*s" % (w, c) for w, c in zip(widths, row)))


def markdown(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalogue", default=CATALOGUE)
    ap.add_argument("--work-dir", default=os.path.join(ROOT, "build", "mutants"))
    ap.add_argument("--runs", type=int, default=3, help="runs of each test profile per mutant (default 3)")
    ap.add_argument("--only", help="comma-separated mutant names")
    ap.add_argument("--reduced", action="store_true", help="only the mutants marked reduced (CI)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel build jobs (default 2)")
    ap.add_argument("--timeout", type=int, default=60,
                    help="seconds per test run (default 60; ThreadSanitizer runs get 3 times as long)")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--list", action="store_true", help="print the catalogue and exit")
    ap.add_argument("--check", action="store_true", help="check that every edit applies, then exit")
    args = ap.parse_args()

    try:
        profiles, mutants = load_catalogue(args.catalogue)
        selected = mutants
        if args.only:
            wanted = [n.strip() for n in args.only.split(",") if n.strip()]
            unknown = set(wanted) - {m["name"] for m in mutants}
            if unknown:
                raise UsageError("unknown mutant(s): %s" % ", ".join(sorted(unknown)))
            selected = [m for m in mutants if m["name"] in wanted]
        if args.reduced:
            # the CI subset: each chosen mutant against its first test only
            # (the one that killed it in the full run)
            selected = [dict(m, run=m["run"][:1]) for m in selected if m.get("reduced")]
        if args.list:
            for m in selected:
                print("%-40s %-14s %-6s %s%s" % (m["name"], m["group"], m["kind"], m["breaks"],
                                                 " [equivalent]" if m.get("equivalent") else ""))
            return 0
        if args.check:
            for m in selected:
                restore(apply_edits(ROOT, m))
            print("all %d mutants apply" % len(selected))
            return 0
        if args.runs < 1:
            raise UsageError("--runs must be at least 1")

        started = time.monotonic()
        log_dir = os.path.join(args.work_dir, "logs")
        os.makedirs(log_dir, exist_ok=True)
        results = []
        flaky = []
        for kind in KINDS:
            group = [m for m in selected if m["kind"] == kind]
            if not group:
                continue
            tree = Tree(args.work_dir, kind, args.jobs)
            print("==> %s tree: %s" % (kind, tree.build), flush=True)
            tree.prepare()
            flaky += baseline(tree, {p for m in group for p in m["run"]}, profiles, args.timeout, log_dir)
            for m in group:
                r = run_mutant(tree, m, profiles, args.runs, args.timeout, log_dir)
                results.append(r)
                print("  %-40s %-10s %s%s (build %.0f s, runs %d, %.1f s)" % (
                    m["name"], r.status, r.killed_by or "", (": " + r.how) if r.how else "",
                    r.build_seconds, r.runs, r.seconds), flush=True)
    except UsageError as e:
        print("mutants.py: error: %s" % e, file=sys.stderr)
        return 2

    order = {m["name"]: i for i, m in enumerate(mutants)}
    results.sort(key=lambda r: order[r.mutant["name"]])
    header, rows = table(results, args.runs)
    print()
    print_table(header, rows)
    survived = [r for r in results if r.status == "SURVIVED"]
    killed = [r for r in results if r.status == "killed"]
    equivalent = [r for r in results if r.status == "equivalent"]
    print()
    print("mutants: %d, killed: %d, survived: %d, equivalent (argued, shown once): %d; runs per profile: %d; "
          "%.0f s" % (len(results), len(killed), len(survived), len(equivalent), args.runs,
                      time.monotonic() - started))
    if flaky:
        print("flaky on the unmutated tree (failed once, then passed): %s" % "; ".join(flaky))
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(header, rows))
            if flaky:
                f.write("\nFlaky on the unmutated tree (failed once, then passed): %s\n" % "; ".join(flaky))
    if survived:
        print("SURVIVED: %s" % ", ".join(r.mutant["name"] for r in survived))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
