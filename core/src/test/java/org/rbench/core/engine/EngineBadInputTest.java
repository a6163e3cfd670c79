package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.ModelSpec;
import org.rbench.llamacpp.GgmlType;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input is a clear Java exception before anything reaches ggml (where it would abort). */
class EngineBadInputTest {
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.of(() -> TestModels.spec("tiny-llama-ctx512",
                ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(512)));

    @Test
    void contextLongerThanTheModelsIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Engine.open(MODEL.weights(), EngineOptions.defaults(513)));
        assertTrue(e.getMessage().contains("513") && e.getMessage().contains("512"), e.getMessage());
    }

    @Test
    void emptyPromptIsRejected() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.prefill(new int[0]));
            assertTrue(x.getMessage().contains("zero tokens"), x.getMessage());
        }
    }

    @Test
    void tokenOutsideTheVocabularyIsRejected() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.prefill(new int[] {1, 512}));
            assertTrue(x.getMessage().contains("512") && x.getMessage().contains("vocabulary"), x.getMessage());
            assertThrows(IllegalArgumentException.class, () -> e.prefill(new int[] {-1}));
            assertEquals(0, e.position());
        }
    }

    @Test
    void promptLongerThanTheCacheIsRejected() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(16))) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.prefill(new int[17]));
            assertTrue(x.getMessage().contains("context of 16"), x.getMessage());
        }
    }

    @Test
    void decodingPastTheContextIsRejected() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(8))) {
            e.prefill(new int[7]);
            try (Decoder d = e.decoder(new FullAttention(), null)) {
                d.step(3);
                IllegalStateException x = assertThrows(IllegalStateException.class, () -> d.step(3));
                assertTrue(x.getMessage().contains("full"), x.getMessage());
            }
        }
    }

    @Test
    void badCacheTypeIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> EngineOptions.defaults(64).withCacheType(GgmlType.Q8_0));
    }

    @Test
    void gatherOfAnUncachedRowIsRejected() {
        AttentionPolicy bad = new AttentionPolicy() {
            @Override
            public String name() {
                return "bad-gather";
            }

            @Override
            public AttentionPlan plan(LayerStep at) {
                int[] rows = new int[2 * 2];
                rows[3] = at.position() + 1; // one past the new token
                return AttentionPlan.gather(2, rows);
            }
        };
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            e.prefill(new int[] {1, 2, 3});
            try (Decoder d = e.decoder(bad, null)) {
                IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> d.step(4));
                assertTrue(x.getMessage().contains("bad-gather") && x.getMessage().contains("outside"), x.getMessage());
            }
            assertEquals(3, e.position(), "a rejected step must not advance the cache");
        }
    }

    @Test
    void rangePastTheNewTokenIsRejected() {
        AttentionPolicy bad = new AttentionPolicy() {
            @Override
            public String name() {
                return "bad-range";
            }

            @Override
            public AttentionPlan plan(LayerStep at) {
                return AttentionPlan.ranges(new int[] {0}, new int[] {at.position() + 2});
            }
        };
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            e.prefill(new int[] {1, 2, 3});
            try (Decoder d = e.decoder(bad, null)) {
                assertThrows(IllegalArgumentException.class, () -> d.step(4));
            }
        }
    }
}
