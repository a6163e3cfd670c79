#!/usr/bin/env python3
"""CPU probe: does the architecture learn in-context copying (an induction head)?
usage: cpu_copy_probe.py LR [VOCAB] [STEPS]
Rows are train.py's copy-pairs rows (segments occurring twice at random offsets in random
ids; only the second occurrence is scored), so neither a fixed offset nor "repeat an id
already in the row" can lower the loss. (An earlier version repeated a 64-token half row
at a fixed offset: RoPE position alone solves that, so its success said nothing.)
Prints the training loss and a held-out loss/accuracy on second occurrences; chance is
ln(VOCAB - 100)."""
import math, os, sys, time
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T

torch.manual_seed(0)
lr = float(sys.argv[1])
V = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 400
L, ROWS, SEG = 256, 16, (8, 32)
cfg = {"vocab": V, "d_model": 384, "layers": 6, "heads": 6, "kv_heads": 2, "head_dim": 64, "ffn": 1024, "eps": 1e-5,
       "rope_theta": 5e5, "max_len": 1024}
m = T.Model(cfg)
emb = m.tok_emb.weight
decay = [p for p in m.parameters() if p.dim() == 2 and p is not emb]
nd = [p for p in m.parameters() if p.dim() < 2] + [emb]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nd, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95))
torch.set_num_threads(2)
rng, held = np.random.default_rng(1), np.random.default_rng(99)


def batch(r, n):
    made = [T.copy_pairs_row(r, L, (100, V), SEG) for _ in range(n)]
    return torch.from_numpy(np.stack([a for a, _ in made]).astype(np.int64)), torch.from_numpy(np.stack([c for _, c in made]))


hx, hc = batch(held, 32)
t0 = time.time()
for step in range(steps):
    for g in opt.param_groups:
        g["lr"] = lr * min(1, (step + 1) / 50)
    x, c = batch(rng, ROWS)
    present = torch.zeros(V, dtype=torch.bool)
    present[x.flatten()] = True
    logits = m(x[:, :-1], present=present)
    ce = F.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1), reduction="none").view(ROWS, -1)
    mask = (c == 4).float()
    loss = (ce * mask).sum() / mask.sum()
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()
    if step % 50 == 0:
        with torch.no_grad():
            hl = m(hx[:, :-1])
            hce = F.cross_entropy(hl.reshape(-1, V), hx[:, 1:].reshape(-1), reduction="none").view(32, -1)
            hm = (hc == 4).float()
            acc = ((hl.argmax(-1) == hx[:, 1:]).float() * hm).sum() / hm.sum()
        print(step, round(time.time() - t0), "train", round(loss.item(), 3), "held-out", round(((hce * hm).sum() / hm.sum()).item(), 3),
              "acc", round(acc.item(), 3), "chance", round(math.log(V - 100), 3), flush=True)
