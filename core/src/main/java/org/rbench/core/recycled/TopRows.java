package org.rbench.core.recycled;

import org.rbench.core.attention.GqaAggregation;

/**
 * A read-back a full step can ask for instead of its probabilities: the {@code k}
 * highest-scored cache positions per KV head, selected on the device. Scores are the
 * step's attention probabilities with each KV head's query-head group aggregated and
 * max-pooled along positions (kernel {@code poolKernel}, 1 for none), exactly as
 * {@link org.rbench.core.recycled.RecycledCache#refresh} scores them on the host; only
 * k + poolKernel positions and their scores per KV head cross to the host (kilobytes,
 * where the probabilities are heads x context floats), and ties are put in position order
 * there so the result equals the host selection.
 */
public record TopRows(int k, GqaAggregation aggregation, int poolKernel) {
    public TopRows {
        if (k <= 0) {
            throw new IllegalArgumentException("top rows: k must be positive, got " + k);
        }
        if (poolKernel < 1 || poolKernel % 2 == 0) {
            throw new IllegalArgumentException("top rows: the pooling kernel must be odd and >= 1, got " + poolKernel);
        }
        if (aggregation == null) {
            throw new IllegalArgumentException("top rows: no GQA aggregation");
        }
    }

    /**
     * Candidates fetched per KV head beyond k: a tie run of max-pooled scores is at most one
     * kernel long, so the run that straddles rank k is then complete among the candidates.
     */
    public int candidates(int validRows) {
        return Math.min(validRows, k + poolKernel);
    }
}
