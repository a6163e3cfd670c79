#!/usr/bin/env python3
"""The bytes-moved bound's companion for GPU latency tables: fits full attention's decode time
t = a + b * attended rows over every length of one pass (the engine CSV's prefill-filled rows
and the methods CSV's synthetic ones; median of the runs' means) and gives each Recycled row the
bound that line implies, t_full(L) / t_line(Recycled's attended rows). Where the weights stream
at the KV's rate the two bounds agree; where a weight format's kernel is slower per byte than
the attention kernel (Q8_0 on CUDA), the bytes-moved bound is out of every method's reach and
the fitted one says how close a method comes to its own cost floor.
   scripts/fit-latency-bound.py ENGINE_CSV METHODS_CSV [KV_BYTES_PER_ROW]
(KV_BYTES_PER_ROW: K and V of one token over all layers; default Llama-3.1-8B's F16 cache, 131072.)"""
import csv, statistics as st, sys
def med(rows, m, L, col="decode_ms_mean"):
    v = [float(r[col]) for r in rows if r["method"] == m and int(r["length"]) == L]
    return st.median(v)
if len(sys.argv) < 3:
    sys.exit(__doc__)
for t in (sys.argv[1],):
    eng = list(csv.DictReader(open(sys.argv[1])))
    met = list(csv.DictReader(open(sys.argv[2])))
    pts = []
    for rows in (eng, met):
        for L in sorted({int(r["length"]) for r in rows}):
            rr = [r for r in rows if r["method"] == "full" and int(r["length"]) == L]
            pts.append((float(rr[0]["attended_rows_mean"]), med(rows, "full", L)))
    n = len(pts); mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
    b = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts); a = my - b * mx
    kv_row = int(sys.argv[3]) if len(sys.argv) > 3 else 32 * 8 * 128 * 2 * 2
    print(f"full attention t = {a:.3f} ms + {b * 1e3:.4f} ms per 1000 rows "
          f"(KV read at {kv_row / (b * 1e-3) / 1e12:.2f} TB/s; residuals "
          + ", ".join(f"{y - (a + b * x):+.3f}" for x, y in pts) + " ms)")
    for L in sorted({int(r["length"]) for r in met}):
        rows = [r for r in met if r["method"].startswith("recycled") and int(r["length"]) == L]
        if not rows:
            continue
        full, rec = med(met, "full", L), med(met, rows[0]["method"], L)
        attended = float(rows[0]["attended_rows_mean"])
        fitted = full / (a + b * attended)
        bytes_bound = float(rows[0]["bound_speedup"])
        print(f"  {L}: speedup {full / rec:.2f}x; bytes-moved bound {bytes_bound:.2f}x ({100 * full / rec / bytes_bound:.0f}%); "
              f"fitted-line bound {fitted:.2f}x ({100 * full / rec / fitted:.0f}%)")
