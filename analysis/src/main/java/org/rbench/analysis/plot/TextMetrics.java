package org.rbench.analysis.plot;

import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.awt.image.BufferedImage;

/**
 * Fonts and text measurement for both canvases.
 *
 * <p>On a headless machine without fonts (no fontconfig, no font files) Java2D fails on the first
 * text operation, sometimes with an {@link Error}. Plots are still worth having there, so the
 * first use probes the font system once; if it fails, text is measured by an estimate and the PNG
 * is drawn without text (the SVG keeps its text, which the viewer renders). Setting the system
 * property {@value #FONTS_PROPERTY} to {@code off} forces that fallback, for tests.
 */
public final class TextMetrics {
    public static final String FONTS_PROPERTY = "rbench.plot.fonts";

    /** Family names for SVG, most specific first; PNG uses the JDK's logical sans-serif font. */
    static final String SVG_FONT_FAMILY = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";

    private static final FontRenderContext CONTEXT = new FontRenderContext(null, true, true);

    private TextMetrics() {
    }

    /** Whether Java2D can draw text on this machine. */
    public static boolean fontsUsable() {
        return !"off".equalsIgnoreCase(System.getProperty(FONTS_PROPERTY)) && Probe.USABLE;
    }

    static Font font(double size, boolean bold) {
        return new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont((float) size);
    }

    /** Width in pixels of the text at the size; an estimate when fonts are unusable. */
    public static double width(String text, double size, boolean bold) {
        if (fontsUsable()) {
            try {
                return font(size, bold).getStringBounds(text, CONTEXT).getWidth();
            } catch (RuntimeException | Error e) {
                // fall through to the estimate
            }
        }
        // Average advance of DejaVu Sans is about 0.6 em; bold is a little wider.
        return text.length() * size * (bold ? 0.65 : 0.6);
    }

    /** Lazy holder: the probe runs once, on first use, and never again. */
    private static final class Probe {
        static final boolean USABLE = probe();

        private static boolean probe() {
            PngCanvas.ensureHeadless();
            try {
                BufferedImage scratch = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
                var graphics = scratch.createGraphics();
                try {
                    graphics.setFont(font(12, false));
                    graphics.drawString("Ag", 0, 3);
                    return graphics.getFontMetrics().stringWidth("Ag") > 0;
                } finally {
                    graphics.dispose();
                }
            } catch (RuntimeException | Error e) {
                // Missing fontconfig or font files surface as InternalError, NullPointerException
                // or UnsatisfiedLinkError depending on the platform; all mean "no text".
                return false;
            }
        }
    }
}
