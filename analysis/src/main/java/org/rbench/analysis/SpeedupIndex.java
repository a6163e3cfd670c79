package org.rbench.analysis;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Speedup of each method against full attention, measured within one run.
 *
 * <p>Speedups are only meaningful between rows that shared a machine and a build, so the ratio
 * full / method of mean decode ms/token is taken per run_id (and model, length and, for per-task
 * tables, task). When several runs are pooled, the per-run ratios are combined by their geometric
 * mean, the right average for ratios.
 */
final class SpeedupIndex {
    private record Cell(String model, int length, String task) {
    }

    /** Running sums of decode_ms_mean: [sum, count]. */
    private static final class Accumulator {
        double sum;
        int count;

        void add(double v) {
            sum += v;
            count++;
        }

        double mean() {
            return count == 0 ? Double.NaN : sum / count;
        }
    }

    private final boolean byTask;
    /** cell -> run_id -> method -> decode ms/token. */
    private final Map<Cell, Map<String, Map<String, Accumulator>>> decode = new HashMap<>();
    /** cell -> run_id -> decode ms/token of full attention. */
    private final Map<Cell, Map<String, Accumulator>> fullDecode = new HashMap<>();

    private SpeedupIndex(boolean byTask) {
        this.byTask = byTask;
    }

    static SpeedupIndex build(List<ResultRow> rows, boolean byTask) {
        SpeedupIndex index = new SpeedupIndex(byTask);
        for (ResultRow row : rows) {
            if (!Double.isFinite(row.decodeMsMean())) {
                continue;
            }
            Cell cell = new Cell(row.modelFile(), row.length(), byTask ? row.task() : null);
            index.decode.computeIfAbsent(cell, c -> new HashMap<>())
                    .computeIfAbsent(row.runId(), r -> new HashMap<>())
                    .computeIfAbsent(row.method(), m -> new Accumulator())
                    .add(row.decodeMsMean());
            if (MethodOrder.isFull(row.method())) {
                index.fullDecode.computeIfAbsent(cell, c -> new HashMap<>())
                        .computeIfAbsent(row.runId(), r -> new Accumulator())
                        .add(row.decodeMsMean());
            }
        }
        return index;
    }

    /** Speedup of the method in the cell, or NaN when no run has both the method and full. */
    double speedup(String model, String method, int length, String task) {
        Cell cell = new Cell(model, length, byTask ? task : null);
        Map<String, Map<String, Accumulator>> runs = decode.getOrDefault(cell, Map.of());
        Map<String, Accumulator> full = fullDecode.getOrDefault(cell, Map.of());
        double logSum = 0;
        int count = 0;
        // Iterating run ids in sorted order keeps the floating-point sum, and so the output, stable.
        for (String runId : runs.keySet().stream().sorted().toList()) {
            Accumulator methodMs = runs.get(runId).get(method);
            Accumulator fullMs = full.get(runId);
            if (methodMs == null || fullMs == null || methodMs.mean() <= 0) {
                continue;
            }
            logSum += Math.log(fullMs.mean() / methodMs.mean());
            count++;
        }
        return count == 0 ? Double.NaN : Math.exp(logSum / count);
    }
}
