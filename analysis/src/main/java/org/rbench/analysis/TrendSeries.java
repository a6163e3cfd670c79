package org.rbench.analysis;

import java.util.Comparator;

/**
 * One line of the nightly history: a metric of one method at one length, on one machine,
 * backend and model. Its nights differ in their values and suite commits; everything that
 * identifies the series stays the same from night to night.
 *
 * @param machine the machine the nights ran on (the results' {@code device} column unless named)
 * @param metric a {@link TrendMetric} name
 */
public record TrendSeries(String machine, String backend, String model, String method, int length, String metric) {

    /** Machine, backend, model, metric, then methods as in every table, then length. */
    public static final Comparator<TrendSeries> ORDER = Comparator
            .comparing(TrendSeries::machine, NaturalOrder.INSTANCE)
            .thenComparing(TrendSeries::backend, NaturalOrder.INSTANCE)
            .thenComparing(TrendSeries::model, NaturalOrder.INSTANCE)
            .thenComparing(TrendSeries::metric, NaturalOrder.INSTANCE)
            .thenComparing(TrendSeries::method, MethodOrder.INSTANCE)
            .thenComparingInt(TrendSeries::length);

    /** The metric, or null when the history holds a name this version does not know. */
    public TrendMetric parsedMetric() {
        return TrendMetric.parse(metric);
    }

    /** Where the series ran: "model on machine (backend)". */
    public String setting() {
        return model + " on " + machine + " (" + backend + ")";
    }

    /** A one-line name for reports: "ruler.accuracy, Recycled K=256 S=16 at 4K, model on machine (cpu)". */
    public String describe() {
        return metric + ", " + MethodLabel.of(method) + " at " + LengthLabel.of(length) + ", " + setting();
    }
}
