package org.rbench.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * {@code rbench history plot}: one chart per setting (model, machine, backend), metric and
 * length, a line per method over the last {@code nights} nights, each point with the noise band
 * of its previous {@code window} nights (the band {@link TrendCheck} judges that night by).
 * File names: {@code <metric>_<length>}, e.g. {@code latency.ms_per_token_4K}, prefixed with the
 * setting when the history holds more than one.
 */
public final class TrendPlots {
    private final int nights;
    private final int window;
    private final double alpha;

    public TrendPlots(int nights, int window, double alpha) {
        if (nights < 1) {
            throw new IllegalArgumentException("at least one night must be plotted, not " + nights);
        }
        this.nights = nights;
        this.window = window;
        this.alpha = alpha;
    }

    public List<TrendPlot> plots(NightlyHistory history, Predicate<String> metricFilter) {
        List<String> all = history.nights();
        List<String> shown = all.subList(Math.max(0, all.size() - nights), all.size());
        List<String> methods = ReportTables.distinct(history.series(), TrendSeries::method, MethodOrder.INSTANCE);
        Map<String, List<TrendSeries>> settings = history.bySetting();
        List<TrendPlot> plots = new ArrayList<>();
        settings.forEach((setting, seriesList) -> {
            String prefix = settings.size() > 1 ? ReportTables.slug(setting) + "_" : "";
            Map<String, List<TrendSeries>> charts = new LinkedHashMap<>();
            for (TrendSeries s : seriesList) {
                if (metricFilter.test(s.metric())) {
                    charts.computeIfAbsent(s.metric() + "_" + LengthLabel.of(s.length()), k -> new ArrayList<>()).add(s);
                }
            }
            charts.forEach((name, members) -> {
                TrendSeries first = members.getFirst();
                TrendMetric metric = first.parsedMetric();
                List<TrendPlot.Line> lines = new ArrayList<>();
                for (TrendSeries s : members) {
                    lines.add(line(history, s, shown, methods.indexOf(s.method())));
                }
                String quantity = metric == null ? first.metric() : metric.quantity().unit();
                boolean accuracy = metric != null && metric.quantity() == TrendMetric.Quantity.ACCURACY;
                plots.add(new TrendPlot(prefix + ReportTables.slug(name), first.metric() + " at "
                        + LengthLabel.of(first.length()) + ", " + setting, quantity, shown, lines, 0,
                        accuracy ? 100 : Double.POSITIVE_INFINITY));
            });
        });
        return plots;
    }

    private TrendPlot.Line line(NightlyHistory history, TrendSeries series, List<String> shown, int colorIndex) {
        double[] values = new double[shown.size()];
        double[] low = new double[shown.size()];
        double[] high = new double[shown.size()];
        Arrays.fill(values, Double.NaN);
        Arrays.fill(low, Double.NaN);
        Arrays.fill(high, Double.NaN);
        for (int i = 0; i < shown.size(); i++) {
            NightlyMeasurement m = history.at(series, shown.get(i));
            if (m == null) {
                continue;
            }
            values[i] = m.value();
            NoiseBand band = history.bandBefore(series, shown.get(i), window, alpha);
            if (band != null) {
                low[i] = band.low();
                high[i] = band.high();
            }
        }
        return new TrendPlot.Line(MethodLabel.of(series.method()), colorIndex, values, low, high);
    }
}
