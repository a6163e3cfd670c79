package org.rbench.analysis.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes a chart as {@code NAME.png} and {@code NAME.svg} from one drawing. */
public final class ChartFiles {
    public static final int DEFAULT_WIDTH = 900;
    public static final int DEFAULT_HEIGHT = 540;

    private ChartFiles() {
    }

    /** @return the PNG and SVG paths written */
    public static List<Path> write(Chart chart, Path directory, String name, int width, int height)
            throws IOException {
        Files.createDirectories(directory);
        Path png = directory.resolve(name + ".png");
        Path svg = directory.resolve(name + ".svg");
        PngCanvas raster = new PngCanvas(width, height);
        chart.draw(raster);
        raster.write(png);
        SvgCanvas vector = new SvgCanvas(width, height);
        chart.draw(vector);
        vector.write(svg);
        return List.of(png, svg);
    }
}
