#!/usr/bin/env python3
"""Medians of the refresh-step runs (2026-12-03-refresh-step-cpu.sh): per build and length, full
attention's and Recycled's tokens/s (the median over runs of each run's mean step), and the median
step of each kind. A refresh step is one where a layer attended the whole cache (the steps file's
whole_cache_layers); the build before has no such column, so there it is step % 16 == 15 (S=16)."""
import csv, glob, os, statistics as st, sys

out = sys.argv[1]
for build in ("before", "after"):
    runs = {}   # (length, method) -> [mean step ms of each run]
    steps = {}  # (length, kind) -> [step ms]
    parts = {}  # (length, kind) -> {part: [ms]}
    for path in sorted(glob.glob(os.path.join(out, build + "-*-steps.csv"))):
        per_run = {}
        for r in csv.DictReader(open(path)):
            length, method = r["length"], r["method"]
            per_run.setdefault((length, method, r["sample_index"]), []).append(float(r["wall_ms"]))
            if method == "full":
                kind = "full step"
            elif r.get("whole_cache_layers"):
                kind = "refresh step" if int(r["whole_cache_layers"]) > 0 else "recycled step"
            else:
                kind = "refresh step" if int(r["step"]) % 16 == 15 else "recycled step"
            steps.setdefault((length, kind), []).append(float(r["wall_ms"]))
            for p in ("compute_ms", "readback_ms", "policy_ms"):
                parts.setdefault((length, kind), {}).setdefault(p, []).append(float(r[p]))
        for (length, method, _), v in per_run.items():
            runs.setdefault((length, method), []).append(st.mean(v))
    print(f"== {build}: {len(glob.glob(os.path.join(out, build + '-*-steps.csv')))} rounds")
    for length in sorted({k[0] for k in runs}, key=int):
        full = st.median(runs[(length, "full")])
        rec = st.median(runs[(length, "recycled:k=256,s=16")])
        print(f"{length:>6}  tokens/s  full {1000 / full:7.1f}  recycled:k=256,s=16 {1000 / rec:7.1f}  ratio {full / rec:.2f}x"
              f"  (runs: {len(runs[(length, 'full')])} and {len(runs[(length, 'recycled:k=256,s=16')])})")
        fs = st.median(steps[(length, "full step")])
        for kind in ("full step", "recycled step", "refresh step"):
            v = steps[(length, kind)]
            p = parts[(length, kind)]
            print(f"{length:>6}  {kind:<14} median {st.median(v):6.2f} ms  ({st.median(v) / fs:.2f}x full step; n={len(v)};"
                  f" compute {st.median(p['compute_ms']):.2f}, readback {st.median(p['readback_ms']):.2f},"
                  f" policy {st.median(p['policy_ms']):.2f})")
