#!/usr/bin/env python3
"""Turns one ruler-gen output folder (DIR/<len>/<task>.ids.jsonl, written with --token-ids)
into a compact .npz the trainer loads without parsing JSON in its own process.

Per sample the row is BOS + input_ids + output_ids + EOS (ids of the Llama-2 SPM vocabulary);
``ans`` is the index in the row of the first output token (the answer starts there).

usage: convert_ids.py GEN_DIR OUT.npz      (writes OUT.npz.tmp, then renames: atomic for pollers)
"""
import glob
import json
import os
import sys

import numpy as np

BOS, EOS = 1, 2


def convert(gen_dir, out):
    rows, ans, tasks, lengths = [], [], [], []
    for path in sorted(glob.glob(os.path.join(gen_dir, "*", "*.ids.jsonl"))):
        target = int(os.path.basename(os.path.dirname(path)))
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                inp, outp = r["input_ids"], r["output_ids"]
                rows.append(np.asarray([BOS] + inp + outp + [EOS], dtype=np.int32))
                ans.append(1 + len(inp))
                tasks.append(r["task"])
                lengths.append(target)
    if not rows:
        raise SystemExit(f"convert_ids: no samples under {gen_dir}")
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rows])
    np.savez(out + ".tmp.npz", tokens=np.concatenate(rows), offsets=offsets, ans=np.asarray(ans, dtype=np.int32),
             task=np.asarray(tasks), target=np.asarray(lengths, dtype=np.int32))
    os.replace(out + ".tmp.npz", out)
    print(f"convert_ids: {gen_dir} -> {out}: {len(rows)} samples, {offsets[-1]} tokens", flush=True)


if __name__ == "__main__":
    convert(sys.argv[1], sys.argv[2])
