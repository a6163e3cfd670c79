package org.rbench.analysis.plot;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Writes the same drawing operations as {@link PngCanvas} as a standalone SVG document. */
public final class SvgCanvas implements Canvas {
    private final int width;
    private final int height;
    private final StringBuilder body = new StringBuilder();
    private int depth = 1;

    public SvgCanvas(int width, int height) {
        this.width = width;
        this.height = height;
        fillRect(0, 0, width, height, Color.WHITE);
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public void fillRect(double x, double y, double w, double h, Color fill) {
        element("<rect x=\"" + n(x) + "\" y=\"" + n(y) + "\" width=\"" + n(w) + "\" height=\"" + n(h)
                + "\" fill=\"" + hex(fill) + "\"/>");
    }

    @Override
    public void strokeRect(double x, double y, double w, double h, Color stroke, double lineWidth) {
        element("<rect x=\"" + n(x) + "\" y=\"" + n(y) + "\" width=\"" + n(w) + "\" height=\"" + n(h)
                + "\" fill=\"none\" stroke=\"" + hex(stroke) + "\" stroke-width=\"" + n(lineWidth) + "\"/>");
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, Color stroke, double lineWidth, boolean dashed) {
        element("<line x1=\"" + n(x1) + "\" y1=\"" + n(y1) + "\" x2=\"" + n(x2) + "\" y2=\"" + n(y2)
                + "\"" + strokeAttributes(stroke, lineWidth, dashed) + "/>");
    }

    @Override
    public void polyline(double[] xs, double[] ys, Color stroke, double lineWidth, boolean dashed) {
        if (xs.length < 2) {
            return;
        }
        StringBuilder points = new StringBuilder();
        for (int i = 0; i < xs.length; i++) {
            points.append(i == 0 ? "" : " ").append(n(xs[i])).append(',').append(n(ys[i]));
        }
        element("<polyline points=\"" + points + "\" fill=\"none\"" + strokeAttributes(stroke, lineWidth, dashed)
                + " stroke-linejoin=\"round\"/>");
    }

    @Override
    public void marker(double cx, double cy, Marker shape, double size, Color fill) {
        if (shape == Marker.CIRCLE) {
            element("<circle cx=\"" + n(cx) + "\" cy=\"" + n(cy) + "\" r=\"" + n(size / 2) + "\" fill=\""
                    + hex(fill) + "\"/>");
            return;
        }
        StringBuilder points = new StringBuilder();
        double[][] vertices = shape.polygon(size);
        for (int i = 0; i < vertices.length; i++) {
            points.append(i == 0 ? "" : " ").append(n(cx + vertices[i][0])).append(',').append(n(cy + vertices[i][1]));
        }
        element("<polygon points=\"" + points + "\" fill=\"" + hex(fill) + "\"/>");
    }

    @Override
    public void text(String text, double x, double y, TextStyle style) {
        if (text.isEmpty()) {
            return;
        }
        String anchor = switch (style.anchor()) {
            case START -> "start";
            case MIDDLE -> "middle";
            case END -> "end";
        };
        element("<text x=\"" + n(x) + "\" y=\"" + n(y) + "\" font-size=\"" + n(style.size()) + "\""
                + (style.bold() ? " font-weight=\"bold\"" : "") + " text-anchor=\"" + anchor + "\" fill=\""
                + hex(style.color()) + "\""
                + (style.vertical() ? " transform=\"rotate(-90 " + n(x) + " " + n(y) + ")\"" : "")
                + ">" + escape(text) + "</text>");
    }

    @Override
    public void beginGroup(String role, String name) {
        element("<g class=\"" + escape(role) + "\" data-name=\"" + escape(name) + "\">");
        depth++;
    }

    @Override
    public void endGroup() {
        depth--;
        element("</g>");
    }

    /** The complete document. */
    public String toSvg() {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + width + "\" height=\"" + height
                + "\" viewBox=\"0 0 " + width + " " + height + "\" font-family=\"" + TextMetrics.SVG_FONT_FAMILY
                + "\">\n" + body + "</svg>\n";
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, toSvg(), StandardCharsets.UTF_8);
    }

    private void element(String xml) {
        body.append("  ".repeat(depth)).append(xml).append('\n');
    }

    private static String strokeAttributes(Color stroke, double lineWidth, boolean dashed) {
        return " stroke=\"" + hex(stroke) + "\" stroke-width=\"" + n(lineWidth) + "\""
                + (dashed ? " stroke-dasharray=\"6,4\"" : " stroke-linecap=\"round\"");
    }

    /** Coordinates with 2 decimals: sub-pixel enough, and the files stay small and diffable. */
    private static String n(double value) {
        String text = String.format(Locale.ROOT, "%.2f", value);
        text = text.contains(".") ? text.replaceAll("0+$", "").replaceAll("\\.$", "") : text;
        return text.equals("-0") ? "0" : text;
    }

    private static String hex(Color color) {
        return String.format(Locale.ROOT, "#%02x%02x%02x", color.getRed(), color.getGreen(), color.getBlue());
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                default -> {
                    // Control characters are not allowed in XML 1.0; drop them.
                    if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
