package org.rbench.analysis.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.util.Collection;
import java.util.Locale;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler.LegendPosition;

/**
 * The look every report chart shares: white background, light grid, legend to the right of the
 * plot (so it never covers data), sans-serif text sized for a 900x540 figure, numbers formatted
 * the same on every machine.
 */
final class HouseStyle {
    static final BasicStroke LINE = new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    static final BasicStroke DASHED = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
            new float[] {7f, 5f}, 0f);
    static final BasicStroke THIN = new BasicStroke(1.2f);
    static final int MARKER_SIZE = 9;

    private HouseStyle() {
    }

    static final int TITLE_SIZE = 16;
    private static final int SMALLEST_TITLE_SIZE = 11;
    private static final int LEGEND_SIZE = 12;
    private static final FontRenderContext MEASURE = new FontRenderContext(null, true, true);

    static void apply(AxesChartStyler styler) {
        styler.setLocale(Locale.ROOT);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotBorderColor(Palette.AXIS);
        styler.setPlotGridLinesColor(Palette.GRID);
        styler.setPlotGridLinesStroke(new BasicStroke(1f));
        styler.setChartFontColor(Palette.TEXT);
        styler.setAxisTickLabelsColor(Palette.TEXT);
        styler.setAxisTickMarksColor(Palette.AXIS);
        styler.setAxisTicksLineVisible(false); // the plot border is the axis line
        styler.setAxisTicksMarksVisible(false); // and the grid marks the ticks
        styler.setChartTitleBoxVisible(false);
        styler.setChartTitleFont(font(Font.BOLD, TITLE_SIZE));
        styler.setAxisTitleFont(font(Font.PLAIN, 13));
        styler.setAxisTickLabelsFont(font(Font.PLAIN, 11));
        styler.setLegendFont(font(Font.PLAIN, LEGEND_SIZE));
        styler.setLegendPosition(LegendPosition.OutsideE);
        styler.setLegendBorderColor(Color.WHITE);
        styler.setLegendBackgroundColor(Color.WHITE);
        styler.setMarkerSize(MARKER_SIZE);
        styler.setToolTipsEnabled(false);
        styler.setAntiAlias(true);
    }

    /**
     * XChart centres the title over the plot, not the figure, and lets a title wider than the plot
     * run off the left edge; a long model name next to a wide legend does that. The title font
     * shrinks (down to 11 px) until the title fits the width that the legend leaves.
     */
    static void fitTitle(AxesChartStyler styler, String title, Collection<String> legendNames, int chartWidth) {
        double legendText = legendNames.stream()
                .mapToDouble(n -> font(Font.PLAIN, LEGEND_SIZE).getStringBounds(n, MEASURE).getWidth())
                .max().orElse(0);
        double legend = legendNames.isEmpty() ? 0 : legendText + styler.getLegendSeriesLineLength()
                + 4 * styler.getLegendPadding();
        double available = chartWidth - legend - 2 * styler.getChartPadding() - 70; // 70: the y axis
        int size = TITLE_SIZE;
        while (size > SMALLEST_TITLE_SIZE
                && font(Font.BOLD, size).getStringBounds(title, MEASURE).getWidth() > available) {
            size--;
        }
        styler.setChartTitleFont(font(Font.BOLD, size));
    }

    private static Font font(int style, int size) {
        return new Font(Font.SANS_SERIF, style, size);
    }
}
