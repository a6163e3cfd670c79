package org.rbench.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rbench.analysis.plot.ChartFiles;
import org.rbench.analysis.plot.XyChart;
import org.rbench.analysis.plot.Palette;

/**
 * Renders trend plots with the module's {@link XyChart}: x is the night's number (1 = the
 * oldest shown, the axis title names the first and last dates), each method a line with
 * markers, and each night's noise band as a vertical bar on its point: a point outside its own
 * bar lies outside the previous nights' noise.
 */
public final class XyTrendPlotRenderer implements TrendPlotRenderer {
    @Override
    public List<Path> write(TrendPlot plot, Path directory) throws IOException {
        List<String> nights = plot.nights();
        String xTitle = nights.size() == 1 ? "Night 1 = " + nights.getFirst()
                : "Night (1 = " + nights.getFirst() + ", " + nights.size() + " = " + nights.getLast() + ")";
        XyChart chart = new XyChart(plot.title(), xTitle, plot.yTitle()).yBounds(plot.yFloor(), plot.yCeiling());
        for (TrendPlot.Line line : plot.lines()) {
            List<XyChart.Point> points = new ArrayList<>();
            for (int i = 0; i < nights.size(); i++) {
                points.add(new XyChart.Point(i + 1, line.values()[i], line.bandLow()[i], line.bandHigh()[i]));
            }
            chart.add(new XyChart.Series(line.label(), Palette.color(line.colorIndex()),
                    Palette.marker(line.colorIndex()), true, false, points));
        }
        return ChartFiles.write(chart, directory, plot.name(), ChartFiles.DEFAULT_WIDTH, ChartFiles.DEFAULT_HEIGHT);
    }
}
