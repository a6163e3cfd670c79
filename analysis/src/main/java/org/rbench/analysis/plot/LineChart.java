package org.rbench.analysis.plot;

import java.awt.Color;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.DoubleFunction;
import java.util.stream.IntStream;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Lines, points, shaded bands and intervals over a numeric x axis, linear or log2, in the house
 * style; {@link #toXChart()} builds the XChart chart that {@link ChartFiles} writes.
 *
 * <pre>{@code
 * XYChart chart = new LineChart("Decode time", "Context length (tokens)", "ms/token")
 *         .log2X(v -> LengthLabel.of(Math.round(v)))
 *         .band("95% CI", Palette.color(1), x, low, high)
 *         .line("Recycled K=4096 S=50", Palette.color(1), Palette.marker(1), x, y)
 *         .toXChart();
 * ChartFiles.write(chart, directory, "ms_per_token");
 * }</pre>
 *
 * Points whose coordinates are not finite are left out (a log2 axis also leaves out x <= 0);
 * lines join the remaining points in x order. Bands are drawn first, then intervals, then lines
 * and points, whatever the order of the calls. Names must be unique within a chart.
 */
public final class LineChart {
    public static final int DEFAULT_WIDTH = 900;
    public static final int DEFAULT_HEIGHT = 540;

    private enum Kind {
        BAND, INTERVAL, LINE, DASHED_LINE, POINTS
    }

    /** One series as given; {@code y2} is the upper edge of a band, else null. */
    private record Series(Kind kind, String name, Color color, Marker marker, double[] x, double[] y, double[] y2) {
    }

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final List<Series> series = new ArrayList<>();
    private boolean log2X;
    private DoubleFunction<String> xTickLabel;
    private Double yMin;
    private Double yMax;
    private String yDecimalPattern;

    public LineChart(String title, String xTitle, String yTitle) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
    }

    /**
     * Plots x on a base-2 logarithmic scale, the natural one for context lengths, with ticks on
     * powers of two labelled by {@code tickLabel} (which gets the value, e.g. 32768, not its
     * logarithm).
     */
    public LineChart log2X(DoubleFunction<String> tickLabel) {
        this.log2X = true;
        this.xTickLabel = tickLabel;
        return this;
    }

    /** Labels for the ticks of a linear x axis, e.g. a date for a run number. */
    public LineChart xTickLabels(DoubleFunction<String> tickLabel) {
        this.xTickLabel = tickLabel;
        return this;
    }

    /** Ticks of a linear x axis labelled on whole numbers only (steps, nights), none between. */
    public LineChart wholeNumberXTicks() {
        return xTickLabels(x -> x == Math.rint(x) ? Long.toString((long) x) : "");
    }

    /** Starts the y axis at zero, so that ratios such as speedups are not exaggerated. */
    public LineChart yFromZero() {
        this.yMin = 0.0;
        return this;
    }

    /** A fixed y range, e.g. 0 to 100 for accuracy. */
    public LineChart yRange(double min, double max) {
        this.yMin = min;
        this.yMax = max;
        return this;
    }

    /** How y tick labels are written, a {@link java.text.DecimalFormat} pattern such as "0.0". */
    public LineChart yDecimalPattern(String pattern) {
        this.yDecimalPattern = pattern;
        return this;
    }

    /** A solid line through the points, with a marker on each when {@code marker} is not null. */
    public LineChart line(String name, Color color, Marker marker, double[] x, double[] y) {
        return add(new Series(Kind.LINE, name, color, marker, x, y, null));
    }

    /** A dashed line, e.g. a bound or a frontier; {@code marker} may be null. */
    public LineChart dashedLine(String name, Color color, Marker marker, double[] x, double[] y) {
        return add(new Series(Kind.DASHED_LINE, name, color, marker, x, y, null));
    }

    /** Markers only. */
    public LineChart points(String name, Color color, Marker marker, double[] x, double[] y) {
        Objects.requireNonNull(marker, "points need a marker");
        return add(new Series(Kind.POINTS, name, color, marker, x, y, null));
    }

    /** A translucent area between {@code low} and {@code high}, e.g. a confidence band; in the legend. */
    public LineChart band(String name, Color color, double[] x, double[] low, double[] high) {
        return add(new Series(Kind.BAND, name, color, null, x, low, high));
    }

    /**
     * A vertical interval with caps at x from {@code low} to {@code high}, e.g. a confidence
     * interval around a point; not in the legend (the point's own series is).
     */
    public LineChart interval(String name, Color color, double x, double low, double high) {
        return add(new Series(Kind.INTERVAL, name, color, null, new double[] {x, x}, new double[] {low, high},
                null));
    }

    private LineChart add(Series s) {
        int n = s.x().length;
        if (s.y().length != n || (s.y2() != null && s.y2().length != n)) {
            throw new IllegalArgumentException("series '" + s.name() + "': " + n + " x values but "
                    + s.y().length + (s.y2() != null ? " and " + s.y2().length : "") + " y values");
        }
        if (series.stream().anyMatch(other -> other.name().equals(s.name()))) {
            throw new IllegalArgumentException("series name '" + s.name() + "' is used twice in '" + title + "'");
        }
        series.add(new Series(s.kind(), s.name(), s.color(), s.marker(), s.x().clone(), s.y().clone(),
                s.y2() == null ? null : s.y2().clone()));
        return this;
    }

    public XYChart toXChart() {
        return toXChart(DEFAULT_WIDTH, DEFAULT_HEIGHT);
    }

    public XYChart toXChart(int width, int height) {
        ChartFiles.ensureHeadless();
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        HouseStyle.apply(chart.getStyler());
        chart.getStyler().setYAxisMin(yMin).setYAxisMax(yMax);
        if (yDecimalPattern != null) {
            chart.getStyler().setYAxisDecimalPattern(yDecimalPattern);
        }
        HouseStyle.fitTitle(chart.getStyler(), title, series.stream()
                .filter(s -> s.kind() != Kind.INTERVAL).map(Series::name).toList(), width);
        if (log2X) {
            addLog2Ticks(chart);
        }
        if (xTickLabel != null) {
            DoubleFunction<String> label = xTickLabel;
            // Off the powers of two a log2 tick gets no label; XChart then widens its tick step
            // until the labels are unique, which puts the ticks back on powers of two.
            chart.getStyler().setxAxisTickLabelsFormattingFunction(log2X
                    ? v -> Math.abs(v - Math.rint(v)) < 1e-9 ? label.apply(Math.pow(2, Math.rint(v))) : ""
                    : label::apply);
        }
        // XChart draws (and lists) series in the order they were added: bands and intervals go
        // first so that they lie under the lines and points, which keep the callers' order.
        series.stream().filter(s -> s.kind() == Kind.BAND).forEach(s -> addTo(chart, s));
        series.stream().filter(s -> s.kind() == Kind.INTERVAL).forEach(s -> addTo(chart, s));
        series.stream().filter(s -> s.kind() != Kind.BAND && s.kind() != Kind.INTERVAL)
                .forEach(s -> addTo(chart, s));
        return chart;
    }

    /**
     * XChart puts custom-labelled ticks on the x values of the data when they are equally
     * spaced, in the order the series hold them. A hidden first series holding every integer
     * exponent in the data's range makes that the powers of two (when all x are powers of two).
     */
    private void addLog2Ticks(XYChart chart) {
        double[] exponents = series.stream().flatMapToDouble(s -> Arrays.stream(s.x())).map(LineChart::log2)
                .filter(Double::isFinite).toArray();
        if (exponents.length == 0) {
            return;
        }
        int first = (int) Math.floor(Arrays.stream(exponents).min().orElseThrow() + 1e-9);
        int last = (int) Math.ceil(Arrays.stream(exponents).max().orElseThrow() - 1e-9);
        double[] ticks = IntStream.rangeClosed(first, last).asDoubleStream().toArray();
        double[] nothing = new double[ticks.length];
        Arrays.fill(nothing, Double.NaN);
        XYSeries tickSeries = chart.addSeries(uniqueHiddenName("log2 ticks"), ticks, nothing);
        tickSeries.setShowInLegend(false);
        tickSeries.setMarker(SeriesMarkers.NONE);
        tickSeries.setLineStyle(SeriesLines.NONE);
    }

    private String uniqueHiddenName(String base) {
        Set<String> names = new HashSet<>();
        series.forEach(s -> names.add(s.name()));
        String name = "(" + base + ")";
        while (names.contains(name)) {
            name = "(" + name + ")";
        }
        return name;
    }

    private void addTo(XYChart chart, Series s) {
        double[][] points = finitePoints(s);
        double[] x = points[0];
        double[] y = points[1];
        if (s.kind() == Kind.BAND) {
            // A closed polygon: along the upper edge, then back along the lower one.
            double[] polygonX = new double[2 * x.length];
            double[] polygonY = new double[2 * x.length];
            for (int i = 0; i < x.length; i++) {
                polygonX[i] = x[i];
                polygonY[i] = points[2][i];
                polygonX[2 * x.length - 1 - i] = x[i];
                polygonY[2 * x.length - 1 - i] = y[i];
            }
            x = polygonX;
            y = polygonY;
        }
        if (x.length == 0) {
            return; // nothing to draw, and an empty series would be an empty legend entry
        }
        XYSeries added = chart.addSeries(s.name(), x, y);
        added.setLineColor(s.color());
        added.setMarkerColor(s.color());
        added.setFillColor(s.color());
        switch (s.kind()) {
            case LINE -> {
                added.setXYSeriesRenderStyle(XYSeriesRenderStyle.Line);
                added.setLineStyle(HouseStyle.LINE);
                added.setMarker(s.marker() != null ? s.marker() : SeriesMarkers.NONE);
            }
            case DASHED_LINE -> {
                added.setXYSeriesRenderStyle(XYSeriesRenderStyle.Line);
                added.setLineStyle(HouseStyle.DASHED);
                added.setMarker(s.marker() != null ? s.marker() : SeriesMarkers.NONE);
            }
            case POINTS -> {
                added.setXYSeriesRenderStyle(XYSeriesRenderStyle.Scatter);
                added.setMarker(s.marker());
            }
            case BAND -> {
                added.setXYSeriesRenderStyle(XYSeriesRenderStyle.PolygonArea);
                added.setFillColor(new Color(s.color().getRed(), s.color().getGreen(), s.color().getBlue(), 0x40));
                added.setLineStyle(SeriesLines.NONE);
                added.setMarker(SeriesMarkers.NONE);
            }
            case INTERVAL -> {
                added.setXYSeriesRenderStyle(XYSeriesRenderStyle.Line);
                added.setLineStyle(HouseStyle.THIN);
                added.setMarker(CapMarker.INSTANCE);
                added.setShowInLegend(false);
            }
        }
    }

    /** The series' points with finite coordinates (and x > 0 on a log2 axis), in x order. */
    private double[][] finitePoints(Series s) {
        int[] kept = IntStream.range(0, s.x().length)
                .filter(i -> Double.isFinite(mapX(s.x()[i])) && Double.isFinite(s.y()[i])
                        && (s.y2() == null || Double.isFinite(s.y2()[i])))
                .boxed().sorted(Comparator.comparingDouble(i -> s.x()[i]))
                .mapToInt(Integer::intValue).toArray();
        double[] x = Arrays.stream(kept).mapToDouble(i -> mapX(s.x()[i])).toArray();
        double[] y = Arrays.stream(kept).mapToDouble(i -> s.y()[i]).toArray();
        double[] y2 = s.y2() == null ? null : Arrays.stream(kept).mapToDouble(i -> s.y2()[i]).toArray();
        return new double[][] {x, y, y2};
    }

    private double mapX(double x) {
        return log2X ? log2(x) : x;
    }

    private static double log2(double v) {
        return v > 0 ? Math.log(v) / Math.log(2) : Double.NaN;
    }
}
