package org.rbench.analysis;

/** A confidence interval; both ends NaN when it could not be computed (no data, bootstrap off). */
public record Interval(double low, double high) {
    public static final Interval NONE = new Interval(Double.NaN, Double.NaN);

    public boolean isKnown() {
        return Double.isFinite(low) && Double.isFinite(high);
    }
}
