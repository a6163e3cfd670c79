#!/usr/bin/env python3
"""Trains rbench's embedded long-context model (Llama architecture, Llama-2 SPM 32K vocabulary).

Data (all token ids made by the suite's own Java code, see training/README.md):
  DATA/lm/sotu.u16, moby-dick.u16   `rbench export-text`: State of the Union addresses (LM training)
                                    and Moby-Dick (held-out perplexity only)
  DATA/ready/*.npz                  `rbench ruler-gen --token-ids` with training seeds (>= 1000),
                                    converted by convert_ids.py; they appear while training runs
  DATA/eval/<len>/<task>.{jsonl,ids.jsonl}   ruler-gen with the evaluation seed 42 (held out)
Every row is one sample starting with BOS (id 1); nothing is packed. The schedule is
wall-clock based (the trainer has a fixed time budget): curriculum stage, cosine LR and the
end of training follow the elapsed fraction of the budget.

Outputs in OUT: weights.NNN (F16 tensors in GGUF order and orientation, split in <= 15 MiB
pieces), manifest.json (names, shapes, offsets, hyper-parameters), results.json (loss curve,
data mix, held-out accuracy per task and length, attention mass on position 0, perplexity).
"""
import argparse
import glob
import json
import math
import os
import re
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from recycled_decode import DecodeSpans, RecycledConfig, lookahead_loss, recycled_attention

BOS, EOS = 1, 2
TOK_NL, TOK_COLON, TOK_SPACE = 13, 29901, 29871
DIGITS = [29900, 29896, 29906, 29941, 29946, 29945, 29953, 29955, 29947, 29929]  # '0'..'9'
TASKS = ["niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2",
         "niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe"]
# sampling weights of RULER tasks in training rows (targets of the issue: niah and vt)
TASK_WEIGHTS = {"niah_single_1": 0.5, "niah_single_2": 1.0, "niah_single_3": 1.0, "niah_multikey_1": 1.0,
                "niah_multikey_2": 1.0, "niah_multikey_3": 1.5, "niah_multivalue": 1.0, "niah_multiquery": 1.0,
                "vt": 1.5, "cwe": 0.5, "fwe": 0.5}
# (start fraction of the time budget, {row length: probability of a step at that length})
DEFAULT_STAGES = [[0.00, {"1024": 0.5, "2048": 0.5}],
                  [0.15, {"4096": 0.85, "2048": 0.15}],
                  [0.45, {"8192": 0.75, "4096": 0.25}],
                  [0.82, {"16384": 0.5, "8192": 0.3, "4096": 0.2}]]
MIX = {"ruler": 0.5, "mqar": 0.3, "lm": 0.2, "copy": 0.0}  # default share of rows per step (a stage may set its own)
KINDS = ("ruler", "mqar", "lm", "copy")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ----------------------------------------------------------------------------- vocabulary (GGUF)
def read_gguf_vocab(path):
    """tokenizer.ggml.tokens and token_type from a GGUF file (a minimal reader, metadata only)."""
    kv, _ = _gguf_metadata(_gguf_bytes(path), path)
    return kv["tokenizer.ggml.tokens"], kv.get("tokenizer.ggml.token_type")


def read_gguf(path):
    """(metadata dict, {tensor name: float32 numpy array in PyTorch [out, in] orientation}) of a
    GGUF this trainer exported (F32, F16 and Q8_0 tensors: the types ExportGguf writes)."""
    buf = _gguf_bytes(path)
    kv, cur = _gguf_metadata(buf, path)
    infos = []
    for _ in range(kv["__n_tensors"]):
        name = cur.string()
        dims = [cur.take("Q") for _ in range(cur.take("I"))]
        infos.append((name, dims, cur.take("I"), cur.take("Q")))
    align = int(kv.get("general.alignment", 32))
    base = (cur.pos + align - 1) // align * align
    tensors = {}
    for name, ne, ty, off in infos:
        count = int(np.prod(ne))
        shape = list(reversed(ne))  # ggml ne[0] is the fastest dimension: PyTorch's last
        at = base + off
        if ty == 0:
            a = np.frombuffer(buf, np.float32, count, at)
        elif ty == 1:
            a = np.frombuffer(buf, np.float16, count, at).astype(np.float32)
        elif ty == 8:  # Q8_0: blocks of 32 values, an f16 scale then 32 int8
            blocks = np.frombuffer(buf, np.dtype([("d", "<f2"), ("q", "i1", 32)]), count // 32, at)
            a = (blocks["q"].astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise SystemExit(f"{path}: tensor {name} has ggml type {ty}; only F32, F16 and Q8_0 can be loaded")
        tensors[name] = a.reshape(shape)
    return kv, tensors


def _gguf_bytes(path):
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file")
    return buf


class _Cursor:
    """Little-endian reads at a moving offset of a GGUF's bytes."""

    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos

    def take(self, fmt):
        v = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v[0]

    def string(self):
        n = self.take("Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8", errors="replace")
        self.pos += n
        return s


def _gguf_metadata(buf, path):
    """The key-value metadata of a GGUF (version 2 or 3) and a cursor at its tensor infos;
    the tensor count is under the key "__n_tensors"."""
    cur = _Cursor(buf, 4)
    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t in scalar:
            return cur.take(scalar[t])
        if t == 8:
            return cur.string()
        if t == 9:
            et, n = cur.take("I"), cur.take("Q")
            return [value(et) for _ in range(n)]
        raise SystemExit(f"{path}: unknown GGUF value type {t}")

    version = cur.take("I")
    if version not in (2, 3):
        raise SystemExit(f"{path}: GGUF version {version} (2 or 3 expected)")
    n_tensors = cur.take("Q")
    kv = {"__n_tensors": n_tensors}
    for _ in range(cur.take("Q")):
        k = cur.string()
        kv[k] = value(cur.take("I"))
    return kv, cur


def gguf_config(kv, max_len=None):
    """The trainer's model config of a llama GGUF this trainer exported; max_len defaults to
    the GGUF's context length."""
    if kv.get("general.architecture") != "llama":
        raise SystemExit(f"--init: architecture {kv.get('general.architecture')!r}; this trainer makes llama models")
    d, heads = kv["llama.embedding_length"], kv["llama.attention.head_count"]
    return {"vocab": 32000, "d_model": d, "layers": kv["llama.block_count"], "heads": heads,
            "kv_heads": kv["llama.attention.head_count_kv"], "head_dim": d // heads, "ffn": kv["llama.feed_forward_length"],
            "eps": kv["llama.attention.layer_norm_rms_epsilon"], "rope_theta": kv["llama.rope.freq_base"],
            "max_len": max_len or kv["llama.context_length"], "tied_embeddings": True, "rope": "interleaved (adjacent pairs), llama.cpp NORM"}


def load_gguf_weights(model, path):
    """Copies a GGUF's tensors (dequantised) into the model; every parameter must be there with its shape."""
    _, tensors = read_gguf(path)
    params = gguf_tensors(model)
    missing = [n for n, _ in params if n not in tensors]
    if missing:
        raise SystemExit(f"--init {path}: no tensor {missing[0]} (and {len(missing) - 1} more missing)")
    for name, p in params:
        a = tensors[name]
        if list(a.shape) != list(p.shape):
            raise SystemExit(f"--init {path}: {name} has shape {list(a.shape)}, the model wants {list(p.shape)}")
        with torch.no_grad():
            p.copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return len(params)


class Detokenizer:
    def __init__(self, gguf):
        self.tokens, self.types = read_gguf_vocab(gguf)
        self.pieces = []
        for i, t in enumerate(self.tokens):
            ty = self.types[i] if self.types else 1
            m = re.fullmatch(r"<0x([0-9A-Fa-f]{2})>", t)
            if ty == 6 and m:
                self.pieces.append(bytes([int(m.group(1), 16)]))
            elif ty in (2, 3):  # unknown, control
                self.pieces.append(b"")
            else:
                self.pieces.append(t.replace("\u2581", " ").encode("utf-8"))

    def __call__(self, ids):
        return b"".join(self.pieces[i] for i in ids).decode("utf-8", errors="replace")

    def word_tokens(self):
        """Ids of whole-word pieces '▁abc' (lower-case letters, 3+), for synthetic keys and values."""
        return np.asarray([i for i, t in enumerate(self.tokens) if re.fullmatch("\u2581[a-z]{3,}", t)], dtype=np.int32)


# ----------------------------------------------------------------------------- RULER scoring
def postprocess(pred):
    return re.sub(r"[\x00-\x1f]", "\n", pred.strip())


def score(pred, refs, metric):
    p = postprocess(pred).lower()
    hits = [1.0 if r.lower() in p else 0.0 for r in refs]
    if metric == "string_match_part":
        return max(hits)
    return sum(hits) / len(hits)


# ----------------------------------------------------------------------------- model
class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        xf = x.float()
        return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight).to(x.dtype)


def rope_tables(head_dim, max_len, theta, device):
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    ang = torch.arange(max_len, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float().to(device), torch.sin(ang).float().to(device)


def apply_rope(x, cos, sin):
    """Interleaved (adjacent-pair) RoPE, as llama.cpp's LLAMA_ROPE_TYPE_NORM: pairs (2i, 2i+1)."""
    xf = x.float()
    x0, x1 = xf[..., 0::2], xf[..., 1::2]
    out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)
    return out.to(x.dtype)


HAS_SDPA = hasattr(F, "scaled_dot_product_attention")
USE_SDPA = HAS_SDPA  # --attention math turns it off (diagnostics: the explicit softmax path on any device)
COPY_VOCAB = (100, 32000)  # token id range of the copy rows (--copy-vocab)
COPY_SEG = (16, 512)  # segment lengths of copy rows (--copy-seg)
COPY_FORMAT = "repeat"  # --copy-format: repeat (segment repeated to the row's end) or pairs


def attention(q, k, v, causal):
    if USE_SDPA:
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    s = (q.float() @ k.float().transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if causal:
        tq, tk = q.shape[-2], k.shape[-2]
        mask = torch.ones(tq, tk, dtype=torch.bool, device=q.device).tril(tk - tq)
        s = s.masked_fill(~mask, float("-inf"))
    return (s.softmax(-1) @ v.float()).to(q.dtype)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, h, kv, hd, ff = cfg["d_model"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["ffn"]
        self.h, self.kv, self.hd = h, kv, hd
        self.attn_norm = RMSNorm(d, cfg["eps"])
        self.wq = nn.Linear(d, h * hd, bias=False)
        self.wk = nn.Linear(d, kv * hd, bias=False)
        self.wv = nn.Linear(d, kv * hd, bias=False)
        self.wo = nn.Linear(h * hd, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg["eps"])
        self.w1 = nn.Linear(d, ff, bias=False)  # gate (SiLU branch)
        self.w3 = nn.Linear(d, ff, bias=False)  # up
        self.w2 = nn.Linear(ff, d, bias=False)  # down
        self.capture = 0
        self.mass0 = None
        self.lookahead = None  # this forward's lookahead_loss, when its DecodeSpans ask for it

    def forward(self, x, cos, sin, cache=None, recycled=None):
        b, t, _ = x.shape
        hx = self.attn_norm(x)
        q = self.wq(hx).view(b, t, self.h, self.hd).transpose(1, 2)
        k = self.wk(hx).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.wv(hx).view(b, t, self.kv, self.hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            if cache.get("k") is not None:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        rep = self.h // self.kv
        kk = k.repeat_interleave(rep, dim=1) if rep > 1 else k
        vv = v.repeat_interleave(rep, dim=1) if rep > 1 else v
        causal = t > 1
        if causal and kk.shape[2] != t:
            raise ValueError("prefill must start at position 0")
        if self.capture and t > 1:  # prefill only: the last prompt positions
            n = min(self.capture, t)
            qs = q[:, :, -n:].float()
            s = qs @ kk.float().transpose(-1, -2) / math.sqrt(self.hd)
            tk = kk.shape[2]
            mask = torch.ones(n, tk, dtype=torch.bool, device=x.device).tril(tk - n)
            p = s.masked_fill(~mask, float("-inf")).softmax(-1)
            self.mass0 = p[..., 0].mean(dim=(0, 2)).cpu()  # per head
        y = attention(q, kk, vv, causal).transpose(1, 2).reshape(b, t, self.h * self.hd)
        self.lookahead = None
        if recycled is not None and len(recycled):
            # the recycled decode steps of these rows attend only what their last full step kept
            values, flat = recycled_attention(q, k, v, recycled)
            y = y.reshape(b * t, -1).index_copy(0, flat, values.to(y.dtype)).view(b, t, -1)
            if recycled.lookahead:
                self.lookahead = lookahead_loss(q, k, recycled)
        x = x + self.wo(y)
        hx = self.ffn_norm(x)
        return x + self.w2(F.silu(self.w1(hx)) * self.w3(hx))


class Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg["vocab"], cfg["d_model"])
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg["layers"]))
        self.norm = RMSNorm(cfg["d_model"], cfg["eps"])
        self.rope = None
        for n, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02
                if n.endswith("wo.weight") or n.endswith("w2.weight"):
                    std = 0.02 / math.sqrt(2 * cfg["layers"])
                nn.init.normal_(p, 0.0, std)

    def tables(self, device):
        if self.rope is None or self.rope[0].device != device:
            self.rope = rope_tables(self.cfg["head_dim"], self.cfg["max_len"], self.cfg["rope_theta"], device)
        return self.rope

    def forward(self, idx, caches=None, pos0=0, last_only=False, present=None, recycled=None):
        """present: optional bool [vocab] mask of the tokens in this training batch; the tied
        output layer then sends gradient only to their embedding rows (see output_weight).
        recycled: optional DecodeSpans, rows whose answer decodes as Recycled Attention does."""
        cos, sin = self.tables(idx.device)
        t = idx.shape[1]
        cos, sin = cos[pos0:pos0 + t], sin[pos0:pos0 + t]
        x = self.tok_emb(idx)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[i], recycled)
        x = self.norm(x)
        if last_only:
            x = x[:, -1:]
        return F.linear(x, self.output_weight(present))  # tied output

    def output_weight(self, present):
        """The tied output matrix. With Adam, the softmax's push-down gradient on tokens absent
        from a batch (always along the mean hidden state, amplified to full-size steps by Adam's
        normalisation) drags every rarely seen row onto one shared direction within a few hundred
        steps: runs 2 and 3 ended with random token rows at mean pairwise cosine 0.5-0.66, so
        RULER's keys became indistinguishable and no retrieval could form. Detaching the rows of
        absent tokens keeps them where their own uses put them."""
        w = self.tok_emb.weight
        if present is None:
            return w
        return torch.where(present[:, None], w, w.detach())


def gguf_tensors(model):
    """(gguf name, tensor) in GGUF order; PyTorch [out, in] matrices as they are."""
    out = [("token_embd.weight", model.tok_emb.weight), ("output_norm.weight", model.norm.weight)]
    for i, l in enumerate(model.layers):
        p = f"blk.{i}."
        out += [(p + "attn_norm.weight", l.attn_norm.weight), (p + "attn_q.weight", l.wq.weight),
                (p + "attn_k.weight", l.wk.weight), (p + "attn_v.weight", l.wv.weight),
                (p + "attn_output.weight", l.wo.weight), (p + "ffn_norm.weight", l.ffn_norm.weight),
                (p + "ffn_gate.weight", l.w1.weight), (p + "ffn_up.weight", l.w3.weight),
                (p + "ffn_down.weight", l.w2.weight)]
    return out


def save_weights(model, cfg, out_dir, extra, piece_bytes=15 << 20):
    tensors, blob, offset = [], [], 0
    for name, t in gguf_tensors(model):
        a = t.detach().float().cpu().numpy()
        if a.ndim == 2:
            a = a.astype(np.float16)
            assert np.isfinite(a).all(), name
            dtype = "f16"
        else:
            a = a.astype(np.float32)
            dtype = "f32"
        b = a.tobytes()
        tensors.append({"name": name, "torch_shape": list(a.shape), "ne": list(reversed(a.shape)), "dtype": dtype,
                        "offset": offset, "nbytes": len(b)})
        blob.append(b)
        offset += len(b)
    data = b"".join(blob)
    pieces = []
    for i in range(0, len(data), piece_bytes):
        name = f"weights.{i // piece_bytes:03d}"
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data[i:i + piece_bytes])
        pieces.append(name)
    manifest = {"config": cfg, "tensors": tensors, "pieces": pieces, "total_bytes": len(data),
                "byte_order": "little", **extra}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    log(f"saved {len(tensors)} tensors, {len(data)} bytes in {len(pieces)} pieces")


def load_weights(model, in_dir):
    with open(os.path.join(in_dir, "manifest.json")) as f:
        man = json.load(f)
    data = b"".join(open(os.path.join(in_dir, p), "rb").read() for p in man["pieces"])
    byname = dict(gguf_tensors(model))
    for t in man["tensors"]:
        a = np.frombuffer(data, dtype=np.float16 if t["dtype"] == "f16" else np.float32, count=int(np.prod(t["torch_shape"])),
                          offset=t["offset"]).reshape(t["torch_shape"])
        with torch.no_grad():
            byname[t["name"]].copy_(torch.from_numpy(a.astype(np.float32)))
    return man


@torch.no_grad()
def embedding_pair_cos(model, n=512, seed=0):
    """Mean pairwise cosine of n fixed random token rows (ids >= 100): near 0 for distinct rows,
    towards 1 when rarely seen rows collapse onto one direction (see Model.output_weight)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(100, model.cfg["vocab"], (n,), generator=g).to(model.tok_emb.weight.device)
    e = F.normalize(model.tok_emb.weight[idx].float(), dim=1)
    s = e @ e.T
    return float((s.sum() - n) / (n * (n - 1)))


# ----------------------------------------------------------------------------- data
class RulerPool:
    """RULER training samples by target length and task, loaded from DATA/ready/*.npz as they appear."""

    def __init__(self, ready_dir):
        self.dir = ready_dir
        self.seen = set()
        self.by = {}  # (length, task) -> list of (tokens, ans)
        self.samples = 0
        self.tokens = 0

    def poll(self):
        new = 0
        for path in sorted(glob.glob(os.path.join(self.dir, "*.npz"))):
            if path in self.seen or path.endswith(".tmp.npz"):
                continue
            self.seen.add(path)
            try:
                z = np.load(path)
                tokens, offs, ans, task, target = z["tokens"], z["offsets"], z["ans"], z["task"], z["target"]
            except Exception as e:  # a half-written file: retry next poll
                self.seen.discard(path)
                log("skip", path, e)
                continue
            for i in range(len(ans)):
                row = tokens[offs[i]:offs[i + 1]]
                self.by.setdefault((int(target[i]), str(task[i])), []).append((row, int(ans[i])))
                new += 1
                self.tokens += len(row)
            self.samples += len(ans)
        return new

    def lengths(self):
        return sorted({k[0] for k in self.by})

    def draw(self, length, rng):
        tasks = [t for t in TASKS if (length, t) in self.by]
        if not tasks:
            return None, None
        w = np.asarray([TASK_WEIGHTS[t] for t in tasks])
        t = tasks[rng.choice(len(tasks), p=w / w.sum())]
        lst = self.by[(length, t)]
        return t, lst[rng.integers(len(lst))]


class Batcher:
    def __init__(self, sotu, words, pool, rng):
        self.sotu, self.words, self.pool, self.rng = sotu, words, pool, rng
        self.rows = {k: 0 for k in KINDS}
        self.tokens = {k: 0 for k in KINDS}
        self.task_rows = {t: 0 for t in TASKS}
        self.length_tokens = {}

    def filler(self, n):
        if len(self.sotu) < n + 2:  # a short stand-in text: repeat it
            return np.resize(self.sotu, n).astype(np.int32)
        off = self.rng.integers(0, len(self.sotu) - n - 1)
        return self.sotu[off:off + n].astype(np.int32)

    def lm_row(self, L):
        row = np.concatenate([[BOS], self.filler(L)]).astype(np.int32)
        cls = np.ones(L, dtype=np.int8)
        return row, cls

    def mqar_row(self, L):
        """Multi-query associative recall in text-like tokens: key/value pairs hidden in prose, then
        many of the keys asked in random order; values are digit strings or word sequences."""
        rng = self.rng
        n = int(rng.integers(8, max(9, min(96, L // 40)) + 1))
        pairs, used = [], set()
        while len(pairs) < n:
            key = tuple(self.words[rng.integers(len(self.words), size=int(rng.integers(1, 3)))])
            if key in used:
                continue
            used.add(key)
            if rng.random() < 0.6:
                val = [TOK_SPACE] + [DIGITS[d] for d in rng.integers(10, size=int(rng.integers(4, 8)))]
            else:
                val = list(self.words[rng.integers(len(self.words), size=int(rng.integers(1, 4)))])
            pairs.append((list(key), val))
        m = int(rng.integers(max(1, n // 2), n + 1))
        asked = rng.permutation(n)[:m]
        seg = lambda k, v: k + [TOK_COLON] + v + [TOK_NL]
        need = 1 + 1 + sum(len(seg(k, v)) for k, v in pairs) + sum(len(seg(*pairs[i])) for i in asked)
        while need > L + 1 - 16 and len(asked) > 1:  # too long for the row: ask fewer
            need -= len(seg(*pairs[asked[-1]]))
            asked = asked[:-1]
        fill = L + 1 - need
        text = self.filler(max(fill, 0))
        cuts = np.sort(rng.integers(0, max(fill, 0) + 1, size=n))
        parts, prev = [np.asarray([BOS], np.int32)], 0
        for c, (k, v) in zip(cuts, pairs):
            parts.append(text[prev:c])
            parts.append(np.asarray(seg(k, v), np.int32))
            prev = c
        parts.append(text[prev:])
        parts.append(np.asarray([TOK_NL], np.int32))
        head = np.concatenate(parts)
        cls_parts = [np.ones(len(head), np.int8)]
        qs = []
        for i in asked:
            k, v = pairs[i]
            s = seg(k, v)
            c = np.ones(len(s), np.int8)
            c[len(k) + 1:] = 3  # value tokens and the newline are answers
            qs.append(np.asarray(s, np.int32))
            cls_parts.append(c)
        row = np.concatenate([head] + qs)[:L + 1]
        cls = np.concatenate(cls_parts)[1:L + 1]  # class of the target token at position t+1
        if len(row) < L + 1:
            row = np.concatenate([row, np.zeros(L + 1 - len(row), np.int32)])
            cls = np.concatenate([cls, np.zeros(L - len(cls), np.int8)])
        return row, cls

    def ruler_row(self, L):
        for _ in range(8):
            task, s = self.pool.draw(L, self.rng)
            if s is None:
                return None
            tokens, ans = s
            if len(tokens) > L + 1:
                continue
            row = np.zeros(L + 1, np.int32)
            row[:len(tokens)] = tokens
            cls = np.zeros(L, np.int8)
            cls[:len(tokens) - 1] = 1
            cls[ans - 1:len(tokens) - 1] = 2
            self.task_rows[task] += 1
            # decode steps: from the last prompt token (step 0) to the one that predicts EOS
            return row, cls, (ans - 1, len(tokens) - 2)
        return None

    def copy_row(self, L):
        """Induction trigger: a random token segment repeated to the end of the row; the repeats
        (class 4) are predictable only by looking back, the first copy is not trained on.
        Beware: with short segments "predict a token already in the row" lowers this loss
        without any induction (CPU experiments); judge by the probe (copy_pairs_rows)."""
        if COPY_FORMAT == "pairs":
            return copy_pairs_row(self.rng, L, COPY_VOCAB, COPY_SEG)
        rng = self.rng
        seg_len = int(rng.integers(COPY_SEG[0], max(COPY_SEG[0] + 1, min(COPY_SEG[1], L // 2)) + 1))
        seg = rng.integers(COPY_VOCAB[0], COPY_VOCAB[1], size=seg_len).astype(np.int32)
        body = np.resize(seg, L)
        row = np.concatenate([[BOS], body]).astype(np.int32)
        cls = np.full(L, 4, np.int8)
        cls[:seg_len] = 0  # targets row[1..seg_len]: the first copy
        return row, cls

    def batch(self, L, rows, mix=None):
        mix = mix or MIX
        p = np.asarray([mix.get(k, 0.0) for k in KINDS], dtype=np.float64)
        kinds = self.rng.choice(len(KINDS), size=rows, p=p / p.sum())
        X, C, spans = [], [], []
        for k in kinds:
            r = None
            name = KINDS[k]
            if name == "ruler":
                r = self.ruler_row(L)
                if r is None:
                    name = "mqar" if self.rng.random() < 0.6 else "lm"
            if name == "mqar":
                r = self.mqar_row(L)
            elif name == "lm":
                r = self.lm_row(L)
            elif name == "copy":
                r = self.copy_row(L)
            self.rows[name] += 1
            self.tokens[name] += int((r[1] > 0).sum()) + 1
            X.append(r[0])
            C.append(r[1])
            spans.append(r[2] if len(r) > 2 else None)
        self.length_tokens[L] = self.length_tokens.get(L, 0) + rows * L
        return np.stack(X), np.stack(C), spans


def copy_pairs_row(rng, L, vocab, seg):
    """Random ids in which segments occur twice, the second time after a random gap: only
    the second occurrence is trained (class 4; its first token, unpredictable, is not).
    Counting the ids already in the row does not help here, and the offset between the two
    occurrences varies, so only an induction head (match the previous token, copy the next)
    lowers this loss."""
    row = np.concatenate([[BOS], rng.integers(vocab[0], vocab[1], size=L)]).astype(np.int32)
    cls = np.zeros(L, np.int8)
    pos = 1
    while True:
        n = int(rng.integers(seg[0], max(seg[0] + 1, min(seg[1], L // 4)) + 1))
        lead, gap = int(rng.integers(0, 16)), int(rng.integers(8, 128))
        p1 = pos + lead
        p2 = p1 + n + gap
        if p2 + n > L + 1:
            break
        row[p2:p2 + n] = row[p1:p1 + n]  # the first occurrence is the filler already at p1
        cls[p2:p2 + n - 1] = 4  # targets row[p2 + 1 .. p2 + n - 1]
        pos = p2 + n
    return row, cls


class InductionProbe:
    """Held-out copy-pairs rows (fixed seed, the full id range): their loss on the second
    occurrences falls below chance only once the model retrieves in context."""

    def __init__(self, rows=32, length=512, seed=99, vocab=(100, 32000), seg=(8, 64)):
        rng = np.random.default_rng(seed)
        made = [copy_pairs_row(rng, length, vocab, seg) for _ in range(rows)]
        self.x = torch.from_numpy(np.stack([r for r, _ in made]).astype(np.int64))
        self.c = torch.from_numpy(np.stack([c for _, c in made]))
        self.chance = math.log(vocab[1] - vocab[0])

    @torch.no_grad()
    def loss(self, model, device, amp):
        model.eval()
        x, c = self.x.to(device), self.c.to(device)
        with amp():
            logits = model(x[:, :-1])
        ce = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="none")
        m = (c.reshape(-1) == 4).float()
        model.train()
        return float((ce * m).sum() / m.sum())


class Curriculum:
    """The stages of a run, by elapsed fraction of the time budget: [start, {length: p},
    mix, options]. Options (all optional):
      tokens_per_step  rows per step = this // length (default --tokens-per-step)
      copy_vocab       N: copy rows draw ids from [100, 100 + N) in this stage
      copy_seg         [MIN, MAX]: segment lengths of copy rows in this stage
      lr               "constant": no cosine decay while in this stage; the cosine runs over
                       the stages after it
      until_probe      r: leave the stage as soon as an induction probe drawn like this
                       stage's copy rows scores below r x its chance loss; the later stages
                       then start earlier, their start fractions rescaled over the time left
    The point of until_probe: in-context copying appears abruptly after a plateau whose
    length is not known in advance (runs/cpu-plateau), and the RULER stages are wasted
    before it."""

    def __init__(self, raw):
        self.starts, self.lengths, self.mixes, self.options = [], [], [], []
        for st in raw:
            self.starts.append(float(st[0]))
            self.lengths.append({int(k): float(v) for k, v in st[1].items()})
            self.mixes.append(st[2] if len(st) > 2 and st[2] else MIX)
            self.options.append(st[3] if len(st) > 3 else {})
        if not self.starts or self.starts[0] != 0.0 or sorted(self.starts) != self.starts:
            raise SystemExit(f"--stages: start fractions must begin at 0 and increase, got {self.starts}")
        self.floor = 0  # stages before this one were left early (until_probe)

    def index(self, frac):
        return max(self.floor, max(i for i, s in enumerate(self.starts) if s <= frac))

    def leave(self, i, frac):
        """Stage i ends now, at fraction frac: the next starts now, the rest are rescaled."""
        if i + 1 >= len(self.starts):
            return
        nxt = self.starts[i + 1]
        if frac < nxt:
            for j in range(i + 1, len(self.starts)):
                self.starts[j] = frac + (self.starts[j] - nxt) * (1 - frac) / (1 - nxt)
        self.floor = i + 1

    def lr_scale(self, i, frac, min_ratio):
        """1 in a constant stage; else a cosine from 1 to min_ratio over the non-constant time."""
        if self.options[i].get("lr") == "constant":
            return 1.0
        c0 = next((self.starts[j] for j in range(len(self.starts)) if self.options[j].get("lr") != "constant"), 0.0)
        progress = min(1.0, max(0.0, (frac - c0) / max(1e-9, 1 - c0)))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    def describe(self):
        return [[round(s, 4), {str(k): v for k, v in L.items()}, m, o]
                for s, L, m, o in zip(self.starts, self.lengths, self.mixes, self.options)]


# ----------------------------------------------------------------------------- evaluation
def load_eval(eval_dir, n):
    sets = []
    for length_dir in sorted(glob.glob(os.path.join(eval_dir, "*")), key=lambda p: int(os.path.basename(p)) if os.path.basename(p).isdigit() else 0):
        if not os.path.basename(length_dir).isdigit():
            continue
        L = int(os.path.basename(length_dir))
        for task in TASKS:
            ids_path, txt_path = os.path.join(length_dir, task + ".ids.jsonl"), os.path.join(length_dir, task + ".jsonl")
            if not (os.path.exists(ids_path) and os.path.exists(txt_path)):
                continue
            with open(ids_path) as f1, open(txt_path) as f2:
                items = []
                for a, b in zip(f1, f2):
                    ia, tb = json.loads(a), json.loads(b)
                    items.append({"input_ids": ia["input_ids"], "output_ids": ia["output_ids"],
                                  "outputs": tb["outputs"], "metric": tb["metric"],
                                  "max_new": tb["tokens_to_generate"], "index": tb["index"]})
                    if len(items) >= n:
                        break
            sets.append((L, task, items))
    return sets


@torch.no_grad()
def greedy(model, ids, max_new, device, amp, prefix=()):
    """Greedy decoding after BOS + ids with a KV cache; `prefix` is a known start of the generation
    (already verified to be greedy) that is prefilled with the prompt."""
    caches = [dict() for _ in model.layers]
    out = list(prefix)
    if len(out) >= max_new:
        return out[:max_new]
    x = torch.tensor([[BOS] + list(ids) + out], device=device)
    with amp():
        logits = model(x, caches=caches, pos0=0, last_only=True)
        pos = x.shape[1]
        while len(out) < max_new:
            tok = int(logits[0, -1].argmax())
            if tok == EOS:
                break
            out.append(tok)
            logits = model(torch.tensor([[tok]], device=device), caches=caches, pos0=pos, last_only=True)
            pos += 1
    return out


@torch.no_grad()
def teacher_forced(model, items, device, amp, max_tokens=65536, recycled=None):
    """One batched forward over BOS + prompt + reference answer + EOS per sample (right padding,
    causal: padding changes nothing before it). Greedy decoding reproduces the reference exactly as
    far as the argmax agrees with it; returns per item (j, tok): the first answer position where it
    does not and the argmax there (j = len(answer) + 1 and tok = EOS when all agree).
    recycled: a RecycledConfig under which every sample decodes its answer (recycled_decode.py)."""
    rows = [[BOS] + it["input_ids"] + it["output_ids"] + [EOS] for it in items]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    result = [None] * len(rows)
    i = 0
    while i < len(order):

        j = i
        while j < len(order) and (j - i + 1) * len(rows[order[j]]) <= max_tokens:
            j += 1
        j = max(j, i + 1)
        batch = order[i:j]
        T = max(len(rows[b]) for b in batch)
        x = torch.zeros(len(batch), T, dtype=torch.long)
        for r, b in enumerate(batch):
            x[r, :len(rows[b])] = torch.tensor(rows[b])
        spans = None
        if recycled is not None:
            spans = DecodeSpans(torch.arange(len(batch), device=device),
                                torch.tensor([len(items[b]["input_ids"]) for b in batch], device=device),
                                torch.tensor([len(rows[b]) - 2 for b in batch], device=device), recycled)
        with amp():
            am = model(x.to(device), recycled=spans).argmax(-1).cpu()
        for r, b in enumerate(batch):
            a = 1 + len(items[b]["input_ids"])
            ref = rows[b][a:]
            pred = am[r, a - 1:len(rows[b]) - 1].tolist()
            k = next((q for q in range(len(ref)) if pred[q] != ref[q]), None)
            result[b] = (len(ref), EOS) if k is None else (k, pred[k])
        i = j
    return result


def teacher_forced_whole_answers(model, flat, device, amp, recycled, tf_full=None):
    """Per task and length, the share of samples whose whole reference answer (and EOS) greedy
    decoding reproduces, with full attention and decoding as Recycled Attention does: a lower
    bound of the RULER score on both sides, from one teacher-forced pass each (tf_full: the
    full-attention pass, when the caller has it)."""
    was_training = model.training
    model.eval()
    if tf_full is None:
        tf_full = teacher_forced(model, [f[2] for f in flat], device, amp)
    tf_rec = teacher_forced(model, [f[2] for f in flat], device, amp, recycled=recycled)
    model.train(was_training)
    out = {}
    for (L, task, it), full, rec in zip(flat, tf_full, tf_rec):
        n = len(it["output_ids"]) + 1
        cell = out.setdefault(task, {}).setdefault(str(L), {"full": 0, "recycled": 0, "n": 0})
        cell["full"] += full[0] >= n
        cell["recycled"] += rec[0] >= n
        cell["n"] += 1
    for task in out.values():
        for cell in task.values():
            cell["full"] = 100.0 * cell["full"] / cell["n"]
            cell["recycled"] = 100.0 * cell["recycled"] / cell["n"]
    return out


def evaluate(model, sets, detok, device, amp, seconds, mass_samples=2, recycled=None, start_model=None):
    """Held-out greedy decoding of the answers, scored with RULER's metric.

    Exact greedy decoding, made cheap: a batched teacher-forced pass finds, per sample, how far the
    greedy output follows the reference; where it follows it through the last answer token the
    prediction contains the whole reference (appending text can only add matches, so the score is
    final); elsewhere greedy decoding continues from the divergence with a KV cache, interleaved over
    (length, task). If the time budget runs out first, the remaining samples are scored on their
    verified greedy prefix (a lower bound) and counted as such. Also: attention mass on position 0
    (mean over heads of the last 32 prompt positions) for a few samples per task and length."""
    t0 = time.time()
    model.eval()
    flat = [(L, task, it) for L, task, items in sets for it in items]
    tf = teacher_forced(model, [f[2] for f in flat], device, amp)
    log(f"eval: teacher-forced pass over {len(flat)} samples in {time.time() - t0:.1f} s")
    whole = None
    if recycled is not None:  # first, so that the greedy decoding's time budget accounts for it
        whole = {"cells": teacher_forced_whole_answers(model, flat, device, amp, recycled, tf_full=tf), "init_cells": None}
        if start_model is not None:
            whole["init_cells"] = teacher_forced_whole_answers(start_model, flat, device, amp, recycled)
    state = []
    for (L, task, it), (j, tok) in zip(flat, tf):
        outp = it["output_ids"]
        if j >= len(outp):  # the whole answer is greedy output
            state.append({"gen": outp, "final": True})
        elif tok == EOS:  # greedy stops after outp[:j]
            state.append({"gen": outp[:j], "final": True})
        else:
            state.append({"gen": outp[:j] + [tok], "final": False})
    pending = [k for k, st in enumerate(state) if not st["final"]]
    # interleave the pending samples over (length, task)
    by_cell = {}
    for k in pending:
        by_cell.setdefault((flat[k][0], flat[k][1]), []).append(k)
    queue = []
    while any(by_cell.values()):
        for key in list(by_cell):
            if by_cell[key]:
                queue.append(by_cell[key].pop(0))
    decoded = 0
    for k in queue:
        if time.time() - t0 > seconds:
            break
        L, task, it = flat[k]
        state[k]["gen"] = greedy(model, it["input_ids"], it["max_new"], device, amp, prefix=state[k]["gen"])
        state[k]["final"] = True
        decoded += 1
    res, examples = {}, {}
    for (L, task, it), st in zip(flat, state):
        pred = detok(st["gen"][:it["max_new"]])
        s = score(pred, it["outputs"], it["metric"])
        r = res.setdefault((L, task), {"scores": [], "lower_bound": 0, "greedy_decoded": 0})
        r["scores"].append(s)
        r["lower_bound"] += 0 if st["final"] else 1
        ex = examples.setdefault(f"{task}@{L}", [])
        if len(ex) < 3:
            ex.append({"index": it["index"], "pred": pred[:200], "refs": it["outputs"], "score": s})
    table = {}
    for (L, task), r in res.items():
        table.setdefault(task, {})[str(L)] = {"score": 100.0 * sum(r["scores"]) / max(1, len(r["scores"])),
                                              "n": len(r["scores"]), "lower_bound_samples": r["lower_bound"]}
    log(f"eval: {len(pending)} samples left the reference early, {decoded} of them decoded greedily, "
        f"{len(pending) - decoded} scored on their verified prefix (lower bound)")
    mass = {}
    for L, task, items in sets:
        for it in items[:mass_samples]:
            for l in model.layers:
                l.capture = 32
            with amp():
                model(torch.tensor([[BOS] + it["input_ids"]], device=device), last_only=True)
            mass.setdefault(L, []).append([l.mass0.tolist() for l in model.layers])
            for l in model.layers:
                l.capture = 0
    mass_summary = {}
    for L, lst in mass.items():
        a = np.asarray(lst)  # samples x layers x heads
        mass_summary[str(L)] = {"mean": float(a.mean()), "per_layer": a.mean(axis=(0, 2)).round(4).tolist(),
                                "per_layer_head": a.mean(axis=0).round(4).tolist(), "samples": int(a.shape[0])}
    model.train()
    return table, mass_summary, examples, time.time() - t0, whole


@torch.no_grad()
def perplexity(model, tokens, L, docs, device, amp):
    nll, count = 0.0, 0
    model.eval()
    for d in range(docs):
        seg = tokens[d * (L - 1):(d + 1) * (L - 1)]
        if len(seg) < L - 1:
            break
        x = torch.tensor(np.concatenate([[BOS], seg]).astype(np.int64)[None], device=device)
        with amp():
            logits = model(x[:, :-1])
        ce = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), x[:, 1:].reshape(-1), reduction="sum")
        nll += float(ce)
        count += L - 1
    model.train()
    return math.exp(nll / max(1, count)), count


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--deadline", type=float, default=0, help="unix time by which everything must be saved")
    ap.add_argument("--train-seconds", type=float, default=0, help="training budget (else from --deadline)")
    ap.add_argument("--eval-seconds", type=float, default=60)
    ap.add_argument("--save-margin", type=float, default=12)
    ap.add_argument("--eval-samples", type=int, default=50)
    ap.add_argument("--d-model", type=int, default=384)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=1024)
    ap.add_argument("--rope-theta", type=float, default=5e5)
    ap.add_argument("--max-len", type=int, default=16384)
    ap.add_argument("--tokens-per-step", type=int, default=65536)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--answer-weight", type=float, default=1.0)
    ap.add_argument("--stages", default=json.dumps(DEFAULT_STAGES))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--wait-data", type=float, default=90)
    ap.add_argument("--attention", choices=["sdpa", "math"], default="sdpa",
                    help="sdpa: F.scaled_dot_product_attention; math: explicit softmax (fp32 scores)")
    ap.add_argument("--output-grad", choices=["batch", "all"], default="batch",
                    help="batch: the tied output layer updates only the embedding rows of tokens in the batch "
                         "(see Model.output_weight); all: every row (runs 1-3, whose rare rows collapsed)")
    ap.add_argument("--copy-seg", default="16,512", help="MIN,MAX segment length of copy rows")
    ap.add_argument("--task-weights", default="",
                    help='JSON {task: weight} overriding RULER tasks\' sampling weights, e.g. {"niah_multikey_2": 3}')
    ap.add_argument("--copy-format", choices=["repeat", "pairs"], default="repeat",
                    help="repeat: one segment repeated to the row's end; pairs: segments occurring twice in random ids")
    ap.add_argument("--probe-every", type=int, default=100, help="steps between induction-probe evaluations (0: never)")
    ap.add_argument("--copy-vocab", type=int, default=31900, help="copy rows draw tokens from ids [100, 100+N)")
    ap.add_argument("--recycled", default="",
                    help="Recycled-aware fine-tuning: 'k=256,s=16[,pool=7][,reach=R][,gqa=max]'; a share of the RULER rows "
                         "(--recycled-share) decode their answer as Recycled Attention does (training/recycled_decode.py)")
    ap.add_argument("--recycled-share", type=float, default=0.5, help="share of RULER rows decoded as Recycled")
    ap.add_argument("--recycled-lookahead", type=float, default=0.0,
                    help="weight of recycled_decode.lookahead_loss (beyond the paper): trains each full step's attention "
                         "towards the rows the recycled steps after it need, so that Cp holds them")
    ap.add_argument("--init", default="",
                    help="GGUF of an earlier run (F32/F16/Q8_0) to start from; its shape replaces --d-model .. --ffn")
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16",
                    help="bf16: autocast on CUDA (runs 1-6); fp32: no autocast (a suspect for the copy plateau)")
    args = ap.parse_args()
    global USE_SDPA, COPY_VOCAB, COPY_SEG, COPY_FORMAT, COPY_SEG_ARG
    USE_SDPA = HAS_SDPA and args.attention == "sdpa"
    COPY_VOCAB = (100, min(32000, 100 + args.copy_vocab))
    COPY_SEG = tuple(int(v) for v in args.copy_seg.split(","))
    COPY_SEG_ARG = COPY_SEG
    COPY_FORMAT = args.copy_format
    try:
        recycled_cfg = RecycledConfig.parse(args.recycled) if args.recycled else None
    except ValueError as e:
        raise SystemExit(f"--recycled: {e}")
    if args.recycled_lookahead < 0 or (args.recycled_lookahead > 0 and recycled_cfg is None):
        raise SystemExit("--recycled-lookahead must be >= 0 and needs --recycled")
    if not 0.0 <= args.recycled_share <= 1.0:
        raise SystemExit(f"--recycled-share must be in [0, 1], got {args.recycled_share}")
    if args.task_weights:
        given = json.loads(args.task_weights)
        unknown = sorted(set(given) - set(TASKS))
        if unknown or any(not isinstance(v, (int, float)) or v < 0 for v in given.values()):
            raise SystemExit(f"--task-weights: tasks must be among {TASKS} with weights >= 0; got {given}")
        TASK_WEIGHTS.update({t: float(v) for t, v in given.items()})
    if len(COPY_SEG) != 2 or not 2 <= COPY_SEG[0] <= COPY_SEG[1]:
        raise SystemExit("--copy-seg must be MIN,MAX with 2 <= MIN <= MAX")
    t_start = time.time()
    os.makedirs(args.out, exist_ok=True)
    dev = args.device
    cuda = dev.startswith("cuda")
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    use_bf16 = cuda and args.precision == "bf16"
    amp = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16 else (lambda: torch.autocast("cpu", enabled=False))
    curriculum = Curriculum(json.loads(args.stages))

    cfg = {"vocab": 32000, "d_model": args.d_model, "layers": args.layers, "heads": args.heads, "kv_heads": args.kv_heads,
           "head_dim": args.d_model // args.heads, "ffn": args.ffn, "eps": 1e-5, "rope_theta": args.rope_theta,
           "max_len": args.max_len, "tied_embeddings": True, "rope": "interleaved (adjacent pairs), llama.cpp NORM"}
    if args.init:
        cfg = gguf_config(read_gguf(args.init)[0], args.max_len)
    model = Model(cfg)
    if args.init:
        log(f"initialised {load_gguf_weights(model, args.init)} tensors from {args.init}")
    model = model.to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model {cfg} params {n_params / 1e6:.2f}M device {dev} torch {torch.__version__} sdpa {USE_SDPA}")
    # No weight decay on the (tied) embedding: decay would shrink the rows of tokens a batch
    # does not contain towards zero step after step, the slow cousin of the collapse that
    # Model.output_weight prevents.
    emb = model.tok_emb.weight
    decay = [p for p in model.parameters() if p.dim() == 2 and p is not emb]
    no_decay = [p for p in model.parameters() if p.dim() < 2] + [emb]
    groups = [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=cuda)
    except TypeError:
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    detok = Detokenizer(args.vocab)
    words = detok.word_tokens()
    log(f"vocabulary {len(detok.tokens)} tokens, {len(words)} word tokens for synthetic keys")

    # wait for the first RULER chunk; until the LM text is exported (`export-text` tokenises the
    # addresses in one call, about 20 s), LM rows and MQAR filler use the essay haystacks of the
    # RULER samples (the same State of the Union prose) as a stand-in
    lm_dir, ready_dir = os.path.join(args.data, "lm"), os.path.join(args.data, "ready")
    sotu_json = os.path.join(lm_dir, "sotu.json")
    pool = RulerPool(ready_dir)
    t_wait = time.time()
    while True:
        pool.poll()
        essay = [s for (L, t), lst in pool.by.items() if t in ("niah_single_2", "niah_single_3") for s in lst]
        if os.path.exists(sotu_json) or len(essay) >= 20:
            break
        if time.time() - t_wait > args.wait_data:
            raise SystemExit("no LM text and no RULER data: giving up")
        time.sleep(0.5)

    def load_sotu():
        return np.fromfile(os.path.join(lm_dir, "sotu.u16"), dtype=np.uint16)

    if os.path.exists(sotu_json):
        sotu, real_lm = load_sotu(), True
    else:
        sotu, real_lm = np.concatenate([row[1:ans] for row, ans in essay]).astype(np.uint16), False
    log(f"waited {time.time() - t_wait:.1f} s for data; LM text {len(sotu)} tokens "
        f"({'sotu' if real_lm else 'stand-in: essay haystacks of RULER samples'}); ruler {pool.samples} samples "
        f"lengths {pool.lengths()}")
    batcher = Batcher(sotu, words, pool, rng)
    probe = InductionProbe()

    if args.train_seconds > 0:
        budget = args.train_seconds
    else:
        budget = args.deadline - time.time() - args.eval_seconds - args.save_margin
    log(f"training budget {budget:.0f} s")
    t0 = time.time()
    step, tokens_seen = 0, 0
    curve = []
    acc = torch.zeros(15, device=dev)
    last_log_t, last_log_tokens = t0, 0
    stage_idx = -1
    stage_probe = None
    stage_log = []
    try:
        while True:
            frac = (time.time() - t0) / budget
            if frac >= 1.0:
                break
            si = curriculum.index(frac)
            if si != stage_idx:
                stage_idx = si
                opts = curriculum.options[si]
                # Batcher reads the copy-row settings from these module globals
                COPY_VOCAB = (100, min(32000, 100 + int(opts.get("copy_vocab", args.copy_vocab))))
                COPY_SEG = tuple(int(v) for v in opts.get("copy_seg", COPY_SEG_ARG))
                stage_probe = None
                if "until_probe" in opts:
                    probe_len = min(256, min(curriculum.lengths[si]))
                    stage_probe = InductionProbe(length=probe_len, vocab=COPY_VOCAB, seg=COPY_SEG, seed=98)
                mem = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0
                log(f"stage {si}: lengths {curriculum.lengths[si]} mix {curriculum.mixes[si]} options {opts} "
                    f"at {100 * frac:.0f}% of the budget, step {step}, {time.time() - t0:.0f} s, "
                    f"peak GPU memory so far {mem:.1f} GiB")
                stage_log.append({"stage": si, "step": step, "time": round(time.time() - t0, 1), "frac": round(frac, 4)})
            if not real_lm and step % 20 == 0 and os.path.exists(sotu_json):
                batcher.sotu, real_lm = load_sotu(), True
                log(f"LM text exported: sotu {len(batcher.sotu)} tokens from step {step}")
            if step % 20 == 0:
                if pool.poll():
                    log(f"ruler pool: {pool.samples} samples, {pool.tokens / 1e6:.1f}M tokens, lengths {pool.lengths()}")
            dist, mix = curriculum.lengths[si], curriculum.mixes[si]
            ls = list(dist.keys())
            L = ls[rng.choice(len(ls), p=np.asarray([dist[k] for k in ls]) / sum(dist.values()))]
            have = [x for x in pool.lengths() if x <= L]
            if pool.lengths() and L not in pool.lengths() and have:
                L = max(have)  # this length is not generated yet: use the longest one that is
            rows = max(1, int(curriculum.options[si].get("tokens_per_step", args.tokens_per_step)) // L)
            X, C, spans = batcher.batch(L, rows, mix)
            recycled_rows = []
            if recycled_cfg is not None:
                # a share of the RULER rows decode their answer as Recycled Attention does (class 5)
                recycled_rows = [i for i, sp in enumerate(spans) if sp is not None and rng.random() < args.recycled_share]
                for i in recycled_rows:
                    C[i][C[i] == 2] = 5
            x = torch.from_numpy(X.astype(np.int64))
            c = torch.from_numpy(C)
            if cuda:
                x, c = x.pin_memory().to(dev, non_blocking=True), c.pin_memory().to(dev, non_blocking=True)
            inp, tgt = x[:, :-1], x[:, 1:]
            lr_scale = min(1.0, (step + 1) / args.warmup) * curriculum.lr_scale(si, frac, args.min_lr_ratio)
            for g in opt.param_groups:
                g["lr"] = args.lr * lr_scale
            present = None
            if args.output_grad == "batch":
                present = torch.zeros(cfg["vocab"], dtype=torch.bool, device=x.device)
                present[x.reshape(-1)] = True
            recycled = None
            if recycled_rows:
                recycled = DecodeSpans(torch.tensor(recycled_rows, device=x.device),
                                       torch.tensor([spans[i][0] for i in recycled_rows], device=x.device),
                                       torch.tensor([spans[i][1] for i in recycled_rows], device=x.device), recycled_cfg,
                                       lookahead=args.recycled_lookahead > 0)
            with amp():
                logits = model(inp, present=present, recycled=recycled)
            ce = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none").view(tgt.shape)
            m1, m2, m3, m4, m5 = (c == 1).float(), (c == 2).float(), (c == 3).float(), (c == 4).float(), (c == 5).float()
            n1, n2, n3, n4, n5 = m1.sum(), m2.sum(), m3.sum(), m4.sum(), m5.sum()
            l1 = (ce * m1).sum() / n1.clamp(min=1)
            l2 = (ce * m2).sum() / n2.clamp(min=1)
            l3 = (ce * m3).sum() / n3.clamp(min=1)
            l4 = (ce * m4).sum() / n4.clamp(min=1)
            l5 = (ce * m5).sum() / n5.clamp(min=1)
            loss = l1 + args.answer_weight * (l2 + l3 + l4 + l5)
            aux = [layer.lookahead for layer in model.layers if layer.lookahead is not None]
            look = torch.stack(aux).mean() if aux else torch.zeros((), device=loss.device)
            loss = loss + args.recycled_lookahead * look
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                hits = (logits.argmax(-1) == tgt).float()
                hit2, hit5 = (hits * m2).sum(), (hits * m5).sum()
                acc += torch.stack([l1.detach(), l2.detach(), l3.detach(), (n2 > 0).float(), (n3 > 0).float(),
                                    hit2, n2, l4.detach(), (n4 > 0).float(), l5.detach(), (n5 > 0).float(),
                                    hit5, n5, look.detach(), look.new_tensor(float(bool(aux)))]).float()
            step += 1
            tokens_seen += rows * L
            if step % args.log_every == 0:
                a = acc.tolist()
                acc.zero_()
                now = time.time()
                k = args.log_every
                rec = {"step": step, "time": round(now - t0, 1), "tokens": tokens_seen, "len": L, "lr": args.lr * lr_scale,
                       "loss_ctx": a[0] / k, "loss_ruler_ans": a[1] / max(1, a[3]), "loss_mqar_ans": a[2] / max(1, a[4]),
                       "ruler_ans_token_acc": a[5] / max(1, a[6]), "loss_copy": a[7] / max(1, a[8]), "grad_norm": float(gn),
                       "loss_recycled_ans": a[9] / max(1, a[10]), "recycled_ans_token_acc": a[11] / max(1, a[12]),
                       "loss_lookahead": a[13] / max(1, a[14]),
                       "tok_per_s": (tokens_seen - last_log_tokens) / (now - last_log_t)}
                rec["embedding_pair_cos"] = embedding_pair_cos(model)
                if args.probe_every and step % args.probe_every == 0:
                    rec["probe_copy"] = probe.loss(model, dev, amp)
                    rec["probe_copy_chance"] = probe.chance
                    log(f"induction probe: loss {rec['probe_copy']:.3f} on second occurrences (chance {probe.chance:.2f})")
                if stage_probe is not None and step % args.probe_every == 0:
                    rec["stage_probe"] = stage_probe.loss(model, dev, amp)
                    rec["stage_probe_chance"] = stage_probe.chance
                    ratio = curriculum.options[si]["until_probe"]
                    log(f"stage {si} probe: loss {rec['stage_probe']:.3f} (chance {stage_probe.chance:.2f}, "
                        f"leave below {ratio * stage_probe.chance:.2f})")
                    if rec["stage_probe"] < ratio * stage_probe.chance:
                        log(f"stage {si}: the probe broke its plateau at step {step}, {now - t0:.0f} s; moving on")
                        curriculum.leave(si, frac)
                        stage_probe = None  # once: the last stage has nothing to move on to
                        stage_log.append({"stage": si, "broke_at_step": step, "time": round(now - t0, 1)})
                curve.append(rec)
                last_log_t, last_log_tokens = now, tokens_seen
                log(f"step {step} {rec['time']}s tok {tokens_seen / 1e6:.1f}M L {L} lr {rec['lr']:.2e} ctx {rec['loss_ctx']:.3f} "
                    f"ruler_ans {rec['loss_ruler_ans']:.3f} (acc {rec['ruler_ans_token_acc']:.3f}) mqar_ans "
                    f"{rec['loss_mqar_ans']:.3f} recycled_ans {rec['loss_recycled_ans']:.3f} (acc {rec['recycled_ans_token_acc']:.3f}) lookahead {rec['loss_lookahead']:.3f} "
                    f"copy {rec['loss_copy']:.3f} emb_cos {rec['embedding_pair_cos']:.3f} gn {rec['grad_norm']:.2f} {rec['tok_per_s'] / 1e3:.0f}K tok/s")
                if not all(math.isfinite(v) for v in (rec["loss_ctx"], rec["grad_norm"])):
                    log("non-finite loss: stopping")
                    break
    except Exception:  # keep what was trained: save it and report the failure
        import traceback
        traceback.print_exc()
        log(f"training stopped by an error at step {step}")
    train_time = time.time() - t0
    log(f"trained {step} steps, {tokens_seen / 1e6:.1f}M tokens in {train_time:.0f} s; peak GPU memory "
        f"{torch.cuda.max_memory_allocated() / 2**30 if cuda else 0:.1f} GiB")
    extra = {"steps": step, "tokens": tokens_seen, "train_seconds": train_time}
    save_weights(model, cfg, args.out, extra)

    results = {"config": cfg, "params": n_params, "steps": step, "tokens": tokens_seen, "train_seconds": train_time,
               "tokens_per_step": args.tokens_per_step, "lr": args.lr, "precision": args.precision, "init": args.init, "output_grad": args.output_grad, "warmup": args.warmup, "stages": curriculum.describe(), "stage_log": stage_log,
               "mix": MIX, "task_weights": TASK_WEIGHTS, "answer_weight": args.answer_weight,
               "recycled": args.recycled, "recycled_share": args.recycled_share if args.recycled else 0.0,
               "recycled_lookahead": args.recycled_lookahead,
               "rows": batcher.rows, "row_tokens": batcher.tokens, "ruler_task_rows": batcher.task_rows,
               "length_tokens": {str(k): v for k, v in batcher.length_tokens.items()},
               "ruler_pool": {"samples": pool.samples, "tokens": pool.tokens,
                              "per_length_task": {f"{k[0]}/{k[1]}": len(v) for k, v in pool.by.items()}},
               "curve": curve, "device": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__}
    out_json = os.path.join(args.out, "results.json")
    with open(out_json, "w") as f:
        json.dump(results, f, indent=1)
    try:
        moby = os.path.join(lm_dir, "moby-dick.u16")
        if os.path.exists(moby):
            toks = np.fromfile(moby, dtype=np.uint16)
            ppl, n = perplexity(model, toks, 4096 if cuda else 512, 8 if cuda else 2, dev, amp)
            results["heldout_perplexity_moby_dick"] = {"ppl": ppl, "tokens": n, "context": 4096 if cuda else 512}
            log(f"held-out perplexity (Moby-Dick, never trained on): {ppl:.2f} over {n} tokens")
        sets = load_eval(os.path.join(args.data, "eval"), args.eval_samples)
        budget_eval = args.eval_seconds if args.deadline <= 0 else max(5.0, args.deadline - args.save_margin / 2 - time.time())
        start = None
        if recycled_cfg is not None and args.init:  # the whole-answer measure on the model this run started from too
            start = Model(cfg)
            load_gguf_weights(start, args.init)
            start = start.to(dev)
        table, mass, examples, took, whole = evaluate(model, sets, detok, dev, amp, budget_eval, recycled=recycled_cfg,
                                                      start_model=start)
        results.update({"eval": table, "attention_mass_pos0": mass, "eval_examples": examples, "eval_seconds": took})
        if whole is not None:
            before = whole["init_cells"]
            whole = whole["cells"]
            results["eval_whole_answer_teacher_forced"] = {"recycled": args.recycled, "cells": whole, "init_cells": before}
            for task in TASKS:
                if task in whole:
                    log(f"whole answers {task:16s} " + "  ".join(
                        f"{L}: full {c['full']:5.1f} recycled {c['recycled']:5.1f}"
                        + (f" (start: {before[task][L]['full']:5.1f} / {before[task][L]['recycled']:5.1f})" if before else "")
                        + f" n={c['n']}" for L, c in whole[task].items()))
        for task in TASKS:
            if task in table:
                log(f"eval {task:16s} " + "  ".join(f"{L}: {v['score']:5.1f} (n={v['n']}, lower-bound {v['lower_bound_samples']})"
                                                    for L, v in table[task].items()))
        for L, m in mass.items():
            log(f"attention mass on position 0 @ {L}: mean {m['mean']:.3f} per layer {m['per_layer']}")
    except Exception as e:  # keep the weights and the curve even if evaluation breaks
        import traceback
        traceback.print_exc()
        results["eval_error"] = repr(e)
    with open(out_json, "w") as f:
        json.dump(results, f, indent=1)
    log(f"done in {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
