package org.rbench.analysis.plot;

import java.awt.Color;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.DoubleFunction;

/**
 * Points and lines over a numeric x axis, linear or log2: the frontier, latency and speedup plots.
 * Points may carry a vertical error bar (a confidence interval).
 */
public final class XyChart implements Chart {
    public enum XScale {
        LINEAR, LOG2
    }

    /** A data point; {@code yLow}/{@code yHigh} are NaN when the point has no error bar. */
    public record Point(double x, double y, double yLow, double yHigh) {
        public Point(double x, double y) {
            this(x, y, Double.NaN, Double.NaN);
        }

        boolean isFinite() {
            return Double.isFinite(x) && Double.isFinite(y);
        }

        boolean hasErrorBar() {
            return Double.isFinite(yLow) && Double.isFinite(yHigh);
        }
    }

    /**
     * A named series.
     *
     * @param marker the point marker, or null for a bare line
     * @param lines whether consecutive points (in x order) are joined
     */
    public record Series(String name, Color color, Marker marker, boolean lines, boolean dashed, List<Point> points) {
        public Series {
            points = List.copyOf(points);
        }
    }

    private final String title;
    private final String xTitle;
    private final String yTitle;
    private final List<Series> series = new ArrayList<>();
    private XScale xScale = XScale.LINEAR;
    private DoubleFunction<String> xTickFormat;
    private boolean yIncludeZero;
    private double yFloor = Double.NEGATIVE_INFINITY;
    private double yCeiling = Double.POSITIVE_INFINITY;

    public XyChart(String title, String xTitle, String yTitle) {
        this.title = title;
        this.xTitle = xTitle;
        this.yTitle = yTitle;
    }

    /** Log2 x axis with the given tick labels (e.g. "32K"). */
    public XyChart log2X(DoubleFunction<String> tickFormat) {
        this.xScale = XScale.LOG2;
        this.xTickFormat = tickFormat;
        return this;
    }

    /** Starts the y axis at zero, so bar-like quantities (speedups) are not exaggerated. */
    public XyChart yIncludeZero() {
        this.yIncludeZero = true;
        return this;
    }

    /** Never extends the y axis beyond these bounds (e.g. 0..100 for accuracy). */
    public XyChart yBounds(double floor, double ceiling) {
        this.yFloor = floor;
        this.yCeiling = ceiling;
        return this;
    }

    public XyChart add(Series s) {
        series.add(s);
        return this;
    }

    public List<Series> series() {
        return List.copyOf(series);
    }

    @Override
    public void draw(Canvas canvas) {
        List<Point> all = series.stream().flatMap(s -> s.points().stream()).filter(Point::isFinite).toList();
        double xMin = all.stream().mapToDouble(Point::x).min().orElse(Double.NaN);
        double xMax = all.stream().mapToDouble(Point::x).max().orElse(Double.NaN);
        double yMin = all.stream().mapToDouble(p -> p.hasErrorBar() ? Math.min(p.y(), p.yLow()) : p.y())
                .min().orElse(Double.NaN);
        double yMax = all.stream().mapToDouble(p -> p.hasErrorBar() ? Math.max(p.y(), p.yHigh()) : p.y())
                .max().orElse(Double.NaN);
        Axis x = xScale == XScale.LOG2 ? Axis.log2(xMin, xMax, xTickFormat) : Axis.linear(xMin, xMax, false,
                xTickFormat);
        Axis y = Axis.linear(yMin, yMax, yIncludeZero).clamp(yFloor, yCeiling);

        List<LegendEntry> legend = series.stream()
                .map(s -> new LegendEntry(s.name(), s.color(), s.marker(), s.lines(), s.dashed(), false))
                .toList();
        ChartFrame frame = new ChartFrame(canvas, y, 1, legend);
        frame.drawYAxis(y, yTitle);
        frame.drawXAxis(x, xTitle);
        frame.drawFrame();
        if (all.isEmpty()) {
            frame.drawNoData();
        }
        for (Series s : series) {
            List<Point> points = s.points().stream().filter(Point::isFinite)
                    .sorted(Comparator.comparingDouble(Point::x)).toList();
            canvas.beginGroup("series", s.name());
            if (s.lines() && points.size() > 1) {
                canvas.polyline(points.stream().mapToDouble(p -> frame.x(x.fraction(p.x()))).toArray(),
                        points.stream().mapToDouble(p -> frame.y(y.fraction(p.y()))).toArray(),
                        s.color(), 2, s.dashed());
            }
            for (Point p : points) {
                double px = frame.x(x.fraction(p.x()));
                if (p.hasErrorBar()) {
                    double low = frame.y(y.fraction(Math.max(p.yLow(), y.min())));
                    double high = frame.y(y.fraction(Math.min(p.yHigh(), y.max())));
                    canvas.line(px, low, px, high, s.color(), 1.2, false);
                    canvas.line(px - 4, low, px + 4, low, s.color(), 1.2, false);
                    canvas.line(px - 4, high, px + 4, high, s.color(), 1.2, false);
                }
                if (s.marker() != null) {
                    canvas.marker(px, frame.y(y.fraction(p.y())), s.marker(), 9, s.color());
                }
            }
            canvas.endGroup();
        }
        frame.drawLegend();
        frame.drawTitle(title);
    }
}
