package org.rbench.core.engine;

import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

/**
 * The greedy next token picked in the step graph, so that a greedy decode reads back one id
 * instead of the vocabulary's logits: the lowest id among the largest logits, as
 * {@link Greedy#argmax} and llama.cpp's greedy sampler choose. ggml_argmax alone returns some
 * maximum (ggml-cuda's warp reduction takes whichever lane holds one), so ties are settled
 * exactly: the ids whose logit equals the maximum (logit - max is exactly 0 there and below 0
 * elsewhere) score vocab - id, every other id 0, and the one maximum of that is the lowest such id.
 *
 * <p>Both maxima are found in two stages where the vocabulary splits into rows of {@link
 * #stageRow} ids: each row's maximum, then the maximum of those. ggml-cuda's argmax gives a row a
 * thread block, so one argmax of a whole 128K vocabulary ran on one block, 37 us on an H100, twice
 * a step for every method (a profile's kernel times); rows of a few hundred spread it over the device.
 */
final class DeviceGreedy {
    /** The stage's rows are at least this long (shorter: one argmax of the whole vocabulary). */
    static final int SHORTEST_STAGE_ROW = 32;
    /** ... and at most this long. */
    static final int LONGEST_STAGE_ROW = 4096;

    private DeviceGreedy() {
    }

    /** {@code logits} F32 {@code [vocab, 1]}; returns I32 {@code [1]} or {@code [1, 1]}, the token. */
    static Tensor token(GgmlContext ctx, Tensor logits) {
        long vocab = logits.ne(0);
        if (logits.ne(1) != 1 || vocab > (1 << 24)) {
            throw new IllegalArgumentException("greedy on the device takes one row of at most 2^24 logits, not ["
                    + vocab + ", " + logits.ne(1) + "]");
        }
        int row = stageRow(vocab);
        if (row == 0) {
            return lowestOfTheMaxima(ctx, logits, ctx.argmax(logits));
        }
        Tensor score = lowestMaximumScore(ctx, logits, maximum(ctx, logits, row));
        // the one largest score is vocab - token: an integer below 2^24, exact in F32
        Tensor best = maximum(ctx, score, row);
        return ctx.cast(ctx.scaleBias(best, -1f, vocab), GgmlType.I32);
    }

    /**
     * The row length of the two stages for a vocabulary of {@code vocab}: its divisor nearest the
     * square root within {@link #SHORTEST_STAGE_ROW} to {@link #LONGEST_STAGE_ROW} (as many rows as
     * each is long), 0 where it has none (one stage). 128,256 (Llama 3): 334; 32,000: 160.
     */
    static int stageRow(long vocab) {
        double root = Math.sqrt(vocab);
        int best = 0;
        for (int d = SHORTEST_STAGE_ROW; d <= LONGEST_STAGE_ROW && d < vocab; d++) {
            if (vocab % d == 0 && (best == 0 || Math.abs(d - root) < Math.abs(best - root))) {
                best = d;
            }
        }
        return best;
    }

    /**
     * The largest of {@code values} F32 {@code [n]} (n a multiple of {@code row}) as F32 {@code [1, 1]}:
     * each row's argmax, those maxima gathered, and their argmax.
     */
    static Tensor maximum(GgmlContext ctx, Tensor values, int row) {
        long n = values.elements();
        long rows = n / row;
        Tensor local = ctx.argmax(ctx.reshape(values, row, rows));                                    // I32 [rows]
        // row r's maximum sits at r * row + local[r] (below 2^24: exact in F32). ggml-cuda's argmax answers -1 for a
        // row of nothing but -inf or NaN: relu makes that the row's first id, whose value is no larger either
        Tensor at = ctx.cast(ctx.add(ctx.relu(ctx.cast(local, GgmlType.F32)), ctx.arange(0, n, row)), GgmlType.I32);
        Tensor maxima = ctx.getRows(ctx.reshape(values, 1, n), at);                                     // [1, rows]
        Tensor top = ctx.argmax(ctx.reshape(maxima, rows, 1));                                           // I32 [1]
        return ctx.getRows(ctx.reshape(maxima, 1, rows), top);                                          // [1, 1]
    }

    /** The lowest id whose logit equals that of {@code someMaximum} (I32 {@code [1]}, the id of a largest logit). */
    static Tensor lowestOfTheMaxima(GgmlContext ctx, Tensor logits, Tensor someMaximum) {
        long vocab = logits.ne(0);
        Tensor max = ctx.getRows(ctx.reshape(logits, 1, vocab), someMaximum);               // [1, 1]
        return ctx.argmax(lowestMaximumScore(ctx, logits, max));
    }

    /** vocab - id where the logit equals {@code max} (F32 {@code [1, 1]}, the largest), 0 elsewhere: {@code [vocab, 1]}. */
    private static Tensor lowestMaximumScore(GgmlContext ctx, Tensor logits, Tensor max) {
        long vocab = logits.ne(0);
        Tensor below = ctx.step(ctx.scale(ctx.sub(logits, max), -1f));                     // 1 below the maximum, 0 at it
        return ctx.mul(ctx.scaleBias(below, -1f, 1f), ctx.scaleBias(ctx.arange(0, vocab, 1), -1f, vocab));
    }
}
