#!/usr/bin/env python3
"""Decode ms/token against context, one row per method, one column per depth, from the CSVs of
`rbench bench` (cuda-device.sh's scaling step): the mean over repetitions of each run's mean step
(Recycled's full steps included) and, in brackets, the median over repetitions of the step median
(p50). The last column is the deepest depth's figure over the shallowest's, for the mean and the
p50; --within P marks a method whose ratio is within P% (the issue's check: Recycled at 512K within
10% of its own 8K figure). The plot: `rbench report CSV --out DIR` (plots/ms_per_token.png).

    scripts/scaling-table.py scaling-8b-q8_0.csv [--within 10]
"""
import argparse
import csv
import statistics
import sys


def label(tokens):
    # 131000 is "128K" as in the project's tables (a depth a little short of 2^17 leaves room for the steps)
    return f"{round(tokens / 1024)}K" if tokens % 1024 == 0 or tokens >= 100_000 else str(tokens)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--within", type=float, default=10.0, help="percent (default 10)")
    a = ap.parse_args()
    means, p50s, order = {}, {}, []
    for path in a.csv:
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r.get("kind") != "latency" or not r.get("decode_ms_mean") or not r.get("decode_ms_p50"):
                    continue  # not a latency row, or one without step times (llama-bench's)
                key = (r["method"], int(r["length"]))
                if r["method"] not in order:
                    order.append(r["method"])
                means.setdefault(key, []).append(float(r["decode_ms_mean"]))
                p50s.setdefault(key, []).append(float(r["decode_ms_p50"]))
    if not means:
        sys.exit("scaling-table: no latency rows in " + ", ".join(a.csv))
    depths = sorted({d for _, d in means})
    lo, hi = depths[0], depths[-1]
    print("| method | " + " | ".join(f"{label(d)} ms (p50)" for d in depths) + f" | {label(hi)} / {label(lo)} |")
    print("|---|" + "---|" * len(depths) + "---|")
    for m in order:
        cells = []
        for d in depths:
            k = (m, d)
            cells.append(f"{statistics.mean(means[k]):.2f} ({statistics.median(p50s[k]):.2f})" if k in means else "-")
        ratio = ""
        if (m, lo) in means and (m, hi) in means and lo != hi:
            rm = statistics.mean(means[(m, hi)]) / statistics.mean(means[(m, lo)])
            rp = statistics.median(p50s[(m, hi)]) / statistics.median(p50s[(m, lo)])
            ok = lambda r: " ✓" if abs(r - 1) * 100 <= a.within else ""
            ratio = f"{rm:.2f}{ok(rm)} ({rp:.2f}{ok(rp)})"
        print(f"| {m} | " + " | ".join(cells) + f" | {ratio} |")
    reps = sorted({len(v) for v in means.values()})
    print(f"\nRepetitions per cell: {', '.join(map(str, reps))}. ✓: within {a.within:g}% of the {label(lo)} figure.")


if __name__ == "__main__":
    main()
