import sys, time, math, json, argparse
sys.path.insert(0, "/work/main/training")
import numpy as np, torch, torch.nn.functional as F
import train as T
ap = argparse.ArgumentParser()
ap.add_argument("--name", required=True)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--L", type=int, default=256)
ap.add_argument("--rows", type=int, default=32)
ap.add_argument("--seg", type=int, nargs=2, default=[8, 32])
ap.add_argument("--lo", type=int, default=100)
ap.add_argument("--hi", type=int, default=4096)
ap.add_argument("--warmup", type=int, default=100)
ap.add_argument("--minutes", type=float, default=11.5)
ap.add_argument("--eval_rows", type=int, default=64)
ap.add_argument("--stop_acc", type=float, default=0.9)
ap.add_argument("--vocab", type=int, default=4096)
ap.add_argument("--d-model", type=int, default=128)
ap.add_argument("--heads", type=int, default=4)
ap.add_argument("--kv-heads", type=int, default=2)
ap.add_argument("--head-dim", type=int, default=32)
ap.add_argument("--ffn", type=int, default=256)
ap.add_argument("--seed", type=int, default=0, help="model init and training-data seed (0: as run.py); the eval rows stay fixed")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--bf16", action="store_true", help="bf16 autocast for the training forward pass, as the GPU trainer")
ap.add_argument("--match-init", type=int, default=0,
                help="vocab > this: copy the layers and the first rows of the embedding from the --seed model of this vocabulary (seed 0: the init of run.py)")
a = ap.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
cfg = dict(vocab=a.vocab, d_model=a.d_model, layers=a.layers, heads=a.heads, kv_heads=a.kv_heads, head_dim=a.head_dim, ffn=a.ffn,
           eps=1e-5, rope_theta=5e5, max_len=a.L + 8)
if a.match_init:
    small = T.Model(dict(cfg, vocab=a.match_init))
    torch.manual_seed(1 if a.seed == 0 else a.seed + 1000); model = T.Model(cfg)  # the extra rows (r5: seed 0 -> 1)
    with torch.no_grad():
        sd = small.state_dict(); full = model.state_dict()
        for k, v in sd.items():
            if k == "tok_emb.weight": full[k][:a.match_init] = v
            else: full[k].copy_(v)
    del small
else:
    model = T.Model(cfg)
emb = model.tok_emb.weight
decay = [p for p in model.parameters() if p.dim() == 2 and p is not emb]
no_decay = [p for p in model.parameters() if p.dim() < 2] + [emb]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
erng = np.random.default_rng(12345)
ev = [T.copy_pairs_row(erng, a.L, (a.lo, a.hi), tuple(a.seg)) for _ in range(a.eval_rows)]
EX = torch.from_numpy(np.stack([r for r, _ in ev]).astype(np.int64)); EC = torch.from_numpy(np.stack([c for _, c in ev]))
chance = math.log(a.hi - a.lo)
def logits(inp, sel, present=None):
    """model(inp) at the positions sel only (the tied output layer applied to the selected hidden states)."""
    cos, sin = model.tables(inp.device); t = inp.shape[1]
    x = model.tok_emb(inp)
    for layer in model.layers: x = layer(x, cos[:t], sin[:t])
    return F.linear(model.norm(x)[sel], model.output_weight(present))
def evaluate():
    model.eval()
    with torch.no_grad():
        lg = logits(EX[:, :-1], EC == 4)
        tgt = EX[:, 1:][EC == 4]
        cel = F.cross_entropy(lg, tgt).item()
        acc = (lg.argmax(-1) == tgt).float().mean().item()
    model.train()
    return cel, acc
rng = np.random.default_rng(1 + a.seed)
log = open(f"/tmp/plateau2/{a.name}.jsonl", "w")
print(json.dumps(vars(a)), "chance", round(chance, 3), "params", sum(p.numel() for p in model.parameters()), flush=True)
t0 = time.time(); step = 0; tok = 0; first50 = None; trl = []
while True:
    made = [T.copy_pairs_row(rng, a.L, (a.lo, a.hi), tuple(a.seg)) for _ in range(a.rows)]
    x = torch.from_numpy(np.stack([r for r, _ in made]).astype(np.int64)); c = torch.from_numpy(np.stack([cc for _, cc in made]))
    inp, tgt = x[:, :-1], x[:, 1:]
    for g in opt.param_groups: g["lr"] = a.lr * min(1.0, (step + 1) / a.warmup)
    present = torch.zeros(cfg["vocab"], dtype=torch.bool); present[x.reshape(-1)] = True
    sel = c == 4
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        lg = logits(inp, sel, present)
    loss = F.cross_entropy(lg.float(), tgt[sel])
    opt.zero_grad(set_to_none=True); loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
    step += 1; tok += a.rows * a.L; trl.append(loss.item())
    if step % 100 == 0:
        cel, acc = evaluate(); el = time.time() - t0
        rec = dict(step=step, tokens=tok, time=round(el, 1), sps=round(step / el, 2), train_ce=round(float(np.mean(trl)), 4),
                   eval_ce=round(cel, 4), eval_acc=round(acc, 4), gn=round(gn.item(), 3), chance=round(chance, 3))
        trl = []
        log.write(json.dumps(rec) + "\n"); log.flush(); print(json.dumps(rec), flush=True)
        if acc > 0.5 and first50 is None: first50 = (step, tok); print("PASS50", step, tok, flush=True)
        if acc > a.stop_acc or el > a.minutes * 60: break
print("DONE first50", first50, flush=True)
