package org.rbench.analysis.plot;

import java.awt.Color;

/**
 * How a piece of text is drawn.
 *
 * @param size font size in pixels
 * @param vertical rotated 90 degrees counter-clockwise (y-axis titles)
 */
public record TextStyle(double size, boolean bold, Anchor anchor, boolean vertical, Color color) {
    /** Horizontal anchoring of text at its reference point. */
    public enum Anchor {
        START, MIDDLE, END
    }

    public static TextStyle of(double size, Anchor anchor) {
        return new TextStyle(size, false, anchor, false, Color.DARK_GRAY);
    }

    public TextStyle asBold() {
        return new TextStyle(size, true, anchor, vertical, color);
    }

    public TextStyle asVertical() {
        return new TextStyle(size, bold, anchor, true, color);
    }
}
