package org.rbench.analysis;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A trend plot as a chart: a line per method over the nights, its noise bands as intervals, whole nights on x. */
class XyTrendPlotRendererTest {
    @Test
    void eachMethodIsALineOverTheNightsWithItsBands() {
        double nan = Double.NaN;
        TrendPlot plot = new TrendPlot("latency", "ms/token at 4K", "ms/token", List.of("2026-12-01", "2026-12-02", "2026-12-03"),
                List.of(new TrendPlot.Line("Full", 0, new double[] {3, 3.1, 2.9}, new double[] {nan, nan, 2.5},
                                new double[] {nan, nan, 3.5}),
                        new TrendPlot.Line("Recycled K=256 S=16", 1, new double[] {2, 2.1, 4}, new double[] {nan, nan, 1.8},
                                new double[] {nan, nan, 2.3})),
                0, Double.POSITIVE_INFINITY);
        XYChart chart = XyTrendPlotRenderer.chart(plot).toXChart();
        XYSeries full = chart.getSeriesMap().get("Full");
        XYSeries recycled = chart.getSeriesMap().get("Recycled K=256 S=16");
        assertArrayEquals(new double[] {1, 2, 3}, full.getXData());
        assertArrayEquals(new double[] {2, 2.1, 4}, recycled.getYData());
        long intervals = chart.getSeriesMap().keySet().stream().filter(n -> n.contains(" band ")).count();
        assertEquals(2, intervals, "one interval per night that has a band");
        assertTrue(chart.getXAxisTitle().contains("2026-12-01"), chart.getXAxisTitle());
    }
}
