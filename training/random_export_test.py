#!/usr/bin/env python3
"""Writes a random-weight model in the trainer's output format (manifest.json + weights.NNN), with
weights scaled so that logits are confident, to test ExportGguf.java + llama.cpp against PyTorch
(RoPE orientation, GQA head mapping, tied output, norms) before any training run.
usage: random_export_test.py OUT_DIR [d_model layers heads kv_heads ffn]"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402

out = sys.argv[1]
d, layers, heads, kv, ffn = (int(x) for x in (sys.argv[2:7] if len(sys.argv) > 6 else (384, 6, 6, 2, 1024)))
cfg = {"vocab": 32000, "d_model": d, "layers": layers, "heads": heads, "kv_heads": kv, "head_dim": d // heads,
       "ffn": ffn, "eps": 1e-5, "rope_theta": 5e5, "max_len": 16384, "tied_embeddings": True}
torch.manual_seed(7)
m = T.Model(cfg)
with torch.no_grad():
    for n, p in m.named_parameters():
        if p.dim() == 2:
            # layer outputs (wo, w2) large against the embeddings, so that the argmax depends on attention
            # (RoPE, GQA) and not only on the current token through the tied output
            scale = 1.0 if n == "tok_emb.weight" else (6.0 if n.endswith(("wo.weight", "w2.weight")) else 1.0)
            p.normal_(0, scale if n == "tok_emb.weight" else scale / math.sqrt(p.shape[1]))
        else:
            p.uniform_(0.8, 1.2)
os.makedirs(out, exist_ok=True)
T.save_weights(m, cfg, out, {"steps": 0, "tokens": 0})
