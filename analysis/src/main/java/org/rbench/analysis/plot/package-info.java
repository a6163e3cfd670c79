/**
 * The report's charts, drawn by XChart and written headless as PNG and SVG.
 *
 * <p>{@link org.rbench.analysis.plot.LineChart} (lines, points, shaded bands and intervals over a
 * linear or log2 x axis) and {@link org.rbench.analysis.plot.BarChart} (grouped bars) describe a
 * chart and build XChart's {@code XYChart} or {@code CategoryChart} in one house style;
 * {@link org.rbench.analysis.plot.ChartFiles} writes it; {@link org.rbench.analysis.plot.Palette}
 * gives each series a colour and marker, distinct for 32 series.
 */
package org.rbench.analysis.plot;
