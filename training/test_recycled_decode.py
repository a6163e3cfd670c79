"""Tests of recycled_decode.py against a plain, loop-by-loop reading of the engine's semantics
(core/src/main/java/org/rbench/core/recycled). Run: training/test.sh (CPU, a few seconds)."""
import math
import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recycled_decode import DecodeSpans, RecycledConfig, decode_mask, lookahead_loss, recycled_attention  # noqa: E402


def reference_kept(q, k, row, first, step, cfg):
    """Per KV head, the set of positions decode step `step` of `row` attends, computed as the
    engine describes it: scores of the last full step aggregated over the group, max-pooled, sorted
    (ties in position order), the refreshed entries left after `d` appends, plus the new tokens.
    Also returns per KV head the pooled score of each position, for tie-aware comparison."""
    H, T, D = q.shape[1], q.shape[2], q.shape[3]
    Hkv = k.shape[1]
    rep = H // Hkv
    d = step % cfg.stride
    f = first + step - d
    pos = first + step
    out, pooled_all = [], []
    for g in range(Hkv):
        probs = []
        for h in range(g * rep, (g + 1) * rep):
            s = torch.stack([q[row, h, f] @ k[row, g, t] for t in range(f + 1)]) / math.sqrt(D)
            probs.append(s.softmax(0).tolist())
        if cfg.aggregation == "max":
            agg = [max(p[t] for p in probs) for t in range(f + 1)]
        elif cfg.aggregation == "mean":
            agg = [sum(p[t] for p in probs) / rep for t in range(f + 1)]
        else:
            agg = probs[0]
        back, reach = cfg.back, cfg.forward_reach
        pooled = [max(agg[max(0, x - reach):min(f, x + back) + 1]) for x in range(f + 1)]
        order = sorted(range(f + 1), key=lambda x: (-pooled[x], x))
        refreshed = min(cfg.k, f + 1)
        free = cfg.k - refreshed
        keep = refreshed - max(0, d - free)
        out.append(set(order[:keep]) | set(range(f + 1, pos + 1)))
        pooled_all.append(pooled)
    return out, pooled_all


def causal_attention(q, k, v):
    """Ordinary causal attention, flattened to [B*T, H*D] (torch 1.13 has no SDPA)."""
    B, H, T, D = q.shape
    rep = H // k.shape[1]
    kk, vv = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
    s = (q @ kk.transpose(-1, -2)) / math.sqrt(D)
    s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
    return (s.softmax(-1) @ vv).transpose(1, 2).reshape(B * T, H * D)


def random_case(seed, B=3, H=4, Hkv=2, T=48, D=8, sharp=3.0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, H, T, D, generator=g) * sharp
    k = torch.randn(B, Hkv, T, D, generator=g)
    v = torch.randn(B, Hkv, T, D, generator=g)
    return q, k, v


class DecodeMaskTest(unittest.TestCase):
    def check_sets(self, cfg, seed):
        q, k, v = random_case(seed)
        rows = torch.tensor([0, 2])
        first = torch.tensor([20, 30])
        last = torch.tensor([40, 47])
        spans = DecodeSpans(rows, first, last, cfg)
        allowed, recycled, pos = decode_mask(q, k, spans)
        for r, b in enumerate(rows.tolist()):
            for j in range(int(last[r] - first[r]) + 1):
                self.assertEqual(bool(recycled[r, j]), j % cfg.stride != 0, (r, j))
                if j % cfg.stride == 0:
                    continue
                want, pooled = reference_kept(q, k, b, int(first[r]), j, cfg)
                for g in range(k.shape[1]):
                    got = set(torch.nonzero(allowed[r, g, j]).flatten().tolist())
                    self.assertEqual(got, want[g], f"row {b} step {j} KV head {g}")

    def test_pooled_max_matches_the_engine_reading(self):
        self.check_sets(RecycledConfig(k=9, stride=4, pool=7), seed=1)

    def test_no_pooling_first_head(self):
        self.check_sets(RecycledConfig(k=6, stride=5, pool=1, aggregation="first"), seed=2)

    def test_forward_reach_and_mean(self):
        self.check_sets(RecycledConfig(k=10, stride=3, pool=3, reach=5, aggregation="mean"), seed=3)

    def test_cp_not_full_keeps_every_refreshed_entry(self):
        # k larger than the context at the full step: no eviction until the free slots are used
        self.check_sets(RecycledConfig(k=30, stride=8, pool=7), seed=4)


class RecycledAttentionTest(unittest.TestCase):
    def test_outputs_are_attention_over_the_kept_rows(self):
        cfg = RecycledConfig(k=7, stride=4, pool=1)  # no pooling: random scores have no ties
        q, k, v = random_case(5)
        spans = DecodeSpans(torch.tensor([1]), torch.tensor([25]), torch.tensor([44]), cfg)
        values, flat = recycled_attention(q, k, v, spans)
        H, T, D = q.shape[1], q.shape[2], q.shape[3]
        rep = H // k.shape[1]
        expected_positions = [25 + j for j in range(20) if j % 4 != 0]
        self.assertEqual(flat.tolist(), [1 * T + p for p in expected_positions])
        for n, p in enumerate(expected_positions):
            sets, _ = reference_kept(q, k, 1, 25, p - 25, cfg)
            for h in range(H):
                rows = sorted(sets[h // rep])
                s = torch.stack([q[1, h, p] @ k[1, h // rep, t] for t in rows]) / math.sqrt(D)
                want = s.softmax(0) @ v[1, h // rep, rows]
                got = values[n, h * D:(h + 1) * D]
                self.assertTrue(torch.allclose(got, want, atol=1e-5), (p, h, got, want))

    def test_a_covering_budget_is_full_attention(self):
        # k covers every row: each recycled step attends all rows up to itself, as full attention does
        cfg = RecycledConfig(k=64, stride=5, pool=7)
        q, k, v = random_case(6)
        spans = DecodeSpans(torch.tensor([0, 1, 2]), torch.tensor([10, 30, 40]), torch.tensor([25, 47, 47]), cfg)
        values, flat = recycled_attention(q, k, v, spans)
        full = causal_attention(q, k, v)
        self.assertTrue(torch.allclose(values, full[flat], atol=1e-5))

    def test_a_small_budget_differs_from_full_attention(self):
        cfg = RecycledConfig(k=8, stride=8, pool=1)
        q, k, v = random_case(7)
        spans = DecodeSpans(torch.tensor([0]), torch.tensor([30]), torch.tensor([45]), cfg)
        values, flat = recycled_attention(q, k, v, spans)
        full = causal_attention(q, k, v)
        self.assertFalse(torch.allclose(values, full[flat], atol=1e-3))

    def test_gradients_reach_queries_keys_and_values(self):
        cfg = RecycledConfig(k=6, stride=4, pool=3)
        q, k, v = (t.requires_grad_() for t in random_case(8))
        spans = DecodeSpans(torch.tensor([2]), torch.tensor([20]), torch.tensor([30]), cfg)
        values, _ = recycled_attention(q, k, v, spans)
        values.square().sum().backward()
        for t in (q, k, v):
            self.assertGreater(float(t.grad.abs().sum()), 0.0)


def softmax_row(q, k, row, h, g, upto, D):
    s = torch.stack([q[row, h, upto] @ k[row, g, t] for t in range(upto + 1)]) / math.sqrt(D)
    return s.softmax(0)


class LookaheadLossTest(unittest.TestCase):
    def reference(self, q, k, spans):
        cfg = spans.config
        H, D = q.shape[1], q.shape[3]
        Hkv = k.shape[1]
        rep = H // Hkv
        terms = []
        for r, b in enumerate(spans.rows.tolist()):
            first, last = int(spans.first[r]), int(spans.last[r])
            for f in range(first, last + 1, cfg.stride):
                later = [p for p in range(f + 1, min(f + cfg.stride, last + 1))]
                if not later:
                    continue
                for g in range(Hkv):
                    target = torch.zeros(f + 1)
                    for p in later:
                        need = sum(softmax_row(q, k, b, h, g, p, D) for h in range(g * rep, (g + 1) * rep)) / rep
                        target += need[:f + 1] / need[:f + 1].sum()
                    target /= len(later)
                    pred = torch.stack([softmax_row(q, k, b, h, g, f, D) for h in range(g * rep, (g + 1) * rep)]).amax(0)
                    terms.append(-(target * pred.log()).sum())
        return torch.stack(terms).mean()

    def test_matches_a_loop_by_loop_reading(self):
        q, k, _ = random_case(9, sharp=1.0)
        spans = DecodeSpans(torch.tensor([0, 2]), torch.tensor([20, 30]), torch.tensor([33, 41]),
                            RecycledConfig(k=8, stride=5))
        self.assertAlmostEqual(float(lookahead_loss(q, k, spans)), float(self.reference(q, k, spans)), places=4)

    def test_training_the_full_steps_lowers_it(self):
        q, k, _ = random_case(10, sharp=1.0)
        q.requires_grad_()
        spans = DecodeSpans(torch.tensor([1]), torch.tensor([20]), torch.tensor([40]), RecycledConfig(k=8, stride=6))
        start = float(lookahead_loss(q, k, spans))
        opt = torch.optim.SGD([q], lr=0.5)
        for _ in range(30):
            opt.zero_grad()
            lookahead_loss(q, k, spans).backward()
            opt.step()
        self.assertLess(float(lookahead_loss(q, k, spans)), start - 0.05)

    def test_an_answer_of_one_token_has_no_recycled_steps(self):
        q, k, _ = random_case(11)
        spans = DecodeSpans(torch.tensor([0]), torch.tensor([20]), torch.tensor([20]), RecycledConfig(k=8, stride=4))
        self.assertEqual(float(lookahead_loss(q, k, spans)), 0.0)


class ModelTest(unittest.TestCase):
    """The trainer's model with recycled rows: only their recycled decode steps change."""

    def model(self):
        import train
        torch.manual_seed(0)
        cfg = {"vocab": 300, "d_model": 32, "layers": 2, "heads": 4, "kv_heads": 2, "head_dim": 8, "ffn": 48,
               "eps": 1e-5, "rope_theta": 1e4, "max_len": 64}
        return train.Model(cfg).eval()

    def test_covering_budget_gives_the_same_logits(self):
        m = self.model()
        idx = torch.randint(3, 300, (2, 40), generator=torch.Generator().manual_seed(1))
        spans = DecodeSpans(torch.tensor([0, 1]), torch.tensor([20, 25]), torch.tensor([38, 39]),
                            RecycledConfig(k=64, stride=4))
        with torch.no_grad():
            self.assertTrue(torch.allclose(m(idx), m(idx, recycled=spans), atol=1e-5))

    def test_small_budget_changes_only_recycled_steps_and_what_follows(self):
        m = self.model()
        idx = torch.randint(3, 300, (2, 40), generator=torch.Generator().manual_seed(2))
        spans = DecodeSpans(torch.tensor([1]), torch.tensor([20]), torch.tensor([39]), RecycledConfig(k=4, stride=4))
        with torch.no_grad():
            plain, rec = m(idx), m(idx, recycled=spans)
        self.assertTrue(torch.equal(plain[0], rec[0]), "a row that is not recycled changed")
        self.assertTrue(torch.allclose(plain[1, :21], rec[1, :21], atol=1e-6), "positions up to step 0 changed")
        self.assertFalse(torch.allclose(plain[1, 21], rec[1, 21], atol=1e-3), "the first recycled step did not change")


class ConfigTest(unittest.TestCase):
    def test_parse_the_suite_spec(self):
        c = RecycledConfig.parse("k=256,s=16,pool=15,reach=11,gqa=mean")
        self.assertEqual((c.k, c.stride, c.pool, c.back, c.forward_reach, c.aggregation), (256, 16, 15, 7, 11, "mean"))
        self.assertEqual(RecycledConfig.parse("k=256,s=16").forward_reach, 3)

    def test_bad_specs_are_refused(self):
        for bad in ("k=256,s=16,pool=6", "k=8,s=16", "k=256,s=16,gqa=sum", "k=256,stride=16"):
            with self.assertRaises(ValueError, msg=bad):
                RecycledConfig.parse(bad)


if __name__ == "__main__":
    unittest.main()
