package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Exact comparison with files under src/test/resources/golden. After an intended change of the
 * output, regenerate them with {@code ./mvnw -pl analysis test -Drbench.updateGolden=true} and
 * review the diff before committing.
 */
final class GoldenFiles {
    private static final Path SOURCE = Path.of("src/test/resources/golden");

    private GoldenFiles() {
    }

    static void assertMatches(String name, String actual) throws IOException {
        if (Boolean.getBoolean("rbench.updateGolden")) {
            Path file = SOURCE.resolve(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, actual, StandardCharsets.UTF_8);
            return;
        }
        try (InputStream in = GoldenFiles.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new AssertionError("no golden file " + name + "; run with -Drbench.updateGolden=true");
            }
            assertEquals(new String(in.readAllBytes(), StandardCharsets.UTF_8), actual, "golden " + name);
        }
    }
}
