package org.rbench.analysis;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks one night of the history against the nights before it, series by series, with the
 * rule of {@code rbench compare}: a change is a regression only when it is beyond its threshold
 * ({@link ComparisonThresholds}: percent for times, points for accuracy) <em>and</em>
 * significant at alpha. Significance here is against the night-to-night noise, the
 * {@link NoiseBand} of the series' previous {@code window} nights, not against the spread within
 * one run: a machine's state varies more from night to night than within a run, and a gate on
 * the within-run spread would fail on that drift. Ungated metrics ({@link TrendMetric.Gate#NONE})
 * are left out.
 */
public final class TrendCheck {
    /** Previous nights a band is estimated from by default: a week. */
    public static final int DEFAULT_WINDOW = 7;

    private final ComparisonThresholds thresholds;
    private final int window;

    public TrendCheck(ComparisonThresholds thresholds, int window) {
        if (window < NoiseBand.MIN_NIGHTS) {
            throw new IllegalArgumentException("the window must hold at least " + NoiseBand.MIN_NIGHTS + " nights, not "
                    + window);
        }
        this.thresholds = thresholds;
        this.window = window;
    }

    public ComparisonThresholds thresholds() {
        return thresholds;
    }

    public int window() {
        return window;
    }

    /**
     * @param night the night to check (ISO date), or null for the newest in the history
     * @throws IllegalArgumentException when the history is empty or has no such night
     */
    public TrendCheckResult check(NightlyHistory history, String night) {
        List<String> nights = history.nights();
        if (nights.isEmpty()) {
            throw new IllegalArgumentException("the history is empty: add a night's results first");
        }
        String checked = night != null ? night : nights.getLast();
        if (!nights.contains(checked)) {
            throw new IllegalArgumentException("the history has no night " + checked + " (it has " + nights.getFirst()
                    + " to " + nights.getLast() + ")");
        }
        List<TrendChange> changes = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        int young = 0;
        for (TrendSeries series : history.series()) {
            TrendMetric metric = series.parsedMetric();
            if (metric == null || metric.quantity().gate() == TrendMetric.Gate.NONE) {
                continue;
            }
            NightlyMeasurement current = history.at(series, checked);
            List<NightlyMeasurement> previous = history.before(series, checked, window);
            if (current == null) {
                if (!previous.isEmpty()) {
                    notes.add(series.describe() + ": measured on " + previous.getLast().night() + ", missing on " + checked);
                }
                continue;
            }
            NoiseBand band = history.bandBefore(series, checked, window, thresholds.alpha());
            if (band == null) {
                young++;
                continue;
            }
            changes.add(judge(series, metric, current, previous.getLast().suiteCommit(), band));
        }
        if (young > 0) {
            notes.add(young + " series had fewer than " + NoiseBand.MIN_NIGHTS + " earlier nights and were not checked");
        }
        return new TrendCheckResult(checked, window, thresholds, changes, notes);
    }

    private TrendChange judge(TrendSeries series, TrendMetric metric, NightlyMeasurement current, String previousCommit,
            NoiseBand band) {
        double p = band.pValue(current.value());
        double change;
        double threshold;
        if (metric.quantity().gate() == TrendMetric.Gate.ACCURACY) {
            change = current.value() - band.mean();
            threshold = thresholds.maxAccuracyDropPoints();
        } else {
            change = band.mean() == 0 ? Double.NaN : (current.value() / band.mean() - 1) * 100;
            threshold = thresholds.maxLatencyRegressionPercent();
        }
        double worsening = metric.quantity().higherIsWorse() ? change : -change;
        Verdict verdict = Double.isNaN(worsening) ? Verdict.OK
                : Verdict.judge(worsening, threshold, p, thresholds.alpha());
        return new TrendChange(series, metric, current, previousCommit, band, change, p, verdict);
    }
}
