package org.rbench.core.recycled;

import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.ScoreSelection;

/**
 * How a full step scores and selects Cp, and the read-back it asks for instead of its
 * probabilities: the {@code k} highest-scored cache positions per KV head, selected on the
 * device. Scores are the step's attention probabilities with each KV head's query-head group
 * aggregated and max-pooled along positions, so that a peak at p raises the window
 * [p - poolKernel/2, p + reach]: {@code reach} = poolKernel/2 is the symmetric kernel
 * (kernel 1: no pooling); a longer reach keeps the tokens after a peak, where a head that
 * moves one token forward per decoded token looks next. {@link #pool} is the host's
 * arithmetic, {@link TopRowsSelection#scores} the device's. Only k + window positions and
 * their scores per KV head cross to the host (kilobytes, where the probabilities are heads x
 * context floats), and ties are put in position order there so the result equals the host
 * selection.
 */
public record TopRows(int k, GqaAggregation aggregation, int poolKernel, int reach) {
    public TopRows {
        if (k <= 0) {
            throw new IllegalArgumentException("top rows: k must be positive, got " + k);
        }
        if (poolKernel < 1 || poolKernel % 2 == 0) {
            throw new IllegalArgumentException("top rows: the pooling kernel must be odd and >= 1, got " + poolKernel);
        }
        if (reach < 0) {
            throw new IllegalArgumentException("top rows: the pooling window's reach forward must be >= 0, got " + reach);
        }
        if (aggregation == null) {
            throw new IllegalArgumentException("top rows: no GQA aggregation");
        }
    }

    /** The symmetric window of an odd kernel: [p - poolKernel/2, p + poolKernel/2]. */
    public TopRows(int k, GqaAggregation aggregation, int poolKernel) {
        this(k, aggregation, poolKernel, poolKernel / 2);
    }

    /** Positions before a peak that its window covers. */
    public int back() {
        return poolKernel / 2;
    }

    /** Positions one peak's window covers: back + 1 + reach. */
    public int window() {
        return back() + 1 + reach;
    }

    /** One KV head's aggregated scores, max-pooled over the window (the host's scoring). */
    public float[] pool(float[] scores) {
        return ScoreSelection.maxPool(scores, back(), reach);
    }

    /**
     * Candidates fetched per KV head beyond k: a tie run of max-pooled scores is at most one
     * window long, so the run that straddles rank k is then complete among the candidates.
     */
    public int candidates(int validRows) {
        return Math.min(validRows, k + window());
    }
}
