package org.rbench.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.testing.CpuBackend;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelWeightsTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    @Test
    void loadsUntiedLlamaWithoutOptionalTensors() {
        try (ModelWeights w = ModelWeights.load(TestModels.preset("tiny-llama", GgmlType.Q8_0), CPU.backend())) {
            assertFalse(w.tiedOutput());
            assertEquals(GgmlType.Q8_0, w.output().type());
            assertNull(w.ropeFrequencies());
            assertNull(w.layer(0).queryBias());
            assertNull(w.layer(1).queryNorm());
            assertTrue(w.bytes() > 0);
        }
    }

    @Test
    void tiedOutputUsesTheTokenEmbedding() {
        try (ModelWeights w = ModelWeights.load(TestModels.preset("tiny-llama3", GgmlType.F16), CPU.backend())) {
            assertTrue(w.tiedOutput());
            assertSame(w.tokenEmbedding(), w.output());
            assertNotNull(w.ropeFrequencies());
        }
    }

    @Test
    void loadsQwenExtras() {
        try (ModelWeights q2 = ModelWeights.load(TestModels.preset("tiny-qwen2", GgmlType.F32), CPU.backend());
             ModelWeights q3 = ModelWeights.load(TestModels.preset("tiny-qwen3", GgmlType.F32), CPU.backend())) {
            assertNotNull(q2.layer(1).keyBias());
            assertNotNull(q3.layer(1).keyNorm());
            assertEquals(128, q3.layer(0).queryNorm().ne(0));
        }
    }

    @Test
    void missingTensorIsNamed() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "no-ffn-up", new TestModels.Edit() {
            @Override
            public boolean keep(GgufTensorInfo t) {
                return !t.name().equals("blk.1.ffn_up.weight");
            }
        });
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelWeights.load(bad, CPU.backend()));
        assertTrue(e.getMessage().contains("blk.1.ffn_up.weight"), e.getMessage());
    }

    @Test
    void missingQwen3NormIsNamed() {
        Path bad = TestModels.edited(TestModels.preset("tiny-qwen3", GgmlType.F32), "no-k-norm", new TestModels.Edit() {
            @Override
            public boolean keep(GgufTensorInfo t) {
                return !t.name().equals("blk.0.attn_k_norm.weight");
            }
        });
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelWeights.load(bad, CPU.backend()));
        assertTrue(e.getMessage().contains("blk.0.attn_k_norm.weight"), e.getMessage());
    }

    @Test
    void inconsistentShapeIsReported() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "bad-k", new TestModels.Edit() {
            @Override
            public TestModels.Replacement replace(GgufTensorInfo t) {
                return t.name().equals("blk.0.attn_k.weight") ? new TestModels.Replacement(GgmlType.F32, new long[] {256, 96}) : null;
            }
        });
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> ModelWeights.load(bad, CPU.backend()));
        assertTrue(e.getMessage().contains("blk.0.attn_k.weight") && e.getMessage().contains("[256, 96]")
                && e.getMessage().contains("[256, 128]"), e.getMessage());
    }

    @Test
    void unsupportedTensorTypeIsReported() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "i32-norm", new TestModels.Edit() {
            @Override
            public TestModels.Replacement replace(GgufTensorInfo t) {
                return t.name().equals("blk.0.attn_norm.weight") ? new TestModels.Replacement(GgmlType.I32, new long[] {256}) : null;
            }
        });
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> ModelWeights.load(bad, CPU.backend()));
        assertTrue(e.getMessage().contains("blk.0.attn_norm.weight") && e.getMessage().contains("I32"), e.getMessage());
    }

    @Test
    void unsupportedMatrixTypeIsReported() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "f64-q", new TestModels.Edit() {
            @Override
            public TestModels.Replacement replace(GgufTensorInfo t) {
                return t.name().equals("blk.1.attn_q.weight") ? new TestModels.Replacement(GgmlType.F64, new long[] {256, 256}) : null;
            }
        });
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> ModelWeights.load(bad, CPU.backend()));
        assertTrue(e.getMessage().contains("F64"), e.getMessage());
    }
}
