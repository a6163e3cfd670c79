package org.rbench.analysis;

import java.util.List;

/**
 * One trend chart as data, independent of the plotting library: a line per method over the
 * nights, each night's value with the noise band its previous nights gave (NaN where there was
 * no value or too few nights for a band). {@link TrendPlotRenderer} draws it.
 *
 * @param name base name of the files (no extension)
 * @param nights the x axis, oldest first
 * @param yFloor the lowest value the quantity can take (0), where the y axis and the bands stop
 * @param yCeiling the highest (100 for accuracy, infinity otherwise)
 */
public record TrendPlot(String name, String title, String yTitle, List<String> nights, List<Line> lines, double yFloor,
                        double yCeiling) {

    /**
     * @param colorIndex the method's place among all methods of the history, so a method keeps its
     *     colour in every chart
     * @param values per night, NaN where the series has no value
     * @param bandLow per night, the low end of the noise band of the nights before (NaN: none)
     */
    public record Line(String label, int colorIndex, double[] values, double[] bandLow, double[] bandHigh) {
    }
}
