package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.Decoding;
import org.rbench.core.testing.Decoding.Decoded;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.ModelSpec;
import org.rbench.llamacpp.GgmlType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A later decode of a method on the same engine builds no step graph (on CUDA, captures none) and
 * decodes, bit for bit, the logits a fresh engine decodes for its text, for every method of the zoo. Those that keep
 * device state of their own (Quest's page bounds, TidalDecode's tables, H2O's slots, the dynamic
 * schedule's device check) hand it back to the engine when their decode ends and the next decode
 * takes it over, whatever it held from before; the others' compact caches come back the same way.
 */
class PolicyStateReuseTest {
    private static final int PROMPT = 100;
    private static final int STEPS = 20;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    /** Another text of the same length: what a state taken over still holds differs from what it is given. */
    private static final int[] OTHER = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 89 + 301) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.of(() -> TestModels.spec("tiny-llama-5-layers-f16",
            ModelSpec.preset("tiny-llama", GgmlType.F16).withLayers(5))); // GQA 2:1

    private static Decoded decode(Engine engine, String method, int[] tokens) {
        return Decoding.decode(engine, MODEL.weights().hyperParameters(), method, tokens, PROMPT, STEPS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"quest:k=32,dense=1", "quest:k=32,dense=1,gqa=query", "tidaldecode:k=24,select=1,reselect=3",
            "tidaldecode:k=24,select=1,reselect=3,gqa=query", "h2o:heavy=16,recent=16,decide=device",
            "recycled-dynamic:k=24,decide=device", "recycled:k=24,s=4", "recycled:k=24,s=4,start=device",
            "recycled-dynamic:k=24,decide=host", "h2o:heavy=16,recent=16,decide=host", "snapkv:k=48,window=8",
            "pyramidkv:k=48,window=8", "snapkv:k=48,window=8,gqa=query", "streamingllm:k=24", "oracle:k=24"})
    void aLaterDecodeTakesTheStateOverAndBuildsNoGraph(String method) {
        assertTakenOver(method, EngineOptions.defaults(256));
    }

    /**
     * The graphs a GPU builds (flash attention's logits, written here by a second product where the
     * CUDA kernel would, in one batch per step) are reused the same way.
     */
    @ParameterizedTest
    @ValueSource(strings = {"h2o:heavy=16,recent=16,decide=device", "recycled:k=24,s=4,start=device",
            "recycled-dynamic:k=24,decide=device", "tidaldecode:k=24,select=1,reselect=3", "oracle:k=24"})
    void soDoesAGpusGraph(String method) {
        assertTakenOver(method, EngineOptions.defaults(256).withCacheType(GgmlType.F16).withFlashAttention(true)
                .withFlashScores(EngineOptions.FlashScores.EMULATED));
    }

    /**
     * The zoo taking turns on one engine, as a benchmark's rotation runs it: every method's second turn builds no
     * graph. Recycled's two schedules take Cp stacks of two shapes (the dynamic one's has spare rows), and making one
     * once freed the other's idle stack, so that both rebuilt their graphs at every turn (on an H200 at 8B shapes, a
     * 3 ms build and a capture in each refresh step).
     */
    @Test
    void theZooTakingTurnsBuildsNoGraphAtItsSecondTurn() {
        List<String> zoo = List.of("full", "recycled:k=24,s=8", "recycled-dynamic:k=24,decide=device",
                "streamingllm:k=24", "h2o:heavy=16,recent=16,decide=device", "snapkv:k=48,window=8", "pyramidkv:k=48,window=8",
                "quest:k=32,dense=1", "tidaldecode:k=24,select=1,reselect=3", "oracle:k=24");
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(PROMPT + STEPS))) {
            Map<String, Integer> firstTurn = new LinkedHashMap<>();
            for (String method : zoo) {
                firstTurn.put(method, decode(engine, method, TOKENS).graphsBuilt());
            }
            for (String method : zoo) {
                assertEquals(0, decode(engine, method, OTHER).graphsBuilt(), method + "'s second turn (first: " + firstTurn + ")");
            }
        }
    }

    private static void assertTakenOver(String method, EngineOptions options) {
        Decoded fresh;
        try (Engine engine = Engine.open(MODEL.weights(), options)) {
            fresh = decode(engine, method, OTHER);
        }
        try (Engine engine = Engine.open(MODEL.weights(), options)) {
            Decoded first = decode(engine, method, TOKENS);
            decode(engine, "full", TOKENS); // another method between the two, as a benchmark's rotation runs them
            Decoded second = decode(engine, method, OTHER);
            assertTrue(first.graphsBuilt() > 0);
            assertEquals(0, second.graphsBuilt(), method + ": the second decode builds its graphs again");
            for (int s = 0; s < STEPS; s++) {
                assertArrayEquals(fresh.logits().get(s), second.logits().get(s), method + ", step " + s);
            }
        }
    }
}
