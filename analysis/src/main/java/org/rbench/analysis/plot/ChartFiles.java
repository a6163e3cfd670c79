package org.rbench.analysis.plot;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BitmapEncoder.BitmapFormat;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.VectorGraphicsEncoder.VectorGraphicsFormat;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * Writes an XChart chart as {@code NAME.png} and {@code NAME.svg} (SVG through XChart's
 * VectorGraphics2D), headless.
 *
 * <p>Java2D needs a font to lay out any text, and on a machine without fonts (no fontconfig, no
 * font files) it fails with an {@link Error}; {@link #fontsUsable()} says beforehand whether plots
 * can be drawn at all. Setting the system property {@value #FONTS_PROPERTY} to {@code off} makes
 * it answer no, for tests of that case.
 */
public final class ChartFiles {
    public static final String FONTS_PROPERTY = "rbench.plot.fonts";

    private ChartFiles() {
    }

    /** @return the PNG and SVG paths written */
    public static List<Path> write(Chart<?, ?> chart, Path directory, String name) throws IOException {
        ensureHeadless();
        if (!fontsUsable()) {
            throw new IOException("cannot draw " + name + ": " + NO_FONTS);
        }
        Files.createDirectories(directory);
        Path png = directory.resolve(name + ".png");
        Path svg = directory.resolve(name + ".svg");
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapFormat.PNG);
        }
        try (OutputStream out = Files.newOutputStream(svg)) {
            VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsFormat.SVG);
        }
        return List.of(png, svg);
    }

    /** Why {@link #fontsUsable()} says no, and what to do about it. */
    public static final String NO_FONTS = "Java2D finds no usable font on this machine "
            + "(install fontconfig and a font, e.g. Debian's fonts-dejavu-core)";

    /** The system property that, set to {@code off}, makes {@link #cannotDraw()} act as if java.desktop were absent (tests). */
    public static final String DESKTOP_PROPERTY = "rbench.plot.desktop";

    /** Why {@link #cannotDraw()} says so when the runtime has no java.desktop, and what to do about it. */
    public static final String NO_DESKTOP = "this Java runtime has no java.desktop module (the GPU bundle's jlink'd"
            + " runtime leaves it out); run rbench report on the results where a full JDK is";

    /**
     * Why no chart can be drawn here, if so: a runtime without java.desktop (where charts cannot
     * even be built: their classes need AWT), or no usable font. Checked before any chart is built.
     */
    public static java.util.Optional<String> cannotDraw() {
        if ("off".equalsIgnoreCase(System.getProperty(DESKTOP_PROPERTY))
                || ModuleLayer.boot().findModule("java.desktop").isEmpty()) {
            return java.util.Optional.of(NO_DESKTOP);
        }
        return fontsUsable() ? java.util.Optional.empty() : java.util.Optional.of(NO_FONTS);
    }

    /** Whether Java2D can lay out text here, which every chart needs. */
    public static boolean fontsUsable() {
        return !"off".equalsIgnoreCase(System.getProperty(FONTS_PROPERTY)) && FontProbe.USABLE;
    }

    /** Plots are drawn off screen; without this a machine with a display would open a window system. */
    static void ensureHeadless() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** Lazy holder: the probe runs once, on first use. */
    private static final class FontProbe {
        static final boolean USABLE = probe();

        private static boolean probe() {
            ensureHeadless();
            try {
                var graphics = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB).createGraphics();
                try {
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
