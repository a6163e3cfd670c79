package org.rbench.core.engine;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.testing.CpuBackend;
import org.rbench.core.testing.TestModels;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Layer 0's keys depend only on the token and its position, so keys computed at
 * positions a.. and shifted by -a must equal the same tokens' keys computed at 0..
 */
class ShiftKeysTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama3", "tiny-qwen3"})
    void shiftedKeysEqualKeysComputedAtTheNewPositions(String preset) {
        int a = 23;
        int n = 9;
        int[] tokens = {5, 17, 99, 3, 250, 7, 7, 400, 11};
        int[] shifted = new int[a + n];
        for (int i = 0; i < a; i++) {
            shifted[i] = (i * 31) % 512;
        }
        System.arraycopy(tokens, 0, shifted, a, n);
        try (ModelWeights w = ModelWeights.load(TestModels.preset(preset, GgmlType.F32), CPU.backend());
             Engine atZero = Engine.open(w, EngineOptions.defaults(64).withCacheType(GgmlType.F32));
             Engine later = Engine.open(w, EngineOptions.defaults(64).withCacheType(GgmlType.F32));
             CompactCache c = later.attentionContext().newCompactCache(16)) {
            atZero.prefill(tokens);
            later.prefill(shifted);
            int kvHeads = w.hyperParameters().kvHeads();
            int[] rows = new int[n * kvHeads];
            for (int h = 0; h < kvHeads; h++) {
                for (int i = 0; i < n; i++) {
                    rows[h * n + i] = a + i;
                }
            }
            later.attentionContext().copyRows(0, rows, n, c, 2);
            later.attentionContext().shiftKeys(c, 2, n, -a);
            float[] want = rows(atZero.cache().keys(0), 0, n, kvHeads);
            float[] got = rows(c.keys(), 2, n, kvHeads);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 2e-4, "element " + i);
            }
        }
    }

    /**
     * With one layer, K/V depend only on token and position, so a compact cache holding a
     * suffix of a longer prompt, shifted to positions 0.., decoding the next token at its
     * cache index, must reproduce full attention over that suffix alone.
     */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama3", "tiny-qwen2"})
    void cacheIndexPositionsReproduceTheShortPrompt(String preset) {
        int a = 30;
        int n = 12;
        int next = 77;
        int[] suffix = new int[n];
        int[] longer = new int[a + n];
        for (int i = 0; i < a + n; i++) {
            longer[i] = (i * 53 + 9) % 512;
        }
        System.arraycopy(longer, a, suffix, 0, n);
        org.rbench.gguf.ModelSpec spec = org.rbench.gguf.ModelSpec.preset(preset, GgmlType.F32).withLayers(1);
        try (ModelWeights w = ModelWeights.load(TestModels.spec(preset + "-1layer", spec), CPU.backend());
             Engine shortEngine = Engine.open(w, EngineOptions.defaults(64).withCacheType(GgmlType.F32));
             Engine longEngine = Engine.open(w, EngineOptions.defaults(64).withCacheType(GgmlType.F32))) {
            shortEngine.prefill(suffix);
            float[] want;
            try (Decoder d = shortEngine.decoder(new org.rbench.core.attention.FullAttention(), null)) {
                want = d.step(next);
            }
            longEngine.prefill(longer);
            int kvHeads = w.hyperParameters().kvHeads();
            float[] got;
            try (CompactCache c = longEngine.attentionContext().newCompactCache(32)) {
                int[] rows = new int[n * kvHeads];
                for (int h = 0; h < kvHeads; h++) {
                    for (int i = 0; i < n; i++) {
                        rows[h * n + i] = a + i;
                    }
                }
                longEngine.attentionContext().copyRows(0, rows, n, c, 0);
                longEngine.attentionContext().shiftKeys(c, 0, n, -a);
                try (Decoder d = longEngine.decoder(new org.rbench.core.attention.AttentionPolicy() {
                    @Override
                    public String name() {
                        return "cache-index";
                    }

                    @Override
                    public org.rbench.core.attention.AttentionPlan plan(org.rbench.core.attention.LayerStep at) {
                        return org.rbench.core.attention.AttentionPlan.compact(c, n, n + 1).atPosition(n);
                    }
                }, null)) {
                    got = d.step(next);
                }
            }
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-3, "logit " + i);
            }
        }
    }

    /** Rows [from, from + n) of every head of a [headDim, rows, kvHeads] F32 tensor. */
    private static float[] rows(Tensor t, int from, int n, int kvHeads) {
        int hd = (int) t.ne(0);
        float[] out = new float[hd * n * kvHeads];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4L * hd * n);
            for (int h = 0; h < kvHeads; h++) {
                t.read(seg, h * t.nb(2) + from * t.nb(1));
                MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, out, h * hd * n, hd * n);
            }
        }
        return out;
    }
}
