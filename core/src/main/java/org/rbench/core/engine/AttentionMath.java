package org.rbench.core.engine;

import org.rbench.llamacpp.Ggml;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

/** Attention's graph ops that are not the attention output itself: the probabilities. */
public final class AttentionMath {
    private AttentionMath() {
    }

    /**
     * The probabilities of one query token, {@code [rows, 1, heads]} as {@link #softmax}, with
     * the query heads that share a KV head multiplied by its keys together: K^T Q per KV head
     * with Q its group's {@code heads / kvHeads} columns, so each layer's keys are read once
     * where the broadcast product reads them once per query head (4 times for Llama-3.1-8B;
     * 0.31 ms a layer at 131K rows on an H200 against 0.23 for flash attention). {@code q}:
     * the token's query, contiguous, {@code headDim x heads} elements, head-major.
     * Not for the attention output itself: the broadcast product is the one llama.cpp computes.
     */
    public static Tensor decodeSoftmax(GgmlContext ctx, Tensor keys, Tensor q, Tensor m, float scale, int kvHeads) {
        return ctx.softMaxExt(decodeProducts(ctx, keys, q, kvHeads), m, scale, 0f);
    }

    /**
     * {@link #decodeSoftmax}'s products K^T q before the scale, the mask and the softmax, {@code [rows, 1,
     * heads]} F32: each KV head's keys times its group's query heads at once.
     */
    public static Tensor decodeProducts(GgmlContext ctx, Tensor keys, Tensor q, int kvHeads) {
        long headDim = keys.ne(0);
        long heads = q.elements() / headDim;
        if (heads % kvHeads != 0 || headDim * heads != q.elements()) {
            throw new IllegalArgumentException("a query of " + q.elements() + " elements is not heads x " + headDim
                    + " with heads a multiple of " + kvHeads);
        }
        Tensor kq = ctx.mulMat(keys, ctx.reshape(q, headDim, heads / kvHeads, kvHeads)); // [rows, group, kvHeads]
        Ggml.ggml_mul_mat_set_prec(kq.address(), GgmlContext.PREC_F32);
        return ctx.reshape(kq, kq.ne(0), 1, heads);
    }

    /**
     * The probabilities of a batch of flash attention's logits, F32 {@code [rows, 1, heads, layers]} (a
     * {@code PlanGraph#flashScoreBatch}): every layer's query heads normalised in one softmax, {@code [rows, 1,
     * heads x layers]}, layer after layer: the same floats as each layer's own softmax.
     */
    public static Tensor scoreBatchSoftmax(GgmlContext ctx, Tensor batch) {
        return ctx.softMaxExt(ctx.reshape(batch, batch.ne(0), 1, batch.ne(2) * batch.ne(3)), null, 1f, 0f);
    }

    /** softmax(scale * K^T q + mask) with F32 accumulation: [rows, n, heads]. */
    public static Tensor softmax(GgmlContext ctx, Tensor keys, Tensor qt, Tensor m, float scale) {
        Tensor kq = ctx.mulMat(keys, qt);
        Ggml.ggml_mul_mat_set_prec(kq.address(), GgmlContext.PREC_F32);
        return ctx.softMaxExt(kq, m, scale, 0f);
    }
}
