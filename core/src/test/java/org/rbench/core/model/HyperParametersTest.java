package org.rbench.core.model;

import org.junit.jupiter.api.Test;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufType;
import org.rbench.gguf.GgufValue;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HyperParametersTest {

    private static HyperParameters read(Path file) throws Exception {
        try (GgufFile g = GgufFile.open(file)) {
            return HyperParameters.from(g);
        }
    }

    @Test
    void readsLlamaPreset() throws Exception {
        HyperParameters hp = read(TestModels.preset("tiny-llama", GgmlType.F32));
        assertEquals(Architecture.LLAMA, hp.architecture());
        assertEquals(RopeType.NORMAL, hp.ropeType());
        assertEquals(256, hp.embedding());
        assertEquals(2, hp.layers());
        assertEquals(4, hp.heads());
        assertEquals(2, hp.kvHeads());
        assertEquals(64, hp.headDim());
        assertEquals(512, hp.feedForward());
        assertEquals(4096, hp.contextLength());
        assertEquals(512, hp.vocabSize());
        assertEquals(10000f, hp.ropeTheta());
        assertEquals(1e-5f, hp.rmsEps(), 1e-12);
        assertFalse(hp.ropeFrequencyFactors());
    }

    @Test
    void readsQwen3HeadDimDifferentFromEmbeddingOverHeads() throws Exception {
        HyperParameters hp = read(TestModels.preset("tiny-qwen3", GgmlType.F32));
        assertEquals(Architecture.QWEN3, hp.architecture());
        assertEquals(RopeType.NEOX, hp.ropeType());
        assertEquals(128, hp.headDim());
        assertEquals(512, hp.queryDim());
        assertEquals(256, hp.embedding());
    }

    @Test
    void detectsLlama3RopeFactors() throws Exception {
        assertTrue(read(TestModels.preset("tiny-llama3", GgmlType.F32)).ropeFrequencyFactors());
    }

    @Test
    void unsupportedArchitectureIsNamed() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "arch-gpt2", new TestModels.Edit() {
            @Override
            public GgufValue metadata(String key, GgufValue value) {
                return key.equals("general.architecture") ? GgufValue.string("gpt2") : value;
            }
        });
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> read(bad));
        assertTrue(e.getMessage().contains("'gpt2'") && e.getMessage().contains("qwen3"), e.getMessage());
    }

    @Test
    void missingRequiredKeyIsNamed() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "no-block-count", new TestModels.Edit() {
            @Override
            public GgufValue metadata(String key, GgufValue value) {
                return key.equals("llama.block_count") ? null : value;
            }
        });
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> read(bad));
        assertTrue(e.getMessage().contains("llama.block_count"), e.getMessage());
    }

    @Test
    void headsNotAMultipleOfKvHeads() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "kv-3", new TestModels.Edit() {
            @Override
            public GgufValue metadata(String key, GgufValue value) {
                return key.equals("llama.attention.head_count_kv") ? GgufValue.u32(3) : value;
            }
        });
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> read(bad));
        assertTrue(e.getMessage().contains("head_count_kv"), e.getMessage());
    }

    @Test
    void perLayerHeadCountsAreUnsupported() {
        Path bad = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "heads-array", new TestModels.Edit() {
            @Override
            public GgufValue metadata(String key, GgufValue value) {
                return key.equals("llama.attention.head_count") ? GgufValue.array(GgufType.UINT32, List.of(4L, 4L)) : value;
            }
        });
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> read(bad));
        assertTrue(e.getMessage().contains("array"), e.getMessage());
    }

    @Test
    void yarnScalingIsUnsupported() {
        Path bad = TestModels.edited(TestModels.preset("tiny-qwen2", GgmlType.F32), "yarn", new TestModels.Edit() {
            @Override
            public Map<String, GgufValue> added() {
                return Map.of("qwen2.rope.scaling.type", GgufValue.string("yarn"), "qwen2.rope.scaling.factor", GgufValue.f32(4));
            }
        });
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> read(bad));
        assertTrue(e.getMessage().contains("yarn"), e.getMessage());
    }

    @Test
    void linearScalingSetsTheFrequencyScale() throws Exception {
        Path scaled = TestModels.edited(TestModels.preset("tiny-llama", GgmlType.F32), "linear", new TestModels.Edit() {
            @Override
            public Map<String, GgufValue> added() {
                return Map.of("llama.rope.scaling.type", GgufValue.string("linear"), "llama.rope.scaling.factor", GgufValue.f32(4));
            }
        });
        assertEquals(0.25f, read(scaled).ropeFreqScale());
    }
}
