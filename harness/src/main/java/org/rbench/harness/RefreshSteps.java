package org.rbench.harness;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A sparse method's refresh steps told from its sparse ones: a step is a refresh step when
 * any of its layers attended the whole cache (Recycled's full steps, a dynamic schedule's
 * refreshing layers). A mean per token hides them (one step in S), so {@code bench} prints
 * each kind's median step beside full attention's median step at the same length.
 */
final class RefreshSteps {
    /** One method at one length: medians over every recorded step of its repetitions. */
    record Line(int ctx, String method, int refreshSteps, double refreshMs, double sparseMs, double fullMs) {
        /** The refresh step's time over full attention's step (NaN without full attention at this length). */
        double refreshOverFull() {
            return refreshMs / fullMs;
        }
    }

    private final String fullMethod;
    private final Map<String, List<Long>> refresh = new LinkedHashMap<>();
    private final Map<String, List<Long>> sparse = new LinkedHashMap<>();
    private final Map<Integer, List<Long>> full = new LinkedHashMap<>();
    private final Map<String, Integer> contexts = new LinkedHashMap<>();

    /** @param fullMethod the spec text of the method the refresh steps are set against */
    RefreshSteps(String fullMethod) {
        this.fullMethod = fullMethod;
    }

    /** One run's steps: wall times and how many layers of each attended the whole cache. */
    void add(int ctx, String method, long[] wallNanos, int[] wholeCacheLayers) {
        if (wallNanos.length != wholeCacheLayers.length) {
            throw new IllegalArgumentException(wallNanos.length + " step times but " + wholeCacheLayers.length + " layer counts");
        }
        if (method.equals(fullMethod)) {
            List<Long> f = full.computeIfAbsent(ctx, c -> new ArrayList<>());
            Arrays.stream(wallNanos).forEach(f::add);
            return;
        }
        String key = ctx + "\u0000" + method;
        contexts.put(key, ctx);
        for (int i = 0; i < wallNanos.length; i++) {
            (wholeCacheLayers[i] > 0 ? refresh : sparse).computeIfAbsent(key, k -> new ArrayList<>()).add(wallNanos[i]);
        }
    }

    /** Methods with both kinds of step, in the order they were first added. */
    List<Line> lines() {
        List<Line> out = new ArrayList<>();
        for (Map.Entry<String, Integer> e : contexts.entrySet()) {
            List<Long> r = refresh.get(e.getKey());
            List<Long> s = sparse.get(e.getKey());
            if (r == null || s == null) {
                continue;
            }
            List<Long> f = full.get(e.getValue());
            String method = e.getKey().substring(e.getKey().indexOf('\u0000') + 1);
            out.add(new Line(e.getValue(), method, r.size(), medianMs(r), medianMs(s), f == null ? Double.NaN : medianMs(f)));
        }
        return out;
    }

    void print(PrintStream out) {
        List<Line> lines = lines();
        if (lines.isEmpty()) {
            return;
        }
        String methodColumn = "%-" + Math.max(32, lines.stream().mapToInt(l -> l.method().length()).max().orElse(0)) + "s";
        out.printf("%-8s " + methodColumn + " %8s %12s %11s %14s %16s%n", "context", "method", "refresh", "refresh ms", "sparse ms",
                fullMethod + " step ms", "refresh/" + fullMethod);
        for (Line l : lines) {
            out.printf(Locale.ROOT, "%-8d " + methodColumn + " %8d %12.2f %11.2f %14s %16s%n", l.ctx(), l.method(), l.refreshSteps(), l.refreshMs(),
                    l.sparseMs(), Double.isNaN(l.fullMs()) ? "-" : String.format(Locale.ROOT, "%.2f", l.fullMs()),
                    Double.isNaN(l.fullMs()) ? "-" : String.format(Locale.ROOT, "%.2fx", l.refreshOverFull()));
        }
        out.println("refresh: steps in which a layer attended the whole cache; medians over all repetitions' steps");
    }

    /**
     * How a refresh on this backend puts Cp's tied candidates in position order (TopRowsSelection.TieOrder), from what
     * the backend promises: {@code stableFrom}, the row length from which its argsort is stable; {@code columnOrderFrom},
     * the row length from which its top_k writes its choice in column order. A refresh's cost depends on it, so the
     * bench says it beside the refresh table.
     */
    static String tiesNote(java.util.OptionalInt stableFrom, java.util.OptionalInt columnOrderFrom) {
        if (stableFrom.isEmpty()) {
            return "refresh ties: Cp's tied candidates put in position order by three sorts (this backend's argsort is not"
                    + " known to be stable)";
        }
        int stable = stableFrom.getAsInt();
        if (columnOrderFrom.isEmpty()) {
            return String.format(Locale.ROOT, "refresh ties: Cp's tied candidates put in position order by two sorts where"
                    + " a row's candidates (K and the pooling window's) reach %,d (this backend's argsort is stable from %,d"
                    + " columns), by three below and where they are ordered on the host", stable, stable);
        }
        return String.format(Locale.ROOT, "refresh ties: Cp's tied candidates put in position order by one stable sort where"
                + " K reaches %,d and the context %,d rows (this backend's top_k writes its choice in column order from %,d"
                + " columns, its argsort is stable from %,d), by more sorts below and where they are ordered on the host",
                stable, columnOrderFrom.getAsInt(), columnOrderFrom.getAsInt(), stable);
    }

    private static double medianMs(List<Long> nanos) {
        return Medians.of(nanos.stream().mapToDouble(n -> n / 1e6).toArray());
    }
}
