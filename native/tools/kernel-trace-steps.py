#!/usr/bin/env python3
"""Splits a kernel-times trace (KERNEL_TIMES_TRACE, cuda-device.sh bench with KERNEL_TRACE=1) into decode
steps and says where a slow step's time went.

    kernel-trace-steps.py TRACE.csv[.gz] [--top N]

A step is the run of device work that starts with the host-to-device copies of its inputs: a
memcpy-htod that follows anything else opens a new one, and so does a record that comes more than
--gap ms (default 1) after a step's read-back (memcpy-dtoh): a policy's start runs its own graph
after a step's read-back, with no upload first. A pause anywhere else stays inside its step, as idle
time. CUPTI's count of records it dropped (a "lost" line) is reported, not read as a record; a last
line cut short (a killed process) is skipped. Steps whose kernel names come in the same
sequence are one kind (a decode step of one graph shape; a page-completing step is another kind).
Printed:
  - each kind: its kernels a step, how many steps, the median span (first kernel's start to the last
    one's end) and the median of the kernels' own time;
  - with --by-name N, each kind's N kernel names of most time a step: the median over its steps of the
    time of that name's kernels in a step, and how many a step (to set one kind against another: a
    refresh step against a full one, kernel by kernel; a kernel that overlaps another, as a launch
    waiting on the one before it does, counts its whole time);
  - every step of a kind whose span is over its kind's median by more than --slack ms (default 0.1):
    its place in the trace, whether it ran captured (the CUDA graph ids of its kernels; 0 means
    launched on its own), its idle time between kernels against the median's, and the --top kernel
    names whose time grew most against the median of the same kernel positions in that kind.
Only the standard library; the times are the device's own stamps, in milliseconds.
"""
import argparse
import csv
import gzip
import statistics
import sys
from collections import defaultdict


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    rows = []
    with opener(path, "rt", newline="") as f:
        for r in csv.DictReader(f):
            if r["kind"] == "lost":
                print("kernel-trace-steps: CUPTI lost records (%s): steps near them may be split wrongly" % r["name"],
                      file=sys.stderr)
                continue
            try:
                rows.append((r["kind"], r["name"], int(r["start_ns"]), int(r["end_ns"]), int(r["graph_id"])))
            except (TypeError, ValueError):
                continue  # a line cut short where the traced process was killed
    rows.sort(key=lambda r: (r[2], r[3]))
    return rows


def split_steps(rows, gap_ms=1.0):
    steps, current, last_kind, last_end = [], [], None, None
    for r in rows:
        opens = r[0] == "memcpy-htod" and last_kind is not None and last_kind != "memcpy-htod"
        idled = last_kind == "memcpy-dtoh" and r[2] - last_end > gap_ms * 1e6
        if (opens or idled) and current:
            steps.append(current)
            current = []
        current.append(r)
        last_kind = r[0]
        last_end = r[3] if last_end is None else max(last_end, r[3])
    if current:
        steps.append(current)
    return steps


def describe(step):
    kernels = [r for r in step if r[0] == "kernel"]
    if not kernels:
        return None
    span = (max(r[3] for r in step) - min(r[2] for r in step)) / 1e6
    busy = sum(r[3] - r[2] for r in kernels) / 1e6
    return {"kernels": kernels, "span": span, "busy": busy, "idle": span - busy,
            "graphs": sorted({r[4] for r in kernels}), "signature": tuple(r[1] for r in kernels)}


def short(name, width=70):
    return name if len(name) <= width else name[:width - 3] + "..."


def by_name(group, n):
    """The ``n`` kernel names of most time a step in ``group`` (steps of one kind), each (name, median ms a step,
    kernels of it a step)."""
    times = defaultdict(list)
    for d in group:
        per = defaultdict(float)
        for k in d["kernels"]:
            per[k[1]] += (k[3] - k[2]) / 1e6
        for name, ms in per.items():
            times[name].append(ms)
    counts = defaultdict(int)
    for k in group[0]["kernels"]:  # one kind: every step runs the same kernels
        counts[k[1]] += 1
    ranked = sorted(((name, statistics.median(v), counts[name]) for name, v in times.items()), key=lambda t: -t[1])
    return ranked[:n]


def report(rows, top=5, slack=0.1, min_kernels=50, gap=1.0, top_names=0):
    """The printed lines for trace records ``rows`` (kind, name, start_ns, end_ns, graph_id), sorted by start."""
    lines = []
    steps = [d for d in (describe(s) for s in split_steps(rows, gap)) if d and len(d["kernels"]) >= min_kernels]
    kinds = defaultdict(list)
    for i, d in enumerate(steps):
        d["index"] = i
        kinds[d["signature"]].append(d)
    names = {sig: "kind %d" % (n + 1) for n, sig in enumerate(sorted(kinds, key=lambda s: -len(kinds[s])))}
    lines.append("%d steps of %d kinds" % (len(steps), len(kinds)))
    for sig in sorted(kinds, key=lambda s: int(names[s].split()[1])):
        group = kinds[sig]
        span = statistics.median(d["span"] for d in group)
        busy = statistics.median(d["busy"] for d in group)
        idle = statistics.median(d["idle"] for d in group)
        lines.append("%s: %d kernels, %d steps (trace steps %d-%d), median span %.3f ms (kernels %.3f, idle %.3f)"
                     % (names[sig], len(sig), len(group), group[0]["index"], group[-1]["index"], span, busy, idle))
        for name, ms, count in by_name(group, top_names):
            lines.append("  %8.4f ms a step, %4d kernels  %s" % (ms, count, short(name, 100)))
        # each kernel position's median time in this kind, to set a slow step's kernels against
        medians = [statistics.median(d["kernels"][p][3] - d["kernels"][p][2] for d in group) for p in range(len(sig))]
        for d in group:
            if d["span"] - span <= slack:
                continue
            grew = defaultdict(float)
            for p, k in enumerate(d["kernels"]):
                grew[k[1]] += (k[3] - k[2] - medians[p]) / 1e6
            graphs = ",".join(str(g) for g in d["graphs"]) if len(d["graphs"]) <= 4 else "%d graphs" % len(d["graphs"])
            lines.append("  trace step %d: span %+.3f ms (kernels %+.3f, idle %+.3f), graph ids %s"
                         % (d["index"], d["span"] - span, d["busy"] - busy, d["idle"] - idle, graphs))
            for name, ms in sorted(grew.items(), key=lambda kv: -kv[1])[:top]:
                lines.append("    %+.4f ms  %s" % (ms, short(name)))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=5, help="kernel names shown a slow step (5)")
    ap.add_argument("--slack", type=float, default=0.1, help="ms over its kind's median that makes a step slow (0.1)")
    ap.add_argument("--gap", type=float, default=1.0, help="ms of device idle that opens a step (1)")
    ap.add_argument("--min-kernels", type=int, default=50, help="steps of fewer kernels are not decode steps (50)")
    ap.add_argument("--by-name", type=int, default=0, metavar="N",
                    help="each kind's N kernel names of most time a step (0: none)")
    a = ap.parse_args()
    for line in report(read(a.trace), a.top, a.slack, a.min_kernels, a.gap, a.by_name):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
