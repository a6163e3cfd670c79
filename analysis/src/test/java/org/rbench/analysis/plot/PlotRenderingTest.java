package org.rbench.analysis.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.rbench.analysis.PlotAssertions;
import org.w3c.dom.Document;

class PlotRenderingTest {
    @TempDir
    Path dir;

    private static LineChart lineChart() {
        return new LineChart("Decode time <per> token & length", "Context length", "ms/token")
                .log2X(v -> Math.round(v / 1024) + "K").yFromZero()
                .line("Full attention", Palette.color(0), Palette.marker(0),
                        new double[] {65536, 16384, 32768}, new double[] {85, 27, 46})
                .dashedLine("Recycled K=4096 S=50", Palette.color(1), null,
                        new double[] {16384, 65536, Double.NaN, 0}, new double[] {13.7, 14.8, 14, 14})
                .band("Recycled 95% CI", Palette.color(1), new double[] {16384, 65536},
                        new double[] {12, 13}, new double[] {15, 16})
                .interval("Full attention CI", Palette.color(0), 32768, 40, 50);
    }

    private static BarChart barChart() {
        return new BarChart("Attention mass recall", "Context length", "Recall", List.of("32K", "64K"))
                .yMax(1.0)
                .add("H2O K=4096", Palette.color(1), new double[] {0.86, 0.82})
                .add("StreamingLLM K=4096", Palette.color(2), new double[] {0.52, Double.NaN})
                .add("Not measured", Palette.color(3), new double[] {Double.NaN, Double.NaN});
    }

    private static List<String> legend(XYChart chart) {
        return chart.getSeriesMap().values().stream().filter(XYSeries::isShowInLegend).map(XYSeries::getName)
                .toList();
    }

    /** Eleven methods (the zoo) in one plot: no two series share both colour and marker. */
    @Test
    void everySeriesOfAZooHasItsOwnStyle() {
        Set<String> styles = new HashSet<>();
        for (int i = 0; i < 32; i++) {
            assertTrue(styles.add(Palette.color(i) + "/" + Palette.marker(i).getClass().getSimpleName()),
                    "series " + i + " repeats an earlier style");
        }
        assertSame(SeriesMarkers.CIRCLE, Palette.marker(0));
    }

    @Test
    void lineChartBuildsOneXChartSeriesPerCallBandsFirst() {
        XYChart chart = lineChart().toXChart();
        assertEquals(900, chart.getWidth());
        assertEquals(540, chart.getHeight());
        assertEquals("Decode time <per> token & length", chart.getTitle());
        assertEquals(List.of("Recycled 95% CI", "Full attention", "Recycled K=4096 S=50"), legend(chart),
                "the band is drawn (and listed) first, the interval is not listed");
        XYSeries full = chart.getSeriesMap().get("Full attention");
        assertEquals(XYSeriesRenderStyle.Line, full.getXYSeriesRenderStyle());
        assertSame(Palette.marker(0), full.getMarker());
        assertEquals(Palette.color(0), full.getLineColor());
        XYSeries recycled = chart.getSeriesMap().get("Recycled K=4096 S=50");
        assertTrue(recycled.getLineStyle().getDashArray() != null, "dashed");
        assertSame(SeriesMarkers.NONE, recycled.getMarker());
        XYSeries band = chart.getSeriesMap().get("Recycled 95% CI");
        assertEquals(XYSeriesRenderStyle.PolygonArea, band.getXYSeriesRenderStyle());
        assertTrue(band.getFillColor().getAlpha() < 255, "the band lets the lines show through");
        assertSame(SeriesLines.NONE, band.getLineStyle());
        XYSeries interval = chart.getSeriesMap().get("Full attention CI");
        assertFalse(interval.isShowInLegend());
        assertArrayEquals(new double[] {40, 50}, interval.getYData());
        assertEquals(0.0, chart.getStyler().getYAxisMin(), "y from zero");
    }

    @Test
    void log2AxisPlotsExponentsWithTicksOnThePowersOfTwo() {
        XYChart chart = lineChart().toXChart();
        XYSeries full = chart.getSeriesMap().get("Full attention");
        assertArrayEquals(new double[] {14, 15, 16}, full.getXData(), 1e-12, "log2 of the lengths, sorted");
        assertArrayEquals(new double[] {27, 46, 85}, full.getYData(), "y follows its x");
        XYSeries recycled = chart.getSeriesMap().get("Recycled K=4096 S=50");
        assertArrayEquals(new double[] {14, 16}, recycled.getXData(), 1e-12, "NaN and x <= 0 are left out");
        XYSeries ticks = chart.getSeriesMap().values().iterator().next();
        assertFalse(ticks.isShowInLegend());
        assertArrayEquals(new double[] {14, 15, 16}, ticks.getXData(), 1e-12,
                "the first series holds every power of two in range");
        assertEquals("32K", chart.getStyler().getxAxisTickLabelsFormattingFunction().apply(15.0));
        assertEquals("", chart.getStyler().getxAxisTickLabelsFormattingFunction().apply(15.5),
                "no label between powers of two");
    }

    @Test
    void badSeriesAreRejectedWithTheirName() {
        LineChart chart = new LineChart("t", "x", "y").line("a", Palette.color(0), null, new double[] {1},
                new double[] {1});
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> chart.points("a", Palette.color(1), Palette.marker(1), new double[] {2}, new double[] {2}));
        assertTrue(twice.getMessage().contains("'a' is used twice"), twice.getMessage());
        IllegalArgumentException sizes = assertThrows(IllegalArgumentException.class,
                () -> chart.line("b", Palette.color(1), null, new double[] {1, 2}, new double[] {1}));
        assertTrue(sizes.getMessage().contains("'b': 2 x values but 1 y values"), sizes.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> barChart().add("short", Palette.color(4), new double[] {1}));
    }

    @Test
    void barChartLeavesGapsForMissingValues() {
        CategoryChart chart = barChart().toXChart();
        assertEquals(List.of("H2O K=4096", "StreamingLLM K=4096"), List.copyOf(chart.getSeriesMap().keySet()),
                "a series without any value is left out");
        CategorySeries streaming = chart.getSeriesMap().get("StreamingLLM K=4096");
        assertEquals(Arrays.asList(0.52, null), new ArrayList<>(streaming.getYData()));
        assertEquals(Palette.color(2), streaming.getFillColor());
        assertEquals(1.0, chart.getStyler().getYAxisMax());
    }

    @Test
    void writesValidPngAndSvg() throws Exception {
        List<Path> files = ChartFiles.write(lineChart().toXChart(640, 400), dir, "line");
        assertEquals(List.of(dir.resolve("line.png"), dir.resolve("line.svg")), files);
        PlotAssertions.assertValidPng(files.get(0), 640, 400);
        // XChart draws text as outlines, so the SVG needs no fonts to view and holds no <text>.
        Document svg = PlotAssertions.parseSvg(files.get(1));
        assertEquals("0 0 640 400", svg.getDocumentElement().getAttribute("viewBox"));
        assertEquals(4, svg.getElementsByTagNameNS("*", "ellipse").getLength(),
                "Full attention's three circle markers and its legend entry");
        assertTrue(svg.getElementsByTagNameNS("*", "path").getLength() > 10, "lines, band and glyphs");
        List<Path> bars = ChartFiles.write(barChart().toXChart(800, 480), dir, "bars");
        PlotAssertions.assertValidPng(bars.get(0), 800, 480);
        PlotAssertions.parseSvg(bars.get(1));
    }

    @Test
    void emptyChartsStillRender() throws Exception {
        List<Path> files = ChartFiles.write(new LineChart("Nothing", "x", "y").log2X(String::valueOf).toXChart(),
                dir, "empty");
        PlotAssertions.parseSvg(files.get(1));
        assertTrue(Files.size(files.get(0)) > 0);
    }

    @Test
    void withoutFontsWritingFailsWithTheReason() {
        String previous = System.getProperty(ChartFiles.FONTS_PROPERTY);
        System.setProperty(ChartFiles.FONTS_PROPERTY, "off");
        try {
            assertFalse(ChartFiles.fontsUsable());
            IOException e = assertThrows(IOException.class,
                    () -> ChartFiles.write(lineChart().toXChart(), dir, "nofonts"));
            assertTrue(e.getMessage().contains("fonts-dejavu-core"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("nofonts.png")));
        } finally {
            if (previous == null) {
                System.clearProperty(ChartFiles.FONTS_PROPERTY);
            } else {
                System.setProperty(ChartFiles.FONTS_PROPERTY, previous);
            }
        }
        assertTrue(ChartFiles.fontsUsable(), "this machine and CI have fonts");
    }

    @Test
    void axisRangesAreLeftToXChartUnlessSet() {
        XYChart chart = new LineChart("t", "x", "y").toXChart();
        assertNull(chart.getStyler().getYAxisMin());
        assertNull(chart.getStyler().getYAxisMax());
        XYChart fixed = new LineChart("t", "x", "y").yRange(0, 100).toXChart();
        assertEquals(100.0, fixed.getStyler().getYAxisMax());
    }
}
