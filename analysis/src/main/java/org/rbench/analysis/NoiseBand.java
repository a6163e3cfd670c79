package org.rbench.analysis;

/**
 * The night-to-night noise of a series: where its next night should fall if nothing changed.
 * From the previous nights' values (mean m, sample standard deviation s, n nights) it is the
 * (1 - alpha) prediction interval of a new value under normal noise,
 * m +- t(1 - alpha/2, n - 1) * s * sqrt(1 + 1/n), and {@link #pValue} is the matching two-sided
 * test of a new value: below alpha exactly when the value lies outside the band.
 *
 * <p>With no spread at all (a deterministic metric such as a seeded RULER run's accuracy on one
 * machine) the band is the single value, and any change counts as significant: whether it
 * matters is left to the threshold.
 *
 * @param nights how many previous nights the band was estimated from (at least 2)
 * @param halfWidth half the band's width
 */
public record NoiseBand(double mean, double stddev, int nights, double halfWidth, double alpha) {

    /** The fewest previous nights a band can be estimated from (a spread needs two). */
    public static final int MIN_NIGHTS = 2;

    public static NoiseBand of(double[] previous, double alpha) {
        if (previous.length < MIN_NIGHTS) {
            throw new IllegalArgumentException("a noise band needs at least " + MIN_NIGHTS + " nights, got "
                    + previous.length);
        }
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be strictly between 0 and 1, not " + alpha);
        }
        int n = previous.length;
        double mean = Statistics.mean(previous);
        double stddev = Statistics.stddev(previous);
        double halfWidth = StudentT.quantile(1 - alpha / 2, n - 1) * stddev * Math.sqrt(1 + 1.0 / n);
        return new NoiseBand(mean, stddev, n, halfWidth, alpha);
    }

    public double low() {
        return mean - halfWidth;
    }

    public double high() {
        return mean + halfWidth;
    }

    /** Two-sided p-value of a new night's value under the previous nights' noise. */
    public double pValue(double value) {
        double scale = stddev * Math.sqrt(1 + 1.0 / nights);
        if (scale == 0) {
            return value == mean ? 1 : 0;
        }
        return 2 * (1 - StudentT.cdf(Math.abs(value - mean) / scale, nights - 1));
    }
}
