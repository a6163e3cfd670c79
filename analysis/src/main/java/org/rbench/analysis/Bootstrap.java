package org.rbench.analysis;

import java.util.Arrays;
import java.util.List;

/**
 * Percentile bootstrap confidence intervals for (macro-averaged) mean scores.
 *
 * <p>Resampling is stratified: each task's samples are resampled within the task, because the
 * RULER average weighs tasks equally and the number of samples per task is fixed by design.
 * The generator is seeded, so the same input always gives the same interval.
 */
public final class Bootstrap {
    /** Two-sided confidence level of every interval the suite reports. */
    public static final double LEVEL = 0.95;

    private Bootstrap() {
    }

    /**
     * Interval for the mean of the stratum means.
     *
     * @param strata scores per stratum (task); empty strata are ignored
     * @param resamples bootstrap resamples; 0 turns the interval off ({@link Interval#NONE})
     */
    public static Interval macroMeanInterval(List<double[]> strata, int resamples, long seed) {
        List<double[]> used = strata.stream().filter(s -> s.length > 0).toList();
        if (used.isEmpty() || resamples <= 0) {
            return Interval.NONE;
        }
        SeededRandom random = new SeededRandom(seed);
        double[] statistics = new double[resamples];
        for (int r = 0; r < resamples; r++) {
            double total = 0;
            for (double[] stratum : used) {
                double sum = 0;
                for (int i = 0; i < stratum.length; i++) {
                    sum += stratum[random.nextInt(stratum.length)];
                }
                total += sum / stratum.length;
            }
            statistics[r] = total / used.size();
        }
        Arrays.sort(statistics);
        double tail = (1 - LEVEL) / 2;
        return new Interval(Statistics.quantileOfSorted(statistics, tail),
                Statistics.quantileOfSorted(statistics, 1 - tail));
    }
}
