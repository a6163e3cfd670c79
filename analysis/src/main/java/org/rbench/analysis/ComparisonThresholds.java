package org.rbench.analysis;

/**
 * When a change counts as a regression. Both conditions must hold: the change is beyond the
 * threshold (it matters) and significant at {@code alpha} (it is not noise).
 *
 * @param maxLatencyRegressionPercent allowed increase of median decode ms/token, in percent
 * @param maxAccuracyDropPoints allowed drop of the RULER average, in points (0..100 scale)
 * @param alpha significance level of the two-sided tests
 */
public record ComparisonThresholds(double maxLatencyRegressionPercent, double maxAccuracyDropPoints, double alpha) {
    public static final double DEFAULT_MAX_LATENCY_REGRESSION_PERCENT = 5;
    public static final double DEFAULT_MAX_ACCURACY_DROP_POINTS = 2;
    public static final double DEFAULT_ALPHA = 0.05;

    public static ComparisonThresholds defaults() {
        return new ComparisonThresholds(DEFAULT_MAX_LATENCY_REGRESSION_PERCENT, DEFAULT_MAX_ACCURACY_DROP_POINTS,
                DEFAULT_ALPHA);
    }

    /** A threshold as people write it in the reports: 5, not 5.0; 0.05 as it is. */
    static String plain(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
