"""Recycled Attention's decode steps inside a teacher-forced row, as the suite's engine runs them.

A RULER row is BOS + prompt + answer + EOS. Decoding it with the engine, the last prompt token
(position `first`) is step 0, a full step: the prefill attended every row, and that token's
attention builds Cp. The answer token at position first + j is decode step j. Steps j with
j % S == 0 are full steps (their output is ordinary causal attention, and their attention
rebuilds Cp); the others are recycled steps and attend only

  * Cp: the top-K positions of the last full step f's attention, per layer and KV head. The
    scores are the attention probabilities at f with each KV head's query-head group
    aggregated (max, mean or first) and max-pooled along positions, so that a peak at p raises
    [p - pool/2, p + reach]. Under the engine's default update (evict), Cp holds K entries, and
    every recycled step's own token takes the slot of the lowest-scored refreshed entry once Cp
    is full: at d steps after f, the refreshed entries of rank < K - d remain.
  * the tokens decoded since f: positions f + 1 .. f + d.

This mirrors core/src/main/java/org/rbench/core/recycled (RecycledAttention, TopRows,
RecycledCache), ties in position order included.

The selection uses no gradient (the top-K is not differentiable, as in the paper's continued
pre-training); the recycled steps' attention over the kept rows does, so the model learns to
decode from what a full step kept.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class RecycledConfig:
    k: int = 256
    stride: int = 16
    pool: int = 7
    reach: int = -1  # -1: pool // 2 (the symmetric window)
    aggregation: str = "max"  # max | mean | first

    def __post_init__(self):
        if self.k < 1 or self.stride < 1:
            raise ValueError(f"recycled: k and s must be >= 1, got k={self.k} s={self.stride}")
        if self.pool < 1 or self.pool % 2 == 0:
            raise ValueError(f"recycled: pool must be an odd kernel >= 1, got {self.pool}")
        if self.stride > self.k:
            # the engine would run out of Cp slots before the next full step and refresh early
            raise ValueError(f"recycled: s={self.stride} must not exceed k={self.k}")
        if self.aggregation not in ("max", "mean", "first"):
            raise ValueError(f"recycled: aggregation must be max, mean or first, got {self.aggregation}")

    @property
    def back(self):
        return self.pool // 2

    @property
    def forward_reach(self):
        return self.pool // 2 if self.reach < 0 else self.reach

    @staticmethod
    def parse(text):
        """'k=256,s=16[,pool=7][,reach=3][,gqa=max]', the suite's method parameters."""
        values = {}
        for part in filter(None, text.split(",")):
            key, _, value = part.partition("=")
            values[key.strip().lower()] = value.strip()
        unknown = set(values) - {"k", "s", "pool", "reach", "gqa"}
        if unknown:
            raise ValueError(f"recycled: unknown parameters {sorted(unknown)} in '{text}'")
        return RecycledConfig(k=int(values.get("k", 256)), stride=int(values.get("s", 16)),
                              pool=int(values.get("pool", 7)), reach=int(values.get("reach", -1)),
                              aggregation=values.get("gqa", "max"))


@dataclass
class DecodeSpans:
    """The rows of a batch that decode as Recycled does: batch index, first decode position (the
    last prompt token) and last decode position (the one that predicts EOS), LongTensors [R]."""
    rows: torch.Tensor
    first: torch.Tensor
    last: torch.Tensor
    config: RecycledConfig
    lookahead: bool = False  # the layers also compute lookahead_loss (train.py --recycled-lookahead)

    def __len__(self):
        return int(self.rows.numel())


@dataclass
class Schedule:
    """The decode steps of the rows in `spans` on one grid: step j of row r is at position
    first[r] + j (clamped to the row; `recycled` says which steps are real recycled steps), and
    recycles full step fi[j] = j // S, at position fpos[r, fi]."""
    steps: int
    j: torch.Tensor  # [n]
    d: torch.Tensor  # [n] steps since the last full step
    fi: torch.Tensor  # [n]
    pos: torch.Tensor  # [R, n]
    recycled: torch.Tensor  # [R, n] bool
    fpos: torch.Tensor  # [R, nF]

    @staticmethod
    def of(spans, T, device):
        stride = spans.config.stride
        first, last = spans.first, spans.last
        steps = int((last - first).max()) + 1
        j = torch.arange(steps, device=device)
        d = j % stride
        pos = first[:, None] + j[None, :]
        recycled = (pos <= last[:, None]) & (d != 0)[None, :]
        n_full = (steps - 1) // stride + 1
        fpos = (first[:, None] + stride * torch.arange(n_full, device=device)[None, :]).clamp(max=T - 1)
        return Schedule(steps, j, d, j // stride, pos.clamp(max=T - 1), recycled, fpos)


def scores(qr, kr, positions):
    """Scaled dot products of the queries at `positions` [R, n] with every key, in fp32:
    [R, Hkv, rep, n, T], the query heads grouped under the KV head they share (head h uses KV
    head h // rep). qr [R, H, T, D], kr [R, Hkv, T, D]."""
    R, H, T, D = qr.shape
    Hkv = kr.shape[1]
    n = positions.shape[1]
    qp = torch.gather(qr, 2, positions[:, None, :, None].expand(R, H, n, D)).float()
    s = (qp.view(R, Hkv, (H // Hkv) * n, D) @ kr.float().transpose(-1, -2)) / math.sqrt(D)
    return s.view(R, Hkv, H // Hkv, n, T)


def causal_probabilities(qr, kr, positions):
    """Each query's attention probabilities over the positions up to its own: [R, Hkv, rep, n, T]."""
    T = kr.shape[2]
    t = torch.arange(T, device=kr.device)
    future = t[None, None, None, None, :] > positions[:, None, None, :, None]
    return scores(qr, kr, positions).masked_fill(future, float("-inf")).softmax(-1)


def aggregate(p, aggregation):
    """A KV head's query-head group, [R, Hkv, rep, n, T] -> [R, Hkv, n, T], as the engine aggregates it."""
    if aggregation == "max":
        return p.amax(2)
    if aggregation == "mean":
        return p.mean(2)
    return p[:, :, 0]


def kept_ranks(qr, kr, fpos, config):
    """Cp of every full step: for each row, KV head and full step at fpos [R, nF], the rank of
    every position in that step's selection (0 = highest score) and the number of refreshed
    entries. qr [R, H, T, D] and kr [R, Hkv, T, D] after RoPE. Returns (rank [R, Hkv, nF, T]
    long, with T for positions not selected; refreshed [R, nF])."""
    R, T = qr.shape[0], qr.shape[2]
    Hkv = kr.shape[1]
    n_full = fpos.shape[1]
    # the selection in fp32 whatever the autocast around it, as the engine scores in F32
    with torch.no_grad(), torch.autocast(qr.device.type, enabled=False):
        a = aggregate(causal_probabilities(qr, kr, fpos), config.aggregation)
        back, reach = config.back, config.forward_reach
        if back + reach > 0:
            # pooled[x] = max of a[x - reach .. x + back]: a peak at p raises [p - back, p + reach]
            flat = F.pad(a.reshape(-1, 1, T), (reach, back), value=float("-inf"))
            a = F.max_pool1d(flat, back + reach + 1, stride=1).view(R, Hkv, n_full, T)
        t = torch.arange(T, device=qr.device)
        a = a.masked_fill(t[None, None, None, :] > fpos[:, None, :, None], float("-inf"))
        kk = min(config.k, T)
        # a stable descending sort puts ties in position order, as the engine does (max-pooling
        # makes plateaus of equal scores, so ties at the K cut and in the eviction order are common)
        values, idx = torch.sort(a, dim=-1, descending=True, stable=True)
        values, idx = values[..., :kk], idx[..., :kk]
        ranks = torch.arange(kk, device=qr.device).expand_as(idx).clone()
        ranks[values == float("-inf")] = T
        rank = torch.full((R, Hkv, n_full, T), T, dtype=torch.long, device=qr.device)
        rank.scatter_(-1, idx, ranks)
        refreshed = torch.minimum(fpos + 1, torch.full_like(fpos, config.k))
    return rank, refreshed


def rows_mask(qr, kr, spans, sched):
    """decode_mask on the rows of `spans` already gathered (qr, kr)."""
    cfg = spans.config
    T = qr.shape[2]
    rank, refreshed = kept_ranks(qr, kr, sched.fpos, cfg)
    with torch.no_grad():
        fi, d = sched.fi, sched.d
        free = (cfg.k - refreshed)[:, fi]  # Cp's slots the refresh left empty
        keep = refreshed[:, fi] - (d[None, :] - free).clamp(min=0)  # refreshed entries left at step d
        t = torch.arange(T, device=qr.device)
        kept = rank[:, :, fi, :] < keep[:, None, :, None]  # [R, Hkv, n, T]
        recent = (t[None, None, :] > sched.fpos[:, fi][:, :, None]) & (t[None, None, :] <= sched.pos[:, :, None])
        return kept | recent[:, None] | ~sched.recycled[:, None, :, None]


def decode_mask(q, k, spans):
    """Which rows each decode step of `spans` attends. q [B, H, T, D] and k [B, Hkv, T, D] after
    RoPE. Returns (allowed [R, Hkv, n, T] bool, recycled [R, n] bool: the steps that are recycled
    steps of their row, positions [R, n]); n is the longest row's decode steps, step j of row r at
    position first[r] + j. Rows of steps that are not recycled are all allowed (their outputs are
    not used)."""
    sched = Schedule.of(spans, q.shape[2], q.device)
    return rows_mask(q[spans.rows], k[spans.rows], spans, sched), sched.recycled, sched.pos


def recycled_attention(q, k, v, spans):
    """Outputs of the recycled decode steps of the rows in `spans`: (values [N, H*D], flat
    indices b*T + position [N]) for the caller to put in place of ordinary attention's outputs.
    q [B, H, T, D], k and v [B, Hkv, T, D] after RoPE, before any head repetition."""
    B, H, T, D = q.shape
    R = len(spans)
    sched = Schedule.of(spans, T, q.device)
    qr, kr, vr = q[spans.rows], k[spans.rows], v[spans.rows]
    allowed = rows_mask(qr, kr, spans, sched)
    s = scores(qr, kr, sched.pos).masked_fill(~allowed[:, :, None], float("-inf"))
    y = s.softmax(-1) @ vr.float()[:, :, None]  # [R, Hkv, rep, n, D]
    y = y.reshape(R, H, sched.steps, D).transpose(1, 2).reshape(R, sched.steps, H * D)
    sel = sched.recycled.nonzero(as_tuple=True)
    flat = spans.rows[sel[0]] * T + sched.pos[sel]
    return y[sel].to(q.dtype), flat


def lookahead_loss(q, k, spans):
    """A differentiable stand-in for "Cp holds what the next recycled steps need" (beyond the
    paper, whose continued pre-training leaves the selection without gradient): for every full
    step f of the rows in `spans` and each KV head, the cross-entropy from the rows that the
    recycled steps after f attend under full attention (their probabilities over positions <= f,
    the group's query heads averaged, the steps averaged; no gradient) to f's own attention as
    the selection scores it (the group aggregated as `config.aggregation` says). With max, one
    query head of a group can learn to look ahead while the others keep serving step f itself.
    Returns the mean over full steps that have recycled steps after them (0 if none)."""
    cfg = spans.config
    T = q.shape[2]
    sched = Schedule.of(spans, T, q.device)
    qr, kr = q[spans.rows], k[spans.rows]
    R, Hkv, n_full = qr.shape[0], kr.shape[1], sched.fpos.shape[1]
    fi, recycled = sched.fi, sched.recycled
    t = torch.arange(T, device=q.device)
    with torch.no_grad(), torch.autocast(q.device.type, enabled=False):
        need = causal_probabilities(qr, kr, sched.pos).mean(2)  # [R, Hkv, n, T]
        need = need.masked_fill(t[None, None, None, :] > sched.fpos[:, fi][:, None, :, None], 0.0)  # what Cp can hold
        need = need / need.sum(-1, keepdim=True).clamp(min=1e-12)
        need = need * recycled[:, None, :, None]
        target = torch.zeros(R, Hkv, n_full, T, device=q.device).index_add_(2, fi, need)
        count = torch.zeros(R, n_full, device=q.device).index_add_(1, fi, recycled.float())
        target = target / count[:, None, :, None].clamp(min=1)
    a = aggregate(causal_probabilities(qr, kr, sched.fpos), cfg.aggregation)
    ce = -(target * torch.log(a.clamp(min=1e-12))).sum(-1)  # [R, Hkv, nF]
    has = (count > 0)[:, None, :].expand_as(ce)
    return ce[has].mean() if bool(has.any()) else ce.sum() * 0.0
