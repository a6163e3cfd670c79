package org.rbench.analysis;

/**
 * How a series' checked night compares with its previous nights.
 *
 * @param previousCommit the suite commit of the series' night before (where a bisection starts)
 * @param band the previous nights' noise band
 * @param change the night's value against the band's mean in the gate's unit: percent for
 *     times, points for accuracy (signed as the values move: +10% is slower, -3 points is worse)
 * @param pValue two-sided p-value of the night under the previous nights' noise
 */
public record TrendChange(TrendSeries series, TrendMetric metric, NightlyMeasurement night, String previousCommit,
                          NoiseBand band, double change, double pValue, Verdict verdict) {

    /** The change as text with its unit: "+31.7%" or "-26.7 points". */
    public String changeText() {
        return metric.quantity().gate() == TrendMetric.Gate.ACCURACY
                ? Formats.signed(change, 1) + " points" : Formats.percentChange(change);
    }

    /** The band as text: "1.190..1.270". */
    public String bandText() {
        return metric.format(band.low()) + ".." + metric.format(band.high());
    }

    /** One line naming the change: series, value against the band, size, p and the commits. */
    public String describe() {
        return series.describe() + ": " + metric.format(night.value()) + " " + metric.quantity().unit()
                + " against " + metric.format(band.mean()) + " (noise band " + bandText() + " over the previous "
                + band.nights() + " nights), " + changeText() + ", " + pClause(pValue) + "; commit "
                + night.suiteCommit() + " (night " + night.night() + "), the night before " + previousCommit;
    }

    /** "p = 0.012" or "p < 0.001". */
    static String pClause(double p) {
        String value = Formats.pValue(p);
        return value.startsWith("<") ? "p " + value.replace("<", "< ") : "p = " + value;
    }
}
