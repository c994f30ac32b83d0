#!/usr/bin/env python3
"""Before/after report: the multithreaded ownership tests on the normal build
and on the test-only legacy build (raw, non-atomic segment ownership).

Builds four trees (normal, normal under ThreadSanitizer, legacy, legacy under
ThreadSanitizer), runs the same mt-* test programs N times in each mode and
prints one table of what happened: passes, failures, crashes by signal,
timeouts, ThreadSanitizer reports (and how many of them are on the segment
owner field), assertion failures, corrupted blocks and claim overlaps.

Modes (default: all of them):
  normal         normal build
  normal+pause   normal build, claim window widened (MI_TEST_CLAIM_PAUSE_US)
  normal+tsan    normal build under ThreadSanitizer
  legacy         legacy build as is (informational: the race window is narrow)
  legacy+pause   legacy build, claim window widened
  legacy+tsan    legacy build under ThreadSanitizer

Exit status 0 only when
  * every run of every normal-build mode passed with no failure of any kind
    (no crash, timeout, ThreadSanitizer report, assertion, corruption, claim
    overlap, non-zero exit), and
  * every run in legacy+tsan had at least one ThreadSanitizer report on the
    owner field, and
  * every run in legacy+pause failed, with crashes, assertion failures or
    corruptions (pattern mismatches or claim overlaps) among the failures.
In the verdict's legacy modes a run that did not show the bug (legacy+pause:
passed; legacy+tsan: no owner-field report) is attempted again, up to
--legacy-attempts times in all; the run shows the bug when one attempt did.
The table's "attempts" column counts them. The normal modes get one attempt.
Exit status 1 when that verdict fails, 2 on usage or build errors.

Logs of every run: <build-dir>/logs/<mode>/<test>-<run>.log (further attempts:
<test>-<run>-attempt<k>.log)
Documentation of the columns: doc/ownership.md, "Reading the legacy report"
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

TESTS = ["mt-reclaim", "mt-coalesce", "mt-huge", "mt-churn", "mt-soak", "mt-claim-storm"]
MODES = ["normal", "normal+pause", "normal+tsan", "legacy", "legacy+pause", "legacy+tsan"]
TSAN_OPTIONS = "halt_on_error=0 report_signal_unsafe=0 exitcode=66 history_size=4"
TSAN_EXIT_CODE = 66

# Build trees: (legacy ownership, ThreadSanitizer) -> (directory name, cmake arguments)
BUILDS = {
    (False, False): ("normal", ["-DCMAKE_BUILD_TYPE=Release", "-DMI_DEBUG=1",
                                "-DMI_LEGACY_OWNERSHIP=OFF", "-DMI_SANITIZE="]),
    (True, False): ("legacy", ["-DCMAKE_BUILD_TYPE=Release", "-DMI_DEBUG=1",
                               "-DMI_LEGACY_OWNERSHIP=ON", "-DMI_SANITIZE="]),
    (False, True): ("normal-tsan", ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DMI_DEBUG=1",
                                    "-DMI_LEGACY_OWNERSHIP=OFF", "-DMI_SANITIZE=thread",
                                    "-DCMAKE_C_COMPILER=clang", "-DCMAKE_CXX_COMPILER=clang++"]),
    (True, True): ("legacy-tsan", ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DMI_DEBUG=1",
                                   "-DMI_LEGACY_OWNERSHIP=ON", "-DMI_SANITIZE=thread",
                                   "-DCMAKE_C_COMPILER=clang", "-DCMAKE_CXX_COMPILER=clang++"]),
}

RE_TSAN_WARNING = re.compile(r"WARNING: ThreadSanitizer")
RE_TSAN_END = re.compile(r"^={10,}\s*$")
# A report is on the owner field when one of its accesses happens inside an
# ownership helper (include/mimalloc/ownership.h): the only code that touches
# a segment's owner.
RE_OWNER_FRAME = re.compile(r"^\s*#0 mi_segment_\w+ .*ownership\.h:")
RE_ASSERTION = re.compile(r"mimalloc: assertion failed")
RE_TSAN_DEADLY = re.compile(r"ERROR: ThreadSanitizer: (SEGV|BUS|FPE|ILL|ABRT)")
RE_COUNTER = re.compile(r"^mi-test: ([a-z_]+): (-?\d+)\s*$")
RE_RESULT = re.compile(r"^mi-test: result: (\w+)")
RE_WATCHDOG = re.compile(r"^mi-test: FAIL: watchdog:")


class Mode:
    def __init__(self, name):
        parts = name.split("+")
        if parts[0] not in ("normal", "legacy") or any(p not in ("pause", "tsan") for p in parts[1:]) \
                or len(set(parts[1:])) != len(parts[1:]):
            raise ValueError("unknown mode '%s' (normal|legacy, optionally +pause and/or +tsan)" % name)
        self.name = name
        self.legacy = parts[0] == "legacy"
        self.pause = "pause" in parts
        self.tsan = "tsan" in parts

    @property
    def build_key(self):
        return (self.legacy, self.tsan)


class RunResult:
    """What one run of one test program showed."""

    def __init__(self):
        self.seconds = 0.0
        self.exit_code = None      # exit status when it exited normally
        self.signal_name = None    # set when it died of a signal (a crash)
        self.timeout = False
        self.tsan_reports = 0
        self.owner_reports = 0
        self.assertions = 0
        self.corruptions = 0
        self.claim_overlaps = 0
        self.result_line = None
        self.attempts = 1          # attempts of this run (legacy verdict modes may retry)

    @property
    def passed(self):
        return (self.exit_code == 0 and not self.timeout and self.signal_name is None
                and self.tsan_reports == 0 and self.assertions == 0
                and self.corruptions == 0 and self.claim_overlaps == 0
                and self.result_line == "PASS")

    @property
    def explained(self):
        """Failed for one of the kinds that have a column of their own."""
        return (self.signal_name is not None or self.timeout or self.tsan_reports > 0
                or self.assertions > 0 or self.corruptions > 0 or self.claim_overlaps > 0)

    @property
    def damage(self):
        """Crash, assertion failure or detected corruption: what the window shows."""
        return (self.signal_name is not None or self.assertions > 0
                or self.corruptions > 0 or self.claim_overlaps > 0)

    def describe(self):
        if self.passed:
            return "PASS"
        kinds = []
        if self.timeout:
            kinds.append("timeout")
        if self.signal_name:
            kinds.append("crash " + self.signal_name)
        if self.assertions:
            kinds.append("assertion")
        if self.tsan_reports:
            kinds.append("%d TSan reports (%d on owner)" % (self.tsan_reports, self.owner_reports))
        if self.corruptions:
            kinds.append("%d corruptions" % self.corruptions)
        if self.claim_overlaps:
            kinds.append("%d claim overlaps" % self.claim_overlaps)
        if not self.explained:
            kinds.append("exit %s, result %s" % (self.exit_code, self.result_line))
        return "FAIL: " + ", ".join(kinds)


def signal_name(number):
    try:
        return signal.Signals(number).name[3:]
    except ValueError:
        return "SIG%d" % number


def parse_output(text, result):
    in_report = False
    report_on_owner = False
    for line in text.splitlines():
        if RE_TSAN_WARNING.search(line):
            if in_report and report_on_owner:
                result.owner_reports += 1
            result.tsan_reports += 1
            in_report, report_on_owner = True, False
            continue
        if in_report:
            if RE_OWNER_FRAME.match(line):
                report_on_owner = True
            elif RE_TSAN_END.match(line):
                if report_on_owner:
                    result.owner_reports += 1
                in_report, report_on_owner = False, False
            continue
        if RE_ASSERTION.search(line):
            result.assertions += 1
            continue
        match = RE_COUNTER.match(line)
        if match:
            key, value = match.group(1), int(match.group(2))
            # the last value wins: the summary, the crash handler's or the watchdog's
            if key == "corruptions":
                result.corruptions = value
            elif key == "claim_overlaps":
                result.claim_overlaps = value
            elif key == "crash_signal" and result.signal_name is None and value > 0:
                result.signal_name = signal_name(value)
            continue
        match = RE_RESULT.match(line)
        if match:
            result.result_line = match.group(1)
            continue
        if RE_WATCHDOG.match(line):
            result.timeout = True
            continue
        match = RE_TSAN_DEADLY.search(line)
        if match and result.signal_name is None:
            result.signal_name = match.group(1)
    if in_report and report_on_owner:
        result.owner_reports += 1


def run_once(program, args, env, timeout, log_path):
    result = RunResult()
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen([program] + args, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            result.timeout = True
            try:
                os.killpg(process.pid, signal.SIGKILL)   # our own process group
            except ProcessLookupError:
                pass
            returncode = process.wait()
    result.seconds = time.monotonic() - started
    with open(log_path, "r", encoding="utf-8", errors="replace") as log:
        parse_output(log.read(), result)
    if not result.timeout:
        if returncode < 0:
            result.signal_name = signal_name(-returncode)
        else:
            result.exit_code = returncode
    return result


class Cell:
    """All runs of one test in one mode."""

    def __init__(self, mode, test):
        self.mode, self.test = mode, test
        self.runs = []

    def count(self, predicate):
        return sum(1 for r in self.runs if predicate(r))

    def total(self, attribute):
        return sum(getattr(r, attribute) for r in self.runs)

    def runs_and_total(self, attribute):
        runs = self.count(lambda r: getattr(r, attribute) > 0)
        if runs == 0:
            return "0"
        return "%d (%d)" % (runs, self.total(attribute))

    def row(self):
        crashes = [r.signal_name for r in self.runs if r.signal_name]
        if crashes:
            by_signal = {}
            for name in crashes:
                by_signal[name] = by_signal.get(name, 0) + 1
            crash_text = "%d (%s)" % (len(crashes), ", ".join(
                "%s %d" % (name, by_signal[name]) for name in sorted(by_signal)))
        else:
            crash_text = "0"
        if self.mode.tsan:
            races = self.runs_and_total("tsan_reports")
            owner = self.runs_and_total("owner_reports")
        else:
            races = owner = "-"
        other = self.count(lambda r: not r.passed and not r.explained)
        seconds = sum(r.seconds for r in self.runs)
        return [self.mode.name, self.test, str(len(self.runs)),
                str(self.count(lambda r: r.passed)), str(self.count(lambda r: not r.passed)),
                crash_text, str(self.count(lambda r: r.timeout)), races, owner,
                self.runs_and_total("assertions"), self.runs_and_total("corruptions"),
                self.runs_and_total("claim_overlaps"), str(other), str(self.total("attempts")), "%.1f" % seconds]


HEADER = ["mode", "test", "runs", "passed", "failed", "crashes", "timeouts",
          "TSan races", "owner races", "assertions", "corruptions", "claim overlaps",
          "other", "attempts", "wall s"]


def combined_cell(mode, cells):
    total = Cell(mode, "(all)")
    for cell in cells:
        total.runs.extend(cell.runs)
    return total


def format_text_table(rows):
    widths = [max(len(row[i]) for row in [HEADER] + rows) for i in range(len(HEADER))]

    def line(row):
        return "  ".join(value.ljust(widths[i]) if i < 2 else value.rjust(widths[i])
                         for i, value in enumerate(row))
    out = [line(HEADER), "  ".join("-" * w for w in widths)]
    previous_mode = None
    for row in rows:
        if previous_mode is not None and row[0] != previous_mode:
            out.append("")
        previous_mode = row[0]
        out.append(line(row))
    return "\n".join(out)


def format_markdown_table(rows):
    out = ["| " + " | ".join(HEADER) + " |",
           "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADER) - 2)) + "|"]
    for row in rows:
        cells = list(row)
        if cells[1] == "(all)":
            cells = ["**%s**" % c for c in cells]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def verdict(modes, cells, tests, runs):
    """Returns (ok, lines)."""
    lines = []
    ok = True
    by_mode = {m.name: [cells[(m.name, t)] for t in tests] for m in modes}

    normal_modes = [m for m in modes if not m.legacy]
    legacy_tsan = [m for m in modes if m.legacy and m.tsan]
    legacy_pause = [m for m in modes if m.legacy and m.pause and not m.tsan]
    if not normal_modes or not legacy_tsan or not legacy_pause:
        ok = False
        lines.append("FAIL  incomplete: the verdict needs a normal mode, a legacy+tsan mode and a "
                     "legacy+pause mode")

    for mode in normal_modes:
        all_runs = [r for c in by_mode[mode.name] for r in c.runs]
        bad = [r for r in all_runs if not r.passed]
        if bad:
            ok = False
            lines.append("FAIL  %s: %d of %d runs failed (the normal build must be clean)"
                         % (mode.name, len(bad), len(all_runs)))
        else:
            lines.append("ok    %s: %d of %d runs passed, no failure of any kind"
                         % (mode.name, len(all_runs), len(all_runs)))

    for mode in legacy_tsan:
        all_runs = [r for c in by_mode[mode.name] for r in c.runs]
        with_owner = [r for r in all_runs if r.owner_reports > 0]
        status = "ok   " if len(with_owner) == len(all_runs) and all_runs else "FAIL "
        if status != "ok   ":
            ok = False
        lines.append("%s %s: race on the owner field reported in %d of %d runs (%d TSan reports, %d on the owner; "
                     "%d attempts)"
                     % (status, mode.name, len(with_owner), len(all_runs),
                        sum(r.tsan_reports for r in all_runs), sum(r.owner_reports for r in all_runs),
                        sum(r.attempts for r in all_runs)))

    for mode in legacy_pause:
        all_runs = [r for c in by_mode[mode.name] for r in c.runs]
        failed = [r for r in all_runs if not r.passed]
        damaged = [r for r in all_runs if r.damage]
        good = bool(all_runs) and len(failed) == len(all_runs) and damaged
        if not good:
            ok = False
        lines.append("%s %s: %d of %d runs failed; %d with a crash, assertion failure or detected corruption "
                     "(%d attempts)"
                     % ("ok   " if good else "FAIL ", mode.name, len(failed), len(all_runs), len(damaged),
                        sum(r.attempts for r in all_runs)))

    for mode in modes:
        if mode.legacy and mode not in legacy_tsan and mode not in legacy_pause:
            all_runs = [r for c in by_mode[mode.name] for r in c.runs]
            failed = [r for r in all_runs if not r.passed]
            lines.append("info  %s: %d of %d runs failed (not part of the verdict)"
                         % (mode.name, len(failed), len(all_runs)))
    return ok, lines


def shows_bug(mode, result):
    """Did a run of a verdict legacy mode show what the verdict asks of it?"""
    if mode.tsan:
        return result.owner_reports > 0
    return not result.passed


def run_attempts(mode, program, test_args, env, timeout, log_base, max_attempts):
    """One run of a test: in the verdict's legacy modes, attempted again while
    it does not show the bug (at most max_attempts in all). Returns the first
    attempt that showed it, or the last one, with the wall time of all."""
    in_verdict = mode.legacy and (mode.tsan or mode.pause)
    seconds = 0.0
    for attempt in range(1, (max_attempts if in_verdict else 1) + 1):
        log_path = log_base + (".log" if attempt == 1 else "-attempt%d.log" % attempt)
        result = run_once(program, test_args, env, timeout, log_path)
        seconds += result.seconds
        result.attempts = attempt
        if not in_verdict or shows_bug(mode, result):
            break
    result.seconds = seconds
    return result


def run_command(command, log):
    log.write(("$ " + " ".join(command) + "\n").encode())
    log.flush()
    return subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def build_all(source_dir, build_dir, keys, tests, jobs):
    """Configures and builds the trees; returns {key: test directory}."""
    os.makedirs(os.path.join(build_dir, "logs"), exist_ok=True)
    test_dirs = {}
    for key in sorted(keys):
        name, arguments = BUILDS[key]
        tree = os.path.join(build_dir, name)
        log_path = os.path.join(build_dir, "logs", "build-%s.log" % name)
        print("legacy-report: building %-12s in %s (log: %s)" % (name, tree, log_path), flush=True)
        started = time.monotonic()
        with open(log_path, "wb") as log:
            status = run_command(["cmake", "-S", source_dir, "-B", tree, "-DMI_BUILD_TESTS=ON",
                                 "-DMI_TEST_LEGACY_REPORT=OFF"] + arguments, log)
            if status == 0:
                status = run_command(["cmake", "--build", tree, "--target"] + tests + ["-j%d" % jobs], log)
        if status != 0:
            print("legacy-report: build of '%s' failed (exit %d); last lines of %s:" % (name, status, log_path))
            with open(log_path, "r", encoding="utf-8", errors="replace") as log:
                for line in log.read().splitlines()[-30:]:
                    print("  " + line)
            sys.exit(2)
        print("legacy-report:   done in %.0f s" % (time.monotonic() - started), flush=True)
        test_dirs[key] = os.path.join(tree, "test")
    return test_dirs


def mode_environment(mode, pause_us, timeout):
    env = dict(os.environ)
    env.pop("MI_TEST_CLAIM_PAUSE_US", None)
    if mode.pause:
        env["MI_TEST_CLAIM_PAUSE_US"] = str(pause_us)
    if mode.tsan:
        env["TSAN_OPTIONS"] = TSAN_OPTIONS
    else:
        env.pop("TSAN_OPTIONS", None)
    # let the test's own watchdog report a hang (with its counters) before we kill it
    env["MI_TEST_WATCHDOG_SECONDS"] = "%g" % max(timeout - 5.0, timeout * 0.9)
    return env


def main():
    parser = argparse.ArgumentParser(
        description="Build the normal and the legacy (raw ownership) trees, run the mt tests "
                    "in each mode and print the before/after table.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--runs", type=int, default=2,
                        help="runs of every test in every mode (default 2: about 4 minutes of "
                             "runs on 2 cores, plus the builds)")
    parser.add_argument("--build-dir", default=None,
                        help="where the four build trees go (default: <repo>/build/report)")
    parser.add_argument("--source-dir", default=None, help="the project (default: this script's repo)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="comma-separated modes (default: %(default)s)")
    parser.add_argument("--tests", default=",".join(TESTS),
                        help="comma-separated tests (default: %(default)s)")
    parser.add_argument("--pause-us", type=int, default=200,
                        help="claim pause of the +pause modes, in microseconds (default 200)")
    parser.add_argument("--soak-seconds", type=float, default=3.0,
                        help="duration argument of mt-soak (default 3)")
    parser.add_argument("--timeout", type=float, default=240.0,
                        help="seconds before a run of a normal-build mode counts as hung (default 240)")
    parser.add_argument("--legacy-timeout", type=float, default=30.0,
                        help="the same for the legacy modes, where hangs are one of the expected "
                             "failures and a run that does not crash takes a few seconds (default 30)")
    parser.add_argument("--legacy-attempts", type=int, default=3,
                        help="attempts of a legacy+pause or legacy+tsan run that did not show the bug "
                             "before it counts as a pass (default 3); the normal modes get one")
    parser.add_argument("--jobs", type=int, default=2, help="build parallelism (default 2)")
    parser.add_argument("--no-build", action="store_true", help="reuse the existing build trees")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as markdown to FILE")
    args = parser.parse_args()

    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.legacy_attempts < 1:
        parser.error("--legacy-attempts must be at least 1")
    try:
        modes = [Mode(name.strip()) for name in args.modes.split(",") if name.strip()]
    except ValueError as error:
        parser.error(str(error))
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    for test in tests:
        if test not in TESTS:
            parser.error("unknown test '%s' (known: %s)" % (test, ", ".join(TESTS)))
    if not modes or not tests:
        parser.error("no modes or no tests selected")

    source_dir = os.path.abspath(args.source_dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    build_dir = os.path.abspath(args.build_dir or os.path.join(source_dir, "build", "report"))
    if shutil.which("cmake") is None:
        print("legacy-report: cmake not found", file=sys.stderr)
        return 2
    if any(m.tsan for m in modes) and shutil.which("clang") is None:
        print("legacy-report: clang not found (needed for the ThreadSanitizer builds)", file=sys.stderr)
        return 2

    started = time.monotonic()
    keys = {m.build_key for m in modes}
    if args.no_build:
        test_dirs = {k: os.path.join(build_dir, BUILDS[k][0], "test") for k in keys}
    else:
        test_dirs = build_all(source_dir, build_dir, keys, tests, args.jobs)
    build_seconds = time.monotonic() - started

    cells = {}
    for mode in modes:
        timeout = args.legacy_timeout if mode.legacy else args.timeout
        env = mode_environment(mode, args.pause_us, timeout)
        log_dir = os.path.join(build_dir, "logs", mode.name)
        os.makedirs(log_dir, exist_ok=True)
        for test in tests:
            cell = cells[(mode.name, test)] = Cell(mode, test)
            program = os.path.join(test_dirs[mode.build_key], test)
            if not os.access(program, os.X_OK):
                print("legacy-report: missing test program %s" % program, file=sys.stderr)
                return 2
            test_args = [("%g" % args.soak_seconds)] if test == "mt-soak" else []
            for run in range(1, args.runs + 1):
                log_base = os.path.join(log_dir, "%s-%d" % (test, run))
                result = run_attempts(mode, program, test_args, env, timeout, log_base, args.legacy_attempts)
                cell.runs.append(result)
                tries = " (attempt %d)" % result.attempts if result.attempts > 1 else ""
                print("legacy-report: [%-12s] %-11s run %d/%d: %-60s %6.1f s%s"
                      % (mode.name, test, run, args.runs, result.describe(), result.seconds, tries), flush=True)
    run_seconds = time.monotonic() - started - build_seconds

    rows = []
    for mode in modes:
        mode_cells = [cells[(mode.name, t)] for t in tests]
        rows.extend(c.row() for c in mode_cells)
        if len(tests) > 1:
            rows.append(combined_cell(mode, mode_cells).row())
    ok, verdict_lines = verdict(modes, cells, tests, args.runs)

    settings = ("runs %d per test and mode (legacy+pause and legacy+tsan: up to %d attempt%s of a run that "
                "did not show the bug); pause %d us in the +pause modes; mt-soak %g s; "
                "timeout %g s (legacy modes %g s); TSAN_OPTIONS=\"%s\""
                % (args.runs, args.legacy_attempts, "" if args.legacy_attempts == 1 else "s", args.pause_us,
                   args.soak_seconds, args.timeout, args.legacy_timeout, TSAN_OPTIONS))
    timing = "builds %.0f s, runs %.0f s, total %.0f s" % (build_seconds, run_seconds, time.monotonic() - started)
    print()
    print("==================== legacy report ====================")
    print(settings)
    print("cells: 'R (N)' = R runs with N in total; crashes by signal; '-' = not measured (no TSan)")
    print()
    print(format_text_table(rows))
    print()
    for line in verdict_lines:
        print(line)
    print(timing)
    print("logs: %s" % os.path.join(build_dir, "logs"))
    print("result: %s" % ("PASS (normal build clean, legacy build fails)" if ok else "FAIL"))
    print("========================================================", flush=True)

    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write("## Legacy report\n\n")
            out.write("%s.\n" % settings)
            out.write("Cells `R (N)`: R runs, N in total; `-`: not measured (no ThreadSanitizer). "
                      "See doc/ownership.md, section Reading the legacy report.\n\n")
            out.write(format_markdown_table(rows) + "\n\n")
            for line in verdict_lines:
                out.write("- `%s`\n" % line)
            out.write("\n%s. Result: **%s**.\n" % (timing, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
