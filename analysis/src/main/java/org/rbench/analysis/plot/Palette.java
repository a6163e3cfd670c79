package org.rbench.analysis.plot;

import java.awt.Color;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Series colours and markers. Colours are the Okabe-Ito palette, distinguishable with the common
 * colour-vision deficiencies; black comes first because the first series is full attention, the
 * reference. Markers cycle too, so that series also differ in grey scale, shifted by one each
 * time the colours come round again: every (colour, marker) pair is new for 32 series.
 */
public final class Palette {
    private static final Color[] COLORS = {
        new Color(0x000000), new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73),
        new Color(0xCC79A7), new Color(0xE69F00), new Color(0x56B4E9), new Color(0x999933),
    };
    private static final Marker[] MARKERS = {
        SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.TRIANGLE_UP, SeriesMarkers.DIAMOND,
    };

    /** Lines and markers that are not a method: the Pareto frontier. */
    public static final Color MUTED = new Color(0x808080);
    static final Color AXIS = new Color(0x333333);
    static final Color GRID = new Color(0xE3E3E3);
    static final Color TEXT = new Color(0x404040);

    private Palette() {
    }

    public static Color color(int index) {
        return COLORS[Math.floorMod(index, COLORS.length)];
    }

    /** One of XChart's shared marker instances (circle, square, triangle, diamond). */
    public static Marker marker(int index) {
        int round = Math.floorDiv(index, COLORS.length);
        return MARKERS[Math.floorMod(index + round, MARKERS.length)];
    }
}
