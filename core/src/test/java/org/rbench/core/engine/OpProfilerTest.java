package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An op profile computes each step graph node by node: the logits are those of whole-graph
 * steps, every step's costs name the ops it ran, and a Recycled full step shows the selection
 * ops its recycled steps lack.
 */
class OpProfilerTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 8;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 37 + 11) % 512).toArray();

    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    private static List<float[]> decode(Engine engine, String method, OpProfiler profiler) {
        engine.reset();
        AttentionPolicy policy = Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
        PrefillResult p = engine.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
        List<float[]> out = new ArrayList<>();
        engine.profileOps(profiler);
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            for (int s = 0; s < STEPS; s++) {
                if (profiler != null) {
                    profiler.startStep();
                }
                out.add(d.step(TOKENS[PROMPT + s]));
                if (profiler != null) {
                    profiler.endStep();
                }
            }
        } finally {
            engine.profileOps(null);
        }
        return out;
    }

    private static boolean has(List<OpProfiler.Cost> step, String op) {
        return step.stream().anyMatch(c -> c.op().equals(op));
    }

    @Test
    void nodeByNodeGivesTheSameLogitsAndNamesEveryOp() {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128));
             OpProfiler profiler = new OpProfiler()) {
            String recycled = "recycled:k=16,s=4";
            List<float[]> whole = decode(engine, recycled, null);
            List<float[]> byNode = decode(engine, recycled, profiler);
            for (int s = 0; s < STEPS; s++) {
                assertArrayEquals(whole.get(s), byNode.get(s), "step " + s);
            }
            List<List<OpProfiler.Cost>> steps = profiler.steps();
            assertEquals(STEPS, steps.size());
            for (List<OpProfiler.Cost> step : steps) {
                assertTrue(has(step, "MUL_MAT"), "every step multiplies: " + step);
                assertTrue(step.stream().allMatch(c -> c.nanos() > 0 && c.nodes() > 0), step.toString());
                assertTrue(step.stream().noneMatch(c -> c.op().equals("VIEW") || c.op().equals("RESHAPE")), "free ops are skipped");
            }
            // engine steps 3 and 7 are Recycled's full steps (S=4): they select Cp's rows; the others do not
            for (int s = 0; s < STEPS; s++) {
                boolean full = s % 4 == 3;
                assertEquals(full, has(steps.get(s), "ARGSORT") || has(steps.get(s), "TOP_K"), "step " + s + ": " + steps.get(s));
            }
        }
    }

    @Test
    void stepsMustBeStartedAndEnded() {
        try (OpProfiler profiler = new OpProfiler()) {
            assertThrows(IllegalStateException.class, profiler::endStep);
            profiler.startStep();
            assertThrows(IllegalStateException.class, profiler::startStep);
            profiler.endStep();
            assertEquals(List.of(List.of()), profiler.steps());
        }
        assertEquals("kq_#_h#", OpProfiler.family("kq_12_h3"));
    }
}
