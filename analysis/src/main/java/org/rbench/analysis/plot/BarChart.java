package org.rbench.analysis.plot;

import java.awt.Color;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Grouped bars: one group per category, one bar per series; missing values (NaN) leave a gap. */
public final class BarChart implements Chart {
    /** A named series with one value per category. */
    public record Series(String name, Color color, double[] values) {
        public Series {
            values = values.clone();
        }
    }

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final List<String> categories;
    private final List<Series> series = new ArrayList<>();
    private double yCeiling = Double.NaN;

    public BarChart(String title, String xTitle, String yTitle, List<String> categories) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
        this.categories = List.copyOf(categories);
    }

    /** A fixed top of the y axis, e.g. 1 for a fraction. */
    public BarChart yMax(double ceiling) {
        this.yCeiling = ceiling;
        return this;
    }

    public BarChart add(Series s) {
        if (s.values().length != categories.size()) {
            throw new IllegalArgumentException("series " + s.name() + " has " + s.values().length
                    + " values for " + categories.size() + " categories");
        }
        series.add(s);
        return this;
    }

    public List<Series> series() {
        return List.copyOf(series);
    }

    @Override
    public void draw(Canvas canvas) {
        double max = series.stream().flatMapToDouble(s -> Arrays.stream(s.values()))
                .filter(Double::isFinite).max().orElse(Double.NaN);
        Axis y = Double.isFinite(yCeiling)
                ? Axis.linear(0, yCeiling, true).clamp(0, yCeiling)
                : Axis.linear(0, max, true);
        List<LegendEntry> legend = series.stream()
                .map(s -> new LegendEntry(s.name(), s.color(), null, false, false, true)).toList();
        ChartFrame frame = new ChartFrame(canvas, y, 1, legend);
        frame.drawYAxis(y, yTitle);
        frame.drawFrame();
        if (!Double.isFinite(max) || categories.isEmpty()) {
            frame.drawNoData();
        }
        double band = (frame.right - frame.left) / Math.max(1, categories.size());
        double barWidth = band * 0.8 / Math.max(1, series.size());
        for (int c = 0; c < categories.size(); c++) {
            double centre = frame.left + band * (c + 0.5);
            canvas.line(centre, frame.bottom, centre, frame.bottom + 4, Palette.AXIS, 1, false);
            canvas.text(categories.get(c), centre, frame.bottom + 8 + ChartFrame.TICK_SIZE,
                    TextStyle.of(ChartFrame.TICK_SIZE, TextStyle.Anchor.MIDDLE));
        }
        for (int s = 0; s < series.size(); s++) {
            Series current = series.get(s);
            canvas.beginGroup("series", current.name());
            for (int c = 0; c < categories.size(); c++) {
                double value = current.values()[c];
                if (!Double.isFinite(value)) {
                    continue;
                }
                double top = frame.y(y.fraction(Math.min(Math.max(value, y.min()), y.max())));
                double x = frame.left + band * c + band * 0.1 + barWidth * s;
                canvas.fillRect(x + 1, top, barWidth - 2, frame.bottom - top, current.color());
            }
            canvas.endGroup();
        }
        frame.drawXTitle(xTitle, 1);
        frame.drawLegend();
        frame.drawTitle(title);
    }
}
