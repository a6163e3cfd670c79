package org.rbench.core.engine;

import org.rbench.core.attention.PrefillStatistics;

/**
 * What a prefill produced.
 *
 * @param logits       one row per prompt token when all logits were asked for, else one row (the last token's)
 * @param statistics   the requested attention statistics
 * @param tokens       prompt tokens processed
 * @param nanos        wall time of the whole prefill (graph building, transfers, compute)
 * @param computeNanos time inside backend compute calls
 */
public record PrefillResult(float[][] logits, PrefillStatistics statistics, int tokens, long nanos, long computeNanos) {
    /** The last token's logits (what the first generated token is sampled from). */
    public float[] lastLogits() {
        return logits[logits.length - 1];
    }

    public double tokensPerSecond() {
        return nanos == 0 ? 0 : tokens * 1e9 / nanos;
    }
}
