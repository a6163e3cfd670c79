package org.rbench.analysis.plot;

/** Point marker shapes; series cycle through them so plots stay readable in grey scale. */
public enum Marker {
    CIRCLE, SQUARE, TRIANGLE, DIAMOND;

    /** Vertices of the polygon shapes, relative to the centre, for a marker of width {@code size}. */
    double[][] polygon(double size) {
        double r = size / 2;
        return switch (this) {
            case SQUARE -> new double[][] {{-r, -r}, {r, -r}, {r, r}, {-r, r}};
            case TRIANGLE -> new double[][] {{0, -r * 1.15}, {r * 1.1, r * 0.85}, {-r * 1.1, r * 0.85}};
            case DIAMOND -> new double[][] {{0, -r * 1.25}, {r * 1.1, 0}, {0, r * 1.25}, {-r * 1.1, 0}};
            case CIRCLE -> throw new IllegalStateException("a circle is not a polygon");
        };
    }
}
