package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.Decoding;
import org.rbench.core.testing.Decoding.Decoded;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A decode that alternates between step shapes reuses each shape's graph: Recycled
 * Attention's recycled steps and its full step every S build two graphs in all, not one
 * per switch; a later decoder on the same engine builds none; and reusing them gives the
 * logits that building afresh gives.
 */
class GraphReuseTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 24;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 37 + 11) % 512).toArray();

    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    private static Decoded decode(Engine engine, String method) {
        return Decoding.decode(engine, MODEL.weights().hyperParameters(), method, TOKENS, PROMPT, STEPS);
    }

    @Test
    void recycledStepsAndFullStepsEachBuildTheirGraphOnce() {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            // S=4: 6 full steps among 24; padding 256 keeps the key rows fixed.
            Decoded d = decode(engine, "recycled:k=16,s=4");
            assertEquals(2, d.graphsBuilt(), "one recycled-step graph and one full-step graph");
            Decoded full = decode(engine, "full");
            assertEquals(1, full.graphsBuilt());
            // the step timings put build time on exactly the steps that built a graph
            assertEquals(2, Arrays.stream(d.timings().nanos(StepTimings.Part.BUILD)).filter(n -> n > 0).count());
            assertTrue(d.timings().nanos(StepTimings.Part.BUILD)[0] > 0, "step 0 builds the recycled-step graph");
            assertEquals(1, Arrays.stream(full.timings().nanos(StepTimings.Part.BUILD)).filter(n -> n > 0).count());
            // full steps (engine steps 3, 7, ...: paper steps 4, 8, ...) refresh Cp and copy its rows
            for (int s = 3; s < STEPS; s += 4) {
                assertTrue(d.timings().nanos(StepTimings.Part.POLICY)[s] > 0, "step " + s);
            }
        }
    }

    @Test
    void aLaterDecoderOnTheEngineReusesTheGraphsAndGivesTheSameLogits() {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            Decoded first = decode(engine, "recycled:k=16,s=4");
            decode(engine, "full"); // another method between the two: its graph joins, evicts none
            Decoded second = decode(engine, "recycled:k=16,s=4");
            assertEquals(2, first.graphsBuilt());
            assertEquals(0, second.graphsBuilt(), "the compact caches come back from the pool, so the graphs match");
            for (int s = 0; s < STEPS; s++) {
                assertArrayEquals(first.logits().get(s), second.logits().get(s), "step " + s);
            }
        }
    }

    /**
     * Methods taking turns on one engine, as a benchmark's rotation: each method's second turn builds no graph. Recycled's
     * fixed schedule and the dynamic one take Cp stacks of two shapes (the dynamic one's has spare rows), and making
     * one freed the other's idle stack, so each turn rebuilt the graphs naming it.
     */
    @Test
    void methodsTakingTurnsReuseTheirGraphsAtEveryTurn() {
        List<String> rotation = List.of("full", "recycled:k=16,s=4", "recycled-dynamic:k=16,qc=2,decide=device",
                "recycled:k=8,s=4", "recycled-dynamic:k=16,qc=2,threshold=0.5,decide=device");
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            for (String method : rotation) {
                decode(engine, method);
            }
            for (String method : rotation) {
                assertEquals(0, decode(engine, method).graphsBuilt(), method + "'s second turn");
            }
        }
    }

    @Test
    void aReusedGraphGivesTheLogitsOfAFreshOne() {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            Decoded cached = decode(engine, "recycled:k=16,s=4");
            // Padding 1 changes the key rows at every step, so every full step builds afresh.
            try (Engine fresh = Engine.open(MODEL.weights(), EngineOptions.defaults(128).withKvPadding(1))) {
                Decoded rebuilt = decode(fresh, "recycled:k=16,s=4");
                assertTrue(rebuilt.graphsBuilt() > cached.graphsBuilt());
                for (int s = 0; s < STEPS; s++) {
                    int a = org.rbench.core.engine.Greedy.argmax(cached.logits().get(s));
                    int b = org.rbench.core.engine.Greedy.argmax(rebuilt.logits().get(s));
                    assertEquals(a, b, "step " + s);
                }
            }
        }
    }

    /**
     * The dynamic schedule's check steps, decided on the device, reuse their graphs whatever their layers chose. A
     * layer that declines its refresh keeps putting its new tokens further down Cp's slots, and a graph keyed by where
     * those rows sit was built again at every check (at threshold -0.6, where almost every check declines, 14 graphs
     * in 24 steps). The shapes a decode can meet: the recycled step, and the check step and the refresh forced when
     * Cp's slots run out, each with no pending rows, pending rows set from a view, or gathered.
     */
    @Test
    void aDynamicScheduleReusesItsCheckStepsWhateverTheirLayersChose() {
        int layers = MODEL.weights().hyperParameters().layers();
        int steps = 2 * STEPS;
        int[] tokens = IntStream.range(0, PROMPT + steps).map(i -> (i * 37 + 11) % 512).toArray();
        // -0.6: almost every check declines in every layer; 0: the layers choose differently
        for (String threshold : List.of("-0.6", "0")) {
            String method = "recycled-dynamic:k=16,qc=2,threshold=" + threshold + ",decide=device";
            try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
                Decoded d = Decoding.decode(engine, MODEL.weights().hyperParameters(), method, tokens, PROMPT, steps);
                int[] whole = d.timings().wholeCacheLayers();
                long declined = IntStream.range(0, steps).filter(s -> s % 2 == 1 && whole[s] < layers).count();
                assertTrue(declined >= 8, method + ": checks declined in some layer at only " + declined + " steps: "
                        + Arrays.toString(whole));
                assertTrue(d.graphsBuilt() <= 7, method + ": " + d.graphsBuilt() + " graphs in " + steps + " steps");
            }
        }
    }

    /**
     * A decode step at the last row of its padded block needs no causal mask (no padding rows
     * follow it) and builds its graph without one; a step earlier in the same block reads the
     * same number of key rows but must mask the rows past it, which hold another run's keys
     * (here: a longer prompt's). Reusing the maskless graph there attended those rows.
     */
    @Test
    void aStepBuiltWithoutAMaskIsNotReusedWhereTheMaskIsNeeded() {
        EngineOptions padded16 = EngineOptions.defaults(128).withKvPadding(16);
        List<float[]> fresh;
        try (Engine engine = Engine.open(MODEL.weights(), padded16)) {
            fresh = decodeFull(engine, 40, 3);
        }
        try (Engine engine = Engine.open(MODEL.weights(), padded16)) {
            decodeFull(engine, 47, 1); // position 47: key rows 48, the block's last row, no mask
            List<float[]> reused = decodeFull(engine, 40, 3); // positions 40-42: key rows 48, rows past them masked
            for (int s = 0; s < fresh.size(); s++) {
                assertArrayEquals(fresh.get(s), reused.get(s), "step " + s);
            }
        }
    }

    private static List<float[]> decodeFull(Engine engine, int prompt, int steps) {
        engine.reset();
        PrefillResult p = engine.prefill(Arrays.copyOf(TOKENS, prompt), org.rbench.core.attention.PrefillRequest.NONE, false);
        List<float[]> out = new ArrayList<>();
        try (Decoder d = engine.decoder(new org.rbench.core.attention.FullAttention(), p.statistics())) {
            for (int s = 0; s < steps; s++) {
                out.add(d.step(TOKENS[prompt + s]));
            }
        }
        return out;
    }

    /**
     * An allocation on the engine's device that fails (here one no host can give) first takes back the kept step graphs
     * but the newest, and a closed engine no longer answers for the device.
     */
    @Test
    void aFailedAllocationOnTheDeviceTakesBackTheKeptGraphsButTheNewest() {
        org.rbench.llamacpp.Backend backend = MODEL.weights().backend();
        int reclaimers = backend.memoryReclaimers();
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            assertEquals(reclaimers + 1, backend.memoryReclaimers());
            decode(engine, "recycled:k=16,s=4");
            decode(engine, "full");
            assertEquals(3, engine.stepGraphs().size());
            try (org.rbench.llamacpp.GgmlContext huge = org.rbench.llamacpp.GgmlContext.forMetadata(1, 0)) {
                huge.newTensor(GgmlType.F32, 1L << 41);
                org.junit.jupiter.api.Assertions.assertThrows(org.rbench.llamacpp.NativeCallException.class,
                        () -> org.rbench.llamacpp.BackendBuffer.allocate(huge, backend));
            }
            assertEquals(1, engine.stepGraphs().size(), "the newest graph stays");
            assertEquals(2, engine.stepGraphs().evictions());
        }
        assertEquals(reclaimers, backend.memoryReclaimers(), "the closed engine's reclaimer is gone");
    }
}
