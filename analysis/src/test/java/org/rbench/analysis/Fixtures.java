package org.rbench.analysis;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Locates fixture CSVs on the test class path. */
final class Fixtures {
    private Fixtures() {
    }

    static Path path(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing fixture " + name, e);
        }
    }
}
