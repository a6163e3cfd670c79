package org.rbench.analysis.plot;

/** A chart that can draw itself on any {@link Canvas}; see {@link ChartFiles} to write PNG and SVG. */
public interface Chart {
    void draw(Canvas canvas);
}
