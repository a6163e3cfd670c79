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

    /**
     * The share of its bytes-moved bound that the method's speedup reaches (1: it saves in time all
     * the bytes it does not read), or NaN where the row has no bound; full attention's is NaN too,
     * since its speedup is itself.
     */
    public double ofBound() {
        if (MethodOrder.isFull(method) || !(boundSpeedup > 0) || !Double.isFinite(boundSpeedup)) {
            return Double.NaN;
        }
        return speedup / boundSpeedup;
    }
}
