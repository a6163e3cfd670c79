package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.LayerWeights;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

/**
 * One transformer block of a pass: attention norm, Q/K/V projections (with qwen's biases and
 * qwen3's Q/K norms), RoPE, the attention ({@link LayerAttention} under the layer's plan),
 * the output projection, and the SwiGLU feed-forward, in llama.cpp's op order.
 */
final class TransformerBlock {
    private final PassBuilder pass;
    private final GgmlContext ctx;
    private final HyperParameters hp;

    TransformerBlock(PassBuilder pass) {
        this.pass = pass;
        this.ctx = pass.ctx;
        this.hp = pass.hp;
    }

    /** Layer {@code l} over {@code x}; returns its output, or null for a query-only pass. */
    Tensor build(int l, Tensor x) {
        int n = pass.pass.batch();
        LayerWeights w = pass.weights.layer(l);
        AttentionPlan plan = pass.pass.plans()[l];
        LayerAttention attention = new LayerAttention(pass, l, plan);
        Tensor h = norm(x, w.attentionNorm());

        Tensor q = ctx.reshape(project(w.query(), w.queryBias(), h), hp.headDim(), hp.heads(), n);
        if (w.queryNorm() != null) {
            q = ctx.mul(ctx.rmsNorm(q, hp.rmsEps()), w.queryNorm());
        }
        Tensor qBeforeRope = q;
        Tensor planPosition = plan.ropePosition(attention);
        q = rope(q, planPosition != null ? planPosition : pass.positions);
        if (pass.pass.lastQuery() || pass.pass.queryOnly() || plan.query()) {
            pass.queryBeforeRope[l] = lastToken(qBeforeRope, "q_before_rope_" + l);
            pass.queryAfterRope[l] = lastToken(q, "q_after_rope_" + l);
            pass.g.expand(pass.queryBeforeRope[l]);
            pass.g.expand(pass.queryAfterRope[l]);
        }
        if (pass.pass.queryOnly()) {
            return null;
        }

        Tensor k = ctx.reshape(project(w.key(), w.keyBias(), h), hp.headDim(), hp.kvHeads(), n);
        if (w.keyNorm() != null) {
            k = ctx.mul(ctx.rmsNorm(k, hp.rmsEps()), w.keyNorm());
        }
        Tensor kAtPlanPosition = planPosition == null ? null : rope(k, planPosition);
        k = rope(k, pass.positions);
        Tensor v = ctx.reshape(project(w.value(), w.valueBias(), h), hp.headDim(), hp.kvHeads(), n);

        // ggml orders a graph's nodes depth-first from each expanded tensor: expanding the roped
        // Q and K and then V here puts the layer in llama.cpp's order (Q, K, V, then the cache
        // writes and attention) instead of K's chain and its cache write, V's, then Q's right
        // before flash attention. On Hopper GPUs ggml-cuda launches kernels with programmatic
        // dependent launch (PDL), and in that other order the NEOX rope (qwen2, qwen3) gives
        // wrong one-token results (decode logits off by up to 13 from llama.cpp's).
        pass.g.expand(q);
        pass.g.expand(k);
        pass.g.expand(v);
        Tensor attended = attention.build(q, qBeforeRope, k, kAtPlanPosition != null ? kAtPlanPosition : k, v);
        Tensor o = project(w.attentionOutput(), w.attentionOutputBias(), attended);
        Tensor ffnInput = ctx.add(o, x);

        Tensor f = norm(ffnInput, w.ffnNorm());
        Tensor up = ctx.mulMat(w.ffnUp(), f);
        Tensor gate = ctx.mulMat(w.ffnGate(), f);
        Tensor down = ctx.mulMat(w.ffnDown(), ctx.swigluSplit(gate, up));
        return ctx.add(down, ffnInput);
    }

    private Tensor norm(Tensor x, Tensor weight) {
        return ctx.mul(ctx.rmsNorm(x, hp.rmsEps()), weight);
    }

    private Tensor project(Tensor w, Tensor bias, Tensor x) {
        Tensor y = ctx.mulMat(w, x);
        return bias == null ? y : ctx.add(y, bias);
    }

    private Tensor rope(Tensor t, Tensor at) {
        return pass.weights.rope(ctx, t, at);
    }

    /** A contiguous copy of the last token's [headDim, heads] slice, marked as output. */
    private Tensor lastToken(Tensor t, String name) {
        long n = t.ne(2);
        Tensor last = ctx.view(t, new long[] {t.ne(0), t.ne(1)}, new long[] {t.nb(1)}, (n - 1) * t.nb(2));
        return ctx.cont(last).name(name).output();
    }
}
