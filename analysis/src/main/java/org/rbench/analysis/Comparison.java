package org.rbench.analysis;

import java.util.List;
import java.util.stream.Stream;

/**
 * Everything {@link RunComparator} found: per-metric changes, groups present on one side only,
 * and notes that qualify the result (different devices, differing task sets).
 */
public record Comparison(
        List<String> baselineRuns,
        List<String> candidateRuns,
        List<AccuracyChange> accuracy,
        List<LatencyChange> latency,
        List<PerplexityChange> perplexity,
        List<String> onlyInBaseline,
        List<String> onlyInCandidate,
        List<String> notes) {

    public List<AccuracyChange> accuracyRegressions() {
        return accuracy.stream().filter(c -> c.verdict() == Verdict.REGRESSION).toList();
    }

    public List<LatencyChange> latencyRegressions() {
        return latency.stream().filter(c -> c.verdict() == Verdict.REGRESSION).toList();
    }

    public int regressionCount() {
        return accuracyRegressions().size() + latencyRegressions().size();
    }

    /** Whether at least one metric was present in both runs. */
    public boolean comparedAnything() {
        return Stream.of(accuracy, latency, perplexity).anyMatch(l -> !l.isEmpty());
    }
}
