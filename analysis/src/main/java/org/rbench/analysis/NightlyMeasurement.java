package org.rbench.analysis;

/**
 * One row of the nightly history: a series' value in one night, with the suite commit that
 * produced it.
 *
 * @param night the night, ISO date (YYYY-MM-DD)
 * @param stddev spread of the value's samples within the night (NaN when it has none: one
 *     sample, or a quantity that is not a mean over samples)
 * @param samples how many rows of the results file the value summarises
 */
public record NightlyMeasurement(String night, String suiteCommit, TrendSeries series, double value, double stddev,
                                 int samples) {
}
