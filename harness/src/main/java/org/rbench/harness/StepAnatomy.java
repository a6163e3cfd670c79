package org.rbench.harness;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a method's mean step goes above its typical one. The bench's ms/token is a mean over every step, so a
 * method whose first step, or whose steps every so often (Quest's page completions, Recycled's refreshes),
 * cost more sits above its median step; its bytes-moved bound knows nothing of either. Per method and length
 * this tells apart each repetition's first step, the later steps that stand out, and the rest.
 *
 * <p>A later step stands out when it is above the median step by more than 5% of it and by more than four
 * times the later steps' median absolute deviation: above the noise of a shared machine, so that on a quiet
 * GPU a 0.4 ms spike in a 6 ms step shows, and on a noisy CPU the spread does not.
 */
final class StepAnatomy {
    /** Fraction of the median step a later step must exceed it by to stand out (besides the noise rule). */
    static final double STANDS_OUT = 0.05;
    /** Multiples of the later steps' median absolute deviation a step must exceed the median by to stand out. */
    static final double NOISE_MADS = 4;

    /**
     * One method at one length, every repetition's steps together.
     *
     * @param medianMs        the median step
     * @param firstExcessMs   the median over repetitions of the first step minus the median step
     * @param slowSteps       later steps that stand out, of {@code laterSteps}
     * @param slowExcessMs    their median excess over the median step (NaN when there are none)
     * @param firstShareMs    the first steps' excess spread over every step: what they add to the mean
     * @param slowShareMs     the same for the later steps that stand out
     */
    record Line(int ctx, String method, int repetitions, double meanMs, double medianMs, double firstExcessMs,
                int slowSteps, int laterSteps, double slowExcessMs, double firstShareMs, double slowShareMs) {
        /** The mean's excess over the median step neither the first steps nor the slow ones explain. */
        double restShareMs() {
            return meanMs - medianMs - firstShareMs - slowShareMs;
        }
    }

    private final Map<String, List<long[]>> runs = new LinkedHashMap<>();

    /** One repetition's step times, in order. */
    void add(int ctx, String method, long[] wallNanos) {
        if (wallNanos.length == 0) {
            throw new IllegalArgumentException("a repetition of " + method + " at " + ctx + " has no steps");
        }
        runs.computeIfAbsent(ctx + "\u0000" + method, k -> new ArrayList<>()).add(wallNanos.clone());
    }

    /** Every method and length, in the order first added. */
    List<Line> lines() {
        List<Line> out = new ArrayList<>();
        for (Map.Entry<String, List<long[]>> e : runs.entrySet()) {
            int cut = e.getKey().indexOf('\u0000');
            out.add(line(Integer.parseInt(e.getKey().substring(0, cut)), e.getKey().substring(cut + 1), e.getValue()));
        }
        return out;
    }

    private static Line line(int ctx, String method, List<long[]> reps) {
        List<Double> all = new ArrayList<>();
        List<Double> later = new ArrayList<>();
        double[] firsts = new double[reps.size()];
        for (int r = 0; r < reps.size(); r++) {
            long[] steps = reps.get(r);
            firsts[r] = steps[0] / 1e6;
            for (int i = 0; i < steps.length; i++) {
                all.add(steps[i] / 1e6);
                if (i > 0) {
                    later.add(steps[i] / 1e6);
                }
            }
        }
        double median = Medians.of(toArray(all));
        double mean = all.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double[] firstExcess = new double[firsts.length];
        double firstSum = 0;
        for (int r = 0; r < firsts.length; r++) {
            firstExcess[r] = firsts[r] - median;
            firstSum += firstExcess[r];
        }
        int slow = 0;
        double slowSum = 0;
        List<Double> slowExcess = new ArrayList<>();
        if (!later.isEmpty()) {
            double laterMedian = Medians.of(toArray(later));
            double[] deviations = later.stream().mapToDouble(v -> Math.abs(v - laterMedian)).toArray();
            double threshold = Math.max(STANDS_OUT * median, NOISE_MADS * Medians.of(deviations));
            for (double v : later) {
                if (v - median > threshold) {
                    slow++;
                    slowSum += v - median;
                    slowExcess.add(v - median);
                }
            }
        }
        int n = all.size();
        return new Line(ctx, method, reps.size(), mean, median, Medians.of(firstExcess), slow, later.size(),
                slowExcess.isEmpty() ? Double.NaN : Medians.of(toArray(slowExcess)), firstSum / n, slowSum / n);
    }

    private static double[] toArray(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    void print(PrintStream out) {
        List<Line> lines = lines();
        if (lines.isEmpty()) {
            return;
        }
        String[] header = {"context", "method", "mean ms", "median ms", "first step", "slow later steps", "above median",
                "first steps", "slow steps"};
        List<String[]> rows = new ArrayList<>();
        for (Line l : lines) {
            String slow = l.slowSteps() == 0 ? "0 of " + l.laterSteps()
                    : String.format(Locale.ROOT, "%d of %d, %+.2f", l.slowSteps(), l.laterSteps(), l.slowExcessMs());
            rows.add(new String[] {Integer.toString(l.ctx()), l.method(), String.format(Locale.ROOT, "%.3f", l.meanMs()),
                    String.format(Locale.ROOT, "%.3f", l.medianMs()), String.format(Locale.ROOT, "%+.2f", l.firstExcessMs()), slow,
                    String.format(Locale.ROOT, "%.3f (%.1f%%)", l.meanMs() - l.medianMs(), 100 * (l.meanMs() - l.medianMs()) / l.meanMs()),
                    String.format(Locale.ROOT, "%.3f", l.firstShareMs()), String.format(Locale.ROOT, "%.3f", l.slowShareMs())});
        }
        // each column as wide as its widest cell: the context and the method left-aligned, the figures right-aligned
        int[] width = new int[header.length];
        for (int c = 0; c < header.length; c++) {
            width[c] = header[c].length();
            for (String[] r : rows) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        width[0] = Math.max(width[0], 8);
        width[1] = Math.max(width[1], 32);
        out.println(row(header, width));
        for (String[] r : rows) {
            out.println(row(r, width));
        }
        out.println("steps: the mean step against the median one; first step: each repetition's first above the median (their"
                + " median); slow later steps: those above the median by over 5% of it and 4 deviations of the noise (how many,"
                + " their median excess); above median, first steps, slow steps: ms each adds to the mean");
    }

    private static String row(String[] cells, int[] width) {
        StringBuilder b = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) {
                b.append(' ');
            }
            String pad = " ".repeat(width[c] - cells[c].length());
            b.append(c < 2 ? cells[c] + pad : pad + cells[c]);
        }
        return b.toString();
    }
}
