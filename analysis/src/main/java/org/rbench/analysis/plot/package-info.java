/**
 * Minimal headless charts, written as PNG and SVG from one drawing.
 *
 * <p>A {@link org.rbench.analysis.plot.Chart} ({@link org.rbench.analysis.plot.XyChart},
 * {@link org.rbench.analysis.plot.BarChart}) draws through the
 * {@link org.rbench.analysis.plot.Canvas} interface; {@link org.rbench.analysis.plot.PngCanvas}
 * renders with Java2D into a {@link java.awt.image.BufferedImage}, and
 * {@link org.rbench.analysis.plot.SvgCanvas} writes the same operations as SVG elements, grouping
 * each data series in a {@code <g class="series" data-name="...">}. Rendering sets
 * {@code java.awt.headless=true} and survives machines without fonts
 * ({@link org.rbench.analysis.plot.TextMetrics}). No chart library is involved, so the module
 * depends on nothing but the JDK and Commons CSV.
 */
package org.rbench.analysis.plot;
