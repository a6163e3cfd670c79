package org.rbench.harness.llamabench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The n_depth a row's test reports: its length, except llama-bench's own at a fixed depth. */
class LlamaBenchTestsDepthTest {
    @Test
    void aFixedDepthOverridesTheLength() {
        assertEquals(4096, LlamaBenchTests.depth("full", 4096));
        assertEquals(4096, LlamaBenchTests.depth("recycled:k=256,s=16", 4096));
        assertEquals(4096, LlamaBenchTests.depth("llama-bench", 4096));
        assertEquals(0, LlamaBenchTests.depth("llama-bench:depth=0", 4096));
        assertEquals(512, LlamaBenchTests.depth("llama-bench:depth=512", 4096));
    }
}
