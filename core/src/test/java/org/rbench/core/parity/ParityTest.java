package org.rbench.core.parity;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine against llama_decode on random models of every architecture variant: all
 * logits of a 256-token prompt and of 64 greedy steps. F32 cache without flash
 * attention must agree to 1e-4 relative; the default F16 cache with flash attention must
 * agree on every argmax (so greedy continuations are identical).
 */
class ParityTest {
    private static final String[] PRESETS = {"tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-qwen3", "tiny-mistral"};
    private static final GgmlType[] TYPES = {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0};

    @TempDir
    static Path dir;

    @BeforeAll
    static void init() {
        LlamaCpp.initialise();
    }

    static Path model(String preset, GgmlType type) throws Exception {
        Path file = dir.resolve(preset + "-" + type + ".gguf");
        if (!Files.exists(file)) {
            RandomModelWriter.write(ModelSpec.preset(preset, type), file);
        }
        return file;
    }

    static Stream<Arguments> variants() {
        List<Arguments> out = new ArrayList<>();
        for (String p : PRESETS) {
            for (GgmlType t : TYPES) {
                out.add(Arguments.of(p, t));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} weights, F32 cache, no flash attention")
    @MethodSource("variants")
    void f32CacheMatchesLlamaDecodeTo1e4(String preset, GgmlType type) throws Exception {
        ParityReport r = Parity.run(ParityRequest.exact(model(preset, type)));
        System.out.println(r.summary());
        assertEquals(256 + 64, r.positions());
        assertTrue(r.maxRelDiff() <= 1e-4, r.summary());
        assertTrue(r.promptMaxAbsDiff() <= r.maxAbsDiff(), "the prompt's maximum is part of the whole run's");
        assertEquals(r.positions(), r.argmaxAgreements(), r.summary());
        assertArrayEquals(r.referenceTokens(), r.engineTokens(), "greedy continuations differ");
    }

    @ParameterizedTest(name = "{0} {1} weights, F16 cache, flash attention")
    @MethodSource("variants")
    void f16CacheAgreesOnEveryArgmax(String preset, GgmlType type) throws Exception {
        ParityReport r = Parity.run(ParityRequest.defaults(model(preset, type)));
        System.out.println(r.summary());
        assertEquals(r.positions(), r.argmaxAgreements(), r.summary());
        assertTrue(r.passesRounded(1e-2), r.summary());
        assertArrayEquals(r.referenceTokens(), r.engineTokens(), "greedy continuations differ");
    }

    @ParameterizedTest(name = "tiny-llama {0} weights")
    @MethodSource("otherTypes")
    void otherWeightTypesMatch(GgmlType type) throws Exception {
        ParityReport r = Parity.run(ParityRequest.exact(model("tiny-llama", type)).withTokens(64, 8));
        System.out.println(r.summary());
        assertTrue(r.passes(1e-4), r.summary());
    }

    static Stream<GgmlType> otherTypes() {
        return Stream.of(GgmlType.BF16, GgmlType.Q6_K, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K);
    }

    /** The F16 criterion on hand-made rows: a near-tie flip is within tolerance, a wrong logit is not. */
    @org.junit.jupiter.api.Test
    void nearTiesStayWithinTheToleranceAndWrongLogitsDoNot() {
        Parity.Comparison c = new Parity.Comparison();
        c.compare(new float[] {1.0f, 2.0f, 0.5f}, new float[] {1.0f, 2.0f, 0.5f});    // agree
        c.compare(new float[] {2.001f, 2.0f, 0.5f}, new float[] {1.999f, 2.0f, 0.5f}); // a near-tie flips
        assertEquals(1, c.agreements);
        assertEquals(1, c.firstDisagreement);
        assertTrue(c.maxRel <= 1e-2, "rel " + c.maxRel);
        c.compare(new float[] {1.0f, 2.0f, 0.5f}, new float[] {1.0f, 2.05f, 0.5f});   // argmax agrees, logit off by 2.4%
        assertEquals(2, c.agreements);
        assertTrue(c.maxRel > 1e-2, "rel " + c.maxRel);
    }
}
