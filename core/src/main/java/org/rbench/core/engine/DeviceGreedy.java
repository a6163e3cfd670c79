package org.rbench.core.engine;

import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

/**
 * The greedy next token picked in the step graph, so that a greedy decode reads back one id
 * instead of the vocabulary's logits: the lowest id among the largest logits, as
 * {@link Greedy#argmax} and llama.cpp's greedy sampler choose. ggml_argmax alone returns some
 * maximum (ggml-cuda's warp reduction takes whichever lane holds one), so ties are settled
 * exactly: the ids whose logit equals the maximum (logit - max is exactly 0 there and below 0
 * elsewhere) score vocab - id, every other id 0, and the one maximum of that is the lowest such id.
 */
final class DeviceGreedy {
    private DeviceGreedy() {
    }

    /** {@code logits} F32 {@code [vocab, 1]}; returns I32 {@code [1]}, the token. */
    static Tensor token(GgmlContext ctx, Tensor logits) {
        long vocab = logits.ne(0);
        if (logits.ne(1) != 1 || vocab > (1 << 24)) {
            throw new IllegalArgumentException("greedy on the device takes one row of at most 2^24 logits, not ["
                    + vocab + ", " + logits.ne(1) + "]");
        }
        return lowestOfTheMaxima(ctx, logits, ctx.argmax(logits));
    }

    /** The lowest id whose logit equals that of {@code someMaximum} (I32 {@code [1]}, the id of a largest logit). */
    static Tensor lowestOfTheMaxima(GgmlContext ctx, Tensor logits, Tensor someMaximum) {
        long vocab = logits.ne(0);
        Tensor max = ctx.getRows(ctx.reshape(logits, 1, vocab), someMaximum);               // [1, 1]
        Tensor below = ctx.step(ctx.scale(ctx.sub(logits, max), -1f));                     // 1 below the maximum, 0 at it
        Tensor score = ctx.mul(ctx.scaleBias(below, -1f, 1f), ctx.scaleBias(ctx.arange(0, vocab, 1), -1f, vocab));
        return ctx.argmax(score);
    }
}
