package org.rbench.analysis.plot;

import java.awt.Color;

/**
 * The drawing operations a chart needs, in pixel coordinates with the origin at the top left.
 * Charts draw through this interface only, so one drawing produces both the PNG
 * ({@link PngCanvas}) and the SVG ({@link SvgCanvas}) and the two cannot drift apart.
 */
public interface Canvas {
    int width();

    int height();

    void fillRect(double x, double y, double w, double h, Color fill);

    void strokeRect(double x, double y, double w, double h, Color stroke, double lineWidth);

    void line(double x1, double y1, double x2, double y2, Color stroke, double lineWidth, boolean dashed);

    void polyline(double[] xs, double[] ys, Color stroke, double lineWidth, boolean dashed);

    /** A filled marker of the given shape centred on (cx, cy); {@code size} is its width. */
    void marker(double cx, double cy, Marker shape, double size, Color fill);

    /** Text whose baseline starts, centres or ends at (x, y) depending on the style's anchor. */
    void text(String text, double x, double y, TextStyle style);

    /**
     * Starts a logical group, e.g. one data series. SVG output wraps the group's elements in a
     * {@code <g>} carrying the name, so the file says which shapes belong to which series.
     */
    void beginGroup(String role, String name);

    void endGroup();
}
