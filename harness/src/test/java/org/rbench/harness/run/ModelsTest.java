package org.rbench.harness.run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelsTest {
    private final PrintStream log = new PrintStream(new ByteArrayOutputStream());

    private static Path embed(Path root, String name) throws Exception {
        Path f = root.resolve("models").resolve(Models.EMBEDDED.get(name));
        Files.createDirectories(f.getParent());
        Files.writeString(f, name);
        return f;
    }

    @Test
    void defaultIsItsOwnFileWhateverElseLiesInModels(@TempDir Path root) throws Exception {
        Path def = embed(root, Models.DEFAULT);
        Path tuned = embed(root, Models.RECYCLED_TUNED);
        // sorts before the default's file: the name, not the listing, decides
        Files.writeString(root.resolve("models/aaa-other.gguf"), "x");
        Models.Resolved d = Models.resolve(Models.DEFAULT, log, root);
        assertEquals(def, d.path());
        assertFalse(d.random());
        assertEquals(tuned, Models.resolve(Models.RECYCLED_TUNED, log, root).path());
    }

    @Test
    void aMissingTunedModelIsAClearError(@TempDir Path root) throws Exception {
        embed(root, Models.DEFAULT);
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Models.resolve(Models.RECYCLED_TUNED, log, root));
        assertTrue(e.getMessage().contains("recycled-tuned") && e.getMessage().contains(Models.EMBEDDED.get(Models.RECYCLED_TUNED)),
                e.getMessage());
    }

    @Test
    void anUnknownNameSaysWhichNamesAreEmbedded(@TempDir Path root) {
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> Models.resolve(root.resolve("nope.gguf").toString(), log, root));
        assertTrue(e.getMessage().contains("default, recycled-tuned"), e.getMessage());
    }

    @Test
    void thePathOfAFileIsThatFile(@TempDir Path root) throws Exception {
        Path f = Files.writeString(root.resolve("m.gguf"), "x");
        assertEquals(f, Models.resolve(f.toString(), log, root).path());
    }
}
