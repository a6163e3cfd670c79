package org.rbench.baselines;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rbench.core.parity.Parity;
import org.rbench.core.parity.ParityReport;
import org.rbench.core.parity.ParityRequest;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A strategy whose budget covers the context reduces to full attention exactly: with an F32
 * cache and no flash attention its logits equal llama_decode's bit for bit, as full
 * attention's do, on every weight type. A difference here means the strategy reads the
 * same rows in another order or shape (the sums then run in another order).
 */
class CoveringBudgetTest {
    private static final String[] PRESETS = {"tiny-llama", "tiny-qwen3"};
    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0};
    private static final String[] METHODS = {
            "full", "recycled:k=100000,s=7", "recycled:k=100000,s=7,version=v1", "recycled:k=100000,s=7,reach=16",
            "recycled-dynamic:k=100000,qc=2",
            "h2o:heavy=50000,recent=50000", "streamingllm:k=100000", "streamingllm:k=100000,positions=original", "oracle:k=100000"};

    @TempDir
    static Path dir;

    @BeforeAll
    static void init() {
        LlamaCpp.initialise();
    }

    static Stream<Arguments> variants() {
        List<Arguments> out = new ArrayList<>();
        for (String p : PRESETS) {
            for (GgmlType t : TYPES) {
                for (String m : METHODS) {
                    out.add(Arguments.of(p, t, m));
                }
            }
        }
        return out.stream();
    }

    /**
     * Quest and TidalDecode plan full attention while k covers the cached rows; k = 224 covers the
     * last step's 224 rows exactly. The tiny models have 2 layers, so every layer may select.
     */
    static Stream<Arguments> devicePolicies() {
        List<Arguments> out = new ArrayList<>();
        for (GgmlType t : TYPES) {
            for (String m : new String[] {"quest:k=224,dense=0", "tidaldecode:k=224,select=0,reselect=none"}) {
                out.add(Arguments.of("tiny-llama", t, m));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} weights: {2}")
    @MethodSource("devicePolicies")
    void coveringBudgetOfDeviceSelectionsIsFullAttentionExactly(String preset, GgmlType type, String method) throws Exception {
        coveringBudgetIsFullAttentionExactly(preset, type, method);
    }

    @ParameterizedTest(name = "{0} {1} weights: {2}")
    @MethodSource("variants")
    void coveringBudgetIsFullAttentionExactly(String preset, GgmlType type, String method) throws Exception {
        Path model = dir.resolve(preset + "-" + type + ".gguf");
        if (!Files.exists(model)) {
            RandomModelWriter.write(ModelSpec.preset(preset, type), model);
        }
        ParityReport r = Parity.run(ParityRequest.exact(model).withTokens(200, 24), method);
        assertEquals(0.0, r.maxAbsDiff(), method + ": " + r.summary());
        assertArrayEquals(r.referenceTokens(), r.engineTokens(), "greedy continuations differ");
    }
}
