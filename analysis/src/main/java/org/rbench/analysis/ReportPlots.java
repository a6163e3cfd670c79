package org.rbench.analysis;

import java.awt.Color;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rbench.analysis.plot.BarChart;
import org.rbench.analysis.plot.Chart;
import org.rbench.analysis.plot.Marker;
import org.rbench.analysis.plot.Palette;
import org.rbench.analysis.plot.XyChart;

/**
 * Builds the report's plots from aggregated rows:
 * <ul>
 *   <li>{@code frontier_<length>}: RULER accuracy (with 95% CI) against decode ms/token, one point
 *       per method, with the Pareto frontier; one plot per context length;</li>
 *   <li>{@code ms_per_token}: decode ms/token against context length (log2), one line per method;</li>
 *   <li>{@code attention_mass_recall}: recall per method, grouped by context length;</li>
 *   <li>{@code speedup_vs_bound}: measured speedup over full attention next to the bytes-moved bound.</li>
 * </ul>
 * Latency rows are preferred for the latency and speedup plots (they sweep lengths under
 * controlled conditions); RULER rows are used when a model has none. With several models every
 * name is prefixed with the model's slug. Each method keeps one colour and marker in all plots.
 */
public final class ReportPlots {
    /** A chart and the base name of its files. */
    public record NamedChart(String name, Chart chart) {
    }

    private final List<String> methods;

    /** @param allMethods every method in the report; fixes each method's colour and marker */
    public ReportPlots(List<String> allMethods) {
        this.methods = allMethods.stream().distinct().sorted(MethodOrder.INSTANCE).toList();
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
            if (cost.stream().anyMatch(p -> !MethodOrder.isFull(p.method()) && Double.isFinite(p.speedup()))) {
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

    XyChart frontier(String model, int length, List<AccuracyRow> rows) {
        XyChart chart = new XyChart("Speed/accuracy frontier at " + LengthLabel.of(length) + " (" + model + ")",
                "Decode time (ms/token)", "RULER average accuracy").yBounds(0, 100);
        List<XyChart.Point> all = new ArrayList<>();
        for (AccuracyRow row : rows) {
            XyChart.Point point = new XyChart.Point(row.msPerToken(), row.accuracy(), row.ci().low(), row.ci().high());
            chart.add(new XyChart.Series(MethodLabel.of(row.method()), color(row.method()), marker(row.method()),
                    false, false, List.of(point)));
            all.add(point);
        }
        List<XyChart.Point> frontier = paretoFrontier(all);
        if (frontier.size() > 1) {
            chart.add(new XyChart.Series("Pareto frontier", new Color(0x808080), null, true, true, frontier));
        }
        return chart;
    }

    /**
     * The points no other point beats on both axes (less time and at least as accurate), in
     * order of time: the best accuracy available for each time budget.
     */
    static List<XyChart.Point> paretoFrontier(List<XyChart.Point> points) {
        List<XyChart.Point> sorted = points.stream()
                .filter(p -> Double.isFinite(p.x()) && Double.isFinite(p.y()))
                .sorted(Comparator.comparingDouble(XyChart.Point::x)
                        .thenComparing(Comparator.comparingDouble(XyChart.Point::y).reversed()))
                .toList();
        List<XyChart.Point> frontier = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (XyChart.Point p : sorted) {
            if (p.y() > best) {
                frontier.add(new XyChart.Point(p.x(), p.y()));
                best = p.y();
            }
        }
        return frontier;
    }

    private XyChart msPerToken(String model, List<CostPoint> cost) {
        XyChart chart = new XyChart("Decode time per token vs context length (" + model + ")",
                "Context length (tokens)", "Decode time (ms/token)")
                .log2X(v -> LengthLabel.of(Math.round(v))).yIncludeZero();
        byMethod(cost).forEach((method, points) -> chart.add(new XyChart.Series(MethodLabel.of(method),
                color(method), marker(method), true, false,
                points.stream().map(p -> new XyChart.Point(p.length(), p.msPerToken())).toList())));
        return chart;
    }

    private BarChart recall(String model, List<RecallRow> rows) {
        List<Integer> lengths = ReportTables.distinct(rows, RecallRow::length, Integer::compare);
        BarChart chart = new BarChart("Attention mass recall (" + model + ")", "Context length (tokens)",
                "Attention mass recall", lengths.stream().map(LengthLabel::of).toList()).yMax(1.0);
        for (String method : ReportTables.distinct(rows, RecallRow::method, MethodOrder.INSTANCE)) {
            double[] values = lengths.stream().mapToDouble(length -> rows.stream()
                    .filter(r -> r.method().equals(method) && r.length() == length)
                    .mapToDouble(RecallRow::recall).findFirst().orElse(Double.NaN)).toArray();
            chart.add(new BarChart.Series(MethodLabel.of(method), color(method), values));
        }
        return chart;
    }

    private XyChart speedup(String model, List<CostPoint> cost) {
        XyChart chart = new XyChart("Measured decode speedup vs bytes-moved bound (" + model + ")",
                "Context length (tokens)", "Speedup over full attention (x)")
                .log2X(v -> LengthLabel.of(Math.round(v))).yIncludeZero();
        byMethod(cost).forEach((method, points) -> {
            if (MethodOrder.isFull(method)) {
                return; // 1x by definition
            }
            List<XyChart.Point> measured = points.stream()
                    .map(p -> new XyChart.Point(p.length(), p.speedup())).toList();
            chart.add(new XyChart.Series(MethodLabel.of(method), color(method), marker(method), true, false,
                    measured));
            List<XyChart.Point> bound = points.stream().filter(p -> Double.isFinite(p.bound()))
                    .map(p -> new XyChart.Point(p.length(), p.bound())).toList();
            if (!bound.isEmpty()) {
                // A lone bound point would be invisible as a line, so it gets a marker of its own.
                chart.add(new XyChart.Series(MethodLabel.of(method) + " (bound)", color(method),
                        bound.size() == 1 ? Marker.DIAMOND : null, true, true, bound));
            }
        });
        return chart;
    }

    private static Map<String, List<CostPoint>> byMethod(List<CostPoint> cost) {
        Map<String, List<CostPoint>> result = new TreeMap<>(MethodOrder.INSTANCE);
        cost.forEach(p -> result.computeIfAbsent(p.method(), m -> new ArrayList<>()).add(p));
        return result;
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
