package org.rbench.analysis;

import java.awt.Color;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.DoubleStream;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.rbench.analysis.plot.BarChart;
import org.rbench.analysis.plot.LineChart;
import org.rbench.analysis.plot.Palette;

/**
 * Builds the report's plots from aggregated rows, as XChart charts:
 * <ul>
 *   <li>{@code frontier_<length>}: RULER accuracy (with 95% CI) against decode ms/token, one point
 *       per method, with the Pareto frontier; one plot per context length;</li>
 *   <li>{@code ms_per_token}: decode ms/token against context length (log2), one line per method;</li>
 *   <li>{@code attention_mass_recall}: recall per method, grouped by context length;</li>
 *   <li>{@code speedup_vs_bound}: measured speedup over full attention next to the bytes-moved
 *       bound, only where rows carry a bound ({@code bound_speedup}: latency rows from
 *       {@code rbench bench}); RULER rows have none, and a plot named for a bound it does not
 *       show would mislead.</li>
 * </ul>
 * Latency rows are preferred for the latency and speedup plots (they sweep lengths under
 * controlled conditions); RULER rows are used when a model has none. With several models every
 * name is prefixed with the model's slug. Each method keeps one colour and marker in all plots.
 */
public final class ReportPlots {
    /** A chart and the base name of its files. */
    public record NamedChart(String name, Chart<?, ?> chart) {
    }

    /** One method's RULER average at one length: decode time (x) and accuracy (y). */
    record FrontierPoint(double msPerToken, double accuracy) {
    }

    private final List<String> methods;
    private final Map<String, String> labels = new HashMap<>();

    /** @param allMethods every method in the report; fixes each method's colour, marker and label */
    public ReportPlots(List<String> allMethods) {
        this.methods = allMethods.stream().distinct().sorted(MethodOrder.INSTANCE).toList();
        // Two specs can share a label ("h2o:k=64" and "h2o:K=64"); legends then show the specs.
        Map<String, Long> uses = new HashMap<>();
        methods.forEach(m -> uses.merge(MethodLabel.of(m), 1L, Long::sum));
        methods.forEach(m -> labels.put(m, uses.get(MethodLabel.of(m)) > 1 ? m : MethodLabel.of(m)));
    }

    public List<NamedChart> charts(List<AccuracyRow> averages, List<LatencyRow> latency, List<RecallRow> recall) {
        List<String> models = ReportTables.distinct(concat(averages.stream().map(AccuracyRow::model).toList(),
                latency.stream().map(LatencyRow::model).toList(), recall.stream().map(RecallRow::model).toList()),
                m -> m, NaturalOrder.INSTANCE);
        List<NamedChart> charts = new ArrayList<>();
        for (String model : models) {
            String prefix = models.size() > 1 ? ReportTables.slug(model) + "_" : "";
            List<AccuracyRow> modelAverages = averages.stream().filter(r -> r.model().equals(model)).toList();
            List<LatencyRow> modelLatency = latency.stream().filter(r -> r.model().equals(model)).toList();
            List<RecallRow> modelRecall = recall.stream().filter(r -> r.model().equals(model)).toList();
            for (int length : ReportTables.distinct(modelAverages, AccuracyRow::length, Integer::compare)) {
                charts.add(new NamedChart(prefix + "frontier_" + LengthLabel.of(length),
                        frontier(model, length, modelAverages.stream().filter(r -> r.length() == length).toList())));
            }
            List<CostPoint> cost = costPoints(modelAverages, modelLatency);
            if (!cost.isEmpty()) {
                charts.add(new NamedChart(prefix + "ms_per_token", msPerToken(model, cost)));
            }
            if (!modelRecall.isEmpty()) {
                charts.add(new NamedChart(prefix + "attention_mass_recall", recall(model, modelRecall)));
            }
            if (cost.stream().anyMatch(p -> !MethodOrder.isFull(p.method()) && Double.isFinite(p.bound()))) {
                charts.add(new NamedChart(prefix + "speedup_vs_bound", speedup(model, cost)));
            }
        }
        return charts;
    }

    /** Decode cost of one method at one length, from latency rows or RULER rows. */
    private record CostPoint(String method, int length, double msPerToken, double speedup, double bound) {
    }

    private static List<CostPoint> costPoints(List<AccuracyRow> averages, List<LatencyRow> latency) {
        if (!latency.isEmpty()) {
            return latency.stream().map(r -> new CostPoint(r.method(), r.length(), r.msPerToken(), r.speedup(),
                    r.boundSpeedup())).toList();
        }
        return averages.stream().map(r -> new CostPoint(r.method(), r.length(), r.msPerToken(), r.speedup(),
                r.boundSpeedup())).toList();
    }

    Chart<?, ?> frontier(String model, int length, List<AccuracyRow> rows) {
        LineChart chart = new LineChart("Speed/accuracy frontier at " + LengthLabel.of(length) + " (" + model + ")",
                "Decode time (ms/token)", "RULER average accuracy").yRange(0, 100).yDecimalPattern("0");
        for (AccuracyRow row : rows) {
            String label = label(row.method());
            chart.interval(label + " (95% CI)", color(row.method()), row.msPerToken(), row.ci().low(),
                    row.ci().high());
            chart.points(label, color(row.method()), marker(row.method()), new double[] {row.msPerToken()},
                    new double[] {row.accuracy()});
        }
        List<FrontierPoint> frontier = paretoFrontier(rows.stream()
                .map(r -> new FrontierPoint(r.msPerToken(), r.accuracy())).toList());
        if (frontier.size() > 1) {
            chart.dashedLine("Pareto frontier", Palette.MUTED, null,
                    frontier.stream().mapToDouble(FrontierPoint::msPerToken).toArray(),
                    frontier.stream().mapToDouble(FrontierPoint::accuracy).toArray());
        }
        return chart.toXChart();
    }

    /**
     * The points no other point beats on both axes (less time and at least as accurate), in
     * order of time: the best accuracy available for each time budget.
     */
    static List<FrontierPoint> paretoFrontier(List<FrontierPoint> points) {
        List<FrontierPoint> sorted = points.stream()
                .filter(p -> Double.isFinite(p.msPerToken()) && Double.isFinite(p.accuracy()))
                .sorted(Comparator.comparingDouble(FrontierPoint::msPerToken)
                        .thenComparing(Comparator.comparingDouble(FrontierPoint::accuracy).reversed()))
                .toList();
        List<FrontierPoint> frontier = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (FrontierPoint p : sorted) {
            if (p.accuracy() > best) {
                frontier.add(p);
                best = p.accuracy();
            }
        }
        return frontier;
    }

    private Chart<?, ?> msPerToken(String model, List<CostPoint> cost) {
        LineChart chart = new LineChart("Decode ms/token vs context length (" + model + ")",
                "Context length (tokens)", "Decode time (ms/token)")
                .log2X(v -> LengthLabel.of(Math.round(v))).yFromZero()
                .yDecimalPattern(tickPattern(cost.stream().mapToDouble(CostPoint::msPerToken)));
        byMethod(cost).forEach((method, points) -> chart.line(label(method), color(method), marker(method),
                lengths(points), points.stream().mapToDouble(CostPoint::msPerToken).toArray()));
        return chart.toXChart();
    }

    private Chart<?, ?> recall(String model, List<RecallRow> rows) {
        List<Integer> lengths = ReportTables.distinct(rows, RecallRow::length, Integer::compare);
        BarChart chart = new BarChart("Attention mass recall (" + model + ")", "Context length (tokens)",
                "Attention mass recall", lengths.stream().map(LengthLabel::of).toList())
                .yMax(1.0).yDecimalPattern("0.0");
        for (String method : ReportTables.distinct(rows, RecallRow::method, MethodOrder.INSTANCE)) {
            double[] values = lengths.stream().mapToDouble(length -> rows.stream()
                    .filter(r -> r.method().equals(method) && r.length() == length)
                    .mapToDouble(RecallRow::recall).findFirst().orElse(Double.NaN)).toArray();
            chart.add(label(method), color(method), values);
        }
        return chart.toXChart();
    }

    private Chart<?, ?> speedup(String model, List<CostPoint> cost) {
        LineChart chart = new LineChart("Decode speedup vs bytes-moved bound (" + model + ")",
                "Context length (tokens)", "Speedup over full attention (x)")
                .log2X(v -> LengthLabel.of(Math.round(v))).yFromZero()
                .yDecimalPattern(tickPattern(cost.stream().filter(p -> !MethodOrder.isFull(p.method()))
                        .flatMapToDouble(p -> DoubleStream.of(p.speedup(), p.bound()))));
        byMethod(cost).forEach((method, points) -> {
            if (MethodOrder.isFull(method)) {
                return; // 1x by definition
            }
            chart.line(label(method), color(method), marker(method), lengths(points),
                    points.stream().mapToDouble(CostPoint::speedup).toArray());
            List<CostPoint> bounded = points.stream().filter(p -> Double.isFinite(p.bound())).toList();
            if (!bounded.isEmpty()) {
                // A lone bound point would be invisible as a line, so it gets a marker of its own.
                chart.dashedLine(label(method) + " (bound)", color(method),
                        bounded.size() == 1 ? SeriesMarkers.DIAMOND : null, lengths(bounded),
                        bounded.stream().mapToDouble(CostPoint::bound).toArray());
            }
        });
        return chart.toXChart();
    }

    /** Tick labels with as many decimals as the scale needs: "0.00" below 1, "0.0" below 10, else "0". */
    static String tickPattern(DoubleStream values) {
        double max = values.filter(Double::isFinite).max().orElse(1);
        return max < 1 ? "0.00" : max < 10 ? "0.0" : "0";
    }

    private static double[] lengths(List<CostPoint> points) {
        return points.stream().mapToDouble(CostPoint::length).toArray();
    }

    private static Map<String, List<CostPoint>> byMethod(List<CostPoint> cost) {
        Map<String, List<CostPoint>> result = new TreeMap<>(MethodOrder.INSTANCE);
        cost.forEach(p -> result.computeIfAbsent(p.method(), m -> new ArrayList<>()).add(p));
        return result;
    }

    private String label(String method) {
        return labels.getOrDefault(method, MethodLabel.of(method));
    }

    private Color color(String method) {
        return Palette.color(methods.indexOf(method));
    }

    private Marker marker(String method) {
        return Palette.marker(methods.indexOf(method));
    }

    @SafeVarargs
    private static <T> List<T> concat(List<T>... lists) {
        List<T> all = new ArrayList<>();
        for (List<T> list : lists) {
            all.addAll(list);
        }
        return all;
    }
}
