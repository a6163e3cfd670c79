#!/usr/bin/env python3
"""CPU probe: does the architecture learn in-context copying? usage: cpu_copy_probe.py LR [VOCAB]
(16 rows of BOS + 64 random tokens + the same 64 again per step; prints the loss on both copies)."""
import sys, time, torch, torch.nn.functional as F
import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T
torch.manual_seed(0)
V=int(sys.argv[2]) if len(sys.argv)>2 else 4000
cfg={"vocab": V, "d_model": 384, "layers": 6, "heads": 6, "kv_heads": 2, "head_dim": 64, "ffn": 1024, "eps": 1e-5, "rope_theta": 5e5, "max_len": 1024}
m=T.Model(cfg)
decay=[p for p in m.parameters() if p.dim()==2]; nd=[p for p in m.parameters() if p.dim()<2]
opt=torch.optim.AdamW([{"params":decay,"weight_decay":0.1},{"params":nd,"weight_decay":0.0}], lr=float(sys.argv[1]), betas=(0.9,0.95))
torch.set_num_threads(2)
t0=time.time()
for step in range(400):
    lr=float(sys.argv[1])*min(1,(step+1)/50)
    for g in opt.param_groups: g['lr']=lr
    half=torch.randint(3,V,(16,64))
    x=torch.cat([torch.ones(16,1,dtype=torch.long),half,half],1)
    logits=m(x[:,:-1])
    ce=F.cross_entropy(logits.reshape(-1,V),x[:,1:].reshape(-1),reduction='none').view(16,-1)
    loss=ce[:,64:].mean()+ce[:,:64].mean()
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(),1.0); opt.step()
    if step%20==0: print(step, round(time.time()-t0), 'first', round(ce[:,:63].mean().item(),3), 'second', round(ce[:,64:].mean().item(),3), flush=True)
