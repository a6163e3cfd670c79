package org.rbench.analysis.plot;

import java.awt.BasicStroke;
import java.awt.Graphics2D;
import java.awt.geom.Line2D;
import org.knowm.xchart.style.markers.Marker;

/**
 * A short horizontal stroke: the caps at the ends of an interval drawn as a two-point vertical
 * line. XChart's own error bars are symmetric, and a bootstrap interval is not.
 */
final class CapMarker extends Marker {
    static final CapMarker INSTANCE = new CapMarker();

    private static final BasicStroke STROKE = new BasicStroke(1.2f);

    @Override
    public void paint(Graphics2D g, double x, double y, int markerSize) {
        g.setStroke(STROKE);
        g.draw(new Line2D.Double(x - markerSize / 2.0, y, x + markerSize / 2.0, y));
    }
}
