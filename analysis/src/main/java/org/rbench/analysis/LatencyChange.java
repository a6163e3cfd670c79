package org.rbench.analysis;

/**
 * Change of the median per-row decode ms/token of one (kind, model, method, length) between two
 * runs. The median is robust to one repetition hit by a noisy neighbour.
 *
 * @param kind which rows were compared: latency sweeps or the timings of RULER samples
 * @param changePercent candidate over baseline median, minus 1, in percent
 */
public record LatencyChange(
        Kind kind,
        String model,
        String method,
        int length,
        int baselineRows,
        int candidateRows,
        double baselineMedian,
        double candidateMedian,
        double changePercent,
        double pValue,
        Verdict verdict) {
}
