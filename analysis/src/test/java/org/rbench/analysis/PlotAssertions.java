package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;

/** Checks shared by the plot tests: valid, right-sized, not blank images; well-formed SVG. */
public final class PlotAssertions {
    private PlotAssertions() {
    }

    /** The PNG decodes, has the size asked for, and is not one flat colour. */
    public static BufferedImage assertValidPng(Path file, int width, int height) throws Exception {
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, file + " is not a decodable image");
        assertEquals(width, image.getWidth(), "width of " + file);
        assertEquals(height, image.getHeight(), "height of " + file);
        Set<Integer> colours = new HashSet<>();
        int inked = 0;
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) {
                int rgb = image.getRGB(x, y) & 0xFFFFFF;
                colours.add(rgb);
                inked += rgb != 0xFFFFFF ? 1 : 0;
            }
        }
        assertTrue(colours.size() > 8, file + " has only " + colours.size() + " colours");
        assertTrue(inked > image.getWidth() * image.getHeight() / 4 / 100, file + " is nearly blank");
        return image;
    }

    /** The SVG is well-formed XML with an svg root element (its DOCTYPE's DTD is not fetched). */
    public static Document parseSvg(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Document document = factory.newDocumentBuilder().parse(file.toFile());
        assertEquals("svg", document.getDocumentElement().getLocalName());
        assertEquals("http://www.w3.org/2000/svg", document.getDocumentElement().getNamespaceURI());
        return document;
    }
}
