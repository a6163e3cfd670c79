package org.rbench.harness;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measured steps that built their step graph. A warmed-up method should build none: its shapes were met in warm-up
 * and the engine keeps their graphs. One that does pays the build in that step (and on CUDA an uncaptured run, then a
 * capture at the next), so its mean per token carries a cost that a run reusing its graphs would not: a shape met
 * only late in a decode, or a graph the engine could not keep or match. {@code bench} prints them, so that a reader
 * of its table need not dig them out of the steps CSV.
 */
final class GraphBuildingSteps {
    /**
     * One method at one length over its repetitions: the steps that built a graph of all its measured steps, their
     * median build time, and where they were (each repetition's step indices, counted from 0).
     */
    record Line(int ctx, String method, int building, int steps, double buildMsMedian, String where) {
    }

    private record Run(int ctx, String method) {
    }

    /** Per length and method: every repetition's build times (0: reused). */
    private final Map<Run, List<long[]>> runs = new LinkedHashMap<>();

    /** One repetition's steps: each step's build time in nanoseconds (0 where it reused a kept graph). */
    void add(int ctx, String method, long[] buildNanos) {
        runs.computeIfAbsent(new Run(ctx, method), k -> new ArrayList<>()).add(buildNanos.clone());
    }

    /** The methods and lengths with a measured step that built a graph, in the order they were first added. */
    List<Line> lines() {
        List<Line> out = new ArrayList<>();
        for (Map.Entry<Run, List<long[]>> e : runs.entrySet()) {
            List<Double> builtMs = new ArrayList<>();
            List<String> where = new ArrayList<>();
            int steps = 0;
            for (long[] run : e.getValue()) {
                steps += run.length;
                List<String> at = new ArrayList<>();
                for (int i = 0; i < run.length; i++) {
                    if (run[i] > 0) {
                        builtMs.add(run[i] / 1e6);
                        at.add(Integer.toString(i));
                    }
                }
                where.add(at.isEmpty() ? "-" : String.join(",", at));
            }
            if (builtMs.isEmpty()) {
                continue;
            }
            out.add(new Line(e.getKey().ctx(), e.getKey().method(), builtMs.size(), steps,
                    Medians.of(builtMs.stream().mapToDouble(Double::doubleValue).toArray()), String.join(" / ", where)));
        }
        return out;
    }

    void print(PrintStream out) {
        List<Line> lines = lines();
        if (lines.isEmpty()) {
            return;
        }
        out.println("graphs built in measured steps: each such step paid the build, and on CUDA an uncaptured run and then a"
                + " capture; RBENCH_EXPLAIN_BUILDS=1 says on stderr why the kept graphs did not serve");
        for (Line l : lines) {
            out.printf(Locale.ROOT, "  %s at %d: %d of %d steps, %.2f ms each (median), at steps %s (each repetition's)%n",
                    l.method(), l.ctx(), l.building(), l.steps(), l.buildMsMedian(), l.where());
        }
    }
}
