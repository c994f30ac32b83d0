#!/usr/bin/env python3
"""Turn the runs recorded by bench/run.sh into a markdown report and a plot.

Reads runs.tsv (rep, workload, allocator, status, wall, maxrss_kb, cpu, minflt, summary)
and, when given, the callgrind TSV (allocator, mode, instructions per pair).
Writes OUT.md and, when gnuplot is installed, OUT.png (time and peak-RSS
ratios to mimalloc 2.0.9, grouped by workload).  Standard library only.
"""

import argparse
import csv
import datetime
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys

WORKLOAD_NOTES = {
    "small_churn": "1 thread, 8..1024 B churn",
    "mixed_sizes": "1 thread, 8 B..1 MiB",
    "realloc_growth": "string/vector growth",
    "larson": "server sim, tables traded between threads",
    "producer_consumer": "cross-thread frees through a ring",
    "false_sharing": "cache-scratch + cache-thrash",
    "thread_churn": "threads exit holding blocks",
    "large_blocks": "64 KiB..32 MiB, pages touched",
    "fragmentation": "scattered frees, size shifts",
    "refcount": "interpreter-style 16..48 B objects",
    "large_zeroed": "20 live zero-initialised 5..25 MiB blocks",
    "size_churn": "alloc/realloc/free, 16 B..64 MiB",
    "exit_one": "threads exit holding one 128 B block",
    "exit_one_long": "exit_one, 10x the rounds",
    "mstress": "2 threads x rounds, joined every round",
    "xstress": "32 threads x rounds, thread churn",
    "xstress_rof": "xstress with reclaim-on-free",
    "compile": "real clang++ -fsyntax-only of STL code",
    "interp": "real CPython (PYTHONMALLOC=malloc) script",
}


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def machine_facts(load):
    cpu = "?"
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    debian = read_text("/etc/debian_version").strip() or "?"
    try:
        gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        gcc = "?"
    return [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("kernel", platform.release()),
        ("Debian", debian),
        ("compiler (workloads)", gcc + ", -O2 -pthread"),
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("load average (1/5/15 min) at start / end", load or "?"),
    ]


def summary_fields(summary):
    fields = {}
    for item in summary.split():
        if "=" in item:
            key, value = item.split("=", 1)
            fields[key] = value
    return fields


def geometric_mean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def format_number(value, digits=3):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.{digits}f}"


def format_ratio(value):
    return "—" if value is None else f"{value:.2f}"


def markdown_table(header, rows, align_right_from=1):
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" if i < align_right_from else "---:" for i in range(len(header))) + "|")
    for row in rows:
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


class Results:
    def __init__(self, runs_path):
        self.rows = []
        with open(runs_path, encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                self.rows.append(row)
        self.workloads = []
        self.allocators = []
        for row in self.rows:
            if row["workload"] not in self.workloads:
                self.workloads.append(row["workload"])
            if row["allocator"] not in self.allocators:
                self.allocators.append(row["allocator"])

    def runs(self, workload, allocator):
        return [r for r in self.rows if r["workload"] == workload and r["allocator"] == allocator]

    def failure(self, workload, allocator):
        bad = [r for r in self.runs(workload, allocator) if r["status"] != "exit:0"]
        if not bad:
            return None
        return f"FAIL {bad[0]['status']} ({len(bad)}/{len(self.runs(workload, allocator))})"

    def median(self, workload, allocator, column):
        runs = self.runs(workload, allocator)
        if not runs or self.failure(workload, allocator):
            return None
        return statistics.median(float(r[column]) for r in runs)

    def ratio(self, workload, allocator, reference, column):
        """Median over the repetitions of allocator / reference within each
        repetition. Both ran back to back in a repetition, so a drift of the
        machine between repetitions (this VM's two vCPUs sharing a core or not
        changes cross-thread workloads up to 3x) divides out."""
        if self.failure(workload, allocator) or self.failure(workload, reference):
            return None
        base = {r["rep"]: float(r[column]) for r in self.runs(workload, reference)}
        ratios = [float(r[column]) / base[r["rep"]] for r in self.runs(workload, allocator)
                  if base.get(r["rep"])]
        return statistics.median(ratios) if ratios else None

    def median_field(self, workload, allocator, key):
        values = []
        for r in self.runs(workload, allocator):
            if r["status"] != "exit:0":
                continue
            value = summary_fields(r.get("summary") or "").get(key)
            if value is None:
                continue
            try:
                values.append(float(value.split("/")[0]))
            except ValueError:
                continue
        return statistics.median(values) if values else None


def pick_reference(allocators, prefix):
    for name in allocators:
        if name.startswith(prefix):
            return name
    return None


def value_table(results, column, scale, digits):
    rows = []
    for workload in results.workloads:
        row = [workload]
        for allocator in results.allocators:
            failure = results.failure(workload, allocator)
            if failure:
                row.append(failure)
                continue
            value = results.median(workload, allocator, column)
            row.append(format_number(None if value is None else value / scale, digits))
        rows.append(row)
    return markdown_table(["workload"] + results.allocators, rows)


def ratio_matrix(results, column, reference):
    matrix = {}
    for workload in results.workloads:
        for allocator in results.allocators:
            matrix[(workload, allocator)] = results.ratio(workload, allocator, reference, column)
    return matrix


def ratio_table(results, matrix):
    rows = []
    for workload in results.workloads:
        row = [workload]
        for allocator in results.allocators:
            failure = results.failure(workload, allocator)
            row.append("FAIL" if failure else format_ratio(matrix[(workload, allocator)]))
        rows.append(row)
    geo_row = ["**geometric mean**"]
    for allocator in results.allocators:
        values = [matrix[(w, allocator)] for w in results.workloads]
        present = [v for v in values if v is not None]
        mean = geometric_mean(present)
        cell = format_ratio(mean)
        if mean is not None:
            cell = f"**{cell}**"
            if len(present) < len(values):
                cell += f" ({len(present)}/{len(values)})"
        geo_row.append(cell)
    rows.append(geo_row)
    return markdown_table(["workload"] + results.allocators, rows)


def is_ours(allocator):
    return allocator == "ours" or allocator.startswith("ours-")


def best_peer_table(results, columns, limit):
    """Each workload against its best peer: for every measure, the peer with the
    lowest median, ours / that peer, and a mark where ours is above `limit`."""
    peers = [a for a in results.allocators if not is_ours(a)]
    header = ["workload"]
    for title, _ in columns:
        header += [f"best peer ({title})", f"ours / best ({title})"]
    rows = []
    over = {title: [] for title, _ in columns}
    for workload in results.workloads:
        row = [workload]
        for title, column in columns:
            candidates = [(results.median(workload, a, column), a) for a in peers]
            candidates = [(v, a) for v, a in candidates if v is not None]
            ours = results.median(workload, "ours", column)
            if not candidates or ours is None:
                row += ["—", "FAIL" if results.failure(workload, "ours") else "—"]
                continue
            best, name = min(candidates)
            ratio = results.ratio(workload, "ours", name, column)
            cell = format_ratio(ratio)
            if ratio is not None and ratio > limit:
                cell = f"**{cell}**"
                over[title].append(workload)
            row += [name, cell]
        rows.append(row)
    lines = [markdown_table(header, rows, align_right_from=1), ""]
    for title, _ in columns:
        names = ", ".join(over[title]) or "none"
        lines.append(f"- {title}: {len(over[title])} of {len(results.workloads)} workloads above "
                     f"{limit:.2f}x their best peer ({names})")
    return "\n".join(lines)


def detail_sections(results):
    parts = []
    if "fragmentation" in results.workloads:
        rows = []
        for allocator in results.allocators:
            fields = [results.median_field("fragmentation", allocator, k) for k in
                      ("live_kb", "rss_final_kb", "rss_empty_kb", "rss_peak_kb", "blowup")]
            if all(f is None for f in fields):
                rows.append([allocator] + ["—"] * 5)
                continue
            rows.append([allocator] + [format_number(None if f is None else f / 1024, 1) for f in fields[:4]]
                        + [format_ratio(fields[4])])
        parts.append("### Fragmentation workload: memory (MiB, medians)\n\n"
                     "`final` is the RSS after the last cycle with all survivors live, `empty` after freeing "
                     "everything (no trim call), `blowup` = final RSS / live bytes.\n\n"
                     + markdown_table(["allocator", "live", "final RSS", "empty RSS", "peak RSS", "blowup"], rows))
    if "false_sharing" in results.workloads:
        rows = []
        for allocator in results.allocators:
            fields = [results.median_field("false_sharing", allocator, k) for k in
                      ("scratch_seconds", "thrash_seconds", "scratch_shared_lines", "thrash_shared_lines")]
            rows.append([allocator] + [format_number(f) for f in fields[:2]]
                        + ["—" if f is None else f"{f:.0f}" for f in fields[2:]])
        parts.append("### False-sharing workload (medians)\n\n"
                     "Shared lines: of 64 sampled moments, how often two workers' live objects sat in the "
                     "same 64-byte cache line (0 is ideal; independent of how expensive bouncing is on "
                     "this machine).\n\n"
                     + markdown_table(["allocator", "scratch s", "thrash s", "scratch shared lines",
                                       "thrash shared lines"], rows))
    return "\n\n".join(parts)


def callgrind_section(path, allocators):
    if not path or not os.path.exists(path):
        return None
    data = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                data[(parts[0], parts[1])] = parts[2]
    if not data:
        return None
    rows = []
    for allocator in allocators:
        rows.append([allocator] + [data.get((allocator, mode), "—") for mode in ("fixed", "mixed", "batch")])
    return ("## Instructions per malloc+free pair (callgrind)\n\n"
            "`bench/callgrind.sh`: `alloc_pairs` run at N and 3N pairs, (I(3N) − I(N)) / 2N, so start-up "
            "cancels. Includes the loop's own ~10 instructions. fixed: 32 B; mixed: sizes 8..1024 B; "
            "batch: 64 mixed-size blocks allocated then freed in reverse.\n\n"
            + markdown_table(["allocator", "fixed 32 B", "mixed 8..1024 B", "batch of 64, mixed"], rows))


def gnuplot_write(results, panels, reference, out_prefix):
    """panels: (name, ratio matrix) pairs, one plot each, stacked."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return "gnuplot is not installed: no plot"
    data_path = out_prefix + ".plot.dat"
    labels = results.workloads + ["geomean"]
    cap = 4.0
    with open(data_path, "w", encoding="utf-8") as handle:
        for block, (_, matrix) in enumerate(panels):
            for label in labels:
                values = []
                for allocator in results.allocators:
                    if label == "geomean":
                        value = geometric_mean([matrix[(w, allocator)] for w in results.workloads])
                    else:
                        value = matrix[(label, allocator)]
                    values.append("NaN" if value is None else f"{min(value, cap):.4f}")
                handle.write(label + " " + " ".join(values) + "\n")
            if block < len(panels) - 1:
                handle.write("\n\n")
    columns = len(results.allocators)
    plots = []
    for index in range(columns):
        title = results.allocators[index]
        using = f"{index + 2}:xtic(1)" if index == 0 else f"{index + 2}"
        plots.append(f"'{data_path}' index INDEX using {using} title '{title}'")
    plot_line = ", ".join(plots)
    script = f"""
set terminal pngcairo size 1400,{500 * len(panels)} font 'sans,10' noenhanced
set output '{out_prefix}.png'
set multiplot layout {len(panels)},1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top
set xtics rotate by -30
set yrange [0:{cap}]
set xrange [-0.6:{len(labels) - 0.4}]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 front
"""
    for index, (name, _) in enumerate(panels):
        script += f"""set title '{name} relative to {reference} (median; lower is better; bars clipped at {cap:g})'
set ylabel '{name} / {reference}'
plot {plot_line.replace('INDEX', str(index))}
"""
    script += "unset multiplot\n"
    script_path = out_prefix + ".plot.gp"
    with open(script_path, "w", encoding="utf-8") as handle:
        handle.write(script)
    result = subprocess.run([gnuplot, script_path], capture_output=True, text=True, check=False)
    os.remove(script_path)
    os.remove(data_path)
    if result.returncode != 0:
        return "gnuplot failed: " + result.stderr.strip()[:300]
    clipped = []
    for name, matrix in panels:
        for (workload, allocator), value in matrix.items():
            if value is not None and value > cap:
                clipped.append(f"{name} {workload}/{allocator} = {value:.2f}")
    if clipped:
        return "CLIPPED:" + "; ".join(clipped)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument("--reps", required=True)
    parser.add_argument("--sizes", default="")
    parser.add_argument("--callgrind", default="")
    parser.add_argument("--commit", default="?", help="repository commit the run was made from")
    parser.add_argument("--load", default="", help="load averages at start and end, for the report")
    parser.add_argument("--out", required=True, help="output path prefix (without .md/.png)")
    parser.add_argument("--allocator", action="append", default=[], help="LABEL=PATH, for the report")
    args = parser.parse_args()

    results = Results(args.runs)
    if not results.rows:
        print("report.py: no runs recorded", file=sys.stderr)
        return 1
    mimalloc = pick_reference(results.allocators, "mimalloc-")
    glibc = "glibc" if "glibc" in results.allocators else None
    reference = mimalloc or glibc

    out = [f"# Allocator benchmarks: {args.mode} mode", ""]
    out.append("Produced by `bench/run.sh --" + args.mode + "`; every workload ran under every allocator via "
               "`LD_PRELOAD` (glibc: no preload), allocators interleaved within each repetition. "
               f"Repetitions: {args.reps}; the value tables give medians; a ratio is the median over the "
               "repetitions of the two allocators' ratio within each repetition (paired, so a drift of the "
               "machine between repetitions divides out).")
    out.append("")
    out.append("## Machine")
    out.append("")
    out.append(markdown_table(["", ""], [[k, v] for k, v in machine_facts(args.load)], align_right_from=2))
    out.append("")
    out.append("## Allocators")
    out.append("")
    out.append(markdown_table(["label", "library"], [a.split("=", 1) for a in args.allocator if "=" in a],
                              align_right_from=2))
    out.append("")
    out.append(f"`ours` was built from commit `{args.commit}` of this repository (release build).")
    out.append("")
    out.append("## Workloads and sizes")
    out.append("")
    sizes = dict(item.split("=", 1) for item in args.sizes.split() if "=" in item)
    out.append(markdown_table(["workload", "what", "size argument"],
                              [[w, WORKLOAD_NOTES.get(w, ""), sizes.get(w, "?")] for w in results.workloads],
                              align_right_from=2))
    out.append("")

    failures = [(w, a, results.failure(w, a)) for w in results.workloads for a in results.allocators
                if results.failure(w, a)]
    if failures:
        out.append("## Failures")
        out.append("")
        for workload, allocator, failure in failures:
            out.append(f"- **{workload}** under **{allocator}**: {failure}")
        out.append("")

    time_ratio = ratio_matrix(results, "wall", reference)
    rss_ratio = ratio_matrix(results, "maxrss_kb", reference)
    out.append("## Wall time (seconds, median)")
    out.append("")
    out.append(value_table(results, "wall", 1.0, 3))
    out.append("")
    if mimalloc:
        out.append(f"## Time ratio to {mimalloc} (lower is better)")
        out.append("")
        out.append(ratio_table(results, time_ratio))
        out.append("")
    if glibc:
        out.append("## Time ratio to glibc (lower is better)")
        out.append("")
        out.append(ratio_table(results, ratio_matrix(results, "wall", glibc)))
        out.append("")
    if "cpu" in results.rows[0]:
        out.append("## CPU time (user + system seconds, median)")
        out.append("")
        out.append("Less sensitive than wall time to other load on the machine, but it counts spinning and "
                   "yielding threads too.")
        out.append("")
        out.append(value_table(results, "cpu", 1.0, 3))
        out.append("")
        if mimalloc:
            out.append(f"## CPU time ratio to {mimalloc} (lower is better)")
            out.append("")
            out.append(ratio_table(results, ratio_matrix(results, "cpu", mimalloc)))
            out.append("")
    if "minflt" in results.rows[0]:
        out.append("## Minor page faults (thousands, median)")
        out.append("")
        out.append("Faults of the program and the processes it waited for (`ru_minflt`); each fault maps one "
                   "page (4 KiB, or 2 MiB when a transparent huge page is used).")
        out.append("")
        out.append(value_table(results, "minflt", 1000.0, 1))
        out.append("")
        if mimalloc:
            out.append(f"## Minor page faults ratio to {mimalloc} (lower is better)")
            out.append("")
            out.append(ratio_table(results, ratio_matrix(results, "minflt", mimalloc)))
            out.append("")
    out.append("## Peak RSS (MiB, median)")
    out.append("")
    out.append(value_table(results, "maxrss_kb", 1024.0, 1))
    out.append("")
    if mimalloc:
        out.append(f"## Peak RSS ratio to {mimalloc} (lower is better)")
        out.append("")
        out.append(ratio_table(results, rss_ratio))
        out.append("")
    if glibc:
        out.append("## Peak RSS ratio to glibc (lower is better)")
        out.append("")
        out.append(ratio_table(results, ratio_matrix(results, "maxrss_kb", glibc)))
        out.append("")
    if any(not is_ours(a) and a != "glibc" for a in results.allocators) or "glibc" in results.allocators:
        out.append("## Ours against each workload's best peer")
        out.append("")
        out.append("The best peer is the other allocator with the lowest median on that workload and measure; "
                   "the ratio is paired by repetition; bold: ours is more than 1.10x of it.")
        out.append("")
        columns = [("time", "wall"), ("peak RSS", "maxrss_kb")]
        if "minflt" in results.rows[0]:
            columns.append(("page faults", "minflt"))
        out.append(best_peer_table(results, columns, 1.10))
        out.append("")
    variants = [a for a in results.allocators if a.startswith("ours-")]
    if variants:
        out.append("## Build variants relative to ours (release)")
        out.append("")
        out.append("Time, CPU time and peak RSS of each variant divided by those of `ours` (medians).")
        out.append("")
        for title, column in (("time", "wall"), ("CPU time", "cpu"), ("peak RSS", "maxrss_kb")):
            if column not in results.rows[0]:
                continue
            matrix = ratio_matrix(results, column, "ours")
            sub = Results.__new__(Results)
            sub.rows, sub.workloads, sub.allocators = results.rows, results.workloads, variants
            out.append(f"### {title}")
            out.append("")
            out.append(ratio_table(sub, matrix))
            out.append("")
    details = detail_sections(results)
    if details:
        out.append("## Workload details")
        out.append("")
        out.append(details)
        out.append("")
    callgrind = callgrind_section(args.callgrind, results.allocators)
    if callgrind:
        out.append(callgrind)
        out.append("")

    panels = [("wall time", time_ratio), ("peak RSS", rss_ratio)]
    if "minflt" in results.rows[0]:
        panels.append(("minor page faults", ratio_matrix(results, "minflt", reference)))
    plot_problem = gnuplot_write(results, panels, reference, args.out)
    out.append("## Plot")
    out.append("")
    if plot_problem and not plot_problem.startswith("CLIPPED:"):
        out.append(plot_problem)
    else:
        out.append(f"![time, peak RSS and page faults relative to {reference}]({os.path.basename(args.out)}.png)")
        if plot_problem:
            out.append("")
            out.append("Bars clipped at the top of the plot: " + plot_problem[len("CLIPPED:"):] + ".")
    out.append("")

    with open(args.out + ".md", "w", encoding="utf-8") as handle:
        handle.write("\n".join(out).rstrip("\n") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
