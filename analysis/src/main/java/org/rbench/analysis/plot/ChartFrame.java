package org.rbench.analysis.plot;

import java.awt.Color;
import java.util.List;

/**
 * The parts every chart shares: margins computed from the text that must fit, title, y axis with
 * grid and ticks, x-axis title, frame and legend. Charts place their data inside
 * [{@link #left}, {@link #right}] x [{@link #top}, {@link #bottom}].
 */
final class ChartFrame {
    static final double TITLE_SIZE = 16;
    static final double LABEL_SIZE = 13;
    static final double TICK_SIZE = 11;
    static final double LEGEND_SIZE = 12;
    private static final double LEGEND_ROW = 20;
    private static final double LEGEND_SYMBOL = 26;

    final double left;
    final double top;
    final double right;
    final double bottom;
    private final Canvas canvas;
    private final List<LegendEntry> legend;
    private final List<String> legendNames;

    /**
     * @param xTickLines lines of text under the x axis (category labels may use two)
     */
    ChartFrame(Canvas canvas, Axis yAxis, int xTickLines, List<LegendEntry> legend) {
        this.canvas = canvas;
        this.legend = legend;
        double widestTick = yAxis.labels().stream()
                .mapToDouble(l -> TextMetrics.width(l, TICK_SIZE, false)).max().orElse(0);
        left = 12 + LABEL_SIZE + 12 + widestTick + 8;
        top = 14 + TITLE_SIZE + 14;
        bottom = canvas.height() - (8 + xTickLines * (TICK_SIZE + 4) + 10 + LABEL_SIZE + 10);
        // The legend sits right of the plot; names are shortened rather than squeezing the data.
        double maxLegendText = canvas.width() * 0.32;
        legendNames = legend.stream().map(e -> fit(e.name(), maxLegendText)).toList();
        double widestName = legendNames.stream()
                .mapToDouble(n -> TextMetrics.width(n, LEGEND_SIZE, false)).max().orElse(0);
        double legendWidth = legend.isEmpty() ? 0 : 14 + LEGEND_SYMBOL + 6 + widestName + 8;
        right = canvas.width() - 16 - legendWidth;
    }

    double x(double fraction) {
        return left + fraction * (right - left);
    }

    double y(double fraction) {
        return bottom - fraction * (bottom - top);
    }

    void drawTitle(String title) {
        canvas.text(title, canvas.width() / 2.0, 14 + TITLE_SIZE, TextStyle.of(TITLE_SIZE, TextStyle.Anchor.MIDDLE)
                .asBold());
    }

    /** Horizontal grid lines, tick labels and the rotated y-axis title. */
    void drawYAxis(Axis axis, String title) {
        canvas.beginGroup("y-axis", title);
        for (int i = 0; i < axis.ticks().size(); i++) {
            double y = y(axis.fraction(axis.ticks().get(i)));
            canvas.line(left, y, right, y, Palette.GRID, 1, false);
            canvas.line(left - 4, y, left, y, Palette.AXIS, 1, false);
            canvas.text(axis.labels().get(i), left - 7, y + TICK_SIZE * 0.35,
                    TextStyle.of(TICK_SIZE, TextStyle.Anchor.END));
        }
        canvas.text(title, 12 + LABEL_SIZE, (top + bottom) / 2, TextStyle.of(LABEL_SIZE, TextStyle.Anchor.MIDDLE)
                .asVertical());
        canvas.endGroup();
    }

    /** Vertical grid lines and tick labels of a value x axis. */
    void drawXAxis(Axis axis, String title) {
        canvas.beginGroup("x-axis", title);
        for (int i = 0; i < axis.ticks().size(); i++) {
            double x = x(axis.fraction(axis.ticks().get(i)));
            canvas.line(x, top, x, bottom, Palette.GRID, 1, false);
            canvas.line(x, bottom, x, bottom + 4, Palette.AXIS, 1, false);
            canvas.text(axis.labels().get(i), x, bottom + 8 + TICK_SIZE, TextStyle.of(TICK_SIZE,
                    TextStyle.Anchor.MIDDLE));
        }
        drawXTitle(title, 1);
        canvas.endGroup();
    }

    void drawXTitle(String title, int tickLines) {
        canvas.text(title, (left + right) / 2, bottom + 8 + tickLines * (TICK_SIZE + 4) + 10 + LABEL_SIZE - 2,
                TextStyle.of(LABEL_SIZE, TextStyle.Anchor.MIDDLE));
    }

    void drawFrame() {
        canvas.strokeRect(left, top, right - left, bottom - top, Palette.AXIS, 1);
    }

    void drawNoData() {
        canvas.text("no data", (left + right) / 2, (top + bottom) / 2, TextStyle.of(LABEL_SIZE,
                TextStyle.Anchor.MIDDLE));
    }

    void drawLegend() {
        if (legend.isEmpty()) {
            return;
        }
        double x0 = right + 14;
        double y0 = top + 4;
        canvas.beginGroup("legend", "legend");
        for (int i = 0; i < legend.size(); i++) {
            LegendEntry entry = legend.get(i);
            double y = y0 + i * LEGEND_ROW + LEGEND_ROW / 2;
            if (entry.box()) {
                canvas.fillRect(x0 + 6, y - 6, 14, 12, entry.color());
            }
            if (entry.line()) {
                canvas.line(x0, y, x0 + LEGEND_SYMBOL - 2, y, entry.color(), 2, entry.dashed());
            }
            if (entry.marker() != null) {
                canvas.marker(x0 + (LEGEND_SYMBOL - 2) / 2, y, entry.marker(), 8, entry.color());
            }
            canvas.text(legendNames.get(i), x0 + LEGEND_SYMBOL + 6, y + LEGEND_SIZE * 0.35,
                    new TextStyle(LEGEND_SIZE, false, TextStyle.Anchor.START, false, Color.BLACK));
        }
        canvas.endGroup();
    }

    /** The text, shortened with an ellipsis until it fits the width. */
    static String fit(String text, double maxWidth) {
        if (TextMetrics.width(text, LEGEND_SIZE, false) <= maxWidth) {
            return text;
        }
        String shortened = text;
        while (shortened.length() > 1 && TextMetrics.width(shortened + "\u2026", LEGEND_SIZE, false) > maxWidth) {
            shortened = shortened.substring(0, shortened.length() - 1);
        }
        return shortened + "\u2026";
    }
}
