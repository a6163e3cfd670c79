package org.rbench.analysis;

import java.util.List;

/**
 * Two-sided permutation tests for a change in (macro-averaged) accuracy between two runs.
 *
 * <p>Scores per sample are mostly 0 or 100, far from normal, so the tests make no distributional
 * assumption: they recompute the statistic under relabellings that the null hypothesis ("the
 * method's accuracy did not change") makes equally likely. The statistic is the change in the
 * RULER average, i.e. the mean over tasks of the change in task mean, exactly what the report shows.
 */
final class PermutationTest {
    /** Up to this many non-zero paired differences the sign-flip test enumerates all 2^k cases. */
    static final int EXACT_LIMIT = 16;

    private PermutationTest() {
    }

    /**
     * Paired test: the same samples were scored in both runs, so under the null each sample's
     * difference is as likely to have either sign. Samples with equal scores carry no information
     * and drop out.
     *
     * @param differences candidate minus baseline score, per sample, one array per task
     * @return the p-value; 1 when nothing changed
     */
    static double pairedSignFlip(List<double[]> differences, int iterations, long seed) {
        List<double[]> strata = differences.stream().filter(d -> d.length > 0).toList();
        int nonZero = 0;
        for (double[] stratum : strata) {
            for (double d : stratum) {
                nonZero += d != 0 ? 1 : 0;
            }
        }
        // Each difference's weight in the macro average: 1 / (tasks * samples in its task).
        double[] weighted = new double[nonZero];
        int k = 0;
        for (double[] stratum : strata) {
            for (double d : stratum) {
                if (d != 0) {
                    weighted[k++] = d / (strata.size() * (double) stratum.length);
                }
            }
        }
        if (weighted.length == 0) {
            return 1.0;
        }
        double observed = Math.abs(sum(weighted));
        double tolerance = 1e-9 * Math.max(1, observed);
        if (weighted.length <= EXACT_LIMIT) {
            int cases = 1 << weighted.length;
            int atLeastAsExtreme = 0;
            for (int signs = 0; signs < cases; signs++) {
                double s = 0;
                for (int i = 0; i < weighted.length; i++) {
                    s += (signs >>> i & 1) == 1 ? -weighted[i] : weighted[i];
                }
                atLeastAsExtreme += Math.abs(s) >= observed - tolerance ? 1 : 0;
            }
            return atLeastAsExtreme / (double) cases;
        }
        SeededRandom random = new SeededRandom(seed);
        int atLeastAsExtreme = 0;
        for (int it = 0; it < iterations; it++) {
            double s = 0;
            for (double w : weighted) {
                s += random.nextBoolean() ? w : -w;
            }
            atLeastAsExtreme += Math.abs(s) >= observed - tolerance ? 1 : 0;
        }
        // The observed labelling counts as one of the permutations, so p is never 0.
        return (atLeastAsExtreme + 1.0) / (iterations + 1.0);
    }

    /**
     * Unpaired test for runs over different samples: within each task, the pooled scores are
     * randomly re-split into groups of the original sizes.
     *
     * @param baseline scores per task
     * @param candidate scores per task, same task order; both non-empty per task
     */
    static double stratifiedUnpaired(List<double[]> baseline, List<double[]> candidate, int iterations, long seed) {
        int tasks = baseline.size();
        if (tasks == 0 || tasks != candidate.size()) {
            throw new IllegalArgumentException("need the same, non-zero number of tasks on both sides");
        }
        double observed = 0;
        double[][] pooled = new double[tasks][];
        double[] totals = new double[tasks];
        for (int t = 0; t < tasks; t++) {
            double[] b = baseline.get(t);
            double[] c = candidate.get(t);
            observed += (Statistics.mean(c) - Statistics.mean(b)) / tasks;
            pooled[t] = new double[b.length + c.length];
            System.arraycopy(b, 0, pooled[t], 0, b.length);
            System.arraycopy(c, 0, pooled[t], b.length, c.length);
            totals[t] = sum(pooled[t]);
        }
        observed = Math.abs(observed);
        double tolerance = 1e-9 * Math.max(1, observed);
        SeededRandom random = new SeededRandom(seed);
        int atLeastAsExtreme = 0;
        for (int it = 0; it < iterations; it++) {
            double s = 0;
            for (int t = 0; t < tasks; t++) {
                double[] values = pooled[t];
                int nCandidate = candidate.get(t).length;
                int nBaseline = values.length - nCandidate;
                // Partial Fisher-Yates: the first nCandidate slots become a uniform random subset.
                double candidateSum = 0;
                for (int i = 0; i < nCandidate; i++) {
                    int j = i + random.nextInt(values.length - i);
                    double swap = values[i];
                    values[i] = values[j];
                    values[j] = swap;
                    candidateSum += values[i];
                }
                s += (candidateSum / nCandidate - (totals[t] - candidateSum) / nBaseline) / tasks;
            }
            atLeastAsExtreme += Math.abs(s) >= observed - tolerance ? 1 : 0;
        }
        return (atLeastAsExtreme + 1.0) / (iterations + 1.0);
    }

    private static double sum(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v;
        }
        return s;
    }
}
