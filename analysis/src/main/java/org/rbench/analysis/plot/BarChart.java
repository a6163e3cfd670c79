package org.rbench.analysis.plot;

import java.awt.Color;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.CategorySeries.CategorySeriesRenderStyle;

/**
 * Grouped bars in the house style: one group per category, one bar per series; a missing value
 * (NaN) leaves a gap. {@link #toXChart()} builds the XChart chart that {@link ChartFiles} writes.
 */
public final class BarChart {
    private record Series(String name, Color color, double[] values) {
    }

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final List<String> categories;
    private final List<Series> series = new ArrayList<>();
    private Double yMax;
    private String yDecimalPattern;

    public BarChart(String title, String xTitle, String yTitle, List<String> categories) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
        this.categories = List.copyOf(categories);
    }

    /** A fixed top of the y axis, e.g. 1 for a fraction. */
    public BarChart yMax(double max) {
        this.yMax = max;
        return this;
    }

    /** How y tick labels are written, a {@link java.text.DecimalFormat} pattern such as "0.0". */
    public BarChart yDecimalPattern(String pattern) {
        this.yDecimalPattern = pattern;
        return this;
    }

    /** One bar per category, in the order of the categories. */
    public BarChart add(String name, Color color, double[] values) {
        if (values.length != categories.size()) {
            throw new IllegalArgumentException("series '" + name + "' has " + values.length + " values for "
                    + categories.size() + " categories");
        }
        if (series.stream().anyMatch(s -> s.name().equals(name))) {
            throw new IllegalArgumentException("series name '" + name + "' is used twice in '" + title + "'");
        }
        series.add(new Series(name, color, values.clone()));
        return this;
    }

    public CategoryChart toXChart() {
        return toXChart(LineChart.DEFAULT_WIDTH, LineChart.DEFAULT_HEIGHT);
    }

    public CategoryChart toXChart(int width, int height) {
        ChartFiles.ensureHeadless();
        CategoryChart chart = new CategoryChartBuilder().width(width).height(height).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        HouseStyle.apply(chart.getStyler());
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(yMax);
        chart.getStyler().setAvailableSpaceFill(0.8);
        if (yDecimalPattern != null) {
            chart.getStyler().setYAxisDecimalPattern(yDecimalPattern);
        }
        HouseStyle.fitTitle(chart.getStyler(), title, series.stream().map(Series::name).toList(), width);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        for (Series s : series) {
            // XChart leaves a gap for a null value; NaN would be drawn as a bar.
            List<Double> values = Arrays.stream(s.values()).mapToObj(v -> Double.isFinite(v) ? v : null).toList();
            if (values.stream().allMatch(v -> v == null)) {
                continue;
            }
            CategorySeries added = chart.addSeries(s.name(), categories, values);
            added.setChartCategorySeriesRenderStyle(CategorySeriesRenderStyle.Bar);
            added.setFillColor(s.color());
            added.setLineColor(s.color());
        }
        return chart;
    }
}
