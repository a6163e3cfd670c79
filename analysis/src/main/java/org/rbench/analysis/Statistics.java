package org.rbench.analysis;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** Small descriptive statistics shared by the aggregation and the comparison. */
final class Statistics {
    private Statistics() {
    }

    /** Mean of the values; NaN when there are none. */
    static double mean(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /** Mean of the finite values of a column; NaN when no row has one (optional columns). */
    static <T> double finiteMean(Collection<T> items, ToDoubleFunction<T> column) {
        double sum = 0;
        int count = 0;
        for (T item : items) {
            double v = column.applyAsDouble(item);
            if (Double.isFinite(v)) {
                sum += v;
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    /** The finite values of a column, in row order. */
    static <T> double[] finiteValues(Collection<T> items, ToDoubleFunction<T> column) {
        return items.stream().mapToDouble(column).filter(Double::isFinite).toArray();
    }

    /**
     * Mean of the stratum means: the RULER average weighs every task equally whatever its sample
     * count, as the paper does. Empty strata are ignored.
     */
    static double macroMean(List<double[]> strata) {
        double sum = 0;
        int count = 0;
        for (double[] stratum : strata) {
            if (stratum.length > 0) {
                sum += mean(stratum);
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    /** Sample standard deviation (n - 1 in the denominator); NaN with fewer than two values. */
    static double stddev(double[] values) {
        if (values.length < 2) {
            return Double.NaN;
        }
        double mean = mean(values);
        double squares = 0;
        for (double v : values) {
            squares += (v - mean) * (v - mean);
        }
        return Math.sqrt(squares / (values.length - 1));
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return quantileOfSorted(sorted, 0.5);
    }

    /** Quantile with linear interpolation between order statistics (R's type 7, NumPy's default). */
    static double quantileOfSorted(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double h = (sorted.length - 1) * p;
        int lo = (int) Math.floor(h);
        int hi = (int) Math.ceil(h);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
