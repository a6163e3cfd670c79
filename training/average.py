#!/usr/bin/env python3
"""Averages the weights of models of one lineage (same shape, e.g. a run and the run it
continued from) into the trainer's F16 dump, for ExportGguf: a weight-space interpolation
("model soup") that keeps what each model learnt when the later run traded one task for another.

usage: average.py [--steps N --tokens N] OUT_DIR MODEL_A.gguf[:w] MODEL_B.gguf[:w] ...
  (weights default to equal; --steps/--tokens: the training behind the result, for the GGUF's
  description, e.g. the whole lineage's)
Then: java -cp 'harness/target/lib/*' training/ExportGguf.java OUT_DIR VOCAB OUT.gguf Q8_0 NAME
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402


def main():
    args = sys.argv[1:]
    meta = {"steps": 0, "tokens": 0}
    while args and args[0] in ("--steps", "--tokens"):
        meta[args[0][2:]] = int(args[1])
        args = args[2:]
    if len(args) < 3:
        sys.exit(__doc__)
    out, specs = args[0], args[1:]
    paths, weights = [], []
    for s in specs:
        path, _, w = s.partition(":")
        paths.append(path)
        weights.append(float(w) if w else 1.0)
    total = sum(weights)
    if total <= 0 or any(w < 0 for w in weights):
        sys.exit("weights must be >= 0 with a positive sum")
    cfg = None
    acc = None
    for path, w in zip(paths, weights):
        kv, tensors = T.read_gguf(path)
        c = T.gguf_config(kv)
        if cfg is not None and c != cfg:
            sys.exit(f"{path}: shape {c} differs from {cfg}: only models of one shape can be averaged")
        cfg = c
        if acc is None:
            acc = {k: v * (w / total) for k, v in tensors.items()}
        else:
            if set(tensors) != set(acc):
                sys.exit(f"{path}: tensors differ from the first model's")
            for k, v in tensors.items():
                acc[k] = acc[k] + v * (w / total)
    model = T.Model(cfg)
    with torch.no_grad():
        for name, p in T.gguf_tensors(model):
            p.copy_(torch.from_numpy(acc[name].astype("float32")))
    os.makedirs(out, exist_ok=True)
    T.save_weights(model, cfg, out, {**meta, "averaged_from": [
        {"model": os.path.basename(p), "weight": w / total} for p, w in zip(paths, weights)]})


if __name__ == "__main__":
    main()
