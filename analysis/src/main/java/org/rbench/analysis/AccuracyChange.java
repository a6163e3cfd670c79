package org.rbench.analysis;

/**
 * Change of the RULER average of one (model, method, length) between two runs.
 *
 * @param tasks tasks both runs have (the averages are over these)
 * @param paired whether both runs scored the same samples (paired test) or not
 * @param change candidate minus baseline, points
 */
public record AccuracyChange(
        String model,
        String method,
        int length,
        int tasks,
        int baselineSamples,
        int candidateSamples,
        double baseline,
        double candidate,
        double change,
        double pValue,
        boolean paired,
        Verdict verdict) {
}
