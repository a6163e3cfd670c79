package org.rbench.analysis.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.analysis.PlotAssertions;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class PlotRenderingTest {
    @TempDir
    Path dir;

    private static XyChart lineChart() {
        return new XyChart("Decode time <per> token & length", "Context length", "ms/token")
                .log2X(v -> Math.round(v / 1024) + "K").yIncludeZero()
                .add(new XyChart.Series("Full attention", Palette.color(0), Palette.marker(0), true, false,
                        List.of(new XyChart.Point(16384, 27), new XyChart.Point(32768, 46),
                                new XyChart.Point(65536, 85))))
                .add(new XyChart.Series("Recycled K=4096 S=50", Palette.color(1), Palette.marker(1), true, true,
                        List.of(new XyChart.Point(16384, 13.7, 12, 15), new XyChart.Point(65536, 14.8))));
    }

    private static BarChart barChart() {
        return new BarChart("Attention mass recall", "Context length", "Recall", List.of("32K", "64K"))
                .yMax(1.0)
                .add(new BarChart.Series("H2O K=4096", Palette.color(1), new double[] {0.86, 0.82}))
                .add(new BarChart.Series("StreamingLLM K=4096", Palette.color(2), new double[] {0.52, Double.NaN}));
    }

    /** Eleven methods (the zoo) in one plot: no two series share both colour and marker. */
    @Test
    void everySeriesOfAZooHasItsOwnStyle() {
        java.util.Set<String> styles = new java.util.HashSet<>();
        for (int i = 0; i < 32; i++) {
            org.junit.jupiter.api.Assertions.assertTrue(styles.add(Palette.color(i) + "/" + Palette.marker(i)),
                    "series " + i + " repeats an earlier style");
        }
    }

    @Test
    void pngHasTheRequestedSizeAndIsNotBlank() throws Exception {
        List<Path> files = ChartFiles.write(lineChart(), dir, "line", 640, 400);
        assertEquals(List.of(dir.resolve("line.png"), dir.resolve("line.svg")), files);
        PlotAssertions.assertValidPng(files.get(0), 640, 400);
        List<Path> bars = ChartFiles.write(barChart(), dir, "bars", 800, 480);
        PlotAssertions.assertValidPng(bars.get(0), 800, 480);
    }

    @Test
    void pngShowsEachSeriesColour() throws Exception {
        Path png = ChartFiles.write(barChart(), dir, "bars", 800, 480).get(0);
        var image = PlotAssertions.assertValidPng(png, 800, 480);
        for (Color expected : List.of(Palette.color(1), Palette.color(2))) {
            boolean found = false;
            for (int y = 0; y < image.getHeight() && !found; y++) {
                for (int x = 0; x < image.getWidth() && !found; x++) {
                    found = (image.getRGB(x, y) & 0xFFFFFF) == (expected.getRGB() & 0xFFFFFF);
                }
            }
            assertTrue(found, "colour " + expected + " drawn");
        }
    }

    @Test
    void svgIsWellFormedAndNamesEverySeries() throws Exception {
        Path svg = ChartFiles.write(lineChart(), dir, "line", 640, 400).get(1);
        Document document = PlotAssertions.parseSvg(svg);
        Element root = document.getDocumentElement();
        assertEquals("640", root.getAttribute("width"));
        assertEquals("400", root.getAttribute("height"));
        List<String> seriesNames = new ArrayList<>();
        NodeList groups = document.getElementsByTagNameNS("http://www.w3.org/2000/svg", "g");
        for (int i = 0; i < groups.getLength(); i++) {
            Element group = (Element) groups.item(i);
            if (group.getAttribute("class").equals("series")) {
                seriesNames.add(group.getAttribute("data-name"));
                assertTrue(group.getElementsByTagNameNS("*", "*").getLength() > 0, "series draws something");
            }
        }
        assertEquals(List.of("Full attention", "Recycled K=4096 S=50"), seriesNames);
        List<String> texts = texts(document);
        assertTrue(texts.contains("Full attention"), "legend names the series: " + texts);
        assertTrue(texts.contains("Decode time <per> token & length"), "title is escaped and kept");
        assertTrue(texts.containsAll(List.of("16K", "32K", "64K")), "log2 ticks: " + texts);
        assertTrue(Files.readString(svg, StandardCharsets.UTF_8).contains("stroke-dasharray"), "dashed series");
    }

    @Test
    void barSvgHasOneRectPerPresentValue() throws Exception {
        Document document = PlotAssertions.parseSvg(ChartFiles.write(barChart(), dir, "bars", 800, 480).get(1));
        NodeList groups = document.getElementsByTagNameNS("*", "g");
        int bars = 0;
        for (int i = 0; i < groups.getLength(); i++) {
            Element group = (Element) groups.item(i);
            if (group.getAttribute("class").equals("series")) {
                bars += group.getElementsByTagNameNS("*", "rect").getLength();
            }
        }
        assertEquals(3, bars, "the NaN value leaves a gap");
    }

    @Test
    void rendersWithoutFonts() throws Exception {
        String previous = System.getProperty(TextMetrics.FONTS_PROPERTY);
        System.setProperty(TextMetrics.FONTS_PROPERTY, "off");
        try {
            List<Path> files = ChartFiles.write(lineChart(), dir, "nofonts", 640, 400);
            PlotAssertions.assertValidPng(files.get(0), 640, 400);
            assertTrue(texts(PlotAssertions.parseSvg(files.get(1))).contains("Full attention"),
                    "SVG keeps its text for the viewer to render");
            assertTrue(TextMetrics.width("abcd", 10, false) > 0);
        } finally {
            if (previous == null) {
                System.clearProperty(TextMetrics.FONTS_PROPERTY);
            } else {
                System.setProperty(TextMetrics.FONTS_PROPERTY, previous);
            }
        }
    }

    @Test
    void emptyChartsStillRender() throws Exception {
        XyChart empty = new XyChart("Nothing", "x", "y");
        List<Path> files = ChartFiles.write(empty, dir, "empty", 300, 200);
        assertTrue(texts(PlotAssertions.parseSvg(files.get(1))).contains("no data"));
        BarChart noBars = new BarChart("Nothing", "x", "y", List.of());
        PlotAssertions.parseSvg(ChartFiles.write(noBars, dir, "nobars", 300, 200).get(1));
    }

    @Test
    void linearAxisSnapsToNiceSteps() {
        Axis axis = Axis.linear(0.3, 9.7, false);
        assertEquals(0, axis.min());
        assertEquals(10, axis.max());
        assertEquals(List.of("0", "2", "4", "6", "8", "10"), axis.labels());
        Axis small = Axis.linear(0.52, 0.95, true);
        assertEquals(List.of("0.0", "0.2", "0.4", "0.6", "0.8", "1.0"), small.labels());
        assertEquals(0.5, small.fraction(0.5), 1e-12);
        Axis clamped = Axis.linear(30, 100, false).clamp(0, 100);
        assertEquals(100, clamped.max());
        Axis flat = Axis.linear(5, 5, false);
        assertTrue(flat.min() < 5 && flat.max() > 5);
    }

    @Test
    void log2AxisTicksOnPowersOfTwo() {
        Axis axis = Axis.log2(16384, 131072, v -> Math.round(v / 1024) + "K");
        assertEquals(List.of("16K", "32K", "64K", "128K"), axis.labels());
        assertEquals(0.5, axis.fraction(Math.sqrt(16384.0 * 131072)), 1e-12);
        assertTrue(axis.fraction(16384) > 0 && axis.fraction(131072) < 1, "points are not on the frame");
    }

    @Test
    void longLegendNamesAreShortened() {
        String fitted = ChartFrame.fit("x".repeat(300), 100);
        assertTrue(fitted.endsWith("\u2026") && fitted.length() < 300);
        assertEquals("short", ChartFrame.fit("short", 100));
    }

    private static List<String> texts(Document document) {
        NodeList nodes = document.getElementsByTagNameNS("*", "text");
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            texts.add(nodes.item(i).getTextContent());
        }
        return texts;
    }
}
