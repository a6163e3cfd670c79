package org.rbench.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The writer puts the spec's context length where llama.cpp and the engine read it. */
class RandomModelContextTest {

    @Test
    void theContextLengthIsWrittenAsTheArchitecturesKey(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("m.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(1 << 19), model);
        try (GgufFile g = GgufFile.open(model)) {
            assertEquals(1L << 19, g.getLong("llama.context_length"));
        }
    }
}
