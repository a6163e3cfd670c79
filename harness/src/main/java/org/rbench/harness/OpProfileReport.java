package org.rbench.harness;

import org.rbench.core.engine.OpProfiler;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench --op-profile}: one profiled decode per method and length ({@link OpProfiler}),
 * its steps grouped by kind (a step in which a layer attended the whole cache, or a sparse
 * one), and per kind every op and tensor-name family's median time a step, with its share of
 * the kind's median step.
 */
final class OpProfileReport {
    static final List<String> COLUMNS = List.of("length", "method", "step_kind", "steps", "op", "name", "nodes",
            "ms_per_step", "share");

    /** One op and name family in one kind of step. */
    record Line(int ctx, String method, String kind, int steps, String op, String name, int nodes, double msPerStep,
                double share) {
        Map<String, String> row() {
            Map<String, String> r = new LinkedHashMap<>();
            r.put("length", Integer.toString(ctx));
            r.put("method", method);
            r.put("step_kind", kind);
            r.put("steps", Integer.toString(steps));
            r.put("op", op);
            r.put("name", name);
            r.put("nodes", Integer.toString(nodes));
            r.put("ms_per_step", String.format(Locale.ROOT, "%.4f", msPerStep));
            r.put("share", String.format(Locale.ROOT, "%.4f", share));
            return r;
        }
    }

    /** An op and tensor-name family. */
    private record Family(String op, String name) {
    }

    /** A family's time in each step of one kind (0 where a step lacks it), and its most nodes in a step. */
    private static final class Times {
        final double[] ms;
        int nodes;

        Times(int steps) {
            ms = new double[steps];
        }
    }

    private OpProfileReport() {
    }

    static String kind(int wholeCacheLayers) {
        return wholeCacheLayers > 0 ? "whole-cache" : "sparse";
    }

    /**
     * The lines of one profiled decode, each kind's by descending time: {@code steps} as the
     * profiler ended them, {@code wholeCacheLayers} per step from the decoder's timings.
     */
    static List<Line> summarize(int ctx, String method, List<List<OpProfiler.Cost>> steps, int[] wholeCacheLayers) {
        if (steps.size() != wholeCacheLayers.length) {
            throw new IllegalArgumentException(steps.size() + " profiled steps but " + wholeCacheLayers.length + " step timings");
        }
        Map<String, List<Integer>> byKind = new LinkedHashMap<>();
        for (int i = 0; i < steps.size(); i++) {
            byKind.computeIfAbsent(kind(wholeCacheLayers[i]), k -> new ArrayList<>()).add(i);
        }
        List<Line> out = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : byKind.entrySet()) {
            List<Integer> idx = e.getValue();
            Map<Family, Times> perFamily = new LinkedHashMap<>();
            double[] totals = new double[idx.size()];
            for (int j = 0; j < idx.size(); j++) {
                for (OpProfiler.Cost c : steps.get(idx.get(j))) {
                    Times t = perFamily.computeIfAbsent(new Family(c.op(), c.name()), f -> new Times(idx.size()));
                    t.ms[j] += c.nanos() / 1e6;
                    t.nodes = Math.max(t.nodes, c.nodes());
                    totals[j] += c.nanos() / 1e6;
                }
            }
            double step = Medians.of(totals);
            List<Line> lines = new ArrayList<>();
            for (Map.Entry<Family, Times> f : perFamily.entrySet()) {
                double ms = Medians.of(f.getValue().ms);
                lines.add(new Line(ctx, method, e.getKey(), idx.size(), f.getKey().op(), f.getKey().name(), f.getValue().nodes, ms,
                        step > 0 ? ms / step : 0));
            }
            lines.sort(Comparator.comparingDouble(Line::msPerStep).reversed());
            out.addAll(lines);
        }
        return out;
    }

    /** The first {@code top} lines of each method, length and kind, with the step's median total. */
    static void print(List<Line> lines, int top, PrintStream out) {
        String group = null;
        int shown = 0;
        for (Line l : lines) {
            String g = l.ctx() + " " + l.method() + " " + l.kind();
            if (!g.equals(group)) {
                group = g;
                shown = 0;
                out.printf(Locale.ROOT, "op profile: %d tokens, %s, %s steps (%d; node by node, so slower than a real step)%n",
                        l.ctx(), l.method(), l.kind(), l.steps());
            }
            if (shown++ < top) {
                out.printf(Locale.ROOT, "  %-15s %-34s %5d nodes %9.3f ms %6.1f%%%n", l.op(), l.name().isEmpty() ? "-" : l.name(),
                        l.nodes(), l.msPerStep(), 100 * l.share());
            }
        }
    }
}
