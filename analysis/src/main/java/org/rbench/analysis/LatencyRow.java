package org.rbench.analysis;

/**
 * Decode latency of one (model, method, length) group of latency rows. Each column is the mean
 * over repetitions of the per-repetition value.
 */
public record LatencyRow(
        String model,
        String method,
        int length,
        int repetitions,
        double prefillMs,
        double msPerToken,
        double p50Ms,
        double p90Ms,
        double speedup,
        double boundSpeedup,
        double attendedRows,
        double attentionMassRecall) {
}
