package org.rbench.core.engine;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.testing.CpuBackend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The persistent mask block moves from one mask to the next by clearing the previous
 * -inf runs and writing the new ones; after any sequence of passes (micro-batches at
 * growing depth, a shorter last batch, decode steps, a reset to an earlier position) it
 * holds exactly the mask built from scratch.
 */
class CausalMaskTest {
    private static final int CAPACITY = 1024;
    private static final int MICRO_BATCH = 64;

    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    /** Query i at position start + i sees keys [0, start + i]; later keys and padding are -inf. */
    private static float[] expected(int start, int queries, int keyRows) {
        float[] m = new float[keyRows * queries];
        for (int i = 0; i < queries; i++) {
            for (int j = 0; j < keyRows; j++) {
                m[i * keyRows + j] = j <= start + i ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void holdsTheFreshMaskAfterEveryUpdate(boolean flashAttention) {
        // {start, queries, keyRows}: a prefill of 200 tokens (padding 256), one of 100
        // more, decode steps, then a reset and a shorter prompt.
        int[][] passes = {
            {0, 64, 256}, {64, 64, 256}, {128, 64, 256}, {192, 8, 256},
            {200, 64, 512}, {264, 36, 512},
            {300, 1, 512}, {301, 1, 512}, {511, 1, 512}, {512, 1, 768},
            {0, 40, 256}, {40, 1, 256},
        };
        try (CausalMask mask = new CausalMask(CPU.backend(), flashAttention, CAPACITY, MICRO_BATCH)) {
            for (int[] p : passes) {
                mask.update(p[0], p[1], p[2]);
                assertArrayEquals(expected(p[0], p[1], p[2]), mask.held(p[2], p[1]),
                        "start " + p[0] + ", " + p[1] + " queries, " + p[2] + " key rows");
            }
        }
    }
}
