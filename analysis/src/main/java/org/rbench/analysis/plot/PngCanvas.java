package org.rbench.analysis.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Draws onto a Java2D {@link BufferedImage} with a white background and writes it as PNG. */
public final class PngCanvas implements Canvas {
    private final BufferedImage image;
    private final Graphics2D graphics;

    public PngCanvas(int width, int height) {
        ensureHeadless();
        image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        graphics = image.createGraphics();
        graphics.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        graphics.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        graphics.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        graphics.setColor(Color.WHITE);
        graphics.fillRect(0, 0, width, height);
    }

    /**
     * Plots are written by servers and CI jobs without a display; without this property the
     * first AWT call would try to connect to one and fail.
     */
    static void ensureHeadless() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    @Override
    public int width() {
        return image.getWidth();
    }

    @Override
    public int height() {
        return image.getHeight();
    }

    public BufferedImage image() {
        return image;
    }

    @Override
    public void fillRect(double x, double y, double w, double h, Color fill) {
        graphics.setColor(fill);
        graphics.fill(new Rectangle2D.Double(x, y, w, h));
    }

    @Override
    public void strokeRect(double x, double y, double w, double h, Color stroke, double lineWidth) {
        graphics.setColor(stroke);
        graphics.setStroke(stroke(lineWidth, false));
        graphics.draw(new Rectangle2D.Double(x, y, w, h));
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color stroke, double lineWidth, boolean dashed) {
        graphics.setColor(stroke);
        graphics.setStroke(stroke(lineWidth, dashed));
        graphics.draw(new Line2D.Double(x1, y1, x2, y2));
    }

    @Override
    public void polyline(double[] xs, double[] ys, Color stroke, double lineWidth, boolean dashed) {
        if (xs.length < 2) {
            return;
        }
        Path2D.Double path = new Path2D.Double();
        path.moveTo(xs[0], ys[0]);
        for (int i = 1; i < xs.length; i++) {
            path.lineTo(xs[i], ys[i]);
        }
        graphics.setColor(stroke);
        graphics.setStroke(stroke(lineWidth, dashed));
        graphics.draw(path);
    }

    @Override
    public void marker(double cx, double cy, Marker shape, double size, Color fill) {
        graphics.setColor(fill);
        if (shape == Marker.CIRCLE) {
            graphics.fill(new Ellipse2D.Double(cx - size / 2, cy - size / 2, size, size));
            return;
        }
        Path2D.Double path = new Path2D.Double();
        double[][] vertices = shape.polygon(size);
        path.moveTo(cx + vertices[0][0], cy + vertices[0][1]);
        for (int i = 1; i < vertices.length; i++) {
            path.lineTo(cx + vertices[i][0], cy + vertices[i][1]);
        }
        path.closePath();
        graphics.fill(path);
    }

    @Override
    public void text(String text, double x, double y, TextStyle style) {
        if (text.isEmpty() || !TextMetrics.fontsUsable()) {
            return; // see TextMetrics: without fonts the PNG keeps its lines and markers
        }
        try {
            graphics.setFont(TextMetrics.font(style.size(), style.bold()));
            graphics.setColor(style.color());
            double width = TextMetrics.width(text, style.size(), style.bold());
            double offset = switch (style.anchor()) {
                case START -> 0;
                case MIDDLE -> -width / 2;
                case END -> -width;
            };
            AffineTransform saved = graphics.getTransform();
            graphics.translate(x, y);
            if (style.vertical()) {
                graphics.rotate(-Math.PI / 2);
            }
            graphics.drawString(text, (float) offset, 0f);
            graphics.setTransform(saved);
        } catch (RuntimeException | Error e) {
            // A font that loaded but fails to render must not cost the whole plot.
        }
    }

    @Override
    public void beginGroup(String role, String name) {
        // Raster images have no structure to record.
    }

    @Override
    public void endGroup() {
    }

    public void write(Path file) throws IOException {
        if (!ImageIO.write(image, "png", file.toFile())) {
            throw new IOException("no PNG writer available for " + file);
        }
    }

    private static Stroke stroke(double width, boolean dashed) {
        float w = (float) width;
        return dashed
                ? new BasicStroke(w, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 4f}, 0f)
                : new BasicStroke(w, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    }
}
