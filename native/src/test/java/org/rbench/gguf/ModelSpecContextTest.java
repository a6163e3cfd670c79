package org.rbench.gguf;

import org.junit.jupiter.api.Test;
import org.rbench.llamacpp.GgmlType;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The context length a random model declares (llama.context_length): any positive length, the presets' by default. */
class ModelSpecContextTest {

    @Test
    void aContextBeyondTheTrainedOneIsKept() {
        ModelSpec spec = ModelSpec.preset("llama-3.1-8b", GgmlType.Q8_0).withContextLength(524288);
        assertEquals(524288, spec.contextLength());
        assertEquals(131072, ModelSpec.preset("llama-3.1-8b", GgmlType.Q8_0).contextLength(), "the preset keeps its own");
    }

    @Test
    void aContextOfNoTokensIsRefused() {
        for (int bad : new int[] {0, -1, Integer.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(bad));
            assertTrue(e.getMessage().contains("context length must be positive"), e.getMessage());
        }
    }
}
