package org.rbench.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Draws a {@link TrendPlot} into image files. The one place the history's plots meet a
 * plotting library ({@link XyTrendPlotRenderer} today), so that changing the library touches
 * one class.
 */
public interface TrendPlotRenderer {
    /** @return the files written (PNG and SVG) */
    List<Path> write(TrendPlot plot, Path directory) throws IOException;
}
