package org.rbench.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.rbench.analysis.plot.ChartFiles;
import org.rbench.analysis.plot.LineChart;
import org.rbench.analysis.plot.Palette;

/**
 * Renders trend plots with the module's {@link LineChart}: x is the night's number (1 = the
 * oldest shown, the axis title names the first and last dates; ticks on whole nights only),
 * each method a line with markers, and each night's noise band as a vertical interval on its
 * point: a point outside its own interval lies outside the previous nights' noise.
 */
public final class XyTrendPlotRenderer implements TrendPlotRenderer {
    @Override
    public List<Path> write(TrendPlot plot, Path directory) throws IOException {
        return ChartFiles.write(chart(plot).toXChart(), directory, plot.name());
    }

    /** The chart of one trend plot. */
    static LineChart chart(TrendPlot plot) {
        List<String> nights = plot.nights();
        String xTitle = nights.size() == 1 ? "Night 1 = " + nights.getFirst()
                : "Night (1 = " + nights.getFirst() + ", " + nights.size() + " = " + nights.getLast() + ")";
        LineChart chart = new LineChart(plot.title(), xTitle, plot.yTitle())
                .wholeNumberXTicks();
        if (Double.isFinite(plot.yCeiling())) {
            chart.yRange(plot.yFloor(), plot.yCeiling());
        } else if (plot.yFloor() == 0) {
            chart.yFromZero();
        }
        double[] x = new double[nights.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = i + 1;
        }
        for (TrendPlot.Line line : plot.lines()) {
            chart.line(line.label(), Palette.color(line.colorIndex()), Palette.marker(line.colorIndex()), x, line.values());
            for (int i = 0; i < x.length; i++) {
                if (Double.isFinite(line.bandLow()[i]) && Double.isFinite(line.bandHigh()[i])) {
                    chart.interval(line.label() + " band " + (i + 1), Palette.color(line.colorIndex()), x[i],
                            line.bandLow()[i], line.bandHigh()[i]);
                }
            }
        }
        return chart;
    }
}
