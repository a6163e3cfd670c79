package org.rbench.analysis.plot;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * A value axis: its range, tick positions and tick labels, and the mapping of values to a 0..1
 * fraction of the plot. Linear axes snap to "nice" steps (1, 2 or 5 times a power of ten);
 * log2 axes put ticks on powers of two, the natural grid for context lengths.
 */
public record Axis(double min, double max, boolean log2, List<Double> ticks, List<String> labels) {

    /** Where the value lies between {@link #min} (0) and {@link #max} (1). */
    public double fraction(double value) {
        if (log2) {
            return (log2(value) - log2(min)) / (log2(max) - log2(min));
        }
        return (value - min) / (max - min);
    }

    /** A linear axis covering [lo, hi], widened to nice tick steps; default tick labels. */
    public static Axis linear(double lo, double hi, boolean includeZero) {
        return linear(lo, hi, includeZero, null);
    }

    /** @param format tick label format, or null for plain numbers with the step's decimals */
    public static Axis linear(double lo, double hi, boolean includeZero, DoubleFunction<String> format) {
        if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
            lo = 0;
            hi = 1;
        }
        if (includeZero) {
            lo = Math.min(lo, 0);
            hi = Math.max(hi, 0);
        }
        if (hi - lo < 1e-12) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            lo -= pad;
            hi += pad;
            if (includeZero && lo < 0 && hi - pad >= 0) {
                lo = 0; // do not invent negative values for a non-negative quantity
            }
        }
        double step = niceStep((hi - lo) / 5);
        double min = Math.floor(lo / step + 1e-9) * step;
        double max = Math.ceil(hi / step - 1e-9) * step;
        int decimals = (int) Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
        DoubleFunction<String> label = format != null ? format
                : v -> String.format(Locale.ROOT, "%." + decimals + "f", Math.abs(v) < step * 1e-6 ? 0.0 : v);
        List<Double> ticks = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        int count = (int) Math.round((max - min) / step);
        for (int i = 0; i <= count; i++) {
            double v = min + i * step;
            ticks.add(v);
            labels.add(label.apply(v));
        }
        return new Axis(min, max, false, ticks, labels);
    }

    /** The same axis with its range cut to [floor, ceiling], e.g. accuracy to 0..100. */
    public Axis clamp(double floor, double ceiling) {
        double newMin = Math.max(min, floor);
        double newMax = Math.min(max, ceiling);
        if (newMax <= newMin) {
            return this;
        }
        List<Double> keptTicks = new ArrayList<>();
        List<String> keptLabels = new ArrayList<>();
        for (int i = 0; i < ticks.size(); i++) {
            if (ticks.get(i) >= newMin - 1e-9 && ticks.get(i) <= newMax + 1e-9) {
                keptTicks.add(ticks.get(i));
                keptLabels.add(labels.get(i));
            }
        }
        return new Axis(newMin, newMax, log2, keptTicks, keptLabels);
    }

    /**
     * A base-2 logarithmic axis over positive [lo, hi], padded by half an octave so that points
     * do not sit on the frame, with ticks on the powers of two inside.
     */
    public static Axis log2(double lo, double hi, DoubleFunction<String> format) {
        if (!(lo > 0) || !(hi > 0) || !Double.isFinite(lo) || !Double.isFinite(hi)) {
            lo = 1024;
            hi = 131072;
        }
        double minExp = log2(lo) - 0.5;
        double maxExp = log2(hi) + 0.5;
        int first = (int) Math.ceil(minExp - 1e-9);
        int last = (int) Math.floor(maxExp + 1e-9);
        int stride = Math.max(1, (last - first + 1 + 9) / 10); // at most ~10 tick labels
        List<Double> ticks = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int e = first; e <= last; e += stride) {
            double v = Math.pow(2, e);
            ticks.add(v);
            labels.add(format.apply(v));
        }
        return new Axis(Math.pow(2, minExp), Math.pow(2, maxExp), true, ticks, labels);
    }

    static double niceStep(double raw) {
        double exponent = Math.floor(Math.log10(raw));
        double magnitude = Math.pow(10, exponent);
        double fraction = raw / magnitude;
        double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return nice * magnitude;
    }

    private static double log2(double v) {
        return Math.log(v) / Math.log(2);
    }
}
